#pragma once
// Stateful fake of the Dataverse Web API (Dynamics 365) at an org URL http://127.0.0.1:PORT,
// service root /api/data/v9.2:
//  - tables `leads` (leadid) and `opportunities` (opportunityid), each with the alternate-key
//    column cosync_referralid; rows carry @odata.etag W/"<versionnumber>";
//  - GET <set>?$select=... with Prefer: odata.track-changes and odata.maxpagesize: pages linked by
//    @odata.nextLink, the last one carrying @odata.deltaLink; a GET on the delta link returns the
//    rows changed since and {"@odata.context":"...$deletedEntity","id":...,"reason":"deleted"};
//    a table with change tracking off ignores the preference (no Preference-Applied, no delta link);
//    an expired delta token answers 0x80044352 "... Please perform a full sync.";
//  - $filter=modifiedon ge <ISO> / gt, $orderby=modifiedon (the watermark fallback);
//  - GET/PATCH/DELETE <set>(<guid>), PATCH <set>(cosync_referralid='<v>') (upsert), If-Match ->
//    412, If-None-Match: * / If-Match: * on upserts, Prefer: return=representation;
//  - statecode/statuscode pairs checked against the tables' option sets; an opportunity is closed
//    only through WinOpportunity / LoseOpportunity (a PATCH of statecode is refused);
//  - POST $batch (multipart/mixed, change sets atomic, Prefer: odata.continue-on-error);
//  - table definitions as the Web API serves them: EntityDefinitions filtered by EntitySetName
//    or LogicalName, EntityDefinitions(LogicalName='lead') with $select and
//    $expand=Attributes($select=...), .../Attributes and .../Attributes cast to
//    Microsoft.Dynamics.CRM.{Picklist,Status,State}AttributeMetadata with OptionSet /
//    GlobalOptionSet only when expanded; ChangeTrackingEnabled follows set_change_tracking;
//  - accounts and contacts (the rows an opportunity's lookups point to): $filter on string
//    columns (name eq '...' or contains(websiteurl,'...'), joined by or) as the account lookup
//    asks; <lookup>@odata.bind on create / update stored as _<lookup>_value; table definitions
//    name a lookup by its attribute (parentaccountid), valid for create and update;
//  - errors {"error":{"code":"0x...","message":"..."}}; 429 with Retry-After on demand.
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/util/clock.hpp"
#include "tests/fakes/fault_queue.hpp"
#include "tests/fakes/http_test_server.hpp"

namespace cosync::fakes {

struct FakeDataverseOptions {
  const Clock* clock = nullptr;  // nullptr: the system clock; must outlive the fake
  unsigned short port = 0;       // 0: ephemeral
  std::string api_version = "v9.2";
  // Checks the bearer token (e.g. FakeTokenServer::validator()); empty: any token is accepted.
  std::function<bool(std::string_view)> validate_token;
  int max_page_size = 5000;  // Dataverse's own cap on a page
  EventSink on_event;        // optional: one line per write accepted
};

class FakeDataverse {
 public:
  explicit FakeDataverse(FakeDataverseOptions options = {});

  std::string base_url() const { return server_.base_url(); }  // the org URL
  std::string service_root() const { return "/api/data/" + options_.api_version; }

  // Seeds a row as a user would create it; returns its id. Columns not declared are refused.
  std::string insert(const std::string& entity_set, nlohmann::json columns);
  // A user's edit in Dynamics: sets the columns, bumps versionnumber and modifiedon.
  void edit(const std::string& entity_set, const std::string& id, nlohmann::json columns);
  // A user deletes the row: change tracking reports it as a $deletedEntity.
  void remove(const std::string& entity_set, const std::string& id);
  nlohmann::json row(const std::string& entity_set, const std::string& id) const;  // null when unknown
  std::vector<nlohmann::json> rows(const std::string& entity_set) const;
  // OpportunityClose activities created by WinOpportunity / LoseOpportunity.
  std::vector<nlohmann::json> opportunity_closes() const;

  void set_change_tracking(const std::string& entity_set, bool on);
  // An org's customizations of a table: a custom column (Integer, String, ...), and a status
  // reason added to a state (statuscode values may be added to each statecode,
  // https://learn.microsoft.com/power-apps/developer/data-platform/define-custom-state-model-transitions:
  // "You can add more status choices").
  void add_column(const std::string& entity_set, const std::string& name, const std::string& type);
  void add_status_reason(const std::string& entity_set, int value, const std::string& label, int state);
  // Every delta token issued so far is expired: the next delta GET answers "perform a full sync".
  void expire_delta_tokens();
  int writes() const;  // rows created, updated, closed or deleted through the API

