#include "daemon/rules/standard_rules.hpp"

#include "daemon/rules/expiry_watch.hpp"
#include "daemon/rules/lead_policy.hpp"
#include "daemon/rules/referral_events.hpp"
#include "daemon/rules/registration_deadline.hpp"
#include "daemon/rules/share_deal_type.hpp"
#include "daemon/rules/stale_close.hpp"
#include "daemon/rules/won_hold.hpp"

namespace cosync::rules {

engine::RuleSet standard_rules(const mapping::Mapping&) {
  return {std::make_shared<ReferralClassification>(), std::make_shared<CrmDeletePolicy>(), std::make_shared<LeadPolicy>(),
          std::make_shared<ExpiryWatch>(), std::make_shared<StaleClose>(),
          std::make_shared<ShareDealType>(),
          std::make_shared<RegistrationDeadlineWatch>(),  // before the hold: it sees the planned Won
          std::make_shared<WonHold>(),  // before the events: a held Won is no event
          std::make_shared<ReferralEvents>(), std::make_shared<ReferralStateMachine>()};
}

}  // namespace cosync::rules
