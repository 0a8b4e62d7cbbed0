#pragma once
// Dataverse Web API (Dynamics 365): pull by change tracking (delta links as the cursor, deleted
// rows passed on), updates with If-Match on @odata.etag, creates by upsert on an alternate key
// holding the referral id, batched writes through $batch change sets, opportunities closed
// through WinOpportunity / LoseOpportunity.
//
// ObjectSpec.object is the entity set name (`leads`, `opportunities`); the primary key column is
// the logical name plus "id" (leads -> leadid, opportunities -> opportunityid).
// ObjectSpec.external_id_field is the alternate-key column (e.g. cosync_referralid).
//
// Option-set columns (Picklist, Status, State, known from the table's EntityDefinitions, read
// once per table) hold integers on the wire and their values as text ("3") in records, the
// form mappings write them in.
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/connector.hpp"
#include "connectors/parent_matching.hpp"
#include "daemon/auth/token_provider.hpp"
#include "daemon/http/http_client.hpp"
#include "daemon/util/log.hpp"

namespace cosync::connectors {

// Columns whose values are option-set values (Picklist, Status, State).
using OptionColumns = std::set<std::string>;

// What the writes of a table need from its definition (EntityDefinitions).
struct TableColumns {
  OptionColumns option_columns;
  // IsValidForCreate false, IsValidForUpdate true (statecode): a create leaves them out and sets
  // them right after, in the same change set.
  std::set<std::string> update_only;
};

struct DataverseOptions {
  std::string url;                    // https://<org>.crm.dynamics.com
  std::string api_version = "9.2";
  int page_size = 5000;               // Prefer: odata.maxpagesize
  std::size_t batch_size = 100;       // operations per $batch request (at most 1000)
  std::chrono::seconds overlap{60};   // modifiedon watermark fallback: re-read this much before it
  std::size_t max_pages = 10000;      // pages per pull (x page_size rows); a service linking on for ever is stopped
  const Clock* clock = nullptr;       // nullptr: the system clock; must outlive the connector
};

class DataverseConnector final : public Connector {
 public:
  DataverseConnector(http::HttpClient& client, auth::TokenProvider& tokens, DataverseOptions options, Log log);

  const char* system() const override { return "dataverse"; }
  // Describe, and the parent lookup: opportunity.parentaccountid -> the account by name or
  // websiteurl domain, found with one $filter query per batch or created, bound on the create
  // with "parentaccountid@odata.bind" (dataverse_parent_lookup.cpp).
  static Capabilities supported();
  Capabilities capabilities() const override { return supported(); }
  // `cursor`: empty (first sync), an @odata.deltaLink, or "modifiedon:<ISO-8601>" when the table
  // has change tracking off.
  boost::asio::awaitable<Expected<std::string>> pull_pages(const ObjectSpec& spec, const std::string& cursor,
                                                           const PageSink& sink) override;
  boost::asio::awaitable<Expected<RemoteRecord>> get(const ObjectSpec& spec, const std::string& id) override;
  boost::asio::awaitable<Expected<RemoteRecord>> update(const ObjectSpec& spec, const RemoteRecord& current,
                                                        const std::vector<FieldChange>& changes) override;
  boost::asio::awaitable<Expected<RemoteRecord>> upsert(const ObjectSpec& spec, const std::string& external_id,
                                                        const std::vector<FieldChange>& fields) override;
  // $batch: each record its own change set (one failure never rolls back another record), with
  // Prefer: odata.continue-on-error; options.batch_size operations per request.
  boost::asio::awaitable<std::vector<Expected<RemoteRecord>>> update_many(
      const ObjectSpec& spec, const std::vector<UpdateRequest>& requests) override;
  boost::asio::awaitable<std::vector<Expected<RemoteRecord>>> upsert_many(
      const ObjectSpec& spec, const std::vector<UpsertRequest>& requests) override;
  // EntityDefinitions of the table with this entity set name: every column with
  // IsValidForUpdate / IsValidForCreate, the option values of its Picklist, Status and State
  // columns (local or global option sets), and ChangeTrackingEnabled.
  boost::asio::awaitable<Expected<ObjectMetadata>> describe_object(const std::string& entity_set) override;
  std::size_t api_calls() const override { return client_.requests_sent(); }

