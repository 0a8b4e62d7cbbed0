// End to end through the real cosyncd and the CRM fakes: a Lead status naming the referral's own
// status sends no substatus PATCH, and text longer than the CRM field is cut to its length from
// the metadata check (Salesforce describe, Dataverse MaxLength), once, without echoes (issue 11,
// part 4).
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_checks.hpp"

using namespace cosync;
using nlohmann::json;

TEST_CASE("mapping e2e: a Lead status with the referral's status sends nothing: another status still flows") {
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

namespace {

// The referral's customer name, mapped to_crm, grows past the CRM field (Salesforce Lead.Company:
// describe length 255; Dataverse lead.companyname: MaxLength 100, the fake's String default).
void long_company_name_is_cut_once(testing::Crm crm, const std::string& field, std::size_t length,
                                   const std::string& note) {
  testing::E2eHarness h(crm);
  auto id = h.add_incoming_lead("Contoso");
  testing::check_once(h);
  const std::string long_name(300, 'C');
  h.pc.edit(id, [&](json& r) { r["customerProfile"]["name"] = long_name; });
  auto run = testing::check_once(h);
  INFO(run.output);
  CHECK(h.crm_record_for(id)[field] == std::string(length, 'C'));
  CHECK_THAT(run.output, Catch::Contains(note));
  CHECK(h.pc.referral(id)["customerProfile"]["name"] == long_name);
  auto quiet = testing::check_quiet_cycle(h);
  CHECK_THAT(quiet.output, !Catch::Contains("cut to"));
}

}  // namespace

TEST_CASE("mapping e2e: a company name longer than Lead.Company is cut to 255 characters, once, and logged") {
  long_company_name_is_cut_once(testing::Crm::salesforce, "Company", 255,
                                "company: 300 characters cut to 255, the length of Lead.Company");
}

TEST_CASE("mapping e2e: dataverse: a company name longer than companyname's MaxLength is cut to it, once") {
  long_company_name_is_cut_once(testing::Crm::dataverse, "companyname", 100,
                                "company: 300 characters cut to 100, the length of leads.companyname");
}
