#pragma once
// A remote server's clock, learned from the Date header of its answers. Deadlines measured against
// a remote API's timestamps (Partner Center's 72-hour Won hold, its 14-day lead expiry, the 30-day
// registration window) must use the API's clock: a host clock that runs hours ahead must not
// release a hold early.
#include <optional>
#include <string_view>

#include "daemon/util/clock.hpp"

namespace cosync {

class RemoteClock {
 public:
  // `date` is the Date header's value (ignored when absent or unreadable); `local` the host's time
  // when the answer arrived.
  void observe(std::string_view date, TimePoint local);
  // The remote clock now: the last Date seen, moved on by the host clock since it arrived;
  // nullopt before any answer carried one. It never runs ahead of the server: the Date header
  // is truncated to the second and was stamped before the answer travelled.
  std::optional<TimePoint> now(TimePoint local) const;

 private:
  std::optional<TimePoint::duration> offset_;  // remote minus local
};

}  // namespace cosync
