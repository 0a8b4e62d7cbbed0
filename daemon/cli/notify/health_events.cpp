#include "daemon/cli/notify/health_events.hpp"

#include "daemon/engine/event_payload.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"

namespace cosync::notify {

// The state database key of a mapping's quarantine trend (StateStore::cursor).
constexpr const char* kTrendKey = "quarantine_trend";

void HealthWatch::emit(const std::string& mapping, const std::string& key, const std::string& reason) {
  std::string at = format_iso8601(clock_.now());
  auto empty = nlohmann::json::object();
  auto payload = engine::event_payload({mapping, "", "", "", ""}, key, reason, at, empty, empty);
  store_.add_event({0, at, mapping, "", "", key, std::move(payload)});
  log_->warn("event {}: {}", key, reason);
}

void HealthWatch::sign_in(const std::optional<Failure>& failure) {
  // Refused credentials, not a network outage (the sync's own retries and logs cover that).
  bool refused = failure && (failure->kind == FailureKind::auth || failure->kind == FailureKind::fatal);
  auto last = store_.last_event("", "", {"sign_in_failing", "sign_in_recovered"});
  bool failing = last && last->event == "sign_in_failing";
  if (refused && !failing)
    emit("", "sign_in_failing",
         "Partner Center sign-in failed: " + failure->message +
             " (sign in again: cosyncd login partner-center; nothing syncs until then)");
  else if (!failure && failing)
    emit("", "sign_in_recovered", "Partner Center sign-in works again (failing since " + last->at + ")");
}

void HealthWatch::quarantine(const std::string& mapping, std::size_t count) {
  // The trend outlives the process (`cosyncd once` from a timer is a new process each cycle): it is
  // kept beside the mapping's cursors, as {"count", "rising"}. The first count ever is no rise.
  auto kept = nlohmann::json::parse(store_.cursor(mapping, kTrendKey).value_or(""), nullptr, false);
  bool first = !kept.is_object();
  std::size_t before = first ? count : static_cast<std::size_t>(remote_json::opt_int(kept, "count").value_or(0));
  int rising = count > before ? static_cast<int>(remote_json::opt_int(kept, "rising").value_or(0)) + 1 : 0;
  store_.set_cursor(mapping, kTrendKey, nlohmann::json{{"count", count}, {"rising", rising}}.dump());
  if (first) return;
  std::string now = "mapping " + mapping + ": " + std::to_string(count) + " record(s) in quarantine (was " +
                    std::to_string(before) + ")";
  std::size_t above = options_.quarantine_above;
  if (above > 0 && before <= above && count > above)
    emit(mapping, "quarantine_growing", now + ", above " + std::to_string(above) + "; see cosyncd quarantine list");
  else if (options_.quarantine_growing_cycles > 0 && rising == options_.quarantine_growing_cycles)
    emit(mapping, "quarantine_growing",
         now + ", grown " + std::to_string(rising) + " cycles in a row; see cosyncd quarantine list");
}

}  // namespace cosync::notify
