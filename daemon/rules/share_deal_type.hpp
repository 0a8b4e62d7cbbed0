#pragma once
// The deal type of a shared opportunity after the share (mapping `share.deal_type`). A CRM
// change may move it up: private -> partner-led sends consent.consentToShareReferralWithMicrosoftSellers
// (a path Partner Center's PATCH takes). It never moves down: consent to share with Microsoft
// cannot be withdrawn, so a downgrade is refused, said once (an event) and remembered as a held
// action (listed by `status`) for as long as the CRM says so. Help from Microsoft
// (inviteContext.assistanceRequestCode) is set only when the referral is created: the PATCH
// contract has no path for it, so an upgrade to co-sell after the share is said once as well.
#include "daemon/engine/rule.hpp"

namespace cosync::rules {

class ShareDealType final : public engine::Rule {
 public:
  const char* name() const override { return "share_deal_type"; }
  std::vector<engine::RuleAction> evaluate(const engine::RuleInput& input) const override;
};

}  // namespace cosync::rules
