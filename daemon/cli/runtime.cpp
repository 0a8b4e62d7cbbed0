#include "daemon/cli/runtime.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <ctime>
#include <filesystem>
#include <ostream>
#include <utility>

#include "daemon/cli/metadata_validation.hpp"
#include "daemon/cli/metrics.hpp"
#include "daemon/cli/metrics_server.hpp"
#include "daemon/cli/notify/health_events.hpp"
#include "daemon/cli/notify/sender.hpp"
#include "daemon/cli/systemd_notify.hpp"
#include "daemon/engine/sync_engine.hpp"
#include "daemon/rules/standard_rules.hpp"

namespace cosync::app {

namespace net = boost::asio;

struct Connection {
  std::unique_ptr<http::HttpClient> http;
  std::unique_ptr<auth::TokenProvider> tokens;
  std::unique_ptr<connectors::Connector> connector;
};

// One configuration's live objects: its connections and, once the metadata check let it, an
// engine per mapping. A reload builds a new one and swaps it in as a whole, between cycles.
struct Setup {
  Config config;
  Connection pc;
  std::map<std::string, Connection> crms;
  struct Sync {
    const mapping::Mapping* mapping = nullptr;
    connectors::Connector* crm = nullptr;
    MetadataVerdict metadata = MetadataVerdict::deferred;
    bool checked_this_cycle = false;  // a deferred check is retried once per cycle, not twice
    std::unique_ptr<engine::SyncEngine> engine;
  };
  std::vector<Sync> syncs;

  Setup(Config c, net::io_context& io, const Clock& clock, const Log& log) : config(std::move(c)) {
    for (const auto& w : config.warnings) log->warn("configuration: {}", w);
    pc.http = std::make_unique<http::HttpClient>(io.get_executor(), config.http, log);
    pc.tokens = std::make_unique<auth::RefreshTokenProvider>(*pc.http, config.partner_center.auth, clock, log,
                                                             "partner_center");
    pc.connector = std::make_unique<connectors::PartnerCenterConnector>(*pc.http, *pc.tokens,
                                                                        config.partner_center.api, log);
    for (const auto& [name, sf] : config.salesforce) {
      Connection c;
      c.http = std::make_unique<http::HttpClient>(io.get_executor(), config.http, log);
      if (sf.jwt_bearer)
        c.tokens = std::make_unique<auth::JwtBearerProvider>(*c.http, sf.jwt, clock, log, name);
      else
        c.tokens = std::make_unique<auth::ClientCredentialsProvider>(*c.http, sf.auth, clock, log, name);
      c.connector = std::make_unique<connectors::SalesforceConnector>(*c.http, *c.tokens, sf.api, log);
      crms.emplace(name, std::move(c));
    }
    for (const auto& [name, dv] : config.dataverse) {
      Connection c;
      auto http_options = config.http;
      http_options.max_in_flight_per_host = dv.max_concurrency;
      c.http = std::make_unique<http::HttpClient>(io.get_executor(), http_options, log);
      c.tokens = std::make_unique<auth::ClientCredentialsProvider>(*c.http, dv.auth, clock, log, name);
      c.connector = std::make_unique<connectors::DataverseConnector>(*c.http, *c.tokens, dv.api, log);
      crms.emplace(name, std::move(c));
    }
    for (const auto& m : config.mappings) {
      Sync sync;
      sync.mapping = &m;
      sync.crm = crms.at(m.crm_connection).connector.get();
      syncs.push_back(std::move(sync));
    }
  }

