#pragma once
// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. A no-op outside systemd.
#include <chrono>
#include <optional>
#include <string>

namespace cosync::app {

void systemd_notify(const std::string& state);  // "READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=..."
// Half the watchdog interval systemd expects pings at, when WatchdogSec= is set.
std::optional<std::chrono::milliseconds> systemd_watchdog_interval();

}  // namespace cosync::app
