#pragma once
// Salesforce REST API: SOQL pull on SystemModstamp with nextRecordsUrl paging, upsert by
// external id (no duplicates on retry), and updates guarded by re-reading SystemModstamp
// (Lead and Opportunity have no ETag).
#include <chrono>
#include <string>

#include "connectors/connector.hpp"
#include "daemon/auth/token_provider.hpp"
#include "daemon/http/http_client.hpp"
#include "daemon/util/log.hpp"

namespace cosync::connectors {

struct SalesforceOptions {
  std::string instance_url;            // https://<my-domain>.my.salesforce.com
  std::string api_version = "60.0";
  std::chrono::seconds overlap{300};   // re-read this much before the cursor
};

class SalesforceConnector final : public Connector {
 public:
  SalesforceConnector(http::HttpClient& client, auth::TokenProvider& tokens, SalesforceOptions options, Log log);

  const char* system() const override { return "salesforce"; }
  boost::asio::awaitable<Expected<PullResult>> pull(const ObjectSpec& spec, const std::string& cursor) override;
  boost::asio::awaitable<Expected<RemoteRecord>> get(const ObjectSpec& spec, const std::string& id) override;
  boost::asio::awaitable<Expected<RemoteRecord>> update(const ObjectSpec& spec, const RemoteRecord& current,
                                                        const std::vector<FieldChange>& changes) override;
  boost::asio::awaitable<Expected<RemoteRecord>> upsert(const ObjectSpec& spec, const std::string& external_id,
                                                        const std::vector<FieldChange>& fields) override;
  std::size_t api_calls() const override { return client_.requests_sent(); }

 private:
  boost::asio::awaitable<Expected<http::Response>> call(http::Method method, const std::string& path_or_url,
                                                        std::string body = {});
  std::string data_path() const;  // /services/data/vNN.N
  std::string sobject_path(const ObjectSpec& spec, const std::string& id) const;

  http::HttpClient& client_;
  auth::TokenProvider& tokens_;
  SalesforceOptions options_;
  Log log_;
};

// The pull query: mapped fields plus Id and SystemModstamp, changed since `since` (an unquoted
// ISO-8601 literal, as SOQL requires), oldest first.
std::string build_pull_soql(const ObjectSpec& spec, const std::string& since);
std::optional<RemoteRecord> parse_sobject(const nlohmann::json& body, std::string& reason);

}  // namespace cosync::connectors
