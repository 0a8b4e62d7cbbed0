#pragma once
// One mapping's sync cycle: pull both sides, pair records through links (then external ids),
// create what is missing, three-way merge, write only the differences, commit shadows and
// cursors. Failures are per record: the rest of the batch keeps syncing.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

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
  std::size_t failed = 0;      // transient failures: retried next cycle
  std::size_t api_calls = 0;
  std::chrono::milliseconds duration{0};
  bool pull_failed = false;

  bool ok() const { return failed == 0 && quarantined == 0 && !pull_failed; }
};

class SyncEngine {
 public:
  SyncEngine(const mapping::Mapping& mapping, connectors::Connector& pc, connectors::Connector& crm, StateStore& store,
             const Clock& clock, Log log);

  // Runs one cycle. `stop` is checked between records: a requested stop finishes the record in
  // flight, commits it and returns without moving the cursors past unfinished work.
  boost::asio::awaitable<CycleStats> run_cycle(const std::atomic<bool>& stop);

 private:
  struct WorkItem;
  boost::asio::awaitable<void> sync_item(WorkItem& item, CycleStats& stats);
  void quarantine(const std::string& side, const std::string& id, const Failure& failure, CycleStats& stats);

  const mapping::Mapping& mapping_;
  connectors::Connector& pc_;
  connectors::Connector& crm_;
  StateStore& store_;
  const Clock& clock_;
  Log log_;
  connectors::ObjectSpec pc_spec_;
  connectors::ObjectSpec crm_spec_;
};

}  // namespace cosync::engine
