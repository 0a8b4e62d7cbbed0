#include "daemon/util/multipart.hpp"

#include <cctype>

namespace cosync::multipart {

std::string lowercase(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string header_value(const HeaderFields& headers, std::string_view name) {
  const std::string wanted = lowercase(std::string(name));
  for (const auto& [k, v] : headers)
    if (lowercase(k) == wanted) return v;
  return {};
}

std::string boundary_of(const std::string& content_type) {
  auto at = lowercase(content_type).find("boundary=");
  if (at == std::string::npos) return {};
  std::string b = content_type.substr(at + 9);
  auto semi = b.find(';');
  if (semi != std::string::npos) b = b.substr(0, semi);
  if (b.size() >= 2 && b.front() == '"' && b.back() == '"') b = b.substr(1, b.size() - 2);
  return b;
}

std::pair<std::string, std::string> split_head(const std::string& text) {
  auto crlf = text.find("\r\n\r\n");
  auto lf = text.find("\n\n");
  if (crlf != std::string::npos && (lf == std::string::npos || crlf < lf)) return {text.substr(0, crlf), text.substr(crlf + 4)};
  if (lf != std::string::npos) return {text.substr(0, lf), text.substr(lf + 2)};
  return {text, {}};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return out;
}

HeaderFields parse_header_lines(const std::vector<std::string>& lines, std::size_t from) {
  HeaderFields headers;
  for (std::size_t i = from; i < lines.size(); ++i) {
    auto colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    std::string value = lines[i].substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(value.begin());
    headers.emplace_back(lines[i].substr(0, colon), value);
  }
  return headers;
}

namespace {

Failure malformed(std::string why) { return Failure{FailureKind::rejected, "malformed multipart body: " + std::move(why), 0, {}}; }

// Where the next delimiter line "--boundary" starts at or after `from`: at the body's start or
// right after a line end (RFC 2046 5.1.1), so the boundary's text inside a part is not one.
std::size_t find_delimiter(const std::string& body, const std::string& delimiter, std::size_t from) {
  for (auto at = body.find(delimiter, from); at != std::string::npos; at = body.find(delimiter, at + 1))
    if (at == 0 || body[at - 1] == '\n') return at;
  return std::string::npos;
}

}  // namespace

Expected<std::vector<Part>> split(const std::string& body, const std::string& boundary, std::size_t max_parts) {
  if (boundary.empty() || boundary.size() > 70) return malformed("the boundary must have 1 to 70 characters");
  std::vector<Part> parts;
  const std::string delimiter = "--" + boundary;
  std::size_t pos = find_delimiter(body, delimiter, 0);
  if (pos == std::string::npos) return malformed("no --" + boundary + " delimiter");
  while (true) {
    pos += delimiter.size();
    if (body.compare(pos, 2, "--") == 0) return parts;  // the closing delimiter
    auto next = find_delimiter(body, delimiter, pos);
    if (next == std::string::npos) return malformed("no closing --" + boundary + "-- (truncated)");
    if (parts.size() == max_parts) return malformed("more than " + std::to_string(max_parts) + " parts");
    std::string chunk = body.substr(pos, next - pos);
    std::size_t first = chunk.find_first_not_of("\r\n"), last = chunk.find_last_not_of("\r\n");
    chunk = first == std::string::npos ? std::string() : chunk.substr(first, last - first + 1);
    auto [head, rest] = split_head(chunk);
    parts.push_back(Part{parse_header_lines(lines_of(head), 0), std::move(rest)});
    pos = next;
  }
}

}  // namespace cosync::multipart
