#pragma once
// ISO-8601 / RFC 3339 timestamps as the APIs send them ("2024-05-01T10:20:30.123Z",
// "2024-05-01T10:20:30.000+0000").
#include <optional>
#include <string>
#include <string_view>

#include "daemon/util/clock.hpp"

namespace cosync {

std::optional<TimePoint> parse_iso8601(std::string_view text);
// UTC, millisecond precision, "Z" suffix: sorts as text in time order.
std::string format_iso8601(TimePoint t);

}  // namespace cosync
