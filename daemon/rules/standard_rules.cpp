#include "daemon/rules/standard_rules.hpp"

namespace cosync::rules {

engine::RuleSet standard_rules(const mapping::Mapping&) {
  return {std::make_shared<ReferralClassification>(), std::make_shared<CrmDeletePolicy>(),
          std::make_shared<ReferralStateMachine>()};
}

}  // namespace cosync::rules
