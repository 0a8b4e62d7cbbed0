#include "daemon/http/retry_policy.hpp"

#include "daemon/util/time.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <vector>

namespace cosync::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int to_int(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  value = trim(value);
  if (all_digits(value)) {
    // Anything beyond a day is as good as "very long"; avoid overflow on absurd values.
    if (value.size() > 9) return milliseconds(hours(24 * 365));
    return duration_cast<milliseconds>(seconds(to_int(value)));
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
