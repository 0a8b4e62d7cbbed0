#pragma once
// The first half of a cycle: pull both sides from the stored cursors, pair records through links
// (then external ids), decide creates and links, three-way merge each pair, and ask the rules.
// The result is a CyclePlan; the planner reads the state store but never writes to it or to
// either side, so `cosyncd plan` is exactly this.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/connector.hpp"
#include "daemon/engine/cycle_plan.hpp"
#include "daemon/engine/rule.hpp"
#include "daemon/mapping/mapping.hpp"
#include "daemon/store/state_store.hpp"
#include "daemon/util/clock.hpp"
#include "daemon/util/log.hpp"

namespace cosync::engine {

// A linked item's plan, or why it has none this cycle (nothing of either: nothing to do).
struct ItemPlan {
  std::optional<PlannedUpdate> update;
  std::optional<RecordFailure> failure;
};

// One batch of a streamed cycle: at most a few hundred records of one side as pulled, malformed
// ones, and records due for a retry (side, id) to read afresh. Planned like a whole pull.
struct PullBatch {
  Side side = Side::pc;
  std::vector<connectors::RemoteRecord> records;
  std::vector<connectors::MalformedRecord> malformed;
  std::vector<std::pair<std::string, std::string>> due;
  std::vector<std::string> read_crm;  // referrals whose CRM record is read afresh (WorkItem::read_crm)
};

class Planner {
 public:
  Planner(const mapping::Mapping& mapping, connectors::Connector& pc, connectors::Connector& crm,
          const StateStore& store, const RuleSet& rules, const Clock& clock, Log log);

  // The whole cycle at once (both pulls collected): what `cosyncd plan` lists.
  boost::asio::awaitable<CyclePlan> plan();
  // One batch into `plan`, whose pc_now and retyped (carried from the cycle's earlier batches)
  // are set by the caller; a cycle streams its pulls through this (SyncEngine).
  boost::asio::awaitable<void> plan_batch(PullBatch& batch, CyclePlan& plan);
  // The records whose retry or held action is due by now (holds on Partner Center's clock).
  std::vector<std::pair<std::string, std::string>> due_records(TimePoint pc_time) const;
  // Merges one linked item and asks the rules; reads a side that must be written but was not
  // read yet. Called again by the executor after a create, a link or a failed precondition.
  boost::asio::awaitable<ItemPlan> plan_update(WorkItem& item);
  // A referral as read: the rules' computed fields (referral kind, direction) added.
  void annotate(connectors::RemoteRecord& referral) const;
  // Whether the referral as pulled, merged against its link alone (the CRM side as last synced),
  // asks for anything: a write to either side, its link field, a rule's action, a registration.
  // Reads nothing; a streamed cycle uses it to tell whether a pair whose CRM record was already
  // handled this cycle needs planning again with both sides.
  bool acts_alone(const connectors::RemoteRecord& referral, const Link& link) const;

  const mapping::Mapping& mapping() const { return mapping_; }
  const connectors::ObjectSpec& pc_spec() const { return pc_spec_; }
  const connectors::ObjectSpec& crm_spec() const { return crm_spec_; }
  TimePoint pc_now() const;  // Partner Center's clock, the host's until it has answered

 private:
  bool pull(CyclePlan& plan, Expected<connectors::PullResult>& pc, Expected<connectors::PullResult>& crm);
  void add_referral(connectors::RemoteRecord& referral, CyclePlan& plan);
  void pair_crm_record(connectors::RemoteRecord& record, CyclePlan& plan);
  void plan_deletion(const Link& link, const connectors::RemoteRecord& record, CyclePlan& plan);
  void add_crm_record(connectors::RemoteRecord& record, CyclePlan& plan);
  void add_malformed(const char* side, const std::vector<connectors::MalformedRecord>& malformed, CyclePlan& plan) const;
  void add_due(CyclePlan& plan, const std::vector<std::pair<std::string, std::string>>& due);
  // Plans what was gathered into `plan`: share candidates, then every item.
  boost::asio::awaitable<void> plan_gathered(CyclePlan& plan);
  boost::asio::awaitable<void> plan_item(WorkItem& item, CyclePlan& plan);
  // Reads one side's record afresh into the item; the failure when it cannot.
  boost::asio::awaitable<std::optional<RecordFailure>> read_side(WorkItem& item, Side side, const std::string& id);
  PlannedCreate plan_create(WorkItem& item) const;
  // Co-sell sharing (share_planning.cpp): an unlinked CRM record the share selects (or whose
  // share a crash interrupted) becomes a candidate; read afresh with its related fields, it is
  // planned as a share, a share held for consent, or a failure.
  void consider_share(connectors::RemoteRecord& record, CyclePlan& plan) const;
  boost::asio::awaitable<void> plan_share(connectors::RemoteRecord& candidate, CyclePlan& plan);
  bool is_own_share(const connectors::RemoteRecord& referral) const;
  PlannedUpdate merge_item(WorkItem& item, Link link) const;
  // Deal registration (registration_planning.cpp): whether the pair needs its CRM record read to
  // decide, and what it sends (add once, link after a crash, replace while editable).
  bool registration_needs_crm(const WorkItem& item) const;
  bool registration_needs_pc(const WorkItem& item) const;
  void plan_registration(PlannedUpdate& p) const;
  // Asks the rules about a merged pair, one at a time, each seeing the writes planned so far.
  void apply_rules(PlannedUpdate& p) const;
  void apply_rule_action(PlannedUpdate& p, const char* rule, RuleAction action) const;
  void withhold(PlannedUpdate& p, const RuleAction& hold) const;  // a hold's `changes` leave the plan
  bool writes_mapped_field(Side side, const std::string& path) const;
  std::vector<RuleAction> ask_rules(const RuleInput& input) const;
  RecordFailure contain(const std::string& side, const std::string& id, const std::string& what) const;

  const mapping::Mapping& mapping_;
  connectors::Connector& pc_;
  connectors::Connector& crm_;
  const StateStore& store_;
  const RuleSet& rules_;
  const Clock& clock_;
  Log log_;
  connectors::ObjectSpec pc_spec_;
  connectors::ObjectSpec crm_spec_;
};

}  // namespace cosync::engine
