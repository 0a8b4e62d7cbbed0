#pragma once
// The guide's "after a set number of touches over 6-8 weeks with no progress, close it as lost"
// (`stale:` in the mapping file, daemon/mapping/lead_rules.hpp). An accepted incoming lead is
// watched from the first cycle that sees it Active: the CRM status it has then and when it got it
// are held in the state database ("stale_since"), so a restart keeps counting. Any status change
// on either side restarts the clock. Once `after` has passed without one (and, when touches are
// counted, the seller made them), a `stale_warning` event is said once ("stale_warned"), and
// `warn_before` later the referral is closed as Lost with the configured statusReason. The close
// is a write of the mapped status, so it goes through the merge (engine/rule_merge_write.hpp) and
// the CRM record gets the mapped Lost status in the same cycle; `stale_closed` is its event.
// Everything is measured on Partner Center's clock; a closed referral is never written.
#include "daemon/engine/rule.hpp"

namespace cosync::rules {

class StaleClose final : public engine::Rule {
 public:
  const char* name() const override { return "stale_close"; }
  std::vector<engine::RuleAction> evaluate(const engine::RuleInput& input) const override;
};

// Hold keys. "stale_watch" brings the referral back when the next step is due (its reason says
// what and when: `cosyncd report stale` shows it); "stale_since" keeps the clock's start and the
// status it was measured from; "stale_warned" the time of the warning.
constexpr const char* kStaleWatchKey = "stale_watch";
constexpr const char* kStaleSinceKey = "stale_since";
constexpr const char* kStaleWarnedKey = "stale_warned";

}  // namespace cosync::rules
