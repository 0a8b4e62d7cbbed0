// End to end: SIGTERM stops cosyncd promptly even while a request hangs or a Retry-After wait
// runs (systemd's TimeoutStopSec is 30 s; a 300 s Retry-After used to outlast it), and an error
// escaping a cycle does not end the daemon.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sqlite3.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/e2e_helpers.hpp"

using namespace cosync;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Sends SIGTERM and checks the daemon exits with status 0 within `within`.
void check_stops_within(testing::BackgroundProcess& daemon, SteadyClock::duration within) {
  auto start = SteadyClock::now();
  daemon.signal(SIGTERM);
  auto status = daemon.wait_exit(10s);
  auto took = SteadyClock::now() - start;
  INFO(daemon.output());
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK(took < within);
}

}  // namespace

TEST_CASE("e2e: SIGTERM stops cosyncd within seconds while Partner Center never answers") {
  testing::E2eHarness h;
  // A request timeout far beyond the test: only the stop itself can end the hanging request.
  testing::replace_in_file(h.config_path(), "timeout: 5s", "timeout: 120s");
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
  check_stops_within(*daemon, 5s);
  CHECK_THAT(daemon->output(), Catch::Contains("cosyncd stopped"));
  CHECK(h.crm_records().empty());
}

TEST_CASE("e2e: SIGTERM stops cosyncd within seconds during a 300 s Retry-After wait") {
  testing::E2eHarness h;
  h.add_incoming_lead("Adatum");
  h.pc.fail_next(1, 429, 300);
  auto daemon = h.start_daemon();
  REQUIRE(daemon->wait_for_output("Retry-After 300 s", 20s));
  check_stops_within(*daemon, 5s);
  CHECK_THAT(daemon->output(), Catch::Contains("cosyncd stopped"));
}

TEST_CASE("e2e: an error escaping a mapping's cycle is logged and the daemon syncs on") {
  testing::E2eHarness h;
  h.write_config("poll_interval: 1s\n");
  auto first = h.add_incoming_lead("Adatum");
  auto daemon = h.start_daemon();
  REQUIRE(daemon->wait_for_output("created=1", 20s));

  // Another process holds the state database's write lock longer than cosyncd's 5 s busy
  // timeout: the store throws in the middle of a cycle.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(h.dir.file("state/state.db").c_str(), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 10'000);
  REQUIRE(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  auto second = h.add_incoming_lead("Litware");
  bool failed = daemon->wait_for_output("database is locked", 30s);
  std::this_thread::sleep_for(1500ms);  // the daemon lives on past the error
  CHECK_FALSE(daemon->wait_exit(0ms).has_value());
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  INFO(daemon->output());
  REQUIRE(failed);

  bool synced = false;
  for (int i = 0; i < 200 && !synced; ++i) {
    synced = h.crm_records().size() == 2 && h.pc.referral(second).contains("externalReferenceId");
    if (!synced) std::this_thread::sleep_for(100ms);
  }
  CHECK(synced);
  CHECK(h.crm_records().size() == 2);  // no duplicate of the lead whose cycle was cut
  CHECK(h.pc.referral(first).contains("externalReferenceId"));
  check_stops_within(*daemon, 11s);  // wait_exit's own bound
}

TEST_CASE("e2e: SIGTERM stops cosyncd within seconds while a reload's CRM check never answers") {
  testing::E2eHarness h;
  h.write_config("poll_interval: 3600s\n");
  testing::replace_in_file(h.config_path(), "timeout: 5s", "timeout: 120s");
  h.add_incoming_lead("Adatum");
  auto daemon = h.start_daemon();
  REQUIRE(daemon->wait_for_output("created=1", 20s));
  // The daemon now sleeps; SIGHUP checks the re-read mapping against Salesforce, which hangs.
  auto before = h.sf().server().count("");
  h.sf().server().delay_next(3, 600'000);
  daemon->signal(SIGHUP);
  bool hanging = false;
  for (int i = 0; i < 200 && !hanging; ++i) {
    hanging = h.sf().server().count("") > before;
    if (!hanging) std::this_thread::sleep_for(50ms);
  }
  REQUIRE(hanging);
  std::this_thread::sleep_for(300ms);
  check_stops_within(*daemon, 5s);
}
