#include "daemon/http/retry_policy.hpp"

#include <algorithm>
#include <charconv>
#include <string>

#include "daemon/util/time.hpp"

namespace cosync::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  value = trim(value);
  // delay-seconds: digits only (from_chars takes no sign for an unsigned); anything beyond a
  // year is as good as "very long", and an absurd value must not overflow.
  unsigned long long delay = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), delay);
  if (!value.empty() && end == value.data() + value.size() && ec != std::errc::invalid_argument) {
    if (ec == std::errc::result_out_of_range || delay > 365ULL * 24 * 3600) return milliseconds(hours(24 * 365));
    return duration_cast<milliseconds>(seconds(delay));
  }
  auto date = parse_http_date(value);
  if (!date) return std::nullopt;
  if (*date <= now) return milliseconds(0);
  return duration_cast<milliseconds>(*date - now);
}

std::chrono::milliseconds backoff_delay(int retry, std::chrono::milliseconds base, std::chrono::milliseconds max,
                                        double random01) {
  using std::chrono::milliseconds;
  if (base.count() <= 0 || max.count() <= 0) return milliseconds(0);
  milliseconds cap = base;
  for (int i = 1; i < retry && cap < max; ++i) cap = cap > max / 2 ? max : cap * 2;
  cap = std::min(cap, max);
  random01 = std::clamp(random01, 0.0, 1.0);
  return milliseconds(static_cast<milliseconds::rep>(static_cast<double>(cap.count()) * random01));
}

bool is_retryable_status(int status) {
  if (status == 408 || status == 429) return true;
  return status >= 500 && status <= 599 && status != 501 && status != 505;
}

}  // namespace cosync::http