  // Cancels every request in flight and every Retry-After wait; later requests fail at once.
  void stop_io() {
    pc.http->stop();
    for (auto& [name, crm] : crms) crm.http->stop();
  }
};

namespace {

// Logs one mapping's metadata result: every mismatch at error level, with its file:line.
void log_result(const Log& log, const mapping::Mapping& m, const MetadataResult& r, bool retrying) {
  for (const auto& w : r.warnings) log->warn("mapping={} {}", m.name, w);
  switch (r.verdict) {
    case MetadataVerdict::valid:
      if (retrying) log->info("mapping={} metadata check passed: syncing", m.name);
      break;
    case MetadataVerdict::skipped:
      log->info("mapping={} metadata not checked: {}", m.name, r.reason);
      break;
    case MetadataVerdict::deferred:
      log->warn("mapping={} not synced: its metadata check could not run ({}); retried next cycle", m.name, r.reason);
      break;
    case MetadataVerdict::mismatch:
      for (const auto& e : r.errors) log->error("configuration error: {}", e.what());
      break;
  }
}

}  // namespace

struct Runtime::Impl {
  Log log;
  const Clock& clock;
  net::io_context io;
  std::unique_ptr<Setup> setup;
  Setup* reloading = nullptr;  // a new configuration being checked against the CRMs
  std::unique_ptr<StateStore> store;
  std::unique_ptr<notify::Sender> sender;  // the notification outbox (README "Notifications")
  std::unique_ptr<notify::HealthWatch> health;  // sign-in and quarantine events for it
  Metrics metrics;
  std::unique_ptr<MetricsServer> metrics_server;  // metrics.listen, in `run` only
  std::atomic<bool> stop{false};
  bool reload_requested = false;
  net::signal_set signals{io, SIGINT, SIGTERM, SIGHUP};
  net::steady_timer sleep{io};
  net::steady_timer watchdog_timer{io};
  net::steady_timer stop_grace{io};

  Impl(Config c, Log l, const Clock& clk) : log(std::move(l)), clock(clk) {
    setup = std::make_unique<Setup>(std::move(c), io, clock, log);
  }

  const Config& config() const { return setup->config; }

  engine::EngineOptions engine_options() const {
    engine::EngineOptions o;
    o.audit_retention = config().audit_retention;
    return o;
  }

  // How long a stop lets the requests in flight finish (and their records commit) before it
  // cancels them: short enough to exit well within systemd's TimeoutStopSec (30 s default).
  static constexpr std::chrono::seconds kStopGrace{2};

