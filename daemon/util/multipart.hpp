#pragma once
// MIME multipart bodies (RFC 2046) as OData $batch requests and answers use them
// (multipart/mixed, CRLF or LF line ends). Shared by the Dataverse connector and the fake
// Dataverse, which both read and write $batch bodies.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/util/expected.hpp"

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
// More parts than any $batch has (Dataverse takes at most 1000 requests in one).
inline constexpr std::size_t kMaxParts = 1000;

// The parts between "--boundary" delimiter lines up to the closing "--boundary--". A body that
// may come from anywhere is hostile: an empty or overlong boundary (RFC 2046: 1-70 characters),
// no delimiter, no closing delimiter (a truncated body) or more than `max_parts` parts is a
// `rejected` Failure saying which, never a crash or a guess.
Expected<std::vector<Part>> split(const std::string& body, const std::string& boundary,
                                  std::size_t max_parts = kMaxParts);

}  // namespace cosync::multipart
