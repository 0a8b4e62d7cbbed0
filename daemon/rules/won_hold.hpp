#pragma once
// Partner Center may reject the registration of a co-sell deal closed as won earlier than 72 hours
// after the referral was created ("Update a referral", Partner Center referrals API). A CRM win is
// therefore not sent at once: while the referral is younger than createdDateTime + `won_hold`
// (mapping, at least 72h) on Partner Center's own clock, the planned Closed/Won writes are held
// (RuleAction::Kind::hold with the withheld paths): the referral stays Active in Partner Center,
// the CRM keeps its Won, `status` and `plan` list the hold with its release time, and the cycle
// after that time sends the Won. A CRM that reopens the deal meanwhile plans no Won: the hold ends.
// Lost and declined closes are not held.
#include "daemon/engine/rule.hpp"

namespace cosync::rules {

class WonHold final : public engine::Rule {
 public:
  static constexpr const char* kKey = "won_hold";
  const char* name() const override { return kKey; }
  std::vector<engine::RuleAction> evaluate(const engine::RuleInput& input) const override;
};

// When a Won may reach Partner Center for `referral`: createdDateTime + hold; nullopt when the
// referral carries no readable createdDateTime.
std::optional<TimePoint> won_release_time(const nlohmann::json& referral, const mapping::Mapping& mapping);

}  // namespace cosync::rules
