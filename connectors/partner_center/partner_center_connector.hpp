#pragma once
// Partner Center referrals API (/v1.0/engagements/referrals): incremental pull ordered by
// updatedDateTime with a periodic full sweep, JSON Patch updates with If-Match, creates found
// again by externalReferenceId, deal registrations, PC error bodies, and the state machine guard.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/connector.hpp"
#include "connectors/partner_center/referral_contract.hpp"
#include "daemon/auth/token_provider.hpp"
#include "daemon/http/http_client.hpp"
#include "daemon/http/next_page_links.hpp"
#include "daemon/util/log.hpp"
#include "daemon/util/remote_clock.hpp"

namespace cosync::connectors {

struct PartnerCenterOptions {
  std::string base_url = "https://api.partner.microsoft.com/v1.0/engagements";
  // No page size: $top is the total to retrieve, not a page size; the service pages by itself
  // with @odata.nextLink. A pull follows at most this many pages (20,000 x 100 = 2 million referrals,
  // far above any partner's; what it stops is a server that links pages without end).
  std::size_t max_pages = 20000;
  std::chrono::seconds overlap{300};                // re-read this much before the cursor
  // Every this often a pull ignores the cursor and reads every referral, catching anything an
  // incremental pull missed; zero: never. The time of the last sweep travels in the cursor.
  std::chrono::seconds full_sweep{0};
  const Clock* clock = nullptr;                     // for the sweep schedule; nullptr: system clock
};

class PartnerCenterConnector final : public Connector {
 public:
  PartnerCenterConnector(http::HttpClient& client, auth::TokenProvider& tokens, PartnerCenterOptions options, Log log);

  const char* system() const override { return "partner_center"; }
  boost::asio::awaitable<Expected<std::string>> pull_pages(const ObjectSpec& spec, const std::string& cursor,
                                                           const PageSink& sink) override;
  boost::asio::awaitable<Expected<RemoteRecord>> get(const ObjectSpec& spec, const std::string& id) override;
  boost::asio::awaitable<Expected<RemoteRecord>> update(const ObjectSpec& spec, const RemoteRecord& current,
                                                        const std::vector<FieldChange>& changes) override;
  boost::asio::awaitable<Expected<RemoteRecord>> upsert(const ObjectSpec& spec, const std::string& external_id,
                                                        const std::vector<FieldChange>& fields) override;
  // Partner Center has no batch write: the PATCHes go out concurrently, up to the HTTP client's
  // per-host limit, each with its own If-Match; results in request order, a 412 on one alone.
  boost::asio::awaitable<std::vector<Expected<RemoteRecord>>> update_many(
      const ObjectSpec& spec, const std::vector<UpdateRequest>& requests) override;
  std::size_t api_calls() const override { return client_.requests_sent(); }
  // Partner Center's clock: the hold before a Won and the registration deadline are measured on it.
  std::optional<TimePoint> remote_now() const override { return remote_clock_.now(now()); }

  // The referral whose externalReferenceId is `external_id`, or nullopt when there is none.
  boost::asio::awaitable<Expected<std::optional<RemoteRecord>>> find_by_external_id(const std::string& external_id);
  // POSTs a new referral (nulls and computed "_" fields dropped).
  boost::asio::awaitable<Expected<RemoteRecord>> create(nlohmann::json referral);
  // Deal registration of a referral closed as Won: `add /registrations/-` with `registration`
  // (type, contract, solutionDetails), If-Match on the referral's eTag.
  boost::asio::awaitable<Expected<RemoteRecord>> add_deal_registration(const RemoteRecord& current,
                                                                       const nlohmann::json& registration) override;
  // Later changes to that registration: paths such as "registrations.0.contract.value".
  boost::asio::awaitable<Expected<RemoteRecord>> update_deal_registration(const RemoteRecord& current,
                                                                          const std::vector<FieldChange>& changes) override;

 private:
  boost::asio::awaitable<Expected<http::Response>> call(http::Request request);
  // GETs one page of a referral listing: the parsed body, whose "value" is an array; the answer's
  // Date header (nullopt when absent or unreadable) to `served_at` when given.
  boost::asio::awaitable<Expected<nlohmann::json>> get_page(const std::string& url, const std::string& what,
                                                            std::optional<TimePoint>* served_at = nullptr);
  // The next page of `page` ("" when it is the last), or why its @odata.nextLink is refused.
  Expected<std::string> next_page(const nlohmann::json& page, http::NextPageLinks& links, const std::string& what) const;
  boost::asio::awaitable<Expected<RemoteRecord>> send_patch(const RemoteRecord& current, const nlohmann::json& patch,
                                                            const std::string& what);
  Failure failure(const http::Response& response, const std::string& what) const;
  std::string referral_url(const std::string& id) const;
  TimePoint now() const;

  http::HttpClient& client_;
  auth::TokenProvider& tokens_;
  PartnerCenterOptions options_;
  Log log_;
  RemoteClock remote_clock_;
};

// Reads a referral as returned by the API; nullopt with `reason` when what the sync cannot do
// without is missing or of the wrong type: an id (without control characters), an eTag, a status,
// a valid updatedDateTime (and createdDateTime when present). Other fields are kept as they came
// (`body` by value: a response parsed for this call is moved in, not copied).
std::optional<RemoteRecord> parse_referral(nlohmann::json body, std::string& reason);
// The id of a referral the pull could not read, as a printable quarantine key ("" when none).
std::string malformed_referral_id(const nlohmann::json& referral);

}  // namespace cosync::connectors
