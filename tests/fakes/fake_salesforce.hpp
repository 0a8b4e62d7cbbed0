#pragma once
// Stateful fake of the Salesforce REST API at an instance URL http://127.0.0.1:PORT:
// SOQL query/queryAll with nextRecordsUrl paging, sObject rows (get, create, update, delete),
// upsert by external id (201/200/300), sObject Collections (create, update, upsert; up to 200),
// per-object schemas (unknown fields, required fields, restricted picklists, unique external ids),
// Salesforce's array error bodies, Sforce-Limit-Info and scripted faults.
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/util/clock.hpp"
#include "tests/fakes/fault_queue.hpp"
#include "tests/fakes/http_test_server.hpp"
#include "tests/fakes/salesforce_schema.hpp"

namespace cosync::fakes {

struct SoqlChildQuery;  // tests/fakes/soql.hpp

struct FakeSalesforceOptions {
  const Clock* clock = nullptr;     // nullptr: the system clock; must outlive the fake
  unsigned short port = 0;          // 0: ephemeral
  std::string api_version = "v60.0";
  // Checks the bearer token (e.g. FakeTokenServer::validator()); empty: any token is accepted.
  std::function<bool(std::string_view)> validate_token;
  // Records per query page: the most the fake sends, also when Sforce-Query-Options asks for
  // more (Salesforce may answer with fewer than asked); a smaller batchSize there is honoured.
  int batch_size = 2000;
  int daily_api_limit = 15000;  // the "/N" of Sforce-Limit-Info
  EventSink on_event;       // optional: one line per write accepted
};

class FakeSalesforce {
 public:
  // Declares Lead, Opportunity and Account (see salesforce_schema.hpp). Objects never declared
  // are schemaless: any field is accepted, ids get the prefix "a00".
  explicit FakeSalesforce(FakeSalesforceOptions options = {});

  std::string base_url() const { return server_.base_url(); }  // the instance URL
  std::string data_path() const { return "/services/data/" + options_.api_version; }

  void define_object(const std::string& name, SObjectSchema schema);

  // Seeds a record as a user would create it (schema checks apply, except external-id
  // uniqueness, so a test can set up duplicates). System fields given in `fields`
  // (CreatedDate, LastModifiedDate, SystemModstamp, IsDeleted) override the stamped values.
  // Throws std::invalid_argument with Salesforce's message when the schema rejects it.
  std::string insert(const std::string& object, nlohmann::json fields);
  nlohmann::json record(const std::string& object, const std::string& id) const;  // null when unknown
  std::vector<nlohmann::json> records(const std::string& object) const;  // deleted ones included
  // A user's edit in Salesforce: sets the fields and bumps LastModifiedDate and SystemModstamp.
  void edit(const std::string& object, const std::string& id, nlohmann::json fields);
  void set_batch_size(int n);
  int api_requests() const;  // requests served so far (the N of Sforce-Limit-Info)
  int writes() const;        // records created, updated or deleted through the API

  // Faults, applied to the next requests before authentication and routing.
  void fail_next(int count, int status, std::optional<int> retry_after_seconds = std::nullopt,
                 std::string body = {}) {
    faults_.fail_next(count, status, retry_after_seconds, std::move(body));
  }
  void serve_malformed_next(int count) { faults_.serve_malformed_next(count); }
  // A hostile or broken org: every query on `object` also answers these records exactly as given
  // (any JSON, no schema check), after the rows that match, so that paging still applies.
  void serve_raw_records(const std::string& object, std::vector<nlohmann::json> records);
  // A hostile org: nextRecordsUrl is `origin` ("http://elsewhere:1234") + the usual path instead
  // of the path alone; empty restores Salesforce's relative links.
  void set_next_records_origin(std::string origin);

  HttpTestServer& server() { return server_; }

