#include "daemon/util/time.hpp"

#include <charconv>

namespace cosync {
namespace {

// Exactly `len` decimal digits (from_chars alone would take a sign).
bool read_int(std::string_view s, size_t pos, size_t len, int& out) {
  if (pos + len > s.size()) return false;
  for (size_t i = pos; i < pos + len; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
  return ec == std::errc() && p == s.data() + pos + len;
}

}  // namespace

std::optional<TimePoint> parse_iso8601(std::string_view s) {
  using namespace std::chrono;
  int y, mo, d, h, mi, sec;
  if (!read_int(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !read_int(s, 5, 2, mo) || s[7] != '-' ||
      !read_int(s, 8, 2, d) || (s[10] != 'T' && s[10] != ' ') || !read_int(s, 11, 2, h) || s[13] != ':' ||
      !read_int(s, 14, 2, mi) || s[16] != ':' || !read_int(s, 17, 2, sec))
    return std::nullopt;
  size_t pos = 19;
  system_clock::duration frac{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    long long value = 0;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) {
        value = value * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 9; ++i) value *= 10;
    frac = duration_cast<system_clock::duration>(nanoseconds(value));
  }
  minutes offset{0};
  if (pos < s.size()) {
    char c = s[pos];
    if (c == 'Z' || c == 'z') {
      ++pos;
    } else if (c == '+' || c == '-') {
      int oh, om;
      size_t mpos = (pos + 3 < s.size() && s[pos + 3] == ':') ? pos + 4 : pos + 3;
      if (!read_int(s, pos + 1, 2, oh) || !read_int(s, mpos, 2, om) || oh > 23 || om > 59) return std::nullopt;
      offset = minutes(oh * 60 + om) * (c == '-' ? -1 : 1);
      pos = mpos + 2;
    } else {
      return std::nullopt;
    }
  }
  if (pos != s.size()) return std::nullopt;
  year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  // In whole seconds first (no overflow for any 4-digit year), then only what TimePoint can
  // hold (nanoseconds since 1970: about 1678 to 2261); anything else is not a date we can use.
  sys_seconds at = sys_days(ymd) + hours(h) + minutes(mi) + seconds(sec) - offset;
  constexpr auto earliest = ceil<seconds>(TimePoint::min().time_since_epoch()) + seconds(1);
  constexpr auto latest = floor<seconds>(TimePoint::max().time_since_epoch()) - seconds(1);
  if (at.time_since_epoch() < earliest || at.time_since_epoch() > latest) return std::nullopt;
  return TimePoint(duration_cast<TimePoint::duration>(at.time_since_epoch())) + frac;
}

std::string format_iso8601(TimePoint t) {
  using namespace std::chrono;
  auto ms = floor<milliseconds>(t);
  auto days = floor<std::chrono::days>(ms);
  year_month_day ymd{days};
  hh_mm_ss hms{ms - days};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()), static_cast<long>(hms.subseconds().count()));
  return buf;
}

namespace {
constexpr const char* kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
}  // namespace

std::optional<TimePoint> parse_http_date(std::string_view s) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": fixed width, so each part is at a known offset.
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s.substr(25) != " GMT")
    return std::nullopt;
  int month = 0;
  for (int i = 0; i < 12; ++i)
    if (s.substr(8, 3) == kMonths[i]) month = i + 1;
  if (month == 0) return std::nullopt;
  // The rest is an ISO-8601 date in another order: one parser checks the ranges.
  std::string iso = std::string(s.substr(12, 4)) + "-" + (month < 10 ? "0" : "") + std::to_string(month) + "-" +
                    std::string(s.substr(5, 2)) + "T" + std::string(s.substr(17, 8)) + "Z";
  auto at = parse_iso8601(iso);
  if (!at) return std::nullopt;
  auto weekday = std::chrono::weekday(std::chrono::floor<std::chrono::days>(*at));
  if (s.substr(0, 3) != kWeekdays[weekday.c_encoding()]) return std::nullopt;
  return at;
}

std::string format_http_date(TimePoint t) {
  using namespace std::chrono;
  auto secs = floor<seconds>(t);
  auto days = floor<std::chrono::days>(secs);
  year_month_day ymd{days};
  hh_mm_ss hms{secs - days};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02ld:%02ld:%02ld GMT", kWeekdays[weekday(days).c_encoding()],
                static_cast<unsigned>(ymd.day()), kMonths[static_cast<unsigned>(ymd.month()) - 1],
                static_cast<int>(ymd.year()), static_cast<long>(hms.hours().count()),
                static_cast<long>(hms.minutes().count()), static_cast<long>(hms.seconds().count()));
  return buf;
}

}  // namespace cosync