  // SIGTERM/SIGINT: no record starts after this; the requests in flight get kStopGrace to
  // finish, then they and any Retry-After wait are cancelled, so the cycle ends promptly.
  void request_stop() {
    stop = true;
    sleep.cancel();
    watchdog_timer.cancel();
    if (sender) sender->stop();
    stop_grace.expires_after(kStopGrace);
    stop_grace.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      log->info("stopping: cancelling the requests still in flight");
      setup->stop_io();
      if (reloading) reloading->stop_io();
    });
  }

  // The task is done: nothing may keep io.run() going.
  void finished() {
    stop = true;
    signals.cancel();
    sleep.cancel();
    if (sender) sender->stop();
    if (metrics_server) metrics_server->stop();
    watchdog_timer.cancel();
    stop_grace.cancel();
  }

  void watch_signals() {
    signals.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        log->info("SIGHUP received: reloading the configuration after the current cycle");
        reload_requested = true;
        sleep.cancel();
        watch_signals();
        return;
      }
      log->info("signal {} received: finishing the record in flight, then stopping", signal);
      request_stop();
    });
  }

  // Checks every mapping of `s` against its CRM; true unless one does not fit (logged).
  net::awaitable<bool> validate(Setup& s) {
    MetadataValidator validator;
    bool ok = true;
    for (auto& sync : s.syncs) {
      auto r = co_await validator.validate(*sync.mapping, *sync.crm);
      log_result(log, *sync.mapping, r, false);
      sync.metadata = r.verdict;
      sync.checked_this_cycle = true;
      ok = ok && r.verdict != MetadataVerdict::mismatch;
    }
    co_return ok;
  }

  void open_store() {
    if (store) return;
    std::filesystem::create_directories(config().state_dir);
    ::chmod(config().state_dir.c_str(), 0700);
    store = std::make_unique<StateStore>(config().state_db_path());
    sender = std::make_unique<notify::Sender>(config().notifications, *store, io.get_executor(), config().http, clock, log);
    health = std::make_unique<notify::HealthWatch>(*store, clock, log);
    health->configure(config().notifications.health);
  }

  void make_engines(Setup& s) {
    for (auto& sync : s.syncs)
      sync.engine = std::make_unique<engine::SyncEngine>(*sync.mapping, *s.pc.connector, *sync.crm, *store, clock,
                                                         log, rules::standard_rules(*sync.mapping), engine_options());
  }

  // Validation against the org first; the state database is created only when it passes.
  net::awaitable<bool> start() {
    bool fits = co_await validate(*setup);  // named first: GCC 12 miscompiles co_await inside a condition
    if (!fits) co_return false;
    open_store();
    make_engines(*setup);
    co_return true;
  }

  // A mapping whose check could not run is checked again; true when it may sync now.
  net::awaitable<bool> ready(Setup::Sync& sync) {
    if (sync.metadata != MetadataVerdict::deferred) co_return sync.metadata != MetadataVerdict::mismatch;
    if (std::exchange(sync.checked_this_cycle, false)) co_return false;  // failed just now: next cycle
    MetadataValidator validator;
    auto r = co_await validator.validate(*sync.mapping, *sync.crm);
    log_result(log, *sync.mapping, r, true);
    sync.metadata = r.verdict;
    if (r.verdict == MetadataVerdict::mismatch)
      log->error("mapping={} is not synced until its mapping file is fixed and cosyncd reloaded", sync.mapping->name);
    co_return r.verdict == MetadataVerdict::valid || r.verdict == MetadataVerdict::skipped;
  }

  net::awaitable<int> cycle() {
    int status = 0;
    for (auto& sync : setup->syncs) {
      if (stop) break;
      // Last resort: whatever still throws in one mapping's cycle is logged, and the other
      // mappings and later cycles go on (under Restart=on-failure an exit would crash-loop).
      try {
        bool may_sync = co_await ready(sync);
        if (!may_sync) {
          metrics.record_failed_cycle(sync.mapping->name, clock.now());
          status = 1;
          continue;
        }
        auto stats = co_await sync.engine->run_cycle(stop);
        metrics.record_cycle(sync.mapping->name, sync.mapping->crm_connection, stats, clock.now());
        if (stats.failed || stats.pull_failed) status = 1;
        else if (stats.quarantined && status == 0) status = 3;
        health->quarantine(sync.mapping->name, quarantine_count(sync.mapping->name));
      } catch (const std::exception& e) {
        log->error("mapping={} cycle aborted by an unexpected error: {}; retried next cycle", sync.mapping->name,
                   e.what());
        metrics.record_failed_cycle(sync.mapping->name, clock.now());
        status = 1;
      }
    }
    health->sign_in(setup->pc.tokens->last_failure());
    co_return status;
  }

  std::size_t quarantine_count(const std::string& mapping) const { return store->counts(mapping).quarantined; }

  // SIGHUP: the new config and mappings are validated offline and online, then swapped in; a
  // bad one leaves the running configuration untouched.
  net::awaitable<void> reload() {
    reload_requested = false;
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    systemd_notify("RELOADING=1\nMONOTONIC_USEC=" +
                   std::to_string(static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000));
    const std::string path = config().file;
    try {
      auto next = load_config(path);
      if (next.state_dir != config().state_dir)
        throw ConfigError(path, 1, "state_dir", "cannot change on reload (restart cosyncd to move the state)");
      auto candidate = std::make_unique<Setup>(std::move(next), io, clock, log);
      reloading = candidate.get();  // a stop meanwhile cancels its checks too
      struct Done {
        Setup*& reloading;
        ~Done() { reloading = nullptr; }
      } done{reloading};
      bool fits = co_await validate(*candidate);
      if (!fits) {
        log->error("reload rejected: the mappings above do not fit the CRM; still running the previous configuration");
      } else {
        if (candidate->config.log.level != config().log.level || candidate->config.log.format != config().log.format)
          log->warn("reload: log settings take effect at the next restart");
        make_engines(*candidate);
        setup = std::move(candidate);
        sender->configure(setup->config.notifications);
        health->configure(setup->config.notifications.health);
        log->info("configuration reloaded from {}: {} mapping(s)", path, setup->syncs.size());
      }
    } catch (const ConfigError& e) {
      log->error("reload rejected: configuration error: {}; still running the previous configuration", e.what());
    }
    systemd_notify("READY=1");
  }

  net::awaitable<void> watchdog(std::chrono::milliseconds interval) {
    while (!stop) {
      systemd_notify("WATCHDOG=1");
      watchdog_timer.expires_after(interval);
      co_await watchdog_timer.async_wait(net::as_tuple(net::use_awaitable));
    }
  }

  DaemonGauges daemon_gauges() const {
    DaemonGauges d;
    d.pending_creates = store->pending_create_count();
    d.outbox_pending = store->deliveries("pending").size();
    d.outbox_failed = store->deliveries("failed").size();
    if (sender) {
      d.notifications_sent = sender->counts().sent;
      d.notification_attempts_failed = sender->counts().failed_attempts;
      d.notifications_given_up = sender->counts().given_up;
    }
    d.refresh_token_age = file_age(config().partner_center.auth.refresh_token_file, clock.now());
    d.connections.push_back({"partner_center", setup->pc.connector->system(), setup->pc.http->outcomes()});
    for (const auto& [name, crm] : setup->crms)
      d.connections.push_back({name, crm.connector->system(), crm.http->outcomes()});
    return d;
  }

  // /metrics and /readyz read the running configuration and the state database when asked.
  void start_metrics() {
    if (!config().metrics.enabled) return;
    auto names = [this] {
      std::vector<std::string> out;
      for (const auto& sync : setup->syncs) out.push_back(sync.mapping->name);
      return out;
    };
    MetricsEndpoints endpoints{
        [this, names] { return metrics.render(read_gauges(*store, names()), daemon_gauges(), clock.now()); },
        [this, names](std::string& why) { return metrics.ready(names(), 3 * config().poll_interval, clock.now(), why); }};
    metrics_server = std::make_unique<MetricsServer>(io, config().metrics, std::move(endpoints), log);
  }

  // Test-only fault switch (tests/ops/systemd_test.sh): COSYNC_TEST_STALL_LOOP=1 in the unit's
  // environment blocks the event loop once READY=1 is sent, as a hung handler would. The
  // WATCHDOG=1 pings run on this same loop, so they stop and WatchdogSec= must restart cosyncd.
  // Never set by the shipped unit; signals do not end the stall (only SIGABRT/SIGKILL do).
  void stall_if_testing_the_watchdog() const {
    if (!std::getenv("COSYNC_TEST_STALL_LOOP")) return;
    log->warn("COSYNC_TEST_STALL_LOOP is set: the event loop stalls now (watchdog test)");
    for (;;) ::pause();
  }

  net::awaitable<int> loop() {
    bool started = co_await start();
    if (!started) co_return kExitConfig;
    start_metrics();
    // Beside the cycles, never inside one; io.run() returns only once it has finished (joined).
    net::co_spawn(io, sender->run(stop), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    systemd_notify("READY=1");
    stall_if_testing_the_watchdog();
    log->info("cosyncd running: {} mapping(s), poll interval {}s", setup->syncs.size(),
              config().poll_interval.count());
    while (!stop) {
      co_await cycle();
      if (stop) break;
      if (reload_requested) {
        co_await reload();
        continue;  // the new configuration syncs at once
      }
      sleep.expires_after(config().poll_interval);
      co_await sleep.async_wait(net::as_tuple(net::use_awaitable));
      if (reload_requested && !stop) co_await reload();
    }
    systemd_notify("STOPPING=1");
    co_return 0;
  }

  // Runs a coroutine to completion; an exception escaping it is rethrown here, never swallowed.
  template <class T>
  T run(net::awaitable<T> task) {
    watch_signals();
    std::optional<T> result;
    std::exception_ptr error;
    net::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
      error = e;
      if (!e) result = std::move(value);
      finished();
    });
    io.run();
    if (error) std::rethrow_exception(error);
    return *result;
  }
};

