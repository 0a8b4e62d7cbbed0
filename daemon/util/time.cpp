#include "daemon/util/time.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <vector>

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
  for (int i = 0; i < 12; ++i)
    if (iequals(name, kMonths[i])) return i + 1;
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

std::optional<TimePoint> parse_http_date(std::string_view text) {
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
  if (month == 0 || day < 1 || year < 0 || hh < 0) return std::nullopt;
  // The ISO reader checks the ranges, and that TimePoint can hold the date (a hostile
  // "Fri, 31 Dec 9999" would overflow it).
  char iso[40];
  std::snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day, hh, mm, ss);
  return parse_iso8601(iso);
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
