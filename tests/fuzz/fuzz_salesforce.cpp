// Salesforce answers: query pages ({"records":[...]}) and single sObjects (parse_sobject),
// sObject Collections results and error arrays (collection_error, api_failure), describes
// (metadata_from_describe) and the Sforce-Limit-Info header, all from hostile bytes.
#include "connectors/api_error.hpp"
#include "connectors/salesforce/salesforce_connector.hpp"
#include "daemon/util/remote_json.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace cosync;

void read_sobject(const nlohmann::json& item) {
  std::string reason;
  if (auto record = connectors::parse_sobject(item, reason)) {
    FUZZ_REQUIRE(!record->id.empty());
  } else {
    FUZZ_REQUIRE(!reason.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::text_of(data, size);
  auto body = remote_json::parse(text);
  for (const auto& item : remote_json::array_at(body, "records")) read_sobject(item);
  read_sobject(body);

  // sObject Collections: one result per record, {"success":false,"errors":[...]} on failure.
  if (body.is_array())
    for (const auto& result : body) (void)connectors::collection_error(remote_json::member(result, "errors"), "PATCH Lead");
  (void)connectors::collection_error(body, "PATCH Lead");
  (void)connectors::metadata_from_describe(body);

  http::Response response{400, {}, std::string(text)};
  auto failure = connectors::api_failure(response, "PATCH Lead 1", "Sforce-Call-Id");
  FUZZ_REQUIRE(failure.message.starts_with("PATCH Lead 1 answered 400"));

  if (auto usage = connectors::parse_limit_info(text)) (void)usage->share();
  (void)connectors::web_domain(text);
  return 0;
}
