// End to end on Dynamics 365 opportunities: the real cosyncd binary, the fake Partner Center and
// the fake Dataverse, through the shipped pc-dataverse-opportunities mapping. A co-sell referral
// becomes one opportunity; Won on either side closes the other, in Dataverse only through
// WinOpportunity (never a PATCH of statecode).
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"

using namespace cosync;
using nlohmann::json;

TEST_CASE("dataverse e2e: a co-sell referral creates one opportunity, and Won in Partner Center closes it through WinOpportunity") {
  testing::E2eHarness h(testing::Crm::dataverse, "pc-dataverse-opportunities.yaml");
  auto id = h.add_co_sell_referral("Contoso - Azure migration", "Contoso", 50000);
  auto lead = h.add_incoming_lead("Not a co-sell deal");  // Independent: not this mapping's

  auto run = testing::check_once(h);
  INFO(run.output);
  auto rows = h.crm_records();
  REQUIRE(rows.size() == 1);
  const auto& opp = rows[0];
  CHECK(opp["name"] == "Contoso - Azure migration");
  CHECK(opp["estimatedvalue"] == 50000);
  CHECK(opp["description"] == "co-sell with Microsoft");
  CHECK(opp["salesstage"] == 1);  // Develop: option values reach the wire as integers
  CHECK(opp["statuscode"] == 1);  // In Progress
  CHECK(opp["cosync_referralid"] == id);
  const std::string opp_id = opp["opportunityid"];
  CHECK(h.pc.referral(id)["externalReferenceId"] == opp_id);
  CHECK_FALSE(h.pc.referral(lead).contains("externalReferenceId"));

  testing::check_quiet_cycle(h);
  CHECK(h.crm_records().size() == 1);

  // Microsoft and the partner win the deal: Closed/Won in Partner Center.
  h.pc.edit(id, [](json& r) {
    r["status"] = "Closed";
    r["substatus"] = "Won";
  });
  h.clear_requests();
  auto won = testing::check_once(h);
  INFO(won.output);
  auto closed = h.dv().row("opportunities", opp_id);
  CHECK(closed["statecode"] == 1);
  CHECK(closed["statuscode"] == 3);
  CHECK(closed["salesstage"] == 3);
  REQUIRE(h.dv().opportunity_closes().size() == 1);
  CHECK(h.dv().opportunity_closes()[0]["action"] == "WinOpportunity");
  CHECK(h.dv().opportunity_closes()[0]["opportunityid@odata.bind"] == "/opportunities(" + opp_id + ")");
  // Through the action inside the $batch, never a PATCH of statecode.
  CHECK(h.dv().server().count("POST", "/api/data/v9.2/WinOpportunity") == 0);
  CHECK(h.dv().server().count("PATCH") == 0);
  std::string batches;
  for (const auto& r : h.dv().server().requests())
    if (r.path == "/api/data/v9.2/$batch") batches += r.body;
  const std::string action = "/api/data/v9.2/WinOpportunity HTTP/1.1";
  CHECK(batches.find(action) != std::string::npos);
  CHECK(batches.find(action) == batches.rfind(action));  // once
  CHECK(batches.find("\"statecode\"") == std::string::npos);

  testing::check_quiet_cycle(h);
  CHECK(h.dv().opportunity_closes().size() == 1);
}

TEST_CASE("dataverse e2e: an opportunity won in Dynamics closes the co-sell referral as Won") {
  testing::E2eHarness h(testing::Crm::dataverse, "pc-dataverse-opportunities.yaml");
  auto id = h.add_co_sell_referral("Fabrikam - Dynamics rollout", "Fabrikam", 120000);
  testing::check_once(h);
  auto opp = h.crm_record_for(id);
  REQUIRE(opp.is_object());
  const std::string opp_id = opp["opportunityid"];

  // A seller closes it as Won in Dynamics (the UI runs WinOpportunity).
  h.dv().edit("opportunities", opp_id, {{"statecode", 1}, {"statuscode", 3}, {"estimatedvalue", 125000}});
  h.clear_requests();
  auto run = testing::check_once(h);
  INFO(run.output);
  auto referral = testing::check_referral_status(h, id, "Closed", "Won");
  CHECK(referral["details"]["dealValue"] == 125000);
  CHECK(h.dv().opportunity_closes().empty());  // Dynamics closed it itself: nothing to close again

  // The referral's new stage reaches the opportunity once; then nothing moves.
  h.clear_requests();
  testing::check_once(h);
  CHECK(h.dv().row("opportunities", opp_id)["salesstage"] == 3);
  testing::check_quiet_cycle(h);
  CHECK(h.dv().opportunity_closes().empty());
}
