#pragma once
// The one renderer of "{path}" templates (create:, share:, notification templates): each
// placeholder is replaced by the text of the value `read` finds at its path. Filters:
// "{path|date}" keeps the date of a timestamp, "{path|country}" turns a country name into its ISO
// 3166 alpha-2 code. Remote values are hostile: only text, numbers and booleans are written;
// null, objects and arrays read as empty.
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace cosync::mapping {

std::string render_placeholders(const std::string& text, const std::function<nlohmann::json(std::string_view)>& read);

}  // namespace cosync::mapping
