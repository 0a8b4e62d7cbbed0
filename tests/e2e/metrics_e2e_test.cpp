// End to end, metrics.listen: the running cosyncd serves /metrics with the counters of the cycles
// it ran (a real HTTP client scrapes it, a strict parser checks the text), /healthz, and /readyz
// once every mapping's last cycle succeeded.
#include <catch2/catch.hpp>

#include <csignal>
#include <regex>

#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/e2e_helpers.hpp"
#include "tests/unit/prometheus_text_check.hpp"

namespace cosync::metrics_e2e_test {

using testing::run_command;
using testing::wait_until;

TEST_CASE("metrics_e2e: a scrape of the running daemon counts what its cycles did, and /readyz turns ready") {
  testing::E2eHarness h;
  h.write_config("poll_interval: 1s\nmetrics:\n  listen: 127.0.0.1:0\n");
  h.add_incoming_lead("Adatum");
  h.add_incoming_lead("Litware");
  auto daemon = h.start_daemon();
  REQUIRE(daemon->wait_for_output("metrics: serving", std::chrono::seconds(20)));
  std::smatch port;
  std::string output = daemon->output();
  REQUIRE(std::regex_search(output, port, std::regex("on 127\\.0\\.0\\.1:([0-9]+)")));
  const std::string base = "http://127.0.0.1:" + port[1].str();
  CHECK(run_command("curl -sS " + base + "/healthz").output == "ok\n");
  REQUIRE(wait_until([&] { return run_command("curl -sS -f " + base + "/readyz").output == "ready\n"; }));

  auto scrape = run_command("curl -sS -f " + base + "/metrics");
  REQUIRE(scrape.exit_status == 0);
  std::vector<testing::PromSample> samples;
  auto errors = testing::check_prometheus_text(scrape.output, &samples);
  INFO(scrape.output);
  CHECK(errors.empty());
  std::map<std::string, std::string> leads = {{"mapping", "pc-sf-leads"}, {"crm", "salesforce"}};
  CHECK(testing::prom_value(samples, "cosync_records_created_total", leads) == 2);
  CHECK(testing::prom_value(samples, "cosync_links", {{"mapping", "pc-sf-leads"}}) == 2);
  CHECK(testing::prom_value(samples, "cosync_quarantine_size", {{"mapping", "pc-sf-leads"}}) == 0);
  CHECK(testing::prom_value(samples, "cosync_cycles_total", {{"mapping", "pc-sf-leads"}, {"result", "ok"}}) >= 1);
  CHECK(testing::prom_value(samples, "cosync_api_calls_total", leads) > 0);
  CHECK(testing::prom_value(samples, "cosync_cycle_duration_seconds_count", {{"mapping", "pc-sf-leads"}}) >= 1);

  // A scraper holding an idle connection open does not delay the stop.
  testing::BackgroundProcess idle({"/usr/bin/python3", "-c",
                                   "import socket,time; s=socket.create_connection(('127.0.0.1'," + port[1].str() +
                                       ")); print('connected', flush=True); time.sleep(60)"},
                                  h.dir.file("idle.out"));
  REQUIRE(idle.wait_for_output("connected", std::chrono::seconds(10)));
  daemon->signal(SIGTERM);
  auto status = daemon->wait_exit(std::chrono::seconds(10));
  INFO(daemon->output());
  REQUIRE(status);
  CHECK(*status == 0);
}

}  // namespace cosync::metrics_e2e_test
