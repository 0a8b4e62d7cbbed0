// End to end: cosyncd against a Salesforce org whose query answers carry records of the wrong
// shape. The bad records are quarantined with their reason; `once` and `run` keep syncing the rest.
#include <catch2/catch.hpp>
#include <signal.h>

#include <set>

#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/e2e_helpers.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

const char* kStamp = "2024-05-01T10:00:00.000+0000";

std::vector<json> hostile_leads() {
  return {
      {{"Id", 42}, {"SystemModstamp", kStamp}, {"PartnerCenterReferralId__c", "ref-a"}},
      {{"Id", std::string("00Qbad\0id", 9)}, {"SystemModstamp", kStamp}, {"PartnerCenterReferralId__c", "ref-b"}},
      {{"Id", "00Q0000000000NOSAAA"}, {"SystemModstamp", nullptr}, {"PartnerCenterReferralId__c", "ref-c"}},
      {{"Id", "00Q0000000000EXTAAA"}, {"SystemModstamp", kStamp}, {"PartnerCenterReferralId__c", "ref\r\nforged"}},
      "not a record",
  };
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("salesforce_hostile_e2e: malformed Lead records are quarantined while the good ones sync") {
  testing::E2eHarness h;
  auto first = h.add_incoming_lead("Contoso");
  testing::check_once(h);
  REQUIRE(h.crm_records().size() == 1);
  std::string lead_id = h.crm_records()[0]["Id"];

  h.sf().serve_raw_records("Lead", hostile_leads());
  h.sf().edit("Lead", lead_id, {{"Status", "Working - Contacted"}});
  auto second = h.add_incoming_lead("Fabrikam");
  auto run = h.cosyncd("once");
  INFO(run.output);
  CHECK(run.exit_status == 3);  // something was quarantined; nothing crashed
  // The good records: a seller's edit reaches Partner Center, a new referral becomes a Lead.
  CHECK(h.pc.referral(first)["status"] == "Active");
  CHECK(h.crm_records().size() == 2);
  CHECK(h.pc.referral(second).contains("externalReferenceId"));
  CHECK_THAT(run.output, Catch::Contains("contains a control character"));
  CHECK_THAT(run.output, Catch::Contains("record 00Q0000000000NOSAAA has no valid SystemModstamp"));
  CHECK_THAT(run.output, Catch::Contains("record 00Q0000000000EXTAAA has PartnerCenterReferralId__c"));

  auto list = h.cosyncd("quarantine list", "--json");
  INFO(list.output);
  REQUIRE(list.exit_status == 0);
  std::set<std::string> quarantined;
  for (const auto& q : json::parse(list.output)) quarantined.insert(q["record_id"].get<std::string>());
  CHECK(quarantined.count("00Qbad\\x00id"));  // the NUL is shown, not stored as a cut-off id
  CHECK(quarantined.count("00Q0000000000NOSAAA"));
  CHECK(quarantined.count("00Q0000000000EXTAAA"));
  CHECK(quarantined.count("(no id)"));
}

TEST_CASE("salesforce_hostile_e2e: cosyncd run keeps cycling past malformed Lead records") {
  testing::E2eHarness h;
  h.write_config("poll_interval: 1s\n");
  h.sf().serve_raw_records("Lead", hostile_leads());
  h.add_incoming_lead("Adatum");
  auto daemon = h.start_daemon();
  REQUIRE(daemon->wait_for_output("created=1", std::chrono::seconds(20)));
  auto later = h.add_incoming_lead("Litware");
  CHECK(testing::wait_until([&] { return h.pc.referral(later).contains("externalReferenceId"); }));
  CHECK(testing::wait_until([&] { return count_of(daemon->output(), "cycle mapping=pc-sf-leads") >= 3; }));
  CHECK(h.crm_records().size() == 2);
  daemon->signal(SIGTERM);
  auto status = daemon->wait_exit(std::chrono::seconds(10));
  INFO(daemon->output());
  REQUIRE(status);
  CHECK(*status == 0);
}

TEST_CASE("salesforce_hostile_e2e: a nextRecordsUrl to another host fails the pull, gets no token, and the next run catches up") {
  testing::E2eHarness h;
  auto first = h.add_incoming_lead("Contoso");
  h.add_incoming_lead("Fabrikam");
  testing::check_once(h);
  REQUIRE(h.crm_records().size() == 2);
  std::string lead_id;
  for (const auto& l : h.crm_records())
    if (l["PartnerCenterReferralId__c"] == first) lead_id = l["Id"];

  fakes::HttpTestServer elsewhere([](const fakes::FakeRequest&) { return fakes::FakeResponse::json(200, json::object()); });
  h.sf().set_batch_size(1);  // the pull takes two pages, so it meets a nextRecordsUrl
  h.sf().set_next_records_origin(elsewhere.base_url());
  h.sf().edit("Lead", lead_id, {{"Status", "Working - Contacted"}});
  auto refused = h.cosyncd("once");
  INFO(refused.output);
  CHECK(refused.exit_status != 0);
  CHECK_THAT(refused.output, Catch::Contains("nextRecordsUrl: the next-page link points to another host"));
  CHECK(elsewhere.requests().empty());
  CHECK(h.pc.referral(first)["status"] == "New");

  h.sf().set_next_records_origin("");
  auto again = testing::check_once(h);
  INFO(again.output);
  CHECK(h.pc.referral(first)["status"] == "Active");
}
