#include "daemon/cli/notify/message.hpp"

#include "daemon/mapping/mapping.hpp"

namespace cosync::notify {
namespace {

// Rendered recipients, split on commas, semicolons and spaces (a placeholder may hold a list).
std::vector<std::string> recipients(const std::vector<std::string>& templates, const nlohmann::json& payload) {
  std::vector<std::string> out;
  for (const auto& t : templates) {
    std::string all = render(t, payload);
    std::size_t i = 0;
    while (i < all.size()) {
      auto end = all.find_first_of(",; \t\r\n", i);
      if (end == std::string::npos) end = all.size();
      if (end > i) out.push_back(all.substr(i, end - i));
      i = end + 1;
    }
  }
  return out;
}

}  // namespace

std::string render(const std::string& text, const nlohmann::json& payload) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    auto open = text.find('{', i);
    auto close = open == std::string::npos ? std::string::npos : text.find('}', open);
    if (close == std::string::npos) {
      out += text.substr(i);
      break;
    }
    out += text.substr(i, open - i);
    std::string path = text.substr(open + 1, close - open - 1);
    bool date_only = path.ends_with("|date");
    if (date_only) path.resize(path.size() - 5);
    auto v = mapping::first_value_at(payload, path);
    std::string value = v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump();
    if (date_only && value.size() > 10 && value[10] == 'T') value.resize(10);
    out += value;
    i = close + 1;
  }
  return out;
}

Expected<Message> compose(const NotificationRule& rule, const Delivery& d, bool needs_recipients) {
  Message m;
  m.message_id = d.message_id;
  m.event = d.event.payload;
  m.event["message_id"] = d.message_id;
  m.subject = render(rule.subject, m.event);
  m.body = render(rule.body, m.event);
  m.to = recipients(rule.to, m.event);
  m.cc = recipients(rule.cc, m.event);
  if (needs_recipients && m.to.empty())
    return Failure{FailureKind::rejected, "no recipient: the rule's 'to' is empty for this event", 0, ""};
  return m;
}

}  // namespace cosync::notify
