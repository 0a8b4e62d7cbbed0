#pragma once
// One mapping's sync cycle: the planner decides (pull, pair, merge, rules), the executor carries
// the plan out (journal, batched writes, commit). A dry run (`cosyncd plan`) is the planner alone.
// Failures are per record: the rest of the batch keeps syncing.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <vector>

#include "connectors/connector.hpp"
#include "daemon/engine/cycle_plan.hpp"
#include "daemon/engine/engine_options.hpp"
#include "daemon/engine/executor.hpp"
#include "daemon/engine/journal.hpp"
#include "daemon/engine/planner.hpp"
#include "daemon/engine/rule.hpp"
#include "daemon/mapping/mapping.hpp"
#include "daemon/store/state_store.hpp"
#include "daemon/util/clock.hpp"
#include "daemon/util/log.hpp"

namespace cosync::engine {

class SyncEngine {
 public:
  SyncEngine(const mapping::Mapping& mapping, connectors::Connector& pc, connectors::Connector& crm, StateStore& store,
             const Clock& clock, Log log, RuleSet rules, EngineOptions options = {});
  SyncEngine(const SyncEngine&) = delete;  // its parts refer to each other
  SyncEngine& operator=(const SyncEngine&) = delete;

  // Runs one cycle, streamed: each page of a pull is planned, written and committed in batches
  // of at most kBatchRecords before the next page is read, so memory does not grow with the
  // backlog. `stop` is checked between batches: a requested stop finishes the batch in flight,
  // commits it and returns without moving the cursors past unfinished work.
  boost::asio::awaitable<CycleStats> run_cycle(const std::atomic<bool>& stop);
  // The most records one batch plans and writes (a Salesforce sObject Collections call's worth).
  static constexpr std::size_t kBatchRecords = 200;
  // A dry run: the planner's output; nothing is written anywhere (no API write, no state).
  boost::asio::awaitable<std::vector<PlannedChange>> plan();
  // The referrals Partner Center changed since this mapping's last cycle (read from its stored
  // cursor, which is not moved): what a report adds to the state database. Empty before the
  // first cycle, when the state database has nothing to bring up to date.
  boost::asio::awaitable<Expected<std::vector<connectors::RemoteRecord>>> pc_changes_since_last_cycle();

 private:
  struct CycleRun;  // what a cycle carries from batch to batch (sync_engine.cpp)
  boost::asio::awaitable<Expected<std::string>> pull_pc(CycleRun& run);
  boost::asio::awaitable<void> pull_crm(CycleRun& run);
  // Plans and executes one page in batches of kBatchRecords; false when the cycle must stop.
  boost::asio::awaitable<bool> take_page(Side side, connectors::PullPage& page, CycleRun& run);
  boost::asio::awaitable<bool> run_batch(PullBatch& batch, CycleRun& run);
  bool pc_again(const connectors::RemoteRecord& referral, CycleRun& run, std::vector<std::string>& read_crm) const;
  void note_crm_news(const std::vector<connectors::RemoteRecord>& records, CycleRun& run) const;
  boost::asio::awaitable<void> retry_due(CycleRun& run);
  void summarize(const char* kind, const char* outcome, CycleStats& stats, std::size_t calls_before,
                 std::chrono::steady_clock::time_point started) const;
  void record(const char* outcome, const CycleStats& stats);

  const mapping::Mapping& mapping_;
  connectors::Connector& pc_;
  connectors::Connector& crm_;
  StateStore& store_;
  const Clock& clock_;
  Log log_;
  RuleSet rules_;
  EngineOptions options_;
  Planner planner_;
  Journal journal_;
  Executor executor_;
};

}  // namespace cosync::engine
