#pragma once
// Partner Center takes the registration of a won co-sell deal within 30 days of the win (the
// co-sell guide's "Deals to Register"). The win is the Won that Partner Center recorded (the
// referral's closedDateTime) and the days left are counted on Partner Center's clock (the Date
// header of its answers, RuleInput::pc_now), so a host clock hours ahead changes nothing.
//
// RegistrationDeadlineWatch watches every eligible won deal (the mapping's `registration: when:`
// on the CRM record, not a private one) that has no registration yet: at each `warn_before` threshold it says
// `registration_due` once (with the days left), when the deadline passes `registration_overdue`
// once; each is a log line and an outbox event. What it said is held in the state database (so a
// restart never repeats it), and a hold until the next threshold brings the deal back then. Its
// watch hold ("registration_deadline") carries the win and the deadline for
// `cosyncd report deals-to-register`.
#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/engine/rule.hpp"

namespace cosync::rules {

enum class RegistrationState { registered, due, overdue };
const char* to_string(RegistrationState state);  // "registered", "due", "overdue"

struct RegistrationDeadline {
  TimePoint won;       // the referral's closedDateTime
  TimePoint deadline;  // won + register_within
  long days_left = 0;  // whole days from pc_now to the deadline, rounded down (negative once past)
  RegistrationState state = RegistrationState::due;  // overdue from the deadline on
};

// The deadline of a referral Closed/Won with a readable closedDateTime; nullopt otherwise.
std::optional<RegistrationDeadline> registration_deadline(const nlohmann::json& referral, TimePoint pc_now,
                                                          std::chrono::seconds register_within);
// Whole days from `now` to `deadline`, rounded down: 6d23h -> 6, -1h -> -1.
long whole_days_left(TimePoint deadline, TimePoint now);
// The referral carries a deal registration (its `registrations` list is not empty).
bool has_registration(const nlohmann::json& referral);

class RegistrationDeadlineWatch final : public engine::Rule {
 public:
  static constexpr const char* kKey = "registration_deadline";  // the watch hold
  const char* name() const override { return kKey; }
  std::vector<engine::RuleAction> evaluate(const engine::RuleInput& input) const override;
};

// The watch hold's reason, and back: "won <iso>, register by <iso>", or for a CRM win whose
// Closed/Won is still held (daemon/rules/won_hold.*) "Won held until <iso>, register by <iso>"
// (the earliest deadline it can get). nullopt for a reason of another form.
struct DeadlineWatchDates {
  std::string won;         // ISO-8601; empty while the Won is held
  std::string held_until;  // ISO-8601; empty once Partner Center has the Won
  std::string deadline;    // ISO-8601
};
std::string deadline_watch_reason(const DeadlineWatchDates& dates);
std::optional<DeadlineWatchDates> parse_deadline_watch_reason(const std::string& reason);

}  // namespace cosync::rules
