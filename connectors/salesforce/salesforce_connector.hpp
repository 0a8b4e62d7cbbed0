#pragma once
// Salesforce REST API: SOQL pull on SystemModstamp with nextRecordsUrl paging, upsert by
// external id (no duplicates on retry), and updates guarded by re-reading SystemModstamp
// (Lead and Opportunity have no ETag).
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/connector.hpp"
#include "connectors/web_domain.hpp"  // web_domain, used by callers of the account lookup
#include "daemon/util/printable_text.hpp"
#include "daemon/auth/token_provider.hpp"
#include "daemon/http/http_client.hpp"
#include "daemon/util/log.hpp"

namespace cosync::connectors {

struct SalesforceOptions {
  std::string instance_url;            // https://<my-domain>.my.salesforce.com
  std::string api_version = "60.0";
  std::chrono::seconds overlap{300};   // re-read this much before the cursor
  // Records per query page (Sforce-Query-Options: batchSize=N; Salesforce allows 200-2000 and
  // may still answer with fewer).
  int query_batch_size = 2000;
  // Share of the org's daily API allowance (Sforce-Limit-Info api-usage=N/M) at which this
  // connection stops its non-essential calls (pulls, describes); writes of a cycle still finish.
  double max_api_usage = 0.8;
  // After 403 REQUEST_LIMIT_EXCEEDED, or above max_api_usage, calls wait this long before one
  // probe is let through (the allowance is a rolling 24-hour window).
  std::chrono::seconds limit_pause{900};
  const Clock* clock = nullptr;        // nullptr: the system clock; must outlive the connector
};

// Sforce-Limit-Info: "api-usage=18/5000[; per-app-api-usage=...]".
struct ApiUsage {
  long used = 0;
  long limit = 0;
  bool known() const { return limit > 0; }
  double share() const { return known() ? static_cast<double>(used) / static_cast<double>(limit) : 0.0; }
};
std::optional<ApiUsage> parse_limit_info(std::string_view header);

class SalesforceConnector final : public Connector {
 public:
  SalesforceConnector(http::HttpClient& client, auth::TokenProvider& tokens, SalesforceOptions options, Log log);

  const char* system() const override { return "salesforce"; }
  // Opportunity.AccountId -> Account by Name or Website (salesforce_parent_lookup.cpp), and
  // describe for metadata checks. Static, so that config validation can ask before connecting.
  static Capabilities supported();
  Capabilities capabilities() const override { return supported(); }
  boost::asio::awaitable<Expected<std::string>> pull_pages(const ObjectSpec& spec, const std::string& cursor,
                                                           const PageSink& sink) override;
  boost::asio::awaitable<Expected<RemoteRecord>> get(const ObjectSpec& spec, const std::string& id) override;
  boost::asio::awaitable<Expected<RemoteRecord>> update(const ObjectSpec& spec, const RemoteRecord& current,
                                                        const std::vector<FieldChange>& changes) override;
  boost::asio::awaitable<Expected<RemoteRecord>> upsert(const ObjectSpec& spec, const std::string& external_id,
                                                        const std::vector<FieldChange>& fields) override;
  // sObject Collections: 200 records a call, allOrNone=false, one result per record.
  boost::asio::awaitable<std::vector<Expected<RemoteRecord>>> update_many(
      const ObjectSpec& spec, const std::vector<UpdateRequest>& requests) override;
  boost::asio::awaitable<std::vector<Expected<RemoteRecord>>> upsert_many(
      const ObjectSpec& spec, const std::vector<UpsertRequest>& requests) override;
  // POST /composite/sobjects of CampaignMember records (salesforce_campaign_members.cpp);
  // DUPLICATE_VALUE (already a member) counts as done.
  boost::asio::awaitable<std::vector<std::optional<Failure>>> add_campaign_members(
      const std::string& campaign_id, const std::vector<std::string>& lead_ids) override;
  std::size_t api_calls() const override { return client_.requests_sent(); }
  std::string api_usage() const override;
  // GET /sobjects/{Object}/describe: the object's fields (name, updateable, picklistValues, ...).
  boost::asio::awaitable<Expected<nlohmann::json>> describe(const std::string& object);
  // The describe as CRM-neutral metadata: updateable, createable, active picklist values.
  boost::asio::awaitable<Expected<ObjectMetadata>> describe_object(const std::string& object) override;
  ApiUsage usage() const { return usage_; }

