#pragma once
// Where a notification goes: an SMTP server, Microsoft Graph sendMail, a webhook, a command.
// A sink sends one message and says whether it went; the sender retries, with backoff.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>

#include "daemon/cli/notify/message.hpp"
#include "daemon/cli/notify/notify_config.hpp"
#include "daemon/http/http_client.hpp"
#include "daemon/util/clock.hpp"
#include "daemon/util/log.hpp"

namespace cosync::notify {

class Sink {
 public:
  virtual ~Sink() = default;
  // A Failure of kind rejected is not retried (the receiver refused the message itself).
  virtual boost::asio::awaitable<Status> send(const Message& message) = 0;
  virtual bool needs_recipients() const { return false; }
};

// `blocking`: an executor whose threads may block (libcurl's SMTP transfer, a command's run), so
// that the daemon's own thread never waits on them.
std::unique_ptr<Sink> make_sink(const SinkConfig& config, http::HttpClient& http, boost::asio::any_io_executor blocking,
                                const Clock& clock, const Log& log);

// The webhook body for a format: "json" the event, "teams" an Office 365 connector MessageCard,
// "teams_adaptive" a message with an Adaptive Card (Teams Workflows), "slack" an incoming-webhook {"text"}.
nlohmann::json webhook_body(const std::string& format, const Message& message);

// The RFC 5322 message libcurl uploads: headers (Message-ID kept), then the text body in UTF-8.
std::string mime_message(const std::string& from, const Message& message, TimePoint now);

}  // namespace cosync::notify