  struct Table {
    std::string name;
    SObjectSchema schema;
    bool declared = false;
    std::vector<nlohmann::json> rows;  // in creation order
    // Indexes, so that a look-up costs the same at 100,000 rows as at 10 (bench/): the position of
    // each row by Id, and by the text of a field's value in ASCII lower case for the fields looked
    // up by value (external ids, WhoId, Id in SOQL, ...), each built on its first use. Entries are only added: a row
    // whose value changed leaves a stale one, which every look-up checks against the row.
    mutable std::unordered_map<std::string, size_t> by_id;
    mutable size_t rows_by_id = 0;  // rows [0, rows_by_id) are in by_id
    mutable std::map<std::string, std::unordered_map<std::string, std::vector<size_t>>> by_value;
  };
  // A failed operation: HTTP status, Salesforce error code, message and fields.
  struct Error {
    int status = 400;
    std::string code;
    std::string message;
    std::vector<std::string> fields;
    nlohmann::json body;  // replaces the usual array body when set (300 Multiple Choices)
  };
  struct Saved {
    std::string id;
    bool created = false;
  };

 private:
  FakeResponse handle(const FakeRequest& request);
  FakeResponse route(const FakeRequest& request, const std::vector<std::string>& segments);
  FakeResponse query(const FakeRequest& request, bool include_deleted);
  FakeResponse next_batch(const std::string& locator);
  FakeResponse collections(const FakeRequest& request, const std::vector<std::string>& segments);
  nlohmann::json describe(const Table& table) const;  // with mu_ held

  // All below are called with mu_ held.
  Table* find_table(const std::string& name);
  Table& table_for_write(const std::string& name);
  nlohmann::json* find_row(Table& table, const std::string& id);
  const nlohmann::json* find_exact(const Table& table, const std::string& id) const;
  // Positions of the rows (deleted ones included) whose `field` holds the text `value`, in
  // creation order; index_row keeps the indexes up to date after a row is added or changed.
  // `exact` false: also those whose text differs from `value` in ASCII case only (what SOQL's
  // case-insensitive = may match).
  static std::vector<size_t> rows_with(const Table& table, const std::string& field, const std::string& value,
                                       bool exact = true);
  static void index_row(const Table& table, size_t position);
  std::string url_of(const Table& table, const std::string& id) const;
  nlohmann::json project(const Table& table, const nlohmann::json& row, const std::vector<std::string>& fields) const;
  // A parent-to-child subquery's answer for the parent `parent_id` (Tasks, Events: rows whose
  // WhoId is the parent): a QueryResult, or null without a row.
  nlohmann::json child_records(const SoqlChildQuery& child, const std::string& parent_id);
  // A relationship field of a SOQL query ("Account.Name", "Owner.Email", "Custom__r.Field"): the
  // row its lookup points to, as Salesforce nests it; null when the lookup is empty.
  std::optional<std::string> lookup_field(const Table& table, const std::string& relationship) const;
  const nlohmann::json* related_row(const std::string& id) const;
  std::optional<Error> check_fields(const Table& table, nlohmann::json& fields, bool create, const std::string& self_id,
                                    bool check_unique) const;
  std::variant<Saved, Error> create_row(Table& table, nlohmann::json fields, bool check_unique = true);
  std::variant<Saved, Error> update_row(Table& table, const std::string& id, nlohmann::json fields);
  std::variant<Saved, Error> upsert_row(Table& table, const std::string& field, const std::string& value,
                                        nlohmann::json fields);
  std::string next_stamp();
  std::string new_id(const std::string& prefix);
  void emit(const std::string& line) const;

  struct Cursor {
    std::vector<nlohmann::json> records;
    size_t batch;
  };

  SystemClock system_clock_;
  const Clock& clock_;
  FakeSalesforceOptions options_;
  FaultQueue faults_;
  mutable std::mutex mu_;
  std::map<std::string, Table> tables_;
  std::map<std::string, Cursor> cursors_;
  std::map<std::string, std::vector<nlohmann::json>> raw_records_;  // by object name
  std::string next_records_origin_;
  TimePoint last_stamp_{};
  long next_id_ = 1;
  long next_cursor_ = 1;
  int requests_ = 0;
  int writes_ = 0;
  HttpTestServer server_;  // last: stops before the state above goes away
};

}  // namespace cosync::fakes