Runtime::Runtime(Config config, Log log, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(log), clock)) {}

Runtime::~Runtime() = default;

int Runtime::run_once() {
  auto once = [](Impl& impl) -> net::awaitable<int> {
    bool started = co_await impl.start();
    if (!started) co_return kExitConfig;
    int status = co_await impl.cycle();
    co_await impl.sender->deliver_due();  // what this cycle caused, once
    co_return status;
  };
  return impl_->run(once(*impl_));
}

int Runtime::plan(std::vector<engine::PlannedChange>& changes) {
  auto all = [](Impl& impl, std::vector<engine::PlannedChange>& out) -> net::awaitable<int> {
    bool started = co_await impl.start();
    if (!started) co_return kExitConfig;
    for (auto& sync : impl.setup->syncs) {
      if (sync.metadata == MetadataVerdict::deferred || sync.metadata == MetadataVerdict::mismatch) continue;
      auto some = co_await sync.engine->plan();
      out.insert(out.end(), some.begin(), some.end());
    }
    co_return 0;
  };
  return impl_->run(all(*impl_, changes));
}

int Runtime::pc_changes_since_last_cycle(std::map<std::string, std::map<std::string, nlohmann::json>>& changes,
                                         std::vector<std::string>& failures) {
  auto all = [](Impl& impl, std::map<std::string, std::map<std::string, nlohmann::json>>& out,
                std::vector<std::string>& failed) -> net::awaitable<int> {
    bool started = co_await impl.start();
    if (!started) co_return kExitConfig;
    for (auto& sync : impl.setup->syncs) {
      if (sync.metadata == MetadataVerdict::deferred || sync.metadata == MetadataVerdict::mismatch) {
        failed.push_back("mapping " + sync.mapping->name + ": not checked against its CRM");
        continue;
      }
      auto pulled = co_await sync.engine->pc_changes_since_last_cycle();
      if (!pulled) {
        failed.push_back("mapping " + sync.mapping->name + ": " + pulled.failure().message);
        continue;
      }
      for (auto& r : *pulled) out[sync.mapping->name][r.id] = std::move(r.fields);
    }
    co_return failed.empty() ? 0 : 1;
  };
  return impl_->run(all(*impl_, changes, failures));
}

