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

// HTTP-dates (RFC 9110 section 5.6.7): the Date header (how a server tells its own clock) and
// Retry-After. Reads IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") and the obsolete RFC 850 and
// asctime forms, as recipients must; malformed or impossible dates are nullopt. Writes IMF-fixdate.
std::optional<TimePoint> parse_http_date(std::string_view text);
std::string format_http_date(TimePoint t);

}  // namespace cosync
