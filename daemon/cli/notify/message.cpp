#include "daemon/cli/notify/message.hpp"

#include "daemon/mapping/mapping.hpp"
#include "daemon/mapping/template_text.hpp"

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

std::string escape_html(const std::string& text) {
  std::string out;
  for (char c : text) switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  return out;
}

}  // namespace

std::string render_html(const std::string& html, const nlohmann::json& payload) {
  return mapping::render_placeholders(html, [&](std::string_view path) {
    auto v = mapping::first_value_at(payload, path);
    return v.is_string() ? nlohmann::json(escape_html(v.get<std::string>())) : v;
  });
}

std::string render(const std::string& text, const nlohmann::json& payload) {
  return mapping::render_placeholders(text, [&](std::string_view path) { return mapping::first_value_at(payload, path); });
}

Expected<Message> compose(const NotificationRule& rule, const Delivery& d, bool needs_recipients) {
  Message m;
  m.message_id = d.message_id;
  m.event = d.event.payload;
  m.event["message_id"] = d.message_id;
  m.subject = render(rule.subject, m.event);
  m.body = render(rule.body, m.event);
  if (!rule.html.empty()) m.html = render_html(rule.html, m.event);
  m.to = recipients(rule.to, m.event);
  m.cc = recipients(rule.cc, m.event);
  if (needs_recipients && m.to.empty())
    return Failure{FailureKind::rejected, "no recipient: the rule's 'to' is empty for this event", 0, ""};
  return m;
}

}  // namespace cosync::notify
