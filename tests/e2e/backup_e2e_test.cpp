// End to end, `cosyncd backup FILE` while the daemon runs: a consistent, owner-only copy of the
// state database that opens with every link; and a state database newer than the binary is
// refused with a clear message and left as it was (the README's upgrade and restore).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <csignal>

#include "daemon/store/state_store.hpp"
#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/e2e_helpers.hpp"

namespace cosync::backup_e2e_test {

using testing::run_command;
using testing::wait_until;

TEST_CASE("backup_e2e: a backup taken while cosyncd runs holds every link, and never overwrites a file") {
  testing::E2eHarness h;
  h.write_config("poll_interval: 1s\n");
  h.add_incoming_lead("Adatum");
  h.add_incoming_lead("Litware");
  auto daemon = h.start_daemon();
  REQUIRE(wait_until([&] { return h.crm_records().size() == 2; }));
  REQUIRE(wait_until([&] { return StateStore(h.dir.file("state/state.db")).links("pc-sf-leads").size() == 2; }));

  const std::string copy = h.dir.file("backup.db");
  auto result = h.cosyncd("backup", copy);  // while the daemon keeps cycling every second
  INFO(result.output);
  CHECK(result.exit_status == 0);
  CHECK_THAT(result.output, Catch::Contains("backed up " + h.dir.file("state/state.db") + " to " + copy));
  struct stat st {};
  REQUIRE(::stat(copy.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  {
    StateStore restored(copy);
    CHECK(restored.links("pc-sf-leads").size() == 2);
    CHECK(restored.schema_version() == StateStore(h.dir.file("state/state.db")).schema_version());
  }
  CHECK(run_command("sqlite3 " + copy + " 'PRAGMA integrity_check'").output == "ok\n");

  auto again = h.cosyncd("backup", copy);
  CHECK(again.exit_status == 1);
  CHECK_THAT(again.output, Catch::Contains("cannot create " + copy + ": File exists"));
  CHECK(h.cosyncd("backup").exit_status == 64);

  daemon->signal(SIGTERM);
  CHECK(daemon->wait_exit(std::chrono::seconds(10)) == 0);
}

TEST_CASE("backup_e2e: a state database newer than this cosyncd is refused and left untouched") {
  testing::E2eHarness h;
  h.add_incoming_lead("Adatum");
  REQUIRE(h.cosyncd("once").exit_status == 0);
  const std::string db = h.dir.file("state/state.db");
  REQUIRE(run_command("sqlite3 " + db + " 'PRAGMA user_version=999'").exit_status == 0);  // as a newer cosyncd left it
  for (const char* command : {"once", "status"}) {
    auto result = h.cosyncd(command);
    INFO(command << ": " << result.output);
    CHECK(result.exit_status == 78);  // a configuration error: systemd does not restart it in a loop
    CHECK_THAT(result.output, Catch::Contains("state database schema version 999 is newer than this cosyncd supports"));
  }
  CHECK(run_command("sqlite3 " + db + " 'PRAGMA user_version'").output == "999\n");
}

}  // namespace cosync::backup_e2e_test
