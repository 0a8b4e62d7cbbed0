// Dataverse answers: the $batch response (multipart/mixed with nested change sets) and the rows
// of each part, pages of rows ({"value":[...]}, $deletedEntity entries) and error bodies.
// Input: the Content-Type header value on the first line, the body after it.
#include "connectors/api_error.hpp"
#include "connectors/dataverse/dataverse_connector.hpp"
#include "daemon/util/remote_json.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace cosync;

void read_row(const nlohmann::json& row) {
  static const connectors::OptionColumns option_columns = {"statuscode", "statecode", "leadsourcecode"};
  std::string reason;
  if (auto record = connectors::parse_dataverse_row(row, "leadid", option_columns, reason)) {
    FUZZ_REQUIRE(!record->id.empty());
  } else {
    FUZZ_REQUIRE(!reason.empty());
  }
}

// A body that holds one row (a write's representation) or a page of them.
void read_rows(std::string_view text) {
  auto body = remote_json::parse(text);
  for (const auto& row : remote_json::array_at(body, "value")) read_row(row);
  read_row(body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::text_of(data, size);
  auto line_end = text.find('\n');
  std::string content_type(text.substr(0, line_end));
  std::string body(line_end == std::string_view::npos ? std::string_view() : text.substr(line_end + 1));

  if (auto parts = connectors::parse_batch_response(content_type, body))
    for (const auto& part : *parts)
      for (const auto& result : part) read_rows(result.body);
  read_rows(body);

  http::Response response{400, {}, body};
  auto failure = connectors::api_failure(response, "PATCH leads(1)", "REQ_ID");
  FUZZ_REQUIRE(failure.message.starts_with("PATCH leads(1) answered 400"));
  return 0;
}
