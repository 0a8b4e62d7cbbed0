#pragma once
// The mapping's acceptance policy (`accept:`, `decline:`, daemon/mapping/lead_rules.hpp) acted on:
// once an incoming lead is paired with its CRM record (in the cycle that creates the record), the
// referral is accepted or declined as the policy says. The status is a mapped field: the write
// goes through the merge (engine/rule_merge_write.hpp), so the CRM record gets the mapped status
// in the same cycle. A seller's own status change this cycle wins; a closed referral is left alone.
#include "daemon/engine/rule.hpp"

namespace cosync::rules {

class LeadPolicy final : public engine::Rule {
 public:
  const char* name() const override { return "lead_policy"; }
  std::vector<engine::RuleAction> evaluate(const engine::RuleInput& input) const override;
};

}  // namespace cosync::rules
