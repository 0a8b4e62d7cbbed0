#pragma once
// Partner Center expires a lead nobody answered (New for 14 days: Closed/Expired) and tells the
// customer to choose another partner. With `expiry: {warn_before: [7d, 2d, 1d]}` each referral
// still New is warned about at those lead times before its expirationDateTime, on Partner Center's
// clock, once each: the warnings said are held actions in the state database (so a restart never
// repeats one), and a hold until the next warning brings the referral back when it is due. The
// warning is an event (`expiry_warning`: logged, journaled, sent by the notifications outbox).
#include "daemon/engine/rule.hpp"

namespace cosync::rules {

class ExpiryWatch final : public engine::Rule {
 public:
  const char* name() const override { return "expiry_watch"; }
  std::vector<engine::RuleAction> evaluate(const engine::RuleInput& input) const override;
};

// Hold keys: "expiry_watch" (until the next warning, or the expiry), "expiry_warned_7d", ...
constexpr const char* kExpiryWatchKey = "expiry_watch";

}  // namespace cosync::rules