  // One operation of a $batch request (exposed for tests of the wire format).
  struct BatchOperation {
    std::string method;  // GET, PATCH, POST
    std::string url;     // absolute
    http::Headers headers;
    std::string body;
  };
  // One top-level part of a $batch request: a change set, whose operations succeed or fail
  // together, or a single GET (reads cannot be in a change set).
  struct BatchPart {
    std::vector<BatchOperation> operations;
    bool change_set = true;
  };
  struct BatchResult {
    int status = 0;
    http::Headers headers;
    std::string body;
  };

 private:
  boost::asio::awaitable<Expected<http::Response>> call(http::Method method, const std::string& url,
                                                        std::string body = {}, http::Headers extra = {});
  // Reads the pages from `url` on, each handed to `sink` as it comes.
  boost::asio::awaitable<std::optional<Failure>> read_pages(const ObjectSpec& spec, std::string url, bool track_changes,
                                                            bool& tracking_applied, std::string& delta_link,
                                                            const PageSink& sink);
  // Sends the parts in one $batch request; per part its operations' results (one failed result
  // for a change set that failed), or a failure for each part when the batch itself failed.
  boost::asio::awaitable<std::vector<Expected<std::vector<BatchResult>>>> send_batch(const std::vector<BatchPart>& parts);
  // One record's share of a $batch: its parts, and what names its write in failures.
  struct RecordParts {
    std::size_t request = 0;  // index into the caller's requests
    std::vector<BatchPart> parts;
    std::string what;
    std::size_t operations() const;
  };
  // Sends the records' parts in as few $batch requests as batch_size (operations per request)
  // allows, a record's parts always in the same request; one result per caller's request.
  boost::asio::awaitable<std::vector<Expected<RemoteRecord>>> send_records(const ObjectSpec& spec,
                                                                           const std::set<std::string>& option_set_columns,
                                                                           std::vector<RecordParts> records,
                                                                           std::size_t request_count);
  // The $batch parts that close an opportunity (WinOpportunity / LoseOpportunity after the other
  // changes, guarded by If-Match) and read it back.
  std::vector<BatchPart> close_parts(const ObjectSpec& spec, const RemoteRecord& current,
                                     std::vector<FieldChange> changes, const std::set<std::string>& option_set_columns,
                                     int state, int status) const;
  // The $batch parts of a create by alternate key (an upsert): one PATCH of the columns valid for
  // create; when the row needs more (a column valid only for update, a state other than the one
  // rows are created in), the writes that set it follow in the same change set (an opportunity's
  // state through WinOpportunity / LoseOpportunity), and a GET reads the row back when the last
  // write does not answer it.
  std::vector<BatchPart> upsert_parts(const ObjectSpec& spec, const std::string& external_id,
                                      const std::vector<FieldChange>& fields, const TableColumns& table) const;
  // Sets each request's parent lookup (`p`: opportunity.parentaccountid) with a bind to the one
  // account matching its UpsertRequest::parent, found with one $filter query per batch or
  // created; a request whose account cannot be settled gets its failure in `out` (several
  // matches: rejected, naming them). Requests without a parent are left alone.
  boost::asio::awaitable<void> resolve_parents(const ParentLookup& p, std::vector<UpsertRequest>& requests,
                                               std::vector<std::optional<Expected<RemoteRecord>>>& out);
  boost::asio::awaitable<void> find_parents(const ParentLookup& p, ParentCandidates& parents);
  boost::asio::awaitable<void> create_parents(const ParentLookup& p, ParentCandidates& parents);
  // The accounts whose match column equals (or contains, for domains) one of `literals`: id, value.
  boost::asio::awaitable<Expected<std::vector<std::pair<std::string, std::string>>>> query_parents(
      const ParentLookup& p, const std::vector<std::string>& literals);
  std::string parent_query_url(const ParentLookup& p, const std::vector<std::string>& literals) const;
  // GET of a collection: its "value" array, or the service's error.
  boost::asio::awaitable<Expected<nlohmann::json>> get_values(const std::string& url, const std::string& what);
  // The table's definition with its columns (LogicalName, AttributeType, IsValidFor...).
  boost::asio::awaitable<Expected<nlohmann::json>> entity_definition(const std::string& entity_set);
  // What writes need to know of a table's columns; read once per table, a failure when unreadable.
  boost::asio::awaitable<Expected<TableColumns>> table_columns(const std::string& entity_set);
  // The delta link `link` resolved against the service root, or why it is not followed (another
  // origin: the bearer token must not go there).
  Expected<std::string> delta_link_url(const std::string& link) const;
  std::string service_root() const;  // https://org/api/data/v9.2
  std::string select(const ObjectSpec& spec) const;
  std::string expand(const ObjectSpec& spec) const;  // related columns of a row read
  std::string row_url(const ObjectSpec& spec, const std::string& id) const;
  std::string key_segment(const ObjectSpec& spec, const std::string& external_id) const;  // leads(key='v')
  std::string key_url(const ObjectSpec& spec, const std::string& external_id) const;

