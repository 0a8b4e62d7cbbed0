#pragma once
// Events for the notification outbox (README "Notifications") on a referral's status
// transitions seen when a linked pair is merged: the referral's status and substatus as this
// merge leaves them (its planned Partner Center writes applied) against those last synced.
#include "daemon/engine/rule.hpp"

namespace cosync::rules {

// Keys: "accepted" (New -> Active), "won", "lost", "declined", "expired" (-> Closed with that
// substatus). A referral the partner shared (direction Outgoing) gets Microsoft's answer instead:
// "co_sell_accepted" (Active, substatus Accepted or Engaged) and "co_sell_declined" (Closed/Declined).
// Needs a mapped field reading `status` (alone or with `substatus`): the shadow of the
// last sync is what "before" means; without one the rule says nothing.
class ReferralEvents final : public engine::Rule {
 public:
  const char* name() const override { return "referral_events"; }
  std::vector<engine::RuleAction> evaluate(const engine::RuleInput& input) const override;
};

}  // namespace cosync::rules
