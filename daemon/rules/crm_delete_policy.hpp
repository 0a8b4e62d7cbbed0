#pragma once
// What a linked CRM record's deletion does (mapping `on_crm_delete`): nothing, forget the pair
// (unlink), or also close the referral as Lost with the mapping's `close_reason` (close).
#include "daemon/engine/rule.hpp"

namespace cosync::rules {

class CrmDeletePolicy final : public engine::Rule {
 public:
  const char* name() const override { return "crm_delete_policy"; }
  std::vector<engine::RuleAction> evaluate(const engine::RuleInput& input) const override;
};

}  // namespace cosync::rules
