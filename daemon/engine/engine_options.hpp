#pragma once
#include <chrono>

namespace cosync::engine {

struct EngineOptions {
  std::chrono::seconds quarantine_retry{300};        // first automatic retry of a quarantined record
  std::chrono::seconds quarantine_retry_max{86400};  // backoff cap
  std::chrono::seconds audit_retention{90 * 86400};  // audit entries older than this are pruned
};

}  // namespace cosync::engine
