#include "daemon/http/retry_policy.hpp"

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

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

int month_index(std::string_view name) {
  static constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < months.size(); ++i)
    if (iequals(name, months[i])) return static_cast<int>(i) + 1;
  return 0;
}

bool is_weekday(std::string_view name) {
  static constexpr std::array<std::string_view, 7> short_days = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 7> long_days = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                                "Friday", "Saturday", "Sunday"};
  for (auto d : short_days)
    if (iequals(name, d)) return true;
  for (auto d : long_days)
    if (iequals(name, d)) return true;
  return false;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  // The three forms of RFC 9110 section 5.6.7, all in GMT:
  //   Sun, 06 Nov 1994 08:49:37 GMT    (IMF-fixdate)
  //   Sunday, 06-Nov-94 08:49:37 GMT   (RFC 850)
  //   Sun Nov  6 08:49:37 1994         (asctime)
  // In each, the numbers other than the time are the day then the year.
  std::vector<std::string_view> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == ' ' || c == ',' || c == '-' || c == '\t') {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != ',' && text[j] != '-' && text[j] != '\t') ++j;
    tokens.push_back(text.substr(i, j - i));
    i = j;
  }
  int month = 0, day = -1, year = -1, hh = -1, mm = -1, ss = -1;
  bool weekday_seen = false, gmt_seen = false;
  for (auto t : tokens) {
    if (t.size() == 8 && t[2] == ':' && t[5] == ':') {
      if (hh >= 0 || !all_digits(t.substr(0, 2)) || !all_digits(t.substr(3, 2)) || !all_digits(t.substr(6, 2)))
        return std::nullopt;
      hh = to_int(t.substr(0, 2));
      mm = to_int(t.substr(3, 2));
      ss = to_int(t.substr(6, 2));
    } else if (all_digits(t)) {
      if (day < 0 && t.size() <= 2) {
        day = to_int(t);
      } else if (year < 0 && day >= 0 && (t.size() == 4 || t.size() == 2)) {
        year = to_int(t);
        if (t.size() == 2) year += year < 70 ? 2000 : 1900;
      } else {
        return std::nullopt;
      }
    } else if (int m = month_index(t); m != 0 && month == 0) {
      month = m;
    } else if (!weekday_seen && is_weekday(t)) {
      weekday_seen = true;
    } else if (!gmt_seen && (iequals(t, "GMT") || iequals(t, "UTC"))) {
      gmt_seen = true;
    } else {
      return std::nullopt;
    }
  }
  if (month == 0 || day < 1 || year < 0 || hh < 0 || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                     std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd} + hours{hh} + minutes{mm} + seconds{ss};
}

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
