#pragma once
// The second half of a cycle: carries out a CyclePlan. Journals each intent before sending it
// (pending creates and writes, so a crash cannot duplicate a record or mistake cosync's own write
// for an edit), sends the writes of each side in batches with their preconditions, re-plans what
// moved meanwhile, and commits links, shadows, held actions and finally the cursors.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <vector>

#include "connectors/connector.hpp"
#include "daemon/engine/cycle_plan.hpp"
#include "daemon/engine/journal.hpp"
#include "daemon/engine/planner.hpp"
#include "daemon/store/state_store.hpp"

namespace cosync::engine {

class Executor {
 public:
  Executor(Planner& planner, connectors::Connector& pc, connectors::Connector& crm, StateStore& store, Journal& journal,
           const Clock& clock, Log log);

  // Returns false when `stop` interrupted it: what was sent is committed, the cursors stay.
  boost::asio::awaitable<bool> execute(CyclePlan& plan, CycleStats& stats, const std::atomic<bool>& stop);

 private:
  void record_failures(const std::vector<RecordFailure>& failures, CycleStats& stats);
  boost::asio::awaitable<void> apply_deletion(const PlannedDeletion& deletion, CycleStats& stats);
  void link_existing(WorkItem& item);
  boost::asio::awaitable<void> create(std::vector<PlannedCreate>& creates, CycleStats& stats);
  void link_created(WorkItem& item, connectors::RemoteRecord& created, CycleStats& stats);
  // `campaign:` (campaign_execution.cpp): cosync's new leads join the mapping's campaign before
  // they are linked; one that cannot is logged as an error and linked all the same.
  struct NewLead {
    WorkItem* item;
    std::string crm_id;
  };
  boost::asio::awaitable<void> join_campaign(const std::vector<NewLead>& leads);
  // The same for a lead cosync created whose link a crash left for this cycle.
  boost::asio::awaitable<void> join_campaign_before_link(std::vector<PlannedLink>& links);
  void received(const Link& link, const WorkItem& item);  // the `received` event of cosync's create
  // Co-sell sharing (share_execution.cpp): shares go out one by one after a pending row each;
  // each shared pair joins `replan` so that its first merge writes the referral id to the CRM.
  boost::asio::awaitable<void> share(CyclePlan& plan, std::vector<WorkItem*>& replan, CycleStats& stats);
  void hold_share(const PlannedShare& share);
  void link_shared(WorkItem& item, const PlannedShare& share, CycleStats& stats);
  // Merge rounds: writes of each side in one batched call, re-planning what a precondition failed for.
  boost::asio::awaitable<bool> update(std::vector<PlannedUpdate> planned, std::vector<WorkItem*> replan,
                                      CycleStats& stats, const std::atomic<bool>& stop);
  boost::asio::awaitable<void> write_side(std::vector<PlannedUpdate>& planned, Side side, CycleStats& stats);
  void commit_round(std::vector<PlannedUpdate>& planned, std::vector<WorkItem*>& again, CycleStats& stats);
  void remember_pending(std::vector<PlannedUpdate*>& writes, Side side);
  // Deal registrations (registration_execution.cpp), after the pairs' Partner Center writes: a
  // pending row before each add, so that a crash after the PATCH links instead of adding again.
  boost::asio::awaitable<void> register_deals(std::vector<PlannedUpdate>& planned, CycleStats& stats);
  void registered(PlannedUpdate& p, const PlannedRegistration& r);
  void record_writes(PlannedUpdate& p, Side side);
  void settle_rule_actions(PlannedUpdate& p);
  void save(PlannedUpdate& p);
  void finish(PlannedUpdate& p, CycleStats& stats);

  Planner& planner_;
  const mapping::Mapping& mapping_;
  connectors::Connector& pc_;
  connectors::Connector& crm_;
  StateStore& store_;
  Journal& journal_;
  const Clock& clock_;
  Log log_;
};

}  // namespace cosync::engine
