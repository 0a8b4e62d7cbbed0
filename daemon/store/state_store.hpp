#pragma once
// The daemon's durable state in SQLite (WAL): links between records with the shadow of the last
// synced values, cursors, pending creates and the quarantine. Connectors never see this.
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/store/outbox.hpp"

struct sqlite3;

namespace cosync {

class StatementCache;

struct Link {
  std::string mapping;
  std::string pc_id;
  std::string crm_id;
  std::string pc_version;   // PC eTag last seen
  std::string crm_version;  // CRM version (Salesforce SystemModstamp) last seen
  nlohmann::json shadow = nlohmann::json::object();  // canonical field name -> last synced value
  // Writes sent but not yet confirmed: field -> {"side": "pc"|"crm", "value": v}. If a crash comes
  // between the remote write and the commit, the next cycle finds the value there and knows it as
  // its own (no echo mistaken for a user's edit).
  nlohmann::json pending = nlohmann::json::object();
  // Set when one side answered 404 for the linked record: the pair keeps its last values and
  // gets no more writes, and the link stays so that the referral is never paired again.
  std::string orphaned_at{};  // ISO-8601 UTC; empty while the link is live
  std::string orphan_reason{};
  bool orphaned() const { return !orphaned_at.empty(); }
};

// One applied change, or one conflict, kept for the audit trail.
struct AuditEntry {
  std::string at;  // ISO-8601 UTC
  std::string mapping;
  std::string pc_id;
  std::string crm_id;
  std::string field;
  nlohmann::json old_value;
  nlohmann::json new_value;
  std::string origin;  // the side the value came from: "pc" or "crm"
  std::string kind;    // "create", "update" or "conflict"
  std::string detail;  // why, e.g. "changed on both sides, owner crm wins"
  std::string request_id;
};

// An action a rule holds for a record until a time (see daemon/engine/rule.hpp).
struct HeldAction {
  std::string mapping;
  std::string pc_id;
  std::string key;     // the rule's name for what it holds, one per record
  std::string until;   // ISO-8601
  std::string reason;
};

struct CycleRecord {
  std::string mapping;
  std::string finished_at;
  std::string result;
  long long duration_ms = 0;
  nlohmann::json summary;
};

struct QuarantineEntry {
  long long id = 0;
  std::string mapping;
  std::string side;  // "pc" or "crm"
  std::string record_id;
  std::string reason;
  std::string request_id;
  int attempts = 0;
  std::string first_seen;
  std::string last_seen;
  std::string next_retry;  // ISO-8601 UTC; the engine retries the record from then on
};

// The state database was left by a newer cosyncd (a downgrade): refused untouched. Restarting
// cannot fix it, so the daemon exits with the configuration status (78, no systemd restart loop).
class SchemaTooNew : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class StateStore {
 public:
  // Opens (creating if needed) and migrates the database. Throws std::runtime_error on failure.
  explicit StateStore(const std::string& path);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  int schema_version() const;

  std::optional<Link> link_by_pc(const std::string& mapping, const std::string& pc_id) const;
  std::optional<Link> link_by_crm(const std::string& mapping, const std::string& crm_id) const;
  std::vector<Link> links(const std::string& mapping) const;
  // A mapping's links (orphaned ones too), quarantined records and held actions, counted in SQL:
  // the metrics and each cycle's health need the numbers, not every row in memory.
  struct Counts {
    std::size_t links = 0;
    std::size_t orphaned = 0;
    std::size_t quarantined = 0;
    std::size_t held = 0;
  };
  Counts counts(const std::string& mapping) const;
  void save_link(const Link& link);  // insert or replace
  // Removes the link and leaves a tombstone, so the referral is not paired again.
  void bury_link(const Link& link, const std::string& reason);
  bool is_tombstoned(const std::string& mapping, const std::string& pc_id) const;
  // Marks the link orphaned (shadow and versions kept) and forgets its quarantine entries.
  void orphan_link(const Link& link, const std::string& at, const std::string& reason);

  std::optional<std::string> cursor(const std::string& mapping, const std::string& side) const;
  void set_cursor(const std::string& mapping, const std::string& side, const std::string& value);

  // A create about to be sent: recorded before the remote call so that a restart looks the
  // record up instead of creating it again (DESIGN invariant 1).
  // `intent`: canonical field -> value the create sends.
  void add_pending_create(const std::string& mapping, const std::string& side, const std::string& key,
                          const nlohmann::json& intent = nlohmann::json::object());
  // The intent of a create sent but never confirmed; nullopt when there is none.
  std::optional<nlohmann::json> pending_create(const std::string& mapping, const std::string& side,
                                               const std::string& key) const;
  void remove_pending_create(const std::string& mapping, const std::string& side, const std::string& key);
  std::vector<std::string> pending_creates(const std::string& mapping, const std::string& side) const;

