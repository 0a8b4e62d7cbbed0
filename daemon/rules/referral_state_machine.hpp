#pragma once
// The guard of Partner Center's referral state machine (DESIGN invariant 6): writes planned for a
// referral that the contract refuses (closed referral, impossible transition, path or value the
// API does not take) are refused when planned, so nothing is sent and the referral is
// quarantined with the reason, while the pair's CRM writes still go out.
#include "daemon/engine/rule.hpp"

namespace cosync::rules {

class ReferralStateMachine final : public engine::Rule {
 public:
  const char* name() const override { return "referral_state_machine"; }
  std::vector<engine::RuleAction> evaluate(const engine::RuleInput& input) const override;
};

}  // namespace cosync::rules
