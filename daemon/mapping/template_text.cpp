#include "daemon/mapping/template_text.hpp"

#include "daemon/mapping/country_codes.hpp"
#include "daemon/mapping/field_transform.hpp"

namespace cosync::mapping {

std::string render_placeholders(const std::string& text, const std::function<nlohmann::json(std::string_view)>& read) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t open = text.find('{', i);
    std::size_t close = open == std::string::npos ? std::string::npos : text.find('}', open);
    if (close == std::string::npos) {
      out += text.substr(i);
      break;
    }
    out += text.substr(i, open - i);
    std::string path = text.substr(open + 1, close - open - 1), filter;
    if (auto bar = path.find('|'); bar != std::string::npos) {
      filter = path.substr(bar + 1);
      path.resize(bar);
    }
    auto v = read(path);
    std::string value = v.is_string() ? v.get<std::string>() : (v.is_number() || v.is_boolean()) ? v.dump() : "";
    if (filter == "date") {
      auto date = date_of(value);
      value = date.is_string() ? date.get<std::string>() : "";
    }
    if (filter == "country") value = iso_country_code(value).value_or("");
    out += value;
    i = close + 1;
  }
  return out;
}

}  // namespace cosync::mapping
