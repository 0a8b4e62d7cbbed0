// The sinks that are HTTP requests: webhook (JSON POST) and Microsoft Graph sendMail.
#include <boost/asio/any_io_executor.hpp>

#include "daemon/auth/authorized_send.hpp"
#include "daemon/auth/client_credentials.hpp"
#include "daemon/cli/notify/sink.hpp"

namespace cosync::notify {
namespace net = boost::asio;

Status status_of(const Expected<http::Response>& res, const std::string& what) {
  if (!res) return res.failure();
  if (res->status >= 200 && res->status < 300) return ok_status();
  auto kind = res->status == 429 || res->status >= 500 ? FailureKind::transient : FailureKind::rejected;
  if (res->status == 401 || res->status == 403) kind = FailureKind::auth;
  return Failure{kind, what + " answered HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 300),
                 res->status, res->header("request-id")};
}

nlohmann::json webhook_body(const std::string& format, const Message& m) {
  if (format == "teams")
    return {{"@type", "MessageCard"}, {"@context", "https://schema.org/extensions"}, {"summary", m.subject},
            {"title", m.subject},     {"text", m.body}};
  // Teams Workflows and incoming webhooks: an Adaptive Card in a message's attachment ("Send
  // Adaptive Cards using an incoming webhook", learn.microsoft.com/microsoftteams/platform/
  // webhooks-and-connectors/how-to/connectors-using). Office 365 connectors (MessageCard) retire.
  if (format == "teams_adaptive") {
    nlohmann::json card = {{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                           {"type", "AdaptiveCard"},
                           {"version", "1.2"},
                           {"body",
                            {{{"type", "TextBlock"}, {"text", m.subject}, {"weight", "Bolder"}, {"size", "Medium"},
                              {"wrap", true}},
                             {{"type", "TextBlock"}, {"text", m.body}, {"wrap", true}}}}};
    return {{"type", "message"},
            {"attachments",
             {{{"contentType", "application/vnd.microsoft.card.adaptive"}, {"contentUrl", nullptr}, {"content", card}}}}};
  }
  if (format == "slack") return {{"text", "*" + m.subject + "*\n" + m.body}};
  return {{"message_id", m.message_id}, {"subject", m.subject}, {"text", m.body}, {"event", m.event}};
}

namespace {

class WebhookSink final : public Sink {
 public:
  WebhookSink(WebhookOptions o, http::HttpClient& http) : options_(std::move(o)), http_(http) {}
  net::awaitable<Status> send(const Message& m) override {
    http::Request r{http::Method::post, options_.url, {{"Content-Type", "application/json"}, {"Idempotency-Key", m.message_id}},
                    webhook_body(options_.format, m).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    false, std::nullopt};
    auto res = co_await http_.send(std::move(r));
    co_return status_of(res, "webhook");
  }

 private:
  WebhookOptions options_;
  http::HttpClient& http_;
};

nlohmann::json graph_recipients(const std::vector<std::string>& list) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : list) out.push_back({{"emailAddress", {{"address", a}}}});
  return out;
}

// POST /users/{mailbox}/sendMail with the app's client-credentials token (Mail.Send); Graph
// answers 202 Accepted. https://learn.microsoft.com/en-us/graph/api/user-sendmail
class GraphSink final : public Sink {
 public:
  GraphSink(GraphOptions o, http::HttpClient& http, const Clock& clock, const Log& log)
      : options_(std::move(o)), http_(http), tokens_(http, options_.auth, clock, log, "graph") {}
  bool needs_recipients() const override { return true; }
  net::awaitable<Status> send(const Message& m) override {
    nlohmann::json message = {{"subject", m.subject},
                              {"body", m.html.empty() ? nlohmann::json{{"contentType", "Text"}, {"content", m.body}}
                                                      : nlohmann::json{{"contentType", "HTML"}, {"content", m.html}}},
                              {"toRecipients", graph_recipients(m.to)},
                              {"internetMessageId", m.message_id}};
    if (!m.cc.empty()) message["ccRecipients"] = graph_recipients(m.cc);
    nlohmann::json body = {{"message", message}, {"saveToSentItems", true}};
    http::Request r{http::Method::post, options_.graph_url + "/users/" + options_.mailbox + "/sendMail",
                    {{"Content-Type", "application/json"}},
                    body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), false, std::nullopt};
    auto res = co_await auth::authorized_send(http_, tokens_, std::move(r));
    co_return status_of(res, "Graph sendMail");
  }

 private:
  GraphOptions options_;
  http::HttpClient& http_;
  auth::ClientCredentialsProvider tokens_;
};

}  // namespace

std::unique_ptr<Sink> make_smtp_sink(const SmtpOptions& o, net::any_io_executor blocking, const Clock& clock);
std::unique_ptr<Sink> make_command_sink(const CommandOptions& o, net::any_io_executor blocking);

std::unique_ptr<Sink> make_sink(const SinkConfig& c, http::HttpClient& http, net::any_io_executor blocking,
                                const Clock& clock, const Log& log) {
  switch (c.type) {
    case SinkType::webhook: return std::make_unique<WebhookSink>(c.webhook, http);
    case SinkType::graph: return std::make_unique<GraphSink>(c.graph, http, clock, log);
    case SinkType::smtp: return make_smtp_sink(c.smtp, blocking, clock);
    case SinkType::command: return make_command_sink(c.command, blocking);
  }
  return nullptr;
}

}  // namespace cosync::notify
