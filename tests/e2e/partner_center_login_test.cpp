// End to end: `cosyncd login partner-center`, and a daemon whose refresh token was revoked
// reporting it once per cycle, then resuming by itself after a new login.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/stat.h>

#include <regex>
#include <thread>

#include "daemon/auth/refresh_token.hpp"
#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"

using namespace cosync;
using namespace std::chrono_literals;

namespace {

// Runs the login in the background, signs in as the user would, and returns its exit status.
int login(testing::E2eHarness& h, std::string& output) {
  testing::BackgroundProcess process(
      {std::string(COSYNC_BINARY_DIR) + "/cosyncd", "login", "partner-center", "--config", h.config_path()},
      h.dir.file("login.log"));
  if (!process.wait_for_output("enter the code", 10s)) return -1;
  std::smatch code;
  std::string text = process.output();
  if (!std::regex_search(text, code, std::regex("enter the code ([A-Z0-9-]+)"))) return -2;
  h.tokens.approve_device_code(code[1].str());
  auto status = process.wait_exit(20s);
  output = process.output();
  return status.value_or(-3);
}

}  // namespace

TEST_CASE("e2e: cosyncd login partner-center stores the refresh token 0600 and the daemon uses it") {
  testing::E2eHarness h;
  h.tokens.revoke_refresh_tokens();
  std::string output;
  int status = login(h, output);
  INFO(output);
  REQUIRE(status == 0);
  CHECK_THAT(output, Catch::Contains("https://microsoft.com/devicelogin"));
  std::string file = h.dir.file("state/pc_refresh_token");
  CHECK(auth::read_secret_file(file) == h.tokens.latest_refresh_token());
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(output.find(h.tokens.latest_refresh_token()) == std::string::npos);

  h.add_incoming_lead("Contoso");
  auto run = testing::check_once(h);
  INFO(run.output);
  CHECK(h.crm_records().size() == 1);
}

TEST_CASE("e2e: a rejected refresh token is reported each cycle until a new login, then syncing resumes") {
  testing::E2eHarness h;
  h.write_config("poll_interval: 1s\n");
  h.tokens.revoke_refresh_tokens();  // the admin's sign-in was revoked
  auto daemon = h.start_daemon();
  REQUIRE(daemon->wait_for_output("run cosyncd login partner-center", 15s));
  REQUIRE(daemon->wait_exit(1500ms) == std::nullopt);  // still running
  h.add_incoming_lead("Fabrikam");

  std::string output;
  REQUIRE(login(h, output) == 0);
  // The daemon re-reads the token file: the next cycle syncs without a restart.
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (h.crm_records().empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100ms);
  INFO(daemon->output());
  CHECK(h.crm_records().size() == 1);
  auto log = daemon->output();
  auto first_error = log.find("run cosyncd login partner-center");
  CHECK(first_error != std::string::npos);
  daemon->signal(SIGTERM);
  CHECK(daemon->wait_exit(10s) == 0);
}
