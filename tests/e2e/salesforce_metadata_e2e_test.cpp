// End to end, metadata validation: cosyncd describes each mapping's CRM object before it writes
// anything. A mapping that does not fit the org stops once/run/plan with exit 78 and file:line;
// a describe that cannot run (503, network) does not kill the daemon: that mapping waits and is
// retried each cycle. `cosyncd check` has the same online phase; `--offline` skips it.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>

#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/e2e_helpers.hpp"

using namespace cosync;
using testing::line_of;
using testing::wait_until;

namespace {

const std::string kBadValue = "crm: \"Working - Qualified\"";

}  // namespace

TEST_CASE("salesforce_metadata_e2e: a mapping that does not fit the org stops once, plan and run with 78, touching nothing") {
  testing::E2eHarness h;
  h.add_incoming_lead("Contoso");
  h.edit_mapping("crm: \"Working - Contacted\"", kBadValue);
  std::string mapping = h.dir.file("mapping.yaml");
  // The value's own line and key (issue 10, item 3), not the line of the rule's `- name: status`.
  std::string where = mapping + ":" + std::to_string(line_of(mapping, kBadValue)) + ": fields[4].values[1].crm:";
  REQUIRE(line_of(mapping, kBadValue) > line_of(mapping, "- name: status") + 4);

  for (const char* command : {"once", "plan", "run"}) {
    auto result = h.cosyncd(command);
    INFO(command << ": " << result.output);
    CHECK(result.exit_status == 78);
    CHECK_THAT(result.output, Catch::Contains(where));
    CHECK_THAT(result.output, Catch::Contains("'Working - Qualified' is not an active value of the picklist Lead.Status"));
  }
  CHECK_FALSE(std::filesystem::exists(h.dir.file("state/state.db")));
  CHECK(h.write_calls() == 0);
  CHECK(h.pc.server().requests().empty());
  CHECK(h.crm_records().empty());

  SECTION("check reports it too, and --offline does not look") {
    auto check = h.cosyncd("check");
    INFO(check.output);
    CHECK(check.exit_status == 78);
    CHECK_THAT(check.output, Catch::Contains(where));
    auto offline = h.cosyncd("check", "--offline");
    CHECK(offline.exit_status == 0);
    h.clear_requests();
    h.cosyncd("check", "--offline");
    CHECK(h.sf().server().requests().empty());
    CHECK(h.tokens.server().requests().empty());
  }
}

TEST_CASE("salesforce_metadata_e2e: check lists every mismatch, each with its line") {
  testing::E2eHarness h;
  h.edit_mapping("    crm: Country\n", "    crm: Country__c\n");
  std::string mapping = h.dir.file("mapping.yaml");
  testing::replace_in_file(mapping, "crm: \"Working - Contacted\"", kBadValue);
  auto check = h.cosyncd("check");
  INFO(check.output);
  CHECK(check.exit_status == 78);
  CHECK_THAT(check.output, Catch::Contains(mapping + ":" + std::to_string(line_of(mapping, "- name: country")) +
                                           ": fields[1].crm: Lead has no field 'Country__c'"));
  CHECK_THAT(check.output, Catch::Contains(mapping + ":" + std::to_string(line_of(mapping, kBadValue)) +
                                           ": fields[4].values[1].crm: 'Working - Qualified' is not an active value"));
}

TEST_CASE("salesforce_metadata_e2e: check goes online: a token and one describe, nothing else") {
  testing::E2eHarness h;
  auto check = h.cosyncd("check");
  INFO(check.output);
  CHECK(check.exit_status == 0);
  CHECK_THAT(check.output, Catch::Contains("configuration OK: every mapping fits its CRM"));
  CHECK(h.sf().server().count("GET", h.sf().data_path() + "/sobjects/Lead/describe") == 1);
  CHECK(h.sf().server().requests().size() == 1);
  CHECK(h.pc.server().requests().empty());
  CHECK(h.write_calls() == 0);
}

TEST_CASE("salesforce_metadata_e2e: check says when it cannot reach the CRM, with exit 1") {
  testing::E2eHarness h;
  h.sf().fail_next(3, 503);  // every attempt of the describe
  auto check = h.cosyncd("check");
  INFO(check.output);
  CHECK(check.exit_status == 1);
  CHECK_THAT(check.output, Catch::Contains("mapping pc-sf-leads: could not check against the CRM: describe Lead failed"));
}

TEST_CASE("salesforce_metadata_e2e: a describe that fails transiently defers the mapping, the daemon keeps running") {
  testing::E2eHarness h;
  h.write_config("poll_interval: 1s\n");
  h.add_incoming_lead("Contoso");

  SECTION("once: nothing synced, exit 1 (retried next time)") {
    h.sf().fail_next(3, 503);
    auto once = h.cosyncd("once");
    INFO(once.output);
    CHECK(once.exit_status == 1);
    CHECK_THAT(once.output, Catch::Contains("mapping=pc-sf-leads not synced: its metadata check could not run"));
    CHECK(h.crm_records().empty());
  }
  SECTION("run: the mapping syncs as soon as a later cycle's check passes") {
    h.sf().fail_next(3, 503);
    auto daemon = h.start_daemon();
    REQUIRE(daemon->wait_for_output("not synced: its metadata check could not run", std::chrono::seconds(20)));
    CHECK(daemon->wait_for_output("mapping=pc-sf-leads metadata check passed: syncing", std::chrono::seconds(20)));
    CHECK(wait_until([&] { return h.crm_records().size() == 1; }));
    CHECK_FALSE(daemon->wait_exit(std::chrono::milliseconds(10)));  // still running
    daemon->signal(SIGTERM);
    auto status = daemon->wait_exit(std::chrono::seconds(10));
    INFO(daemon->output());
    REQUIRE(status);
    CHECK(*status == 0);
  }
}
