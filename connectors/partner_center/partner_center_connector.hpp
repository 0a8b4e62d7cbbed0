#pragma once
// Partner Center referrals API (/v1.0/engagements/referrals): incremental pull ordered by
// updatedDateTime, JSON Patch updates with If-Match, and the referral state machine guard.
#include <chrono>
#include <string>

#include "connectors/connector.hpp"
#include "daemon/auth/token_provider.hpp"
#include "daemon/http/http_client.hpp"
#include "daemon/util/log.hpp"

namespace cosync::connectors {

struct PartnerCenterOptions {
  std::string base_url = "https://api.partner.microsoft.com/v1.0/engagements";
  int page_size = 100;                              // $top; the API serves at most 100
  std::chrono::seconds overlap{300};                // re-read this much before the cursor
};

class PartnerCenterConnector final : public Connector {
 public:
  PartnerCenterConnector(http::HttpClient& client, auth::TokenProvider& tokens, PartnerCenterOptions options, Log log);

  const char* system() const override { return "partner_center"; }
  boost::asio::awaitable<Expected<PullResult>> pull(const ObjectSpec& spec, const std::string& cursor) override;
  boost::asio::awaitable<Expected<RemoteRecord>> get(const ObjectSpec& spec, const std::string& id) override;
  boost::asio::awaitable<Expected<RemoteRecord>> update(const ObjectSpec& spec, const RemoteRecord& current,
                                                        const std::vector<FieldChange>& changes) override;
  boost::asio::awaitable<Expected<RemoteRecord>> upsert(const ObjectSpec& spec, const std::string& external_id,
                                                        const std::vector<FieldChange>& fields) override;
  std::size_t api_calls() const override { return client_.requests_sent(); }

 private:
  boost::asio::awaitable<Expected<http::Response>> call(http::Request request);
  std::string referral_url(const std::string& id) const;

  http::HttpClient& client_;
  auth::TokenProvider& tokens_;
  PartnerCenterOptions options_;
  Log log_;
};

// Whether Partner Center accepts a JSON Patch of this dotted path (the published contract's list).
bool is_patchable_referral_path(std::string_view path);
// Why a patch may not be sent to this referral (terminal state, impossible transition, a path
// the API does not accept), or nullopt when it may.
std::optional<std::string> referral_patch_refusal(const nlohmann::json& referral, const std::vector<FieldChange>& changes);
// Reads a referral as returned by the API; nullopt with `reason` when it lacks id, eTag or a
// valid updatedDateTime.
std::optional<RemoteRecord> parse_referral(const nlohmann::json& body, std::string& reason);

}  // namespace cosync::connectors
