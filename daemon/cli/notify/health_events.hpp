#pragma once
// Events about cosync's own health for the notification outbox (README "Notifications"), written
// after the sync cycles, each once per occurrence, not once per cycle:
//   sign_in_failing    Partner Center's sign-in (the refresh-token grant) was refused: once per
//                      outage, remembered in the state database across restarts
//   sign_in_recovered  the first successful sign-in after that
//   quarantine_growing a mapping's quarantine rose above `quarantine_above`, or grew in
//                      `quarantine_growing_cycles` cycles in a row: once per rise (the trend is
//                      kept in the state database, so `cosyncd once` from a timer sees it too)
// They concern no referral: mapping (quarantine) and reason say what happened.
#include <optional>
#include <string>

#include "daemon/cli/notify/notify_config.hpp"
#include "daemon/store/state_store.hpp"
#include "daemon/util/clock.hpp"
#include "daemon/util/expected.hpp"
#include "daemon/util/log.hpp"

namespace cosync::notify {

class HealthWatch {
 public:
  HealthWatch(StateStore& store, const Clock& clock, Log log) : store_(store), clock_(clock), log_(std::move(log)) {}
  void configure(const HealthOptions& options) { options_ = options; }
  // After the cycles: the Partner Center token provider's last failure (nullopt: signed in).
  void sign_in(const std::optional<Failure>& failure);
  // After a mapping's cycle: how many of its records are quarantined now.
  void quarantine(const std::string& mapping, std::size_t count);

 private:
  void emit(const std::string& mapping, const std::string& key, const std::string& reason);

  StateStore& store_;
  const Clock& clock_;
  Log log_;
  HealthOptions options_;
};

}  // namespace cosync::notify