  void fail_next(int count, int status, std::optional<int> retry_after_seconds = std::nullopt,
                 std::string body = {}) {
    faults_.fail_next(count, status, retry_after_seconds, std::move(body));
  }
  void serve_malformed_next(int count) { faults_.serve_malformed_next(count); }
  // The next $batch answer's body goes through `rewrite` (a broken or hostile service).
  void rewrite_next_batch_answer(std::function<std::string(std::string)> rewrite);
  HttpTestServer& server() { return server_; }

  struct Column {
    std::string type;  // String, Memo, Money, Integer, State, Status, Picklist, DateTime, Uniqueidentifier
    bool valid_for_create = true;  // IsValidForCreate
    bool valid_for_update = true;  // IsValidForUpdate
    std::map<int, std::string> options;  // option sets: value -> label
    std::map<int, int> status_state;     // Status only: statuscode -> statecode
    // String and Memo: MaxLength (characters); 0 takes the type's default (String 100, Memo 2000,
    // the defaults of a new column in the maker portal).
    int max_length = 0;
  };
  struct Table {
    std::string entity_set;   // leads
    std::string logical_name; // lead
    std::string key;          // leadid
    std::string alternate_key = "cosync_referralid";
    std::map<std::string, Column> columns;
    bool change_tracking = true;
    std::vector<nlohmann::json> rows;
    std::vector<std::pair<long, std::string>> deleted;  // version at deletion, id
  };
  struct Result {  // one operation's answer
    int status = 200;
    HeaderList headers;
    std::string body;
  };

 private:
  FakeResponse handle(const FakeRequest& request);
  // Executes one operation (top level or inside $batch) with mu_ held.
  Result execute(const std::string& method, const std::string& path, const std::map<std::string, std::string>& query,
                 const HeaderList& headers, const std::string& body);
  Result list(Table& table, const std::map<std::string, std::string>& query, const HeaderList& headers);
  Result batch(const FakeRequest& request);
  Result close_opportunity(const std::string& action, const std::string& body);
  Result entity_definitions(const std::string& path_after_root, const std::map<std::string, std::string>& query);
  nlohmann::json entity_definition(const Table& table, const std::vector<std::string>& select,
                                   const std::string& expand) const;
  nlohmann::json attribute_definition(const std::string& name, const Column& column,
                                      const std::vector<std::string>& select, const std::string& expand) const;

  Table* table_by_set(const std::string& entity_set);
  nlohmann::json* find_row(Table& table, const std::string& id);
  std::optional<Result> check_columns(const Table& table, const nlohmann::json& columns, bool api,
                                      const nlohmann::json* existing) const;
  // Turns each <navigation>@odata.bind of a write into the lookup's _<navigation>_value, or the
  // service's error (no such navigation property, no such row).
  std::optional<Result> bind_lookups(const Table& table, nlohmann::json& columns);
  void stamp(Table& table, nlohmann::json& row);
  nlohmann::json project(const Table& table, const nlohmann::json& row, const std::vector<std::string>& select) const;
  std::optional<Result> expand_lookups(const Table& table, const nlohmann::json& row, const std::string& expand,
                                       nlohmann::json& out);
  std::string url(const std::string& path_and_query) const;
  void emit(const std::string& line) const;

  SystemClock system_clock_;
  const Clock& clock_;
  FakeDataverseOptions options_;
  FaultQueue faults_;
  mutable std::mutex mu_;
  std::map<std::string, Table> tables_;
  std::vector<nlohmann::json> closes_;
  long version_ = 1000;
  long expired_below_ = 0;  // delta tokens below this version are expired
  struct Snapshot {
    std::vector<nlohmann::json> rows;
    std::size_t page;
    std::size_t served = 0;  // pages answered so far
    std::string delta_link;  // empty when change tracking did not apply
  };
  std::map<std::string, Snapshot> snapshots_;
  long next_snapshot_ = 1;
  int writes_ = 0;
  std::function<std::string(std::string)> rewrite_batch_;
  HttpTestServer server_;  // last: stops before the state above goes away
};

}  // namespace cosync::fakes
