#include "connectors/web_domain.hpp"

#include <cctype>

#include "daemon/util/case_fold.hpp"

namespace cosync::connectors {

std::string web_domain(std::string_view text) {
  std::string t = fold_case(text);
  auto trim = [](std::string& s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
    while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == '.')) s.pop_back();
  };
  trim(t);
  if (auto scheme = t.find("://"); scheme != std::string::npos) t.erase(0, scheme + 3);
  if (auto at = t.rfind('@'); at != std::string::npos) t.erase(0, at + 1);
  if (auto end = t.find_first_of("/?#:"); end != std::string::npos) t.erase(end);
  trim(t);
  if (t.starts_with("www.")) t.erase(0, 4);
  if (t.find('.') == std::string::npos || t.find(' ') != std::string::npos) return {};
  return t;
}

}  // namespace cosync::connectors
