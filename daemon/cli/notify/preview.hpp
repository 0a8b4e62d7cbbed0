#pragma once
// Which notification rules want an event, and what they would send: the sender's dispatch and
// `cosyncd plan` (which lists the notifications a cycle would send) ask the same question here.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/cli/notify/notify_config.hpp"
#include "daemon/util/clock.hpp"

namespace cosync::notify {

// `on:` names the event and `when:` holds for its records.
bool wants(const NotificationRule& rule, const std::string& event, const nlohmann::json& payload, TimePoint now);

struct Preview {
  std::string rule;
  std::string sink;
  std::vector<std::string> to;
  std::vector<std::string> cc;
  std::string subject;
  std::string problem;  // why it would fail at once (no recipient), or empty
};

// What each rule that wants the event would send.
std::vector<Preview> preview(const NotificationConfig& config, const nlohmann::json& payload, TimePoint now);

}  // namespace cosync::notify
