#include "daemon/util/remote_json.hpp"

#include <cmath>
#include <limits>

namespace cosync::remote_json {
namespace {

const nlohmann::json& null_value() {
  static const nlohmann::json v;
  return v;
}

}  // namespace

bool nested_deeper_than(std::string_view body, std::size_t max_depth) {
  // A linear scan instead of a recursive descent: the point is to stay cheap on hostile input.
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      if (c == '\\') ++i;  // skip the escaped character, which may be a quote
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

nlohmann::json parse(std::string_view body, std::size_t max_depth) {
  if (nested_deeper_than(body, max_depth)) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
}

const nlohmann::json& member(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return null_value();
  auto it = object.find(key);
  return it == object.end() ? null_value() : *it;
}

std::optional<std::string> opt_string(const nlohmann::json& object, std::string_view key) {
  const auto& v = member(object, key);
  if (!v.is_string()) return std::nullopt;
  return v.get_ref<const std::string&>();
}

std::string string_or(const nlohmann::json& object, std::string_view key, std::string_view fallback) {
  auto v = opt_string(object, key);
  return v ? std::move(*v) : std::string(fallback);
}

bool bool_or(const nlohmann::json& object, std::string_view key, bool fallback) {
  const auto& v = member(object, key);
  return v.is_boolean() ? v.get<bool>() : fallback;
}

std::optional<std::int64_t> opt_int(const nlohmann::json& object, std::string_view key) {
  const auto& v = member(object, key);
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return std::nullopt;
    return v.get<std::int64_t>();
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    // Only whole numbers well inside int64's range convert without undefined behaviour.
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e18) return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

std::optional<double> opt_number(const nlohmann::json& object, std::string_view key) {
  const auto& v = member(object, key);
  if (!v.is_number()) return std::nullopt;
  return v.get<double>();
}

const nlohmann::json& object_at(const nlohmann::json& object, std::string_view key) {
  static const nlohmann::json empty = nlohmann::json::object();
  const auto& v = member(object, key);
  return v.is_object() ? v : empty;
}

const nlohmann::json& array_at(const nlohmann::json& object, std::string_view key) {
  static const nlohmann::json empty = nlohmann::json::array();
  const auto& v = member(object, key);
  return v.is_array() ? v : empty;
}

}  // namespace cosync::remote_json
