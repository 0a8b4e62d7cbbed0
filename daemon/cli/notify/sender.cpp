#include "daemon/cli/notify/sender.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/cli/notify/preview.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"
#include "daemon/util/uuid.hpp"

namespace cosync::notify {
namespace net = boost::asio;

// At most this many deliveries per pass, so that a backlog cannot hold a stop for long.
constexpr std::size_t kBatch = 50;

Sender::Sender(NotificationConfig config, StateStore& store, net::any_io_executor ex, http::ClientOptions http,
               const Clock& clock, Log log)
    : store_(store), ex_(ex), clock_(clock), log_(std::move(log)), timer_(ex) {
  http.max_attempts = 1;  // the outbox retries, with its own backoff
  http.timeout = std::min<std::chrono::milliseconds>(http.timeout, std::chrono::seconds(15));  // a stop waits for it
  http_ = std::make_unique<http::HttpClient>(ex, http, log_);
  apply(std::move(config));
}

Sender::~Sender() { blocking_.join(); }

void Sender::configure(NotificationConfig config) { next_config_ = std::move(config); }

void Sender::apply(NotificationConfig config) {
  config_ = std::move(config);
  sinks_.clear();
  for (const auto& [name, sink] : config_.sinks)
    sinks_.emplace(name, make_sink(sink, *http_, blocking_.get_executor(), clock_, log_));
}

void Sender::stop() {
  stopping_ = true;
  timer_.cancel();
}

void Sender::dispatch() {
  for (const auto& e : store_.undispatched_events(kBatch)) {
    std::vector<std::pair<std::string, std::string>> wanted;
    for (const auto& r : config_.rules)
      if (wants(r, e.event, e.payload, clock_.now())) wanted.emplace_back(r.name, "<" + random_uuid() + "@cosync>");
    store_.dispatch_event(e.id, wanted);
    for (const auto& [rule, id] : wanted)
      log_->info("notification {} queued: event {} of referral {} (message {})", rule, e.event, e.pc_id, id);
  }
}

void Sender::reschedule(const Delivery& d, const Failure& f) {
  int attempts = d.attempts + 1;
  bool give_up = attempts >= config_.max_attempts || f.kind == FailureKind::rejected;
  auto delay = std::min<std::chrono::seconds>(config_.retry * (1LL << std::min(attempts - 1, 20)), config_.retry_max);
  auto next = format_iso8601(clock_.now() + delay);
  store_.mark_attempt_failed(d.id, f.message, next, give_up);
  ++(give_up ? counts_.given_up : counts_.failed_attempts);
  if (give_up)
    log_->error("notification {} #{} ({} of referral {}) failed after {} attempt(s): {}; see cosyncd notifications list",
                d.rule, d.id, d.event.event, d.event.pc_id, attempts, f.message);
  else
    log_->warn("notification {} #{} not delivered (attempt {}), retried at {}: {}", d.rule, d.id, attempts, next,
               f.message);
}

net::awaitable<void> Sender::deliver(const Delivery& d) {
  const auto* rule = config_.rule(d.rule);
  auto sink = rule ? sinks_.find(rule->sink) : sinks_.end();
  if (!rule || sink == sinks_.end()) {
    reschedule(d, {FailureKind::rejected, "no notification rule named '" + d.rule + "' is configured", 0, ""});
    co_return;
  }
  auto message = compose(*rule, d, sink->second->needs_recipients());
  if (!message) {
    reschedule(d, message.failure());
    co_return;
  }
  Status sent = co_await sink->second->send(*message);
  if (!sent) {
    reschedule(d, sent.failure());
    co_return;
  }
  store_.mark_sent(d.id, format_iso8601(clock_.now()));
  ++counts_.sent;
  log_->info("notification {} #{} sent through {} (event {} of referral {}, message {})", d.rule, d.id, rule->sink,
             d.event.event, d.event.pc_id, d.message_id);
}

void Sender::prune() {
  auto now = clock_.now();
  if (now - last_prune_ < std::chrono::hours(1)) return;
  last_prune_ = now;
  int removed = store_.prune_outbox(format_iso8601(now - config_.keep_sent), format_iso8601(now - config_.keep_events));
  if (removed > 0) log_->info("notifications: pruned {} sent deliveries and old events from the outbox", removed);
}

net::awaitable<void> Sender::deliver_due() {
  if (next_config_) apply(*std::exchange(next_config_, std::nullopt));
  dispatch();
  prune();
  for (const auto& d : store_.due_deliveries(format_iso8601(clock_.now()), kBatch)) {
    if (stopping_) break;
    co_await deliver(d);
  }
}

net::awaitable<void> Sender::run(const std::atomic<bool>& stop) {
  while (!stop && !stopping_) {
    // Last resort: an unexpected error (the state DB) is logged and the next pass tries again.
    try {
      co_await deliver_due();
    } catch (const std::exception& e) {
      log_->error("notifications: {}; retried in {}s", e.what(), config_.interval.count());
    }
    if (stop || stopping_) break;
    timer_.expires_after(config_.interval);
    co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
  }
}

}  // namespace cosync::notify
