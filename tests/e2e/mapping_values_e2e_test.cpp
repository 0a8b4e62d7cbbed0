// End to end through the real cosyncd and the Salesforce fake: a Lead status naming the
// referral's own status sends no substatus PATCH, and text longer than the Salesforce field is
// cut to its describe length, once, without echoes (issue 11, part 4).
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_checks.hpp"

using namespace cosync;
using nlohmann::json;

TEST_CASE("mapping e2e: a Lead status with the referral's status sends nothing; another status still flows") {
  testing::E2eHarness h;
  auto schema = fakes::default_lead_schema();
  schema.picklists["Status"].insert("Open - Contacted");
  h.sf().define_object("Lead", schema);
  const std::string pending = "      - { pc: [New, Pending], crm: \"Open - Not Contacted\" }\n";
  h.edit_mapping(pending, pending + "      - { pc: [New, Received], crm: \"Open - Contacted\" }\n");

  auto id = h.add_incoming_lead("Contoso");
  testing::check_once(h);
  REQUIRE(h.crm_record_for(id)["Status"] == "Open - Not Contacted");
  // Partner Center moves the substatus within New itself; the Lead follows.
  h.pc.edit(id, [](json& r) { r["substatus"] = "Received"; });
  testing::check_once(h);
  CHECK(h.crm_record_for(id)["Status"] == "Open - Contacted");

  // A seller picks another New value: [New, Pending] has the referral's status, no PATCH.
  h.edit_crm_record(id, {{"Status", "Open - Not Contacted"}});
  h.clear_requests();
  auto run = testing::check_once(h);
  INFO(run.output);
  CHECK(h.pc.server().requests("PATCH").empty());
  CHECK(h.pc.referral(id)["substatus"] == "Received");
  testing::check_quiet_cycle(h);

  h.edit_crm_record(id, {{"Status", "Working - Contacted"}});
  testing::check_once(h);
  CHECK(h.pc.referral(id)["status"] == "Active");
  CHECK(h.pc.referral(id)["substatus"] == "Accepted");
  testing::check_quiet_cycle(h);
}

TEST_CASE("mapping e2e: a company name longer than Lead.Company is cut to 255 characters, once, and logged") {
  testing::E2eHarness h;
  auto id = h.add_incoming_lead("Contoso");
  testing::check_once(h);
  const std::string long_name(300, 'C');
  h.pc.edit(id, [&](json& r) { r["customerProfile"]["name"] = long_name; });
  auto run = testing::check_once(h);
  INFO(run.output);
  CHECK(h.crm_record_for(id)["Company"] == std::string(255, 'C'));
  CHECK_THAT(run.output, Catch::Contains("company: 300 characters cut to 255, the length of Lead.Company"));
  CHECK(h.pc.referral(id)["customerProfile"]["name"] == long_name);
  auto quiet = testing::check_quiet_cycle(h);
  CHECK_THAT(quiet.output, !Catch::Contains("cut to"));
}
