#pragma once
// The deal registrations of the fake Partner Center (FakePartnerCenter keeps them in each
// referral's `registrations`, as the service does; see the Referral schema in
// shared/specs/partner-center-referrals.swagger.json). A partner adds the one registration of a
// referral closed as Won with `add /registrations/-` and may `replace /registrations/0/...` while
// Microsoft reviews it (https://learn.microsoft.com/en-us/partner/develop/update-a-referral);
// the review moves ReviewPending -> ActionRequired -> Approved or Rejected, each stamped in
// `statusHistory` (reviewPendingDateTime, actionRequiredDateTime, approvedDateTime, failedDateTime).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/util/clock.hpp"

namespace cosync::fakes {

// Why Partner Center refuses a PATCH touching registrations (`paths` as sent) of the referral as
// it was (`before`): a second registration, or a change after the review ended. Empty: accepted.
std::string registration_write_error(const nlohmann::json& before, const std::vector<std::string>& paths);

// After an accepted PATCH: a registration just added gets its id, date and review pending.
void start_registration_review(nlohmann::json& referral, const std::vector<std::string>& paths, TimePoint now);

// Microsoft's review: the referral's registration moves to `status` ("ActionRequired", "Approved",
// "Rejected", "ReviewPending") with `reason`, stamped at `now`. False when it has no registration.
bool move_registration_review(nlohmann::json& referral, const std::string& status, const std::string& reason,
                              TimePoint now);

}  // namespace cosync::fakes
