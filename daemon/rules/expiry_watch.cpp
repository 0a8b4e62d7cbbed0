#include "daemon/rules/expiry_watch.hpp"

#include <algorithm>
#include <chrono>

#include "connectors/partner_center/referral_contract.hpp"
#include "daemon/mapping/lead_rules.hpp"
#include "daemon/rules/held_actions.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"

namespace cosync::rules {
namespace {

using engine::RuleAction;
using std::chrono::seconds;

// "7d", "36h", "90m": as the mapping file writes lead times.
std::string label(seconds lead) {
  auto s = lead.count();
  if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 60) + "m";
}

std::string warned_key(seconds lead) { return "expiry_warned_" + label(lead); }

}  // namespace

std::vector<RuleAction> ExpiryWatch::evaluate(const engine::RuleInput& in) const {
  const auto& rules = in.mapping.leads;
  if (in.trigger != engine::Trigger::paired || !rules || rules->expiry_warnings.empty() || !in.link || !in.pc) return {};
  // Answered (or closed) referrals need no watch: their holds are not asked for again, so released.
  if (remote_json::string_or(*in.pc, "status") != "New" || connectors::is_terminal_referral(*in.pc)) return {};
  if (in.pc_writes && std::any_of(in.pc_writes->begin(), in.pc_writes->end(), [](const auto& w) { return w.path == "status"; }))
    return {};  // being answered this cycle
  auto expires = parse_iso8601(remote_json::string_or(*in.pc, "expirationDateTime"));
  if (!expires || *expires <= in.pc_now) return {};
  const std::string when = format_iso8601(*expires);
  std::vector<RuleAction> out;
  // Remembered until well after the expiry, so that no restart says a warning twice.
  const TimePoint remember = *expires + std::chrono::hours(24 * 30);
  std::optional<seconds> due;  // the shortest lead time already reached and not yet warned
  std::optional<TimePoint> next;
  for (seconds lead : rules->expiry_warnings) {  // longest first
    TimePoint at = *expires - lead;
    if (at > in.pc_now) {
      if (!next) next = at;  // the longest lead time not reached yet: the soonest warning
      continue;
    }
    if (!find_held(in, warned_key(lead))) due = lead;
    out.push_back(hold_until(warned_key(lead), remember, "warned " + label(lead) + " before the expiry at " + when));
  }
  if (due) {
    auto left = std::chrono::duration_cast<std::chrono::hours>(*expires - in.pc_now).count();
    out.push_back({RuleAction::Kind::event, engine::Side::pc, {}, "expiry_warning", {},
                   "referral " + in.link->pc_id + " is still New and expires at " + when + " (in " +
                       std::to_string(left) + "h; warning " + label(*due) + " before): accept or decline it"});
  }
  out.push_back(hold_until(kExpiryWatchKey, next.value_or(*expires), "expires at " + when));
  return out;
}

}  // namespace cosync::rules
