#include "daemon/cli/runtime.hpp"

#include <sys/stat.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>

#include "daemon/cli/systemd_notify.hpp"
#include "daemon/engine/sync_engine.hpp"

namespace cosync::app {

namespace net = boost::asio;

struct Connection {
  std::unique_ptr<http::HttpClient> http;
  std::unique_ptr<auth::TokenProvider> tokens;
  std::unique_ptr<connectors::Connector> connector;
};

struct Runtime::Impl {
  Config config;
  Log log;
  const Clock& clock;
  net::io_context io;
  std::unique_ptr<StateStore> store;
  Connection pc;
  std::map<std::string, Connection> crms;
  std::vector<std::unique_ptr<engine::SyncEngine>> engines;
  std::atomic<bool> stop{false};
  net::signal_set signals{io, SIGINT, SIGTERM};
  net::steady_timer sleep{io};
  net::steady_timer watchdog_timer{io};

  engine::EngineOptions engine_options() const {
    engine::EngineOptions o;
    o.audit_retention = config.audit_retention;
    return o;
  }

  void request_stop() {
    stop = true;
    signals.cancel();
    sleep.cancel();
    watchdog_timer.cancel();
  }

  Impl(Config c, Log l, const Clock& clk) : config(std::move(c)), log(std::move(l)), clock(clk) {
    std::filesystem::create_directories(config.state_dir);
    ::chmod(config.state_dir.c_str(), 0700);
    store = std::make_unique<StateStore>(config.state_db_path());

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
    for (const auto& m : config.mappings)
      engines.push_back(std::make_unique<engine::SyncEngine>(m, *pc.connector, *crms.at(m.crm_connection).connector,
                                                             *store, clock, log, engine_options()));
  }

  void watch_signals() {
    signals.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      log->info("signal {} received: finishing the record in flight, then stopping", signal);
      request_stop();
    });
  }

  net::awaitable<int> cycle() {
    int status = 0;
    for (auto& e : engines) {
      if (stop) break;
      auto stats = co_await e->run_cycle(stop);
      if (stats.failed || stats.pull_failed) status = 1;
      else if (stats.quarantined && status == 0) status = 3;
    }
    co_return status;
  }

  net::awaitable<void> watchdog(std::chrono::milliseconds interval) {
    while (!stop) {
      systemd_notify("WATCHDOG=1");
      watchdog_timer.expires_after(interval);
      co_await watchdog_timer.async_wait(net::as_tuple(net::use_awaitable));
    }
  }

  net::awaitable<void> loop() {
    systemd_notify("READY=1");
    log->info("cosyncd running: {} mapping(s), poll interval {}s", engines.size(), config.poll_interval.count());
    while (!stop) {
      co_await cycle();
      if (stop) break;
      sleep.expires_after(config.poll_interval);
      co_await sleep.async_wait(net::as_tuple(net::use_awaitable));
    }
    systemd_notify("STOPPING=1");
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
      request_stop();
    });
    io.run();
    if (error) std::rethrow_exception(error);
    return *result;
  }
};

Runtime::Runtime(Config config, Log log, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(log), clock)) {}

Runtime::~Runtime() = default;

int Runtime::run_once() { return impl_->run(impl_->cycle()); }

std::vector<engine::PlannedChange> Runtime::plan() {
  auto all = [](Impl& impl) -> net::awaitable<std::vector<engine::PlannedChange>> {
    std::vector<engine::PlannedChange> changes;
    for (auto& e : impl.engines) {
      auto some = co_await e->plan();
      changes.insert(changes.end(), some.begin(), some.end());
    }
    co_return changes;
  };
  return impl_->run(all(*impl_));
}

int Runtime::run_forever() {
  if (auto interval = systemd_watchdog_interval())
    net::co_spawn(impl_->io, impl_->watchdog(*interval), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  auto loop = [](Impl& impl) -> net::awaitable<int> {
    co_await impl.loop();
    co_return 0;
  };
  int status = impl_->run(loop(*impl_));
  impl_->log->info("cosyncd stopped");
  return status;
}

}  // namespace cosync::app
