#include <catch2/catch.hpp>

#include <cmath>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "daemon/cli/metrics.hpp"
#include "daemon/cli/metrics_server.hpp"
#include "tests/e2e/child_process.hpp"
#include "tests/unit/config_fixtures.hpp"
#include "tests/unit/prometheus_text_check.hpp"
#include "tests/unit/test_files.hpp"

// Inside a namespace of its own: the unity build compiles this file with others.
namespace cosync::app::metrics_test {

using cosync::testing::check_prometheus_text;
using cosync::testing::prom_value;
using cosync::testing::PromSample;
using cosync::testing::run_command;

namespace {

const TimePoint kStart = TimePoint(std::chrono::seconds(1'800'000'000));

engine::CycleStats stats_of_a_busy_cycle() {
  engine::CycleStats s;
  s.pulled_pc = 5;
  s.pulled_crm = 2;
  s.created = 3;
  s.updated_pc = 4;
  s.updated_crm = 1;
  s.conflicts = 1;
  s.quarantined = 2;
  s.orphaned = 1;
  s.api_calls = 12;
  s.crm_api_usage = "120/15000";
  s.duration = std::chrono::milliseconds(750);
  return s;
}

std::vector<PromSample> parsed(const std::string& text) {
  std::vector<PromSample> samples;
  auto errors = check_prometheus_text(text, &samples);
  INFO(text);
  for (const auto& e : errors) FAIL_CHECK(e);
  return samples;
}

// A MetricsServer on its own io_context thread, as the daemon runs it on its loop.
struct ServedMetrics {
  boost::asio::io_context io;
  Metrics metrics;
  std::vector<std::string> mappings = {"leads"};
  std::unique_ptr<MetricsServer> server;
  std::thread thread;

  ServedMetrics() {
    MetricsOptions options{true, "127.0.0.1", 0};
    server = std::make_unique<MetricsServer>(
        io, options,
        MetricsEndpoints{[this] { return metrics.render({{"leads", {7, 1, 2, 0}}}, DaemonGauges{3, 0, 0, 0, 0, 0, std::nullopt, {}}, kStart); },
                         [this](std::string& why) { return metrics.ready(mappings, std::chrono::seconds(90), kStart, why); }},
        null_logger());
    thread = std::thread([this] { io.run(); });
  }
  ~ServedMetrics() {
    boost::asio::post(io, [this] { server->stop(); });
    thread.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server->port()) + path;
  }
  // curl: a real HTTP client. Prints the body, then the status code on its own line.
  testing::CommandResult get(const std::string& path, const std::string& options = "") const {
    return run_command("curl -sS " + options + " -w '\\n%{http_code}' " + url(path));
  }
};

}  // namespace

TEST_CASE("metrics: a cycle's stats become per-mapping counters, a histogram and gauges, in valid text") {
  Metrics metrics;
  metrics.record_cycle("leads", "salesforce", stats_of_a_busy_cycle(), kStart);
  auto second = stats_of_a_busy_cycle();
  second.duration = std::chrono::milliseconds(40'000);
  second.failed = 1;
  metrics.record_cycle("leads", "salesforce", second, kStart + std::chrono::seconds(60));
  DaemonGauges daemon{3, 5, 1, 17, 4, 1, std::chrono::hours(24 * 80), {}};
  daemon.connections.push_back({"partner_center", "partner_center", {40, 0, 3, 2, 1}});
  daemon.connections.push_back({"sf \"prod\"", "salesforce", {12, 0, 0, 0, 0}});
  auto text = metrics.render({{"leads", {7, 1, 2, 4}}}, daemon, kStart + std::chrono::seconds(100));
  auto samples = parsed(text);
  std::map<std::string, std::string> leads = {{"mapping", "leads"}, {"crm", "salesforce"}};
  auto with = [&](std::string k, std::string v) {
    auto l = leads;
    l[k] = v;
    return l;
  };
  CHECK(prom_value(samples, "cosync_records_pulled_total", with("side", "pc")) == 10);
  CHECK(prom_value(samples, "cosync_records_pulled_total", with("side", "crm")) == 4);
  CHECK(prom_value(samples, "cosync_records_created_total", leads) == 6);
  CHECK(prom_value(samples, "cosync_records_updated_total", with("side", "pc")) == 8);
  CHECK(prom_value(samples, "cosync_records_updated_total", with("side", "crm")) == 2);
  CHECK(prom_value(samples, "cosync_conflicts_total", leads) == 2);
  CHECK(prom_value(samples, "cosync_quarantined_total", leads) == 4);
  CHECK(prom_value(samples, "cosync_orphaned_total", leads) == 2);
  CHECK(prom_value(samples, "cosync_failed_total", leads) == 1);
  CHECK(prom_value(samples, "cosync_api_calls_total", leads) == 24);
  CHECK(prom_value(samples, "cosync_cycles_total", {{"mapping", "leads"}, {"result", "ok"}}) == 1);
  CHECK(prom_value(samples, "cosync_cycles_total", {{"mapping", "leads"}, {"result", "failed"}}) == 1);
  // 0.75 s falls in le=1, 40 s in le=60: cumulative buckets.
  CHECK(prom_value(samples, "cosync_cycle_duration_seconds_bucket", {{"mapping", "leads"}, {"le", "0.5"}}) == 0);
  CHECK(prom_value(samples, "cosync_cycle_duration_seconds_bucket", {{"mapping", "leads"}, {"le", "1"}}) == 1);
  CHECK(prom_value(samples, "cosync_cycle_duration_seconds_bucket", {{"mapping", "leads"}, {"le", "60"}}) == 2);
  CHECK(prom_value(samples, "cosync_cycle_duration_seconds_sum", {{"mapping", "leads"}}) == Approx(40.75));
  CHECK(prom_value(samples, "cosync_cycle_duration_seconds_count", {{"mapping", "leads"}}) == 2);
  // The second cycle failed: the last good one is the first, 100 s ago.
  CHECK(prom_value(samples, "cosync_seconds_since_last_good_cycle", {{"mapping", "leads"}}) == 100);
  CHECK(prom_value(samples, "cosync_links", {{"mapping", "leads"}}) == 7);
  CHECK(prom_value(samples, "cosync_orphaned_links", {{"mapping", "leads"}}) == 1);
  CHECK(prom_value(samples, "cosync_quarantine_size", {{"mapping", "leads"}}) == 2);
  CHECK(prom_value(samples, "cosync_pending_creates", {}) == 3);
  CHECK(prom_value(samples, "cosync_held_actions", {{"mapping", "leads"}}) == 4);
  CHECK(prom_value(samples, "cosync_outbox_size", {{"state", "pending"}}) == 5);
  CHECK(prom_value(samples, "cosync_outbox_size", {{"state", "failed"}}) == 1);
  CHECK(prom_value(samples, "cosync_notifications_total", {{"result", "sent"}}) == 17);
  CHECK(prom_value(samples, "cosync_notifications_total", {{"result", "failed"}}) == 4);
  CHECK(prom_value(samples, "cosync_notifications_total", {{"result", "given_up"}}) == 1);
  CHECK(prom_value(samples, "cosync_partner_center_refresh_token_age_seconds", {}) == 80 * 86400);
  auto pc_http = [](std::string status_class) {
    return std::map<std::string, std::string>{
        {"connection", "partner_center"}, {"connector", "partner_center"}, {"class", std::move(status_class)}};
  };
  CHECK(prom_value(samples, "cosync_http_responses_total", pc_http("2xx")) == 40);
  CHECK(prom_value(samples, "cosync_http_responses_total", pc_http("4xx")) == 3);
  CHECK(prom_value(samples, "cosync_http_responses_total", pc_http("5xx")) == 2);
  CHECK(prom_value(samples, "cosync_http_responses_total", pc_http("none")) == 1);
  CHECK(prom_value(samples, "cosync_http_responses_total",
                   {{"connection", "sf \"prod\""}, {"connector", "salesforce"}, {"class", "2xx"}}) == 12);
  CHECK(prom_value(samples, "cosync_crm_api_usage", {{"crm", "salesforce"}, {"mapping", "leads"}, {"kind", "used"}}) == 120);
  CHECK(prom_value(samples, "cosync_crm_api_usage", {{"crm", "salesforce"}, {"mapping", "leads"}, {"kind", "max"}}) == 15000);
}

TEST_CASE("metrics: a label value with quotes, backslashes and newlines is escaped") {
  Metrics metrics;
  metrics.record_cycle("odd \"name\"\\\n", "sf", engine::CycleStats{}, kStart);
  auto samples = parsed(metrics.render({}, DaemonGauges{}, kStart));
  CHECK(prom_value(samples, "cosync_cycles_total", {{"mapping", "odd \"name\"\\\n"}, {"result", "ok"}}) == 1);
}

TEST_CASE("metrics: the strict checker refuses what promtool refuses") {
  CHECK(!check_prometheus_text("cosync_x 1\n").empty());                                      // no TYPE
  CHECK(!check_prometheus_text("# TYPE a counter\na{b=\"c} 1\n").empty());                    // unterminated
  CHECK(!check_prometheus_text("# TYPE a counter\na 1\na 2\n").empty());                      // duplicate
  CHECK(!check_prometheus_text("# TYPE a gauge\na one\n").empty());                           // value
  CHECK(!check_prometheus_text("# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"1\"} 1\n").empty());  // interleaved
  CHECK(!check_prometheus_text("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n").empty());
  CHECK(check_prometheus_text("# HELP a A.\n# TYPE a gauge\na{b=\"x\\\"y\"} 1.5\n").empty());
}

TEST_CASE("metrics: ready when every mapping's last cycle succeeded within the window") {
  Metrics metrics;
  std::string why;
  CHECK_FALSE(metrics.ready({"leads"}, std::chrono::seconds(90), kStart, why));
  CHECK_THAT(why, Catch::Contains("leads has not finished a cycle"));
  metrics.record_cycle("leads", "sf", engine::CycleStats{}, kStart);
  CHECK(metrics.ready({"leads"}, std::chrono::seconds(90), kStart + std::chrono::seconds(90), why));
  CHECK_FALSE(metrics.ready({"leads"}, std::chrono::seconds(90), kStart + std::chrono::seconds(91), why));
  CHECK_THAT(why, Catch::Contains("no good cycle for 91 s"));
  engine::CycleStats failed;
  failed.pull_failed = true;
  metrics.record_cycle("leads", "sf", failed, kStart + std::chrono::seconds(30));
  CHECK_FALSE(metrics.ready({"leads"}, std::chrono::seconds(90), kStart + std::chrono::seconds(31), why));
  CHECK_THAT(why, Catch::Contains("last cycle failed"));
  // Quarantined records are the API's verdict on them, not a sick daemon.
  engine::CycleStats quarantined;
  quarantined.quarantined = 4;
  metrics.record_cycle("leads", "sf", quarantined, kStart + std::chrono::seconds(60));
  CHECK(metrics.ready({"leads"}, std::chrono::seconds(90), kStart + std::chrono::seconds(61), why));
}

TEST_CASE("metrics server: /metrics, /healthz and /readyz answer a real HTTP client") {
  ServedMetrics served;
  auto health = served.get("/healthz");
  CHECK(health.output == "ok\n\n200");
  auto not_ready = served.get("/readyz");
  CHECK(not_ready.output == "mapping leads has not finished a cycle yet\n\n503");
  boost::asio::post(served.io, [&] { served.metrics.record_cycle("leads", "sf", engine::CycleStats{}, kStart); });
  CHECK(served.get("/readyz").output == "ready\n\n200");

  auto scrape = served.get("/metrics", "-D /dev/stderr");
  REQUIRE(scrape.exit_status == 0);
  CHECK_THAT(scrape.output, Catch::Contains("Content-Type: text/plain; version=0.0.4"));
  auto body = scrape.output.substr(scrape.output.find("\r\n\r\n") + 4);
  REQUIRE(body.ends_with("\n200"));
  auto samples = parsed(body.substr(0, body.size() - 3));
  CHECK(prom_value(samples, "cosync_links", {{"mapping", "leads"}}) == 7);

  CHECK(served.get("/nothing").output.ends_with("\n404"));
  CHECK(served.get("/metrics", "-X POST").output.ends_with("\n405"));
}

TEST_CASE("metrics config: listen is IP:PORT, named by line when it is not") {
  testing::TempDir dir;
  dir.write("leads.yaml", testing::kLeadsMapping);
  auto config = dir.write("cosync.yaml", testing::config_text("metrics:\n  listen: 127.0.0.1:9464\n"));
  auto c = load_config(config);
  CHECK(c.metrics.enabled);
  CHECK(c.metrics.address == "127.0.0.1");
  CHECK(c.metrics.port == 9464);
  CHECK_FALSE(load_config(dir.write("none.yaml", testing::config_text())).metrics.enabled);
  auto v6 = load_config(dir.write("v6.yaml", testing::config_text("metrics:\n  listen: \"[::1]:0\"\n")));
  CHECK(v6.metrics.address == "::1");
  for (const char* bad : {"localhost:9464", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000"}) {
    auto path = dir.write("bad.yaml", testing::config_text(std::string("metrics:\n  listen: ") + bad + "\n"));
    CHECK_THAT(testing::config_error_of(path), Catch::Contains("bad.yaml:3: metrics.listen"));
  }
}

}  // namespace cosync::app::metrics_test
