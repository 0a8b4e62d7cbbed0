// End to end, configuration refused at start-up (issue 17, items 8 and 9): cosyncd exits 78
// (EX_CONFIG: systemd does not restart it) naming file:line: key, promptly, before touching
// anything, where it used to exit 1 or hang.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>

#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/e2e_helpers.hpp"

using namespace cosync;

TEST_CASE("config refusal e2e: a state_dir that is a file exits 78 naming the config line") {
  testing::E2eHarness h;
  std::filesystem::remove_all(h.dir.file("state"));
  h.dir.write("state", "not a directory\n");
  for (const char* command : {"once", "run", "check --offline"}) {
    auto result = h.cosyncd(command);
    INFO(command << ": " << result.output);
    CHECK(result.exit_status == 78);
    CHECK_THAT(result.output, Catch::Contains(h.config_path() + ":1: state_dir: " + h.dir.file("state") +
                                              " exists and is not a directory"));
  }
  CHECK(h.pc.server().requests().empty());
}

TEST_CASE("config refusal e2e: /dev/zero as a secret or mapping file exits 78 at once instead of hanging") {
  testing::E2eHarness h;
  auto started = std::chrono::steady_clock::now();
  testing::replace_in_file(h.config_path(), "client_secret_file: sf_secret", "client_secret_file: /dev/zero");
  auto secret = h.cosyncd("check --offline");
  INFO(secret.output);
  CHECK(secret.exit_status == 78);
  CHECK_THAT(secret.output, Catch::Contains("connections.salesforce.auth.client_secret_file: ") &&
                                Catch::Contains("/dev/zero: not a regular file"));

  h.write_config();  // a fresh config, naming the harness's mapping copy
  testing::replace_in_file(h.config_path(), "  - " + h.dir.file("mapping.yaml"), "  - /dev/zero");
  auto mapping = h.cosyncd("check --offline");
  INFO(mapping.output);
  CHECK(mapping.exit_status == 78);
  CHECK_THAT(mapping.output, Catch::Contains("/dev/zero: not a regular file"));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
}

TEST_CASE("config refusal e2e: a world-readable secret file exits 78") {
  testing::E2eHarness h;
  std::filesystem::permissions(h.dir.file("sf_secret"), std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  auto check = h.cosyncd("check --offline");
  INFO(check.output);
  CHECK(check.exit_status == 78);
  CHECK_THAT(check.output, Catch::Contains("client_secret_file: ") && Catch::Contains("chmod 600"));
}
