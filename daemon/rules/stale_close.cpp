#include "daemon/rules/stale_close.hpp"

#include <algorithm>
#include <chrono>

#include "connectors/activity_count.hpp"
#include "connectors/partner_center/referral_contract.hpp"
#include "daemon/mapping/lead_rules.hpp"
#include "daemon/rules/held_actions.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"

namespace cosync::rules {
namespace {

using engine::RuleAction;
using mapping::StaleRules;
using std::chrono::hours;

constexpr std::string_view kSincePrefix = "since ";
constexpr std::string_view kWarnedPrefix = "warned at ";
// Held well past any step, so that no restart forgets the clock or the warning.
constexpr auto kRemember = hours(24 * 365);

// What this cycle leaves in `path`: the value being written, else the value read.
nlohmann::json effective(const std::string& path, const std::vector<connectors::FieldChange>* writes,
                         const nlohmann::json* record) {
  if (writes)
    for (const auto& w : *writes)
      if (w.path == path) return w.value;
  return record ? remote_json::member(*record, path) : nlohmann::json();
}

const mapping::FieldRule* status_field(const mapping::Mapping& m) {
  for (const auto& f : m.fields)
    if (!f.pc_paths.empty() && f.pc_paths[0] == "status") return &f;
  return nullptr;
}

// The time after `prefix` at the start of a hold's reason, as this rule wrote it.
std::optional<TimePoint> held_time(const HeldAction* h, std::string_view prefix) {
  if (!h || !h->reason.starts_with(prefix)) return std::nullopt;
  std::string_view rest = std::string_view(h->reason).substr(prefix.size());
  return parse_iso8601(rest.substr(0, rest.find(": ")));  // "since <time>: <statuses>"
}

RuleAction event(const char* key, std::string reason) {
  return {RuleAction::Kind::event, engine::Side::pc, {}, key, {}, std::move(reason)};
}

// Where the lead stands this cycle: the statuses both sides will hold, and the touches made.
struct Standing {
  std::string pc_status;
  std::string fingerprint;  // changes whenever either side's status does: progress
  int touches = 0;
};

Standing standing(const engine::RuleInput& in, const StaleRules& s) {
  Standing out;
  auto status = effective("status", in.pc_writes, in.pc);
  out.pc_status = status.is_string() ? status.get<std::string>() : "";
  nlohmann::json print = nlohmann::json::array({status, effective("substatus", in.pc_writes, in.pc)});
  if (const auto* f = status_field(in.mapping)) print.push_back(effective(f->crm_field, in.crm_writes, in.crm));
  out.fingerprint = print.dump();
  if (s.progress == StaleRules::Progress::field && in.crm) out.touches = mapping::touches_of(s, *in.crm);
  if (s.progress == StaleRules::Progress::activities && in.crm)
    out.touches = static_cast<int>(remote_json::opt_int(*in.crm, connectors::kCompletedActivitiesField).value_or(0));
  return out;
}

std::string touches_text(const StaleRules& s, const Standing& now) {
  if (s.progress == StaleRules::Progress::status) return "";
  return ", " + std::to_string(now.touches) + " of " + std::to_string(s.touches) + " touches";
}

}  // namespace

std::vector<RuleAction> StaleClose::evaluate(const engine::RuleInput& in) const {
  const auto& rules = in.mapping.leads;
  if (in.trigger != engine::Trigger::paired || !rules || !rules->stale || !in.link || !in.pc) return {};
  const StaleRules& s = *rules->stale;
  // Only an accepted lead from Microsoft; a closed referral takes no write (its holds are released).
  if (remote_json::string_or(*in.pc, connectors::kDirectionField) != "incoming" ||
      connectors::is_terminal_referral(*in.pc))
    return {};
  auto now = standing(in, s);
  if (now.pc_status != "Active") return {};
  if (!in.crm) {  // the CRM side was not read: the watch (a hold) has both read next cycle
    return {hold_until(kStaleWatchKey, in.pc_now + std::chrono::minutes(1), "reading the CRM record to start the watch")};
  }
  const HeldAction* since_hold = find_held(in, kStaleSinceKey);
  bool unchanged = since_hold && since_hold->reason.ends_with(": " + now.fingerprint);
  TimePoint since = unchanged ? held_time(since_hold, kSincePrefix).value_or(in.pc_now) : in.pc_now;
  std::vector<RuleAction> out;
  const TimePoint stale_at = since + s.after;
  out.push_back(hold_until(kStaleSinceKey, std::max(stale_at, in.pc_now) + kRemember,
                     std::string(kSincePrefix) + format_iso8601(since) + ": " + now.fingerprint));
  const std::string quiet = "no progress since " + format_iso8601(since) + touches_text(s, now);
  // A restarted clock (progress) forgets the warning: it is not asked for again, so released.
  auto warned = unchanged ? held_time(find_held(in, kStaleWarnedKey), kWarnedPrefix) : std::nullopt;
  if (now.touches < s.touches) {
    // Not closed before the seller made the touches; a counter's change comes with the record,
    // activities are looked at once a day.
    TimePoint next = std::max(stale_at - s.warn_before, in.pc_now + hours(24));
    out.push_back(hold_until(kStaleWatchKey, next, quiet + ": waiting for the touches"));
    return out;
  }
  if (!warned && in.pc_now < stale_at - s.warn_before) {
    out.push_back(hold_until(kStaleWatchKey, stale_at - s.warn_before, quiet + ": warning"));
    return out;
  }
  if (!warned) {
    warned = in.pc_now;
    TimePoint close_at = std::max(stale_at, in.pc_now + s.warn_before);
    out.push_back(event("stale_warning", "referral " + in.link->pc_id + " is accepted with " + quiet + ": closed as Lost at " +
                                             format_iso8601(close_at) + " unless it moves"));
  }
  out.push_back(hold_until(kStaleWarnedKey, std::max(stale_at, in.pc_now) + kRemember,
                     std::string(kWarnedPrefix) + format_iso8601(*warned)));
  TimePoint close_at = std::max(stale_at, *warned + s.warn_before);
  if (in.pc_now < close_at) {
    out.push_back(hold_until(kStaleWatchKey, close_at, quiet + ": closes as Lost"));
    return out;
  }
  std::string why = "stale lead (" + quiet + ", warned at " + format_iso8601(*warned) + "): " + s.reason;
  out.push_back({RuleAction::Kind::write, engine::Side::pc,
                 {{"status", "Closed"}, {"substatus", "Lost"}, {"statusReason", s.reason}}, "stale_close", {}, why});
  out.push_back(event("stale_closed", "referral " + in.link->pc_id + " closed as Lost: " + why));
  return out;
}

}  // namespace cosync::rules
