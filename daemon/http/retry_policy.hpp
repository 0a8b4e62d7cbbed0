#pragma once
// Pure helpers of the HTTP client's retry policy, kept apart so that they can be unit-tested.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace cosync::http {

// Parses a Retry-After value: delay-seconds ("120") or an HTTP-date (IMF-fixdate, and the
// obsolete RFC 850 and asctime forms). Returns the delay from `now` (zero for a date in the
// past), or nullopt when the value is malformed.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

// Exponential backoff with full jitter: a uniform draw in [0, min(max, base * 2^(retry-1))],
// where retry is 1 for the first retry. `random01` is a draw in [0, 1].
std::chrono::milliseconds backoff_delay(int retry, std::chrono::milliseconds base, std::chrono::milliseconds max,
                                        double random01);

// Whether a response status is worth retrying for an idempotent request: 408, 429 and 5xx
// except 501 (Not Implemented) and 505 (HTTP Version Not Supported), which will not change.
bool is_retryable_status(int status);

}  // namespace cosync::http
