#include "daemon/util/json_path.hpp"

namespace cosync {

nlohmann::json json_at(const nlohmann::json& record, std::string_view path) {
  const nlohmann::json* node = &record;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (node->is_array()) {
      // "registrations.0.status": an index into an array (digits only).
      if (part.empty() || part.size() > 6 || part.find_first_not_of("0123456789") != std::string::npos) return nullptr;
      std::size_t index = std::stoul(part);
      if (index >= node->size()) return nullptr;
      node = &(*node)[index];
    } else {
      if (!node->is_object()) return nullptr;
      auto it = node->find(part);
      if (it == node->end()) return nullptr;
      node = &*it;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return *node;
}

void json_set(nlohmann::json& record, std::string_view path, nlohmann::json value) {
  nlohmann::json* node = &record;
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    std::string part(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (!node->is_object()) *node = nlohmann::json::object();
    if (dot == std::string_view::npos) {
      (*node)[part] = std::move(value);
      return;
    }
    node = &(*node)[part];
    start = dot + 1;
  }
}

std::string to_json_pointer(std::string_view path) {
  std::string out = "/";
  for (char c : path) {
    if (c == '.') out += '/';
    else if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

}  // namespace cosync
