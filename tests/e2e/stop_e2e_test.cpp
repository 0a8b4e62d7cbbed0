// End to end: SIGTERM stops cosyncd promptly even while a request hangs or a Retry-After wait
// runs (systemd's TimeoutStopSec is 30 s; a 300 s Retry-After used to outlast it).
#include <catch2/catch.hpp>
#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/daemon_harness.hpp"

using namespace cosync;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Sends SIGTERM; returns the exit status (nullopt: still running after 10 s) and how long it took.
std::pair<std::optional<int>, SteadyClock::duration> stop(testing::BackgroundProcess& daemon) {
  auto start = SteadyClock::now();
  daemon.signal(SIGTERM);
  auto status = daemon.wait_exit(10s);
  return {status, SteadyClock::now() - start};
}

void replace_in_file(const std::string& path, const std::string& from, const std::string& to) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  std::string s = text.str();
  auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  s.replace(at, from.size(), to);
  std::ofstream(path) << s;
}

}  // namespace

TEST_CASE("e2e: SIGTERM stops cosyncd within seconds while Partner Center never answers") {
  testing::DaemonHarness h;
  // A request timeout far beyond the test: only the stop itself can end the hanging request.
  replace_in_file(h.config_path(), "timeout: 5s", "timeout: 120s");
  h.add_incoming_lead("Adatum");
  h.pc.server().delay_next(1, 600'000);  // the pull's first page never comes
  auto daemon = h.start_daemon();
  bool hanging = false;
  for (int i = 0; i < 200 && !hanging; ++i) {
    hanging = h.pc.server().count("GET") >= 1;
    if (!hanging) std::this_thread::sleep_for(50ms);
  }
  REQUIRE(hanging);
  std::this_thread::sleep_for(300ms);  // well inside the request now
  auto [status, took] = stop(*daemon);
  INFO(daemon->output());
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK(took < 5s);
  CHECK_THAT(daemon->output(), Catch::Contains("cosyncd stopped"));
  CHECK(h.leads().empty());
}

TEST_CASE("e2e: SIGTERM stops cosyncd within seconds during a 300 s Retry-After wait") {
  testing::DaemonHarness h;
  h.add_incoming_lead("Adatum");
  h.pc.fail_next(1, 429, 300);
  auto daemon = h.start_daemon();
  REQUIRE(daemon->wait_for_output("Retry-After 300 s", 20s));
  auto [status, took] = stop(*daemon);
  INFO(daemon->output());
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK(took < 5s);
  CHECK_THAT(daemon->output(), Catch::Contains("cosyncd stopped"));
}
