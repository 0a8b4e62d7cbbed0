#include "daemon/rules/registration_deadline.hpp"

#include <algorithm>

#include "daemon/mapping/registration_rule.hpp"
#include "daemon/mapping/share_rule.hpp"
#include "daemon/rules/held_actions.hpp"
#include "daemon/rules/won_hold.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"

namespace cosync::rules {
namespace {

using engine::RuleAction;
using std::chrono::seconds;

constexpr auto kDay = std::chrono::hours(24);
// What was said is remembered this long after the deadline (or now, when later): never said twice.
constexpr auto kRemembered = std::chrono::hours(24 * 365);
// An overdue deal is looked at again this often (its watch hold must lie in the future).
constexpr auto kOverdueRecheck = std::chrono::hours(24 * 30);
// When the CRM record was not read this cycle: the next cycle reads both sides and decides.
constexpr auto kDecideNextCycle = std::chrono::minutes(1);
constexpr const char* kOverdueKey = "registration_overdue_warned";
constexpr std::string_view kWon = "won ";
constexpr std::string_view kHeld = "Won held until ";
constexpr std::string_view kBy = ", register by ";

// "14d", "36h", "90m": as the mapping file writes lead times.
std::string label(seconds lead) {
  auto s = lead.count();
  if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 60) + "m";
}

std::string warned_key(seconds lead) { return "registration_warned_" + label(lead); }

RuleAction event(const char* key, const std::string& reason) {
  return {RuleAction::Kind::event, engine::Side::pc, {}, key, {}, reason};
}

bool won_planned(const engine::RuleInput& in) {
  bool status = false, substatus = false;
  if (in.pc_writes)
    for (const auto& w : *in.pc_writes) {
      status = status || (w.path == "status" && w.value == "Closed");
      substatus = substatus || (w.path == "substatus" && w.value == "Won");
    }
  return status && substatus;
}

// A CRM win sent this cycle, or held by WonHold (this rule runs before it, so it sees the planned
// Won): the deal is watched from now on, its closedDateTime read once Partner Center has the Won.
std::vector<RuleAction> watch_planned_win(const engine::RuleInput& in) {
  auto release = won_release_time(*in.pc, in.mapping);
  if (!release || *release <= in.pc_now)
    return {hold_until(RegistrationDeadlineWatch::kKey, in.pc_now + kDecideNextCycle,
                 "Closed/Won sent: its closedDateTime starts the registration deadline")};
  DeadlineWatchDates dates{"", format_iso8601(*release),
                           format_iso8601(*release + in.mapping.registration->register_within)};
  return {hold_until(RegistrationDeadlineWatch::kKey, *release, deadline_watch_reason(dates))};
}

// A deal the partner keeps to itself (shared without consent to Microsoft's sellers): not a
// co-sell deal, so there is nothing to register. Referrals from Microsoft are never private.
bool private_deal(const nlohmann::json& referral) {
  return remote_json::string_or(referral, "direction") == "Outgoing" &&
         mapping::deal_type_of_referral(referral) == mapping::DealType::private_deal;
}

std::string deal(const engine::RuleInput& in) {
  return "won deal " + in.link->pc_id + " (CRM " + in.link->crm_id + ")";
}

}  // namespace

const char* to_string(RegistrationState state) {
  switch (state) {
    case RegistrationState::registered: return "registered";
    case RegistrationState::due: return "due";
    case RegistrationState::overdue: return "overdue";
  }
  return "due";
}

long whole_days_left(TimePoint deadline, TimePoint now) {
  return static_cast<long>(std::chrono::floor<std::chrono::days>(deadline - now).count());
}

bool has_registration(const nlohmann::json& referral) {
  const auto& registrations = remote_json::member(referral, "registrations");
  return registrations.is_array() && !registrations.empty();
}

