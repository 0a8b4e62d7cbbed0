#pragma once
// Reading JSON that came from a remote API. Every byte of it is hostile: nothing here throws,
// a wrong type reads as "absent", and a body nested deeper than a sane limit is refused before
// nlohmann builds (and later recursively copies) it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace cosync::remote_json {

// Deeper than any real Partner Center, Salesforce, Dataverse or Entra ID answer (they nest < 10).
inline constexpr std::size_t kMaxDepth = 64;

// The parsed body, or a discarded value (is_discarded()) when it is not JSON or is nested deeper
// than max_depth. Never throws.
nlohmann::json parse(std::string_view body, std::size_t max_depth = kMaxDepth);
// True when the arrays and objects of `body` nest deeper than max_depth (strings are skipped).
bool nested_deeper_than(std::string_view body, std::size_t max_depth);

// Member `key` of `object`, or a null value when `object` is not an object or has no such key.
const nlohmann::json& member(const nlohmann::json& object, std::string_view key);
// The string at `key`, or nullopt when missing, null or not a string.
std::optional<std::string> opt_string(const nlohmann::json& object, std::string_view key);
// The string at `key`, or `fallback` when missing, null or not a string.
std::string string_or(const nlohmann::json& object, std::string_view key, std::string_view fallback = "");
// The boolean at `key`, or `fallback` when missing or not a boolean.
bool bool_or(const nlohmann::json& object, std::string_view key, bool fallback);
// An integral number at `key` (a double with no fraction counts), or nullopt.
std::optional<std::int64_t> opt_int(const nlohmann::json& object, std::string_view key);
// Any number at `key`, or nullopt.
std::optional<double> opt_number(const nlohmann::json& object, std::string_view key);
// The object / array at `key`, or an empty one when missing or of another type, so that
// `for (auto& x : array_at(j, "value"))` and `object_at(j, "error")` are always safe.
const nlohmann::json& object_at(const nlohmann::json& object, std::string_view key);
const nlohmann::json& array_at(const nlohmann::json& object, std::string_view key);

}  // namespace cosync::remote_json
