#pragma once
// The `notifications:` section of the daemon's configuration (README "Notifications"): where
// messages go (sinks: smtp, graph, webhook, command) and which event sends what to whom (rules,
// each with a template file next to the configuration).
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "daemon/auth/client_credentials.hpp"
#include "daemon/mapping/condition.hpp"

namespace cosync {
class YamlNode;
}

namespace cosync::notify {

enum class SinkType { smtp, graph, webhook, command };

struct SmtpOptions {
  std::string url;  // smtps://host:465 (implicit TLS) or smtp://host:587 (STARTTLS, required)
  std::string from;
  std::string username;  // empty: no AUTH
  std::string password;  // from password_file or ${ENV}
  std::string ca_file;   // extra trust anchors; certificates are always verified
  bool plain_to_loopback = false;  // smtp:// to 127.0.0.1 without STARTTLS: tests and local relays only
  std::chrono::seconds timeout{20};
};

struct GraphOptions {
  std::string mailbox;  // the user or shared mailbox that sends (POST /users/{mailbox}/sendMail)
  std::string graph_url = "https://graph.microsoft.com/v1.0";
  auth::ClientCredentialsOptions auth;  // Mail.Send application permission
};

struct WebhookOptions {
  std::string url;
  std::string format = "json";  // json (the event), teams (MessageCard), teams_adaptive (Adaptive Card), slack
};

struct CommandOptions {
  std::vector<std::string> argv;  // run without a shell; the event JSON on stdin
  std::chrono::seconds timeout{30};
};

struct SinkConfig {
  std::string name;
  SinkType type = SinkType::webhook;
  SmtpOptions smtp;
  GraphOptions graph;
  WebhookOptions webhook;
  CommandOptions command;
};

struct NotificationRule {
  std::string name;
  std::string on;  // the event key, e.g. "accepted"
  mapping::Condition when;
  std::string sink;
  std::vector<std::string> to;  // literal addresses or placeholders such as {people.crm_owner.Email}
  std::vector<std::string> cc;
  std::string subject;  // from the template file's "Subject:" line
  std::string body;     // the rest of the template file
  std::string html;     // the optional HTML alternative (html_template:), placeholders HTML-escaped
  std::string where;    // "file:line" of the rule, for logs
};

// When cosync's own health is an event (health_events.hpp).
struct HealthOptions {
  std::size_t quarantine_above = 0;   // quarantine_growing when a mapping's count rises above it; 0: off
  int quarantine_growing_cycles = 0;  // ... or grows this many cycles in a row; 0: off
};

struct NotificationConfig {
  std::map<std::string, SinkConfig> sinks;
  std::vector<NotificationRule> rules;
  int max_attempts = 10;                  // then the delivery is failed (see `notifications retry`)
  std::chrono::seconds retry{30};         // first retry delay, doubled per attempt
  std::chrono::seconds retry_max{3600};
  std::chrono::seconds interval{10};      // how often the sender looks for due deliveries
  HealthOptions health;
  // The outbox is pruned hourly: sent deliveries after keep_sent, events no delivery needs any
  // more after keep_events (the reports read them: `report shared` goes back that far).
  std::chrono::seconds keep_sent{30 * 86400};
  std::chrono::seconds keep_events{400 * 86400};

  const NotificationRule* rule(const std::string& name) const;
};

// Reads `notifications:`; errors name file, line and key (template files are relative to the file).
NotificationConfig read_notifications(const YamlNode& node);

// Why a template text is not usable ("{pc.nosuch}: not a referral path"), or empty.
std::string template_problem(const std::string& text);

}  // namespace cosync::notify
