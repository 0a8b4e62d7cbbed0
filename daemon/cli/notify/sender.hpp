#pragma once
// Delivers the notification outbox (README "Notifications"): each new event becomes one delivery
// per notification rule that wants it, and each delivery due is sent through its rule's sink,
// retried with exponential backoff, and failed after max_attempts. It runs beside the sync cycles
// on the daemon's io_context and never blocks or fails them: a sink that blocks (SMTP, command)
// runs on its own thread. A delivery is marked sent after its sink said so; a crash in between
// sends it once more, with the same Message-ID.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <optional>

#include "daemon/cli/notify/notify_config.hpp"
#include "daemon/cli/notify/sink.hpp"
#include "daemon/http/http_client.hpp"
#include "daemon/store/state_store.hpp"
#include "daemon/util/clock.hpp"
#include "daemon/util/log.hpp"

namespace cosync::notify {

class Sender {
 public:
  Sender(NotificationConfig config, StateStore& store, boost::asio::any_io_executor ex, http::ClientOptions http,
         const Clock& clock, Log log);
  ~Sender();

  // A reloaded configuration: new rules and sinks from the next pass on (never under a send in flight).
  void configure(NotificationConfig config);
  // One pass: new events dispatched, then every delivery due sent (or rescheduled).
  boost::asio::awaitable<void> deliver_due();
  // Passes every `interval` until `stop` is set and stop() called.
  boost::asio::awaitable<void> run(const std::atomic<bool>& stop);
  // Wakes run() to finish; a delivery in flight completes (its sink has its own timeout).
  void stop();

  // Since the process started, for /metrics.
  struct Counts {
    std::size_t sent = 0;
    std::size_t failed_attempts = 0;  // retried later
    std::size_t given_up = 0;         // marked failed (`cosyncd notifications retry` revives them)
  };
  const Counts& counts() const { return counts_; }

 private:
  void dispatch();
  boost::asio::awaitable<void> deliver(const Delivery& d);
  void reschedule(const Delivery& d, const Failure& f);
  // Hourly: sent deliveries and old events leave the state database (keep_sent, keep_events).
  void prune();

  void apply(NotificationConfig config);

  NotificationConfig config_;
  std::optional<NotificationConfig> next_config_;
  StateStore& store_;
  boost::asio::any_io_executor ex_;
  const Clock& clock_;
  Log log_;
  boost::asio::thread_pool blocking_{1};
  std::unique_ptr<http::HttpClient> http_;
  std::map<std::string, std::unique_ptr<Sink>> sinks_;
  boost::asio::steady_timer timer_;
  bool stopping_ = false;
  Counts counts_;
  TimePoint last_prune_{};
};

}  // namespace cosync::notify