std::optional<RegistrationDeadline> registration_deadline(const nlohmann::json& referral, TimePoint pc_now,
                                                          seconds register_within) {
  if (!mapping::referral_closed_won(referral)) return std::nullopt;
  auto won = parse_iso8601(remote_json::string_or(referral, "closedDateTime"));
  if (!won) return std::nullopt;
  RegistrationDeadline d{*won, *won + register_within};
  d.days_left = whole_days_left(d.deadline, pc_now);
  // The deadline is an instant: from it on, the time to register is up.
  d.state = has_registration(referral) ? RegistrationState::registered
            : pc_now >= d.deadline     ? RegistrationState::overdue
                                       : RegistrationState::due;
  return d;
}

std::string deadline_watch_reason(const DeadlineWatchDates& dates) {
  std::string start = dates.won.empty() ? std::string(kHeld) + dates.held_until : std::string(kWon) + dates.won;
  return start + std::string(kBy) + dates.deadline;
}

std::optional<DeadlineWatchDates> parse_deadline_watch_reason(const std::string& reason) {
  auto by = reason.find(kBy);
  if (by == std::string::npos) return std::nullopt;
  DeadlineWatchDates dates;
  dates.deadline = reason.substr(by + kBy.size());
  std::string start = reason.substr(0, by);
  if (start.starts_with(kHeld)) dates.held_until = start.substr(kHeld.size());
  else if (start.starts_with(kWon)) dates.won = start.substr(kWon.size());
  else return std::nullopt;
  return dates;
}

std::vector<RuleAction> RegistrationDeadlineWatch::evaluate(const engine::RuleInput& in) const {
  const auto& rule = in.mapping.registration;
  if (!rule || in.trigger != engine::Trigger::paired || !in.link || !in.pc || has_registration(*in.pc) ||
      private_deal(*in.pc))
    return {};
  bool won = won_planned(in) || registration_deadline(*in.pc, in.pc_now, rule->register_within).has_value();
  if (!won) return {};  // still open (a reopened deal's holds are not asked for again: released)
  if (!in.crm && !rule->when.paths(true).empty())
    return {hold_until(kKey, in.pc_now + kDecideNextCycle, "the CRM record decides whether this won deal is registered")};
  const nlohmann::json none = nlohmann::json::object();
  if (!rule->selects(in.crm ? *in.crm : none, in.now)) return {};  // not eligible: nothing to register
  if (won_planned(in)) return watch_planned_win(in);
  auto d = *registration_deadline(*in.pc, in.pc_now, rule->register_within);
  const std::string by = format_iso8601(d.deadline);
  const TimePoint remember = std::max(d.deadline, in.pc_now) + kRemembered;
  std::vector<RuleAction> out;
  std::vector<seconds> leads = rule->warn_before;
  std::sort(leads.begin(), leads.end(), std::greater<>());
  std::optional<seconds> due;       // the shortest lead time reached and not yet warned
  std::optional<TimePoint> next;    // the soonest threshold still to come
  for (seconds lead : leads) {
    TimePoint at = d.deadline - lead;
    if (at > in.pc_now) {
      next = next ? std::min(*next, at) : at;
      continue;
    }
    if (!find_held(in, warned_key(lead))) due = lead;
    out.push_back(hold_until(warned_key(lead), remember, "warned " + label(lead) + " before the registration deadline " + by));
  }
  if (d.state == RegistrationState::overdue) {
    if (!find_held(in, kOverdueKey))
      out.push_back(event("registration_overdue", deal(in) + " was not registered by its deadline " + by + " (won " +
                                                     format_iso8601(d.won) + "): register it in Partner Center now"));
    out.push_back(hold_until(kOverdueKey, remember, "said overdue: the registration deadline " + by + " has passed"));
  } else if (due) {
    out.push_back(event("registration_due", deal(in) + " is not registered: " + std::to_string(d.days_left) +
                                                " days left, register it by " + by + " (won " + format_iso8601(d.won) +
                                                "; warning " + label(*due) + " before)"));
  }
  TimePoint until = d.state == RegistrationState::overdue ? in.pc_now + kOverdueRecheck : next.value_or(d.deadline);
  out.push_back(hold_until(kKey, until, deadline_watch_reason({format_iso8601(d.won), "", by})));
  return out;
}

}  // namespace cosync::rules
