#include "daemon/util/remote_clock.hpp"

#include "daemon/util/time.hpp"

namespace cosync {

void RemoteClock::observe(std::string_view date, TimePoint local) {
  if (auto remote = parse_http_date(date)) offset_ = *remote - local;
}

std::optional<TimePoint> RemoteClock::now(TimePoint local) const {
  if (!offset_) return std::nullopt;
  return local + *offset_;
}

}  // namespace cosync
