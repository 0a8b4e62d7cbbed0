#pragma once
// Dotted field paths into JSON records ("customerProfile.address.country").
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace cosync {

// The value at `path`, or null when any part of it is missing; a part of digits indexes an array
// ("registrations.0.status").
nlohmann::json json_at(const nlohmann::json& record, std::string_view path);
// Sets the value at `path`, creating intermediate objects.
void json_set(nlohmann::json& record, std::string_view path, nlohmann::json value);
// "a.b.c" -> "/a/b/c" (JSON Pointer / JSON Patch path).
std::string to_json_pointer(std::string_view path);

}  // namespace cosync
