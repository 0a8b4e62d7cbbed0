#pragma once
// One mapping's sync cycle: pull both sides, pair records through links (then external ids),
// create what is missing, three-way merge, write only the differences, commit shadows and
// cursors. Failures are per record: the rest of the batch keeps syncing.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "connectors/connector.hpp"
#include "daemon/engine/merge.hpp"
#include "daemon/mapping/mapping.hpp"
#include "daemon/store/state_store.hpp"
#include "daemon/util/clock.hpp"
#include "daemon/util/log.hpp"

namespace cosync::engine {

struct CycleStats {
  std::size_t pulled_pc = 0;
  std::size_t pulled_crm = 0;
  std::size_t created = 0;
  std::size_t updated_pc = 0;
  std::size_t updated_crm = 0;
  std::size_t conflicts = 0;
  std::size_t quarantined = 0;
  std::size_t orphaned = 0;    // links whose record one side answered 404 for
  std::size_t failed = 0;      // transient failures: retried next cycle
  std::size_t api_calls = 0;
  std::string crm_api_usage;   // the CRM's own report, e.g. Salesforce "120/15000"; empty if none
  std::chrono::milliseconds duration{0};
  bool pull_failed = false;

  bool ok() const { return failed == 0 && quarantined == 0 && !pull_failed; }
};

// What a dry run (`cosyncd plan`) found would change, per record and field.
struct PlannedChange {
  std::string mapping;
  std::string pc_id;
  std::string crm_id;  // empty when the CRM record would be created
  std::string action;  // "create in CRM", "update CRM", "update Partner Center"
  std::string field;   // canonical field name, or the CRM/PC field for creates and links
  nlohmann::json old_value;
  nlohmann::json new_value;
  std::string reason;
};

struct EngineOptions {
  std::chrono::seconds quarantine_retry{300};        // first automatic retry of a quarantined record
  std::chrono::seconds quarantine_retry_max{86400};  // backoff cap
  std::chrono::seconds audit_retention{90 * 86400};  // audit entries older than this are pruned
};

class SyncEngine {
 public:
  SyncEngine(const mapping::Mapping& mapping, connectors::Connector& pc, connectors::Connector& crm, StateStore& store,
             const Clock& clock, Log log, EngineOptions options = {});

  // Runs one cycle. `stop` is checked between records: a requested stop finishes the record in
  // flight, commits it and returns without moving the cursors past unfinished work.
  boost::asio::awaitable<CycleStats> run_cycle(const std::atomic<bool>& stop);
  // A dry run: reads both sides like a cycle, writes nothing anywhere (no API write, no state).
  boost::asio::awaitable<std::vector<PlannedChange>> plan();

 private:
  struct WorkItem;
  struct Planned;
  // Pairs a pulled CRM record with its referral's work item, or notes its deletion.
  void pair_crm_record(connectors::RemoteRecord& record, std::map<std::string, WorkItem>& items,
                       std::vector<Link>& deleted_links);
  // A quarantined record whose retry time has come joins the cycle's work.
  void add_due_retry(const QuarantineEntry& entry, std::map<std::string, WorkItem>& items);
  // Creates the CRM records of referrals not linked yet, in batches (upsert on the external id).
  boost::asio::awaitable<void> create_missing(std::vector<WorkItem*>& items, CycleStats& stats);
  // Reads one side's record (`id`) afresh into the item; a failure is recorded (fail) and ends
  // the item for this cycle (false).
  boost::asio::awaitable<bool> read_side(WorkItem& item, bool crm, const std::string& id, CycleStats& stats);
  // Reads what an item lacks and links a CRM record that already claims it; true when the
  // referral still needs a CRM record created.
  boost::asio::awaitable<bool> needs_create(WorkItem& item, CycleStats& stats);
  // Records the create as pending (before it is sent) and returns its request.
  connectors::UpsertRequest create_request(WorkItem& item);
  void link_created(WorkItem& item, connectors::RemoteRecord& created, CycleStats& stats);
  // Merges one item; reads a side that must be written but was not pulled. nullopt: nothing to
  // write (finished) or failed.
  boost::asio::awaitable<std::optional<Planned>> plan_item(WorkItem& item, CycleStats& stats);
  // Merges every item and sends the writes of each side in batches (Salesforce sObject
  // Collections); re-merges what moved. Returns false when `stop` interrupted it.
  boost::asio::awaitable<bool> sync_items(std::vector<WorkItem*> items, CycleStats& stats,
                                          const std::atomic<bool>& stop);
  // Sends one side's writes of a batch in one batched call; a precondition failure re-reads
  // that side and marks the item for another merge round.
  boost::asio::awaitable<void> write_side(std::vector<Planned>& planned, bool to_crm, CycleStats& stats);
  void fail(const std::string& side, const std::string& id, const Failure& failure, CycleStats& stats);
  void save(Planned& p);
  void reconcile_pending(Link& link, const WorkItem& item) const;
  // Records the writes about to be sent to one side, before sending them.
  void remember_pending(std::vector<Planned*>& writes, bool to_crm);
  void record_writes(Planned& p, const std::vector<FieldWrite>& writes, Origin origin);
  void finish(Planned& p, CycleStats& stats);
  void quarantine(const std::string& side, const std::string& id, const Failure& failure, CycleStats& stats);
  // Last resort: processing one record threw (an input or a state nobody foresaw). The record is
  // quarantined with the reason and the cycle goes on with the others.
  void contain(const std::string& side, const std::string& id, const std::string& what, CycleStats& stats);
  void contain(WorkItem& item, const std::string& what, CycleStats& stats);
  // One side answered 404 for a linked record: the pair gets no more writes (see the .cpp).
  void orphan(const Link& link, const std::string& side, const Failure& failure, CycleStats& stats);
  boost::asio::awaitable<void> apply_delete_policy(const Link& link, CycleStats& stats);
  void audit(const Link& link, const std::string& field, const nlohmann::json& old_value,
             const nlohmann::json& new_value, Origin origin, const std::string& kind, const std::string& detail);

  const mapping::Mapping& mapping_;
  connectors::Connector& pc_;
  connectors::Connector& crm_;
  StateStore& store_;
  const Clock& clock_;
  Log log_;
  connectors::ObjectSpec pc_spec_;
  connectors::ObjectSpec crm_spec_;
  EngineOptions options_;
  std::vector<PlannedChange>* planning_ = nullptr;  // set during plan(): record instead of writing
};

}  // namespace cosync::engine
