// Partner Center referrals as the API returns them (a page {"value":[...]} or one referral) and
// its error bodies: parse_referral, the classification and the patch guard read every field of
// hostile input without throwing; a referral is either parsed or refused with a reason.
#include "connectors/api_error.hpp"
#include "connectors/partner_center/partner_center_connector.hpp"
#include "connectors/partner_center/referral_contract.hpp"
#include "daemon/rules/referral_classification.hpp"
#include "daemon/util/remote_json.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace cosync;

void read_referral(const nlohmann::json& item) {
  std::string reason;
  if (auto record = connectors::parse_referral(item, reason)) {
    FUZZ_REQUIRE(!record->id.empty() && !record->version.empty());
  } else {
    FUZZ_REQUIRE(!reason.empty());
  }
  (void)rules::classify_referral(item);
  static const std::vector<connectors::FieldChange> changes = {{"status", "Active"}, {"substatus", "Accepted"}};
  (void)connectors::referral_contract_refusal(item, changes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::text_of(data, size);
  auto body = remote_json::parse(text);
  for (const auto& item : remote_json::array_at(body, "value")) read_referral(item);
  read_referral(body);

  http::Response response{400, {{"MS-CorrelationId", "fuzz"}}, std::string(text)};
  auto failure = connectors::api_failure(response, "PATCH referral 1", "MS-CorrelationId");
  FUZZ_REQUIRE(failure.message.starts_with("PATCH referral 1 answered 400"));
  return 0;
}
