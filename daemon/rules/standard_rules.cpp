#include "daemon/rules/standard_rules.hpp"

#include "daemon/rules/crm_delete_policy.hpp"
#include "daemon/rules/referral_classification.hpp"
#include "daemon/rules/referral_state_machine.hpp"

namespace cosync::rules {

engine::RuleSet standard_rules(const mapping::Mapping&) {
  return {std::make_shared<ReferralClassification>(), std::make_shared<CrmDeletePolicy>(),
          std::make_shared<ReferralStateMachine>()};
}

}  // namespace cosync::rules
