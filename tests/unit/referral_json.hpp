#pragma once
// A referral as Partner Center serves it, for tests that script Partner Center's answers.
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

#include "daemon/util/time.hpp"

namespace cosync::testing {

// An incoming Independent New/Pending referral at `etag`, updated at `updated` (created an hour before).
inline nlohmann::json referral_at(const std::string& id, const std::string& etag, TimePoint updated) {
  return {{"id", id},
          {"eTag", etag},
          {"name", "Referral " + id},
          {"status", "New"},
          {"substatus", "Pending"},
          {"type", "Independent"},
          {"direction", "Incoming"},
          {"createdDateTime", format_iso8601(updated - std::chrono::hours(1))},
          {"updatedDateTime", format_iso8601(updated)},
          {"customerProfile", {{"name", "Customer " + id}}}};
}

}  // namespace cosync::testing
