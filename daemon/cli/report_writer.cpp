#include "daemon/cli/report_writer.hpp"

#include <algorithm>

namespace cosync::app {
namespace {

std::string cell(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void write_table(std::ostream& out, const ReportTable& t) {
  std::vector<std::size_t> widths;
  for (const auto& c : t.columns) widths.push_back(c.size());
  for (const auto& row : t.rows)
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], cell(row[i]).size());
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i)
      out << cells[i] << (i + 1 < cells.size() ? std::string(widths[i] - cells[i].size() + 2, ' ') : "");
    out << "\n";
  };
  std::vector<std::string> header;
  for (const auto& c : t.columns) {
    std::string upper = c;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char ch) { return ch == '_' ? ' ' : std::toupper(ch); });
    header.push_back(upper);
  }
  line(header);
  for (const auto& row : t.rows) {
    std::vector<std::string> cells;
    for (const auto& v : row) cells.push_back(cell(v));
    line(cells);
  }
}

}  // namespace

std::optional<ReportFormat> parse_report_format(const std::string& text) {
  if (text == "table") return ReportFormat::table;
  if (text == "csv") return ReportFormat::csv;
  if (text == "json") return ReportFormat::json;
  return std::nullopt;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

void write_report(std::ostream& out, const ReportTable& t, ReportFormat format) {
  if (format == ReportFormat::table) return write_table(out, t);
  if (format == ReportFormat::json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& row : t.rows) {
      nlohmann::json object = nlohmann::json::object();
      for (std::size_t i = 0; i < row.size() && i < t.columns.size(); ++i) object[t.columns[i]] = row[i];
      list.push_back(std::move(object));
    }
    out << list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  auto line = [&](const auto& cells, auto text) {
    for (std::size_t i = 0; i < cells.size(); ++i) out << (i ? "," : "") << csv_field(text(cells[i]));
    out << "\r\n";
  };
  line(t.columns, [](const std::string& s) { return s; });
  for (const auto& row : t.rows) line(row, cell);
}

}  // namespace cosync::app