 private:
  // `essential`: part of finishing work already pulled (writes, their re-reads); other calls
  // stop once usage reaches max_api_usage.
  // `query`: a SOQL query request, which carries the query batch size.
  boost::asio::awaitable<Expected<http::Response>> call(http::Method method, const std::string& path_or_url,
                                                        std::string body = {}, bool essential = true,
                                                        bool query = false);
  // Runs a SOQL query (query or queryAll) and follows nextRecordsUrl on the instance's origin.
  // Records whose `external_id_field` holds control characters come back as malformed. The first
  // page's Date header (nullopt when absent or unreadable) to `served_at` when given.
  boost::asio::awaitable<Expected<PullResult>> run_query(const std::string& soql, bool include_deleted, bool essential,
                                                         const std::string& what,
                                                         const std::string& external_id_field = "",
                                                         std::optional<TimePoint>* served_at = nullptr);
  // The same, each page handed to `sink` as it comes instead of collected (the pull).
  boost::asio::awaitable<std::optional<Failure>> query_pages(const std::string& soql, bool include_deleted,
                                                             bool essential, const std::string& what,
                                                             const std::string& external_id_field,
                                                             std::optional<TimePoint>* served_at, const PageSink& sink);
  // The records with these ids (at most 200), in one `WHERE Id IN (...)` query.
  boost::asio::awaitable<Expected<std::map<std::string, RemoteRecord>>> read_by_ids(const ObjectSpec& spec,
                                                                                    const std::vector<std::string>& ids,
                                                                                    bool all_fields);
  // Turns sObject Collections results into records (read back) or per-record failures.
  boost::asio::awaitable<void> collect_results(const ObjectSpec& spec, const http::Response& res,
                                               const std::vector<std::size_t>& indexes, const std::string& what,
                                               std::vector<std::optional<Expected<RemoteRecord>>>& out);
  // Sets each request's parent lookup field (`p`, e.g. Opportunity.AccountId) to the id of the
  // one parent matching its UpsertRequest::parent, found with one query per batch or created; a
  // request whose parent cannot be settled gets its failure in `out` (several matches: rejected,
  // naming them). Requests without a parent are left alone.
  boost::asio::awaitable<void> resolve_parents(const ParentLookup& p, std::vector<UpsertRequest>& requests,
                                               std::vector<std::optional<Expected<RemoteRecord>>>& out);
  TimePoint now() const { return clock_.now(); }
  std::string data_path() const;  // /services/data/vNN.N
  std::string sobject_path(const ObjectSpec& spec, const std::string& id) const;

  http::HttpClient& client_;
  auth::TokenProvider& tokens_;
  SalesforceOptions options_;
  Log log_;
  SystemClock system_clock_;
  const Clock& clock_;
  ApiUsage usage_;
  TimePoint paused_until_{};  // no calls at all before this (after REQUEST_LIMIT_EXCEEDED)
  TimePoint next_probe_{};    // above max_api_usage: no non-essential call before this
};

// The pull query (run through queryAll, so deletions come too): mapped fields plus Id,
// SystemModstamp and IsDeleted, changed since `since` (an unquoted
// ISO-8601 literal, as SOQL requires), oldest first.
std::string build_pull_soql(const ObjectSpec& spec, const std::string& since);
// One sObject of a query or GET answer, or nullopt with the reason it is malformed: no Id, an Id
// (or a string `external_id_field`) with control characters, no valid SystemModstamp.
std::optional<RemoteRecord> parse_sobject(const nlohmann::json& body, std::string& reason,
                                          const std::string& external_id_field = "");
// The record id of a successful sObject Collections result ({"success":true,"id":"..."}), or
// nullopt when it failed or its id is missing, not a string or not a plausible id.
std::optional<std::string> written_id(const nlohmann::json& result);
// A SOQL string literal: quoted, with backslash and quote escaped. `like`: also escapes the
// LIKE wildcards % and _, so that they match themselves.
std::string soql_quote(const std::string& text, bool like = false);
// `p` with what it leaves empty taken from SalesforceConnector::supported(): AccountId, Account,
// Name (or Website when matching domains).
ParentLookup with_salesforce_defaults(ParentLookup p);
// `SELECT <fields> FROM <object> WHERE Id IN ('a','b')`.
std::string build_ids_soql(const ObjectSpec& spec, const std::vector<std::string>& ids, bool all_fields);
// DescribeSObjectResult -> ObjectMetadata (inactive picklist values are not allowed values).
ObjectMetadata metadata_from_describe(const nlohmann::json& describe);
// The failure for one record of an sObject Collections answer ({"statusCode","message","fields"}).
Failure collection_error(const nlohmann::json& errors, const std::string& what);

}  // namespace cosync::connectors