  // Puts a record in quarantine (or counts one more attempt) and returns the attempt count.
  int quarantine(const std::string& mapping, const std::string& side, const std::string& record_id,
                 const std::string& reason, const std::string& request_id, const std::string& next_retry);
  // Attempts so far for this record; 0 when it is not in quarantine.
  int quarantine_attempts(const std::string& mapping, const std::string& side, const std::string& record_id) const;
  // Entries of `mapping` whose retry time has come (`now` as ISO-8601).
  std::vector<QuarantineEntry> due_quarantine(const std::string& mapping, const std::string& now) const;
  // `quarantine retry`: due at once. `drop`: forgotten (the record syncs again when it changes).
  // Both return false when no entry has that id.
  bool retry_quarantine_now(long long id);
  bool drop_quarantine(long long id);
  void retry_all_quarantine_now();
  void release_quarantine(const std::string& mapping, const std::string& side, const std::string& record_id);
  bool is_quarantined(const std::string& mapping, const std::string& side, const std::string& record_id) const;
  std::vector<QuarantineEntry> quarantined() const;

  // Held actions: one per (mapping, referral, key); hold() inserts or moves it.
  void hold(const HeldAction& held);
  void release_hold(const std::string& mapping, const std::string& pc_id, const std::string& key);
  void release_holds(const std::string& mapping, const std::string& pc_id);  // all of a referral's (unlinked, orphaned)
  std::vector<HeldAction> holds(const std::string& mapping, const std::string& pc_id) const;
  std::vector<HeldAction> all_holds(const std::string& mapping) const;  // for `status`, soonest first
  // Audit entries of one kind ("share", "create", ...) kept for `mapping`, for `status`.
  long long audit_count(const std::string& mapping, const std::string& kind) const;
  // Held actions of `mapping` whose time has come (`now` as ISO-8601).
  std::vector<HeldAction> due_holds(const std::string& mapping, const std::string& now) const;

  void add_audit(const AuditEntry& entry);
  std::vector<AuditEntry> audit(const std::string& mapping, std::size_t limit) const;  // newest first
  // Deletes audit entries older than `before` (ISO-8601); returns how many.
  int prune_audit(const std::string& before);

  void record_cycle(const CycleRecord& cycle);
  std::vector<CycleRecord> cycles() const;
  std::size_t pending_create_count() const;

  // The notification outbox (daemon/store/outbox.cpp). add_event belongs in the transaction of
  // the change that caused the event.
  long long add_event(const OutboxEvent& event);
  std::vector<OutboxEvent> undispatched_events(std::size_t limit) const;
  // The event's deliveries (one per rule that wants it; ignored when already there), and the
  // event marked dispatched, in one transaction.
  void dispatch_event(long long event_id, const std::vector<std::pair<std::string, std::string>>& rule_message_ids);
  std::vector<Delivery> due_deliveries(const std::string& now, std::size_t limit) const;
  std::vector<Delivery> deliveries(const std::string& status) const;  // "" for all, newest first
  void mark_sent(long long delivery_id, const std::string& at);
  // One more failed attempt: retried at `next_attempt`, or `failed` when `give_up`.
  void mark_attempt_failed(long long delivery_id, const std::string& error, const std::string& next_attempt,
                           bool give_up);
  bool retry_delivery_now(long long delivery_id);  // false when no such delivery
  bool drop_delivery(long long delivery_id);
  std::vector<OutboxEvent> events() const;  // every event kept, oldest first (reports)
  // The newest event of cosync's own (`pc_id` "") of `mapping` whose key is one of `keys` (any
  // key when empty); for a referral, its linked pair's newest event if its key is one of `keys`
  // (an event written while the referral had no link is not its last).
  std::optional<OutboxEvent> last_event(const std::string& mapping, const std::string& pc_id,
                                        const std::vector<std::string>& keys) const;
  // Deletes deliveries sent before `sent_before`, then dispatched events from before
  // `events_before` that no delivery still needs; returns how many rows went.
  int prune_outbox(const std::string& sent_before, const std::string& events_before);

  // An SQL scope: `open` runs at once, finish() runs `close`; destroyed before finish(), `undo` runs.
  class SqlScope {
   public:
    SqlScope(const SqlScope&) = delete;
    SqlScope& operator=(const SqlScope&) = delete;

   protected:
    SqlScope(StateStore& store, const char* open, const char* close, const char* undo);
    ~SqlScope();
    void finish();

   private:
    StateStore& store_;
    const char* close_;
    const char* undo_;
    bool done_ = false;
  };

  // RAII transaction: commits in commit(), rolls back if destroyed first.
  class Transaction : SqlScope {
   public:
    explicit Transaction(StateStore& store) : SqlScope(store, "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK") {}
    void commit() { finish(); }
  };

  // RAII savepoint within a transaction: one record's writes, undone alone (release() not
  // reached) when processing that record fails, while the rest of the batch commits.
  class Savepoint : SqlScope {
   public:
    explicit Savepoint(StateStore& store)
        : SqlScope(store, "SAVEPOINT record", "RELEASE record", "ROLLBACK TO record; RELEASE record") {}
    void release() { finish(); }
  };

  // Rows inserted, updated or deleted through this store since it opened (sqlite3_total_changes):
  // how much a cycle wrote, for tests and the bench.
  long long total_changes() const;

 private:
  void exec(const char* sql) const;
  void run_cached(const char* sql);  // one statement, prepared once per connection
  void migrate();
  sqlite3* db_ = nullptr;
  std::unique_ptr<StatementCache> statements_;  // prepared once per store (sqlite_statement.hpp)
};

}  // namespace cosync
