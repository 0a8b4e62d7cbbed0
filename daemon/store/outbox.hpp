#pragma once
// The notification outbox (README "Notifications"): events written in the same transaction as the
// change that caused them, and one delivery per event and notification rule, which the sender
// works through with retries. StateStore's outbox methods (state_store.hpp) read and write these.
#include <string>

#include <nlohmann/json.hpp>

namespace cosync {

// Something that happened to a pair, as a rule reported it (engine RuleAction::Kind::event).
struct OutboxEvent {
  long long id = 0;
  std::string at;  // ISO-8601 UTC
  std::string mapping;
  std::string pc_id;
  std::string crm_id;
  std::string event;  // the rule's key, e.g. "lead_accepted"
  nlohmann::json payload = nlohmann::json::object();
};

// One notification rule's message about one event.
struct Delivery {
  long long id = 0;
  long long event_id = 0;
  std::string rule;        // the notification rule's name
  std::string message_id;  // fixed at creation: a resend after a crash carries the same one
  std::string status;      // "pending", "sent" or "failed" (gave up; `notifications retry` revives it)
  int attempts = 0;
  std::string next_attempt;  // ISO-8601 UTC; empty: now
  std::string last_error;
  std::string sent_at;
  OutboxEvent event;  // filled by the reads that join it
};

}  // namespace cosync
