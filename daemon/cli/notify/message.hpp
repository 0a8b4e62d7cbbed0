#pragma once
// A notification as the sinks send it: one rule's template filled from one event.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/cli/notify/notify_config.hpp"
#include "daemon/store/outbox.hpp"
#include "daemon/util/expected.hpp"

namespace cosync::notify {

struct Message {
  std::string message_id;  // "<...@cosync>": the same on a resend, so receivers can drop the duplicate
  std::string subject;
  std::string body;
  std::string html;  // the HTML alternative, when the rule has one
  std::vector<std::string> to;
  std::vector<std::string> cc;
  nlohmann::json event;  // the event's payload, with "message_id" added
};

// Fills "{path}" placeholders from the event payload: the first non-empty value at the path (as
// the mapping's templates read arrays), "{path|date}" keeps the date of a timestamp.
std::string render(const std::string& text, const nlohmann::json& payload);
// The same for an HTML template: the values are HTML-escaped (remote text is never markup).
std::string render_html(const std::string& html, const nlohmann::json& payload);

// The rule's message for the delivery; a Failure (rejected) when no recipient is left once the
// placeholders are filled (e.g. the CRM record has no owner e-mail).
Expected<Message> compose(const NotificationRule& rule, const Delivery& delivery, bool needs_recipients);

}  // namespace cosync::notify