int Runtime::check_metadata(std::ostream& out) {
  auto check = [](Impl& impl, std::ostream& out) -> net::awaitable<int> {
    MetadataValidator validator;
    int status = 0;
    for (auto& sync : impl.setup->syncs) {
      auto r = co_await validator.validate(*sync.mapping, *sync.crm);
      const auto& name = sync.mapping->name;
      for (const auto& w : r.warnings) out << "warning: mapping " << name << ": " << w << "\n";
      switch (r.verdict) {
        case MetadataVerdict::valid:
          out << "mapping " << name << ": " << sync.mapping->crm_object << " matches the org\n";
          break;
        case MetadataVerdict::skipped:
          out << "mapping " << name << ": metadata not checked (" << r.reason << ")\n";
          break;
        case MetadataVerdict::deferred:
          out << "mapping " << name << ": could not check against the CRM: " << r.reason << "\n";
          if (status == 0) status = 1;
          break;
        case MetadataVerdict::mismatch:
          for (const auto& e : r.errors) out << "cosyncd: configuration error: " << e.what() << "\n";
          status = kExitConfig;
          break;
      }
    }
    co_return status;
  };
  return impl_->run(check(*impl_, out));
}

int Runtime::run_forever() {
  if (auto interval = systemd_watchdog_interval())
    net::co_spawn(impl_->io, impl_->watchdog(*interval), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  int status = impl_->run(impl_->loop());
  impl_->log->info("cosyncd stopped");
  return status;
}

}  // namespace cosync::app
