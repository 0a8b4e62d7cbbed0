#include "daemon/mapping/field_transform.hpp"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>

namespace cosync::mapping {
namespace {

bool digits(const std::string& s, std::size_t from, std::size_t count) {
  for (std::size_t i = from; i < from + count; ++i)
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

int number_at(const std::string& s, std::size_t from, std::size_t count) {
  int n = 0;
  for (std::size_t i = from; i < from + count; ++i) n = n * 10 + (s[i] - '0');
  return n;
}

bool is_calendar_date(int year, int month, int day) {
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1]) return false;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month != 2 || day <= 28 || leap;
}

// Bytes of the UTF-8 sequence starting with `lead` (1 for a stray continuation byte).
std::size_t sequence_length(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

}  // namespace

nlohmann::json date_of(const nlohmann::json& value) {
  if (!value.is_string()) return nullptr;
  const auto& s = value.get_ref<const std::string&>();
  if (!digits(s, 0, 4) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' || !digits(s, 8, 2))
    return nullptr;
  // A timestamp goes on with "THH:MM"; the rest (seconds, fraction, offset) does not change the date.
  if (s.size() > 10 && (s[10] != 'T' || !digits(s, 11, 2) || s.size() < 16 || s[13] != ':' || !digits(s, 14, 2)))
    return nullptr;
  if (!is_calendar_date(number_at(s, 0, 4), number_at(s, 5, 2), number_at(s, 8, 2))) return nullptr;
  return s.substr(0, 10);
}

std::string pc_timestamp_of_date(const std::string& date) { return date + "T00:00:00Z"; }

nlohmann::json number_of(const nlohmann::json& value) {
  double d = 0;
  if (value.is_number_integer()) return value;
  if (value.is_number_float()) {
    d = value.get<double>();
  } else if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return nullptr;
    char* end = nullptr;
    d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return nullptr;
    // strtod also reads "nan", "inf" and hex floats: only plain decimal numbers are numbers here.
    for (char c : s)
      if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E')
        return nullptr;
  } else {
    return nullptr;
  }
  if (!std::isfinite(d)) return nullptr;
  constexpr double kIntegerRange = 9007199254740992.0;  // 2^53: every integer below is exact in a double
  if (d == std::trunc(d) && std::fabs(d) < kIntegerRange) return static_cast<std::int64_t>(d);
  return d;
}

std::size_t text_length(const std::string& utf8) {
  std::size_t units = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    std::size_t n = sequence_length(static_cast<unsigned char>(utf8[i]));
    units += n == 4 ? 2 : 1;  // outside the Basic Multilingual Plane: a surrogate pair
    i += n;
  }
  return units;
}

std::string cut_text(const std::string& utf8, std::size_t limit) {
  std::size_t units = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    std::size_t n = sequence_length(static_cast<unsigned char>(utf8[i]));
    units += n == 4 ? 2 : 1;
    if (units > limit) return utf8.substr(0, i);
    i += n;
  }
  return utf8;
}

}  // namespace cosync::mapping