  http::HttpClient& client_;
  auth::TokenProvider& tokens_;
  DataverseOptions options_;
  Log log_;
  SystemClock system_clock_;
  const Clock& clock_;
  std::map<std::string, TableColumns> table_columns_;  // by entity set
};

// leads -> leadid, opportunities -> opportunityid, accounts -> accountid.
std::string dataverse_primary_key(const std::string& entity_set);
// A row (or a $deletedEntity entry) of a Web API answer as a record.
// Option-set columns become text ("3").
std::optional<RemoteRecord> parse_dataverse_row(const nlohmann::json& row, const std::string& primary_key,
                                                const OptionColumns& option_columns, std::string& reason);
// The body of the write: the changed columns, option-set values as integers, with statecode
// added when a statuscode of a lead or opportunity needs it (each status value belongs to one state).
nlohmann::json dataverse_body(const std::string& entity_set, const std::vector<FieldChange>& changes,
                              const OptionColumns& option_columns);
// The statecode a statuscode belongs to, for the lead and opportunity tables; nullopt otherwise.
std::optional<int> dataverse_state_of(const std::string& entity_set, int statuscode);
// An OData string literal: quoted, a single quote doubled ("O'Brien" -> 'O''Brien').
std::string odata_quote(std::string_view text);
// A $filter expression as it goes into the query string: URL-encoded (& + ' # and spaces too).
std::string odata_filter_value(std::string_view filter);
// The @odata.bind value of a row: /accounts(<guid>).
std::string dataverse_bind(const std::string& entity_set, const std::string& id);
// `p` with what it leaves empty taken from DataverseConnector::supported(): parentaccountid,
// accounts, name (or websiteurl when matching domains).
ParentLookup with_dataverse_defaults(ParentLookup p);
// Builds a multipart/mixed $batch body.
std::string build_batch_body(const std::vector<DataverseConnector::BatchPart>& parts, const std::string& boundary);
// Parses a $batch answer into the results of each top-level part: a change set answers all its
// operations' results, or one failed result when it was rolled back. nullopt, with the reason in
// `why` when given, for a body that is not a well-formed multipart answer (hostile or truncated).
std::optional<std::vector<std::vector<DataverseConnector::BatchResult>>> parse_batch_response(
    const std::string& content_type, const std::string& body, std::string* why = nullptr);

}  // namespace cosync::connectors
