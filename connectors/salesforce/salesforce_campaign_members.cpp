// Campaign membership of new leads: Salesforce links a Lead to a Campaign through a
// CampaignMember record (CampaignId, LeadId), created here with sObject Collections.
// https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_campaignmember.htm
// https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_create.htm
#include "connectors/salesforce/salesforce_connector.hpp"
#include "connectors/api_error.hpp"
#include "daemon/util/remote_json.hpp"

namespace cosync::connectors {

namespace net = boost::asio;

namespace {

constexpr std::size_t kMembersPerCall = 200;  // sObject Collections' limit per call

// One record's answer: nullopt when it is a member now, or already was (DUPLICATE_VALUE,
// "Already a campaign member"), which makes a retry after a lost answer or a crash harmless.
std::optional<Failure> member_result(const nlohmann::json& r, const std::string& what) {
  if (remote_json::bool_or(r, "success", false)) return std::nullopt;
  const auto& errors = remote_json::member(r, "errors");
  if (errors.is_array() && !errors.empty() && remote_json::string_or(errors[0], "statusCode") == "DUPLICATE_VALUE")
    return std::nullopt;
  return collection_error(errors, what);
}

}  // namespace

net::awaitable<std::vector<std::optional<Failure>>> SalesforceConnector::add_campaign_members(
    const std::string& campaign_id, const std::vector<std::string>& lead_ids) {
  std::vector<std::optional<Failure>> out(lead_ids.size());
  for (std::size_t begin = 0; begin < lead_ids.size(); begin += kMembersPerCall) {
    const std::size_t end = std::min(lead_ids.size(), begin + kMembersPerCall);
    nlohmann::json body = {{"allOrNone", false}, {"records", nlohmann::json::array()}};
    for (std::size_t i = begin; i < end; ++i)
      body["records"].push_back(
          {{"attributes", {{"type", "CampaignMember"}}}, {"CampaignId", campaign_id}, {"LeadId", lead_ids[i]}});
    const std::string what = "adding leads to campaign " + campaign_id;
    auto res = co_await call(http::Method::post, data_path() + "/composite/sobjects", body.dump());
    if (!res) {
      for (std::size_t i = begin; i < end; ++i) out[i] = res.failure();
      continue;
    }
    if (res->status != 200) {
      auto f = api_failure(*res, what, "");
      for (std::size_t i = begin; i < end; ++i) out[i] = f;
      continue;
    }
    auto answer = remote_json::parse(res->body);
    for (std::size_t i = begin; i < end; ++i)
      out[i] = answer.is_array() && answer.size() == end - begin
                   ? member_result(answer[i - begin], what + " (lead " + lead_ids[i] + ")")
                   : Failure{FailureKind::transient, what + " answered 200 with a malformed body", 200, ""};
  }
  co_return out;
}

}  // namespace cosync::connectors
