#pragma once
// What the executor records about records besides their links: quarantine (with backoff),
// orphaned links, transient failures, and the audit trail. Each entry is logged as it is written.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/engine/cycle_plan.hpp"
#include "daemon/engine/engine_options.hpp"
#include "daemon/engine/merge.hpp"
#include "daemon/mapping/mapping.hpp"
#include "daemon/store/state_store.hpp"
#include "daemon/util/clock.hpp"
#include "daemon/util/log.hpp"

namespace cosync::engine {

class Journal {
 public:
  Journal(const mapping::Mapping& mapping, std::string crm_system, StateStore& store, const Clock& clock, Log log,
          EngineOptions options);

  // A failed record: a 404 for a linked record orphans the link, a rejection (or a 404 for an
  // unlinked one) quarantines it, anything else is counted and retried next cycle.
  void fail(const RecordFailure& f, CycleStats& stats);
  void quarantine(const std::string& side, const std::string& id, const Failure& failure, CycleStats& stats);
  // Last resort: processing one record threw; it is quarantined with the reason.
  void contain(const std::string& side, const std::string& id, const std::string& what, CycleStats& stats);
  void audit(const Link& link, const std::string& field, const nlohmann::json& old_value,
             const nlohmann::json& new_value, Origin origin, const std::string& kind, const std::string& detail);
  // A rule's event: audited, and written to the notification outbox in the caller's transaction
  // (the one that commits the change that caused it), with the records and their people.
  void event(const Link& link, const std::string& key, Origin origin, const std::string& reason,
             const std::optional<connectors::RemoteRecord>& pc, const std::optional<connectors::RemoteRecord>& crm);

 private:
  // One side answered 404 for a linked record: the pair gets no more writes.
  void orphan(const Link& link, const std::string& side, const Failure& failure, CycleStats& stats);

  const mapping::Mapping& mapping_;
  std::string crm_system_;
  StateStore& store_;
  const Clock& clock_;
  Log log_;
  EngineOptions options_;
};

}  // namespace cosync::engine
