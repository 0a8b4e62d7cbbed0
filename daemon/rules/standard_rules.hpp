#pragma once
// The rules every mapping runs, in the order the planner asks them (later rules see the writes
// earlier ones added; the state machine guard comes last). Each is defined in its own .cpp.
#include "daemon/engine/rule.hpp"
#include "daemon/mapping/mapping.hpp"
#include "daemon/rules/referral_classification.hpp"

namespace cosync::rules {

// What a linked CRM record's deletion does (mapping `on_crm_delete`): nothing, forget the pair
// (unlink), or also close the referral as Lost with the mapping's `close_reason` (close).
class CrmDeletePolicy final : public engine::Rule {
 public:
  const char* name() const override { return "crm_delete_policy"; }
  std::vector<engine::RuleAction> evaluate(const engine::RuleInput& input) const override;
};

// The guard of Partner Center's referral state machine (DESIGN invariant 6): writes planned for a
// referral that the contract refuses (closed referral, impossible transition, path or value the
// API does not take) are refused when planned, so nothing is sent and the referral is
// quarantined with the reason, while the pair's CRM writes still go out.
class ReferralStateMachine final : public engine::Rule {
 public:
  const char* name() const override { return "referral_state_machine"; }
  std::vector<engine::RuleAction> evaluate(const engine::RuleInput& input) const override;
};

engine::RuleSet standard_rules(const mapping::Mapping& mapping);

}  // namespace cosync::rules
