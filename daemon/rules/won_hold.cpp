#include "daemon/rules/won_hold.hpp"

#include <algorithm>

#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"

namespace cosync::rules {
namespace {

// The value this merge writes to referral path `path`, or "" when it writes none.
std::string planned(const engine::RuleInput& input, const std::string& path) {
  if (input.pc_writes)
    for (const auto& w : *input.pc_writes)
      if (w.path == path && w.value.is_string()) return w.value.get<std::string>();
  return "";
}

}  // namespace

std::optional<TimePoint> won_release_time(const nlohmann::json& referral, const mapping::Mapping& mapping) {
  auto created = parse_iso8601(remote_json::string_or(referral, "createdDateTime"));
  if (!created) return std::nullopt;
  return *created + mapping.won_hold;
}

std::vector<engine::RuleAction> WonHold::evaluate(const engine::RuleInput& input) const {
  // Without the referral in hand the planner reads it (a PC write is planned) and asks again.
  if (input.trigger != engine::Trigger::paired || !input.pc) return {};
  if (planned(input, "status") != "Closed" || planned(input, "substatus") != "Won") return {};
  auto release = won_release_time(*input.pc, input.mapping);
  if (!release || input.pc_now >= *release) return {};
  engine::RuleAction hold;
  hold.kind = engine::RuleAction::Kind::hold;
  hold.side = engine::Side::pc;
  hold.key = kKey;
  hold.until = *release;
  // Status and substatus together: a Closed without its Won would be another state.
  for (const auto& w : *input.pc_writes)
    if (w.path == "status" || w.path == "substatus") hold.changes.push_back(w);
  hold.reason = "Closed/Won held until " + format_iso8601(*release) + " (Partner Center's clock: createdDateTime + " +
                std::to_string(std::chrono::duration_cast<std::chrono::hours>(input.mapping.won_hold).count()) +
                "h, the earliest a won deal may be registered)";
  // The notification outbox hears of the hold once, when it starts ("won_held").
  bool started = !input.held || std::none_of(input.held->begin(), input.held->end(),
                                              [](const HeldAction& h) { return h.key == kKey; });
  if (started) return {hold, {engine::RuleAction::Kind::event, engine::Side::pc, {}, "won_held", hold.until, hold.reason}};
  return {hold};
}

}  // namespace cosync::rules
