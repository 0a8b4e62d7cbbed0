#pragma once
// MIME multipart bodies (RFC 2046) as OData $batch requests and answers use them
// (multipart/mixed, CRLF or LF line ends). Shared by the Dataverse connector and the fake
// Dataverse, which both read and write $batch bodies.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cosync::multipart {

using HeaderFields = std::vector<std::pair<std::string, std::string>>;

struct Part {
  HeaderFields headers;
  std::string body;
};

std::string lowercase(std::string text);
// The value of the first header named `name` (case-insensitive); empty when there is none.
std::string header_value(const HeaderFields& headers, std::string_view name);
// "multipart/mixed;boundary=batch_123" -> "batch_123" (quotes removed); empty when absent.
std::string boundary_of(const std::string& content_type);
// Splits a header block from what follows the first empty line.
std::pair<std::string, std::string> split_head(const std::string& text);
// Lines without their CR/LF ends.
std::vector<std::string> lines_of(const std::string& text);
// "Name: value" lines from index `from` on; lines without a colon are skipped.
HeaderFields parse_header_lines(const std::vector<std::string>& lines, std::size_t from);
// The parts between "--boundary" delimiters up to the closing "--boundary--".
std::vector<Part> split(const std::string& body, const std::string& boundary);

}  // namespace cosync::multipart
