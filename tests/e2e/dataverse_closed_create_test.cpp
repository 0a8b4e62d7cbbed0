// End to end (issue 10 item 2): against a Dataverse that enforces IsValidForCreate, a referral
// first seen already Closed/Lost becomes an opportunity that is created open and closed through
// LoseOpportunity in the same change set, with the deal value as the close's actual revenue, and
// the next cycle creates and closes nothing again. (The link back to Partner Center is not written:
// a Closed referral takes no writes; that is the engine's rule, not Dataverse's answer.)
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"

using namespace cosync;
using nlohmann::json;

TEST_CASE("dataverse e2e: a referral first seen Closed/Lost creates the opportunity and closes it through LoseOpportunity") {
  testing::E2eHarness h(testing::Crm::dataverse, "pc-dataverse-opportunities.yaml");
  h.edit_mapping("status: [New, Active]", "status: [New, Active, Closed]");  // this partner mirrors closed co-sell referrals too
  auto id = h.add_co_sell_referral("Contoso - lost deal", "Contoso", 42000);
  h.pc.edit(id, [](json& r) {
    r["status"] = "Closed";
    r["substatus"] = "Lost";
  });

  auto run = h.cosyncd("once");
  INFO(run.output);
  // Linked without writing the link field back: a closed referral takes no write, and that is
  // no failure (nothing is quarantined).
  CHECK(run.exit_status == 0);
  CHECK_THAT(run.output, Catch::Contains("created=1"));
  CHECK_THAT(run.output, !Catch::Contains("0x80048d19") && !Catch::Contains("not valid for create"));
  auto opp = h.crm_record_for(id);
  REQUIRE(opp.is_object());
  CHECK(opp["statecode"] == 2);   // Lost
  CHECK(opp["statuscode"] == 4);  // Canceled
  CHECK(opp["actualvalue"] == 42000);
  REQUIRE(h.dv().opportunity_closes().size() == 1);
  CHECK(h.dv().opportunity_closes()[0]["action"] == "LoseOpportunity");
  CHECK(h.dv().opportunity_closes()[0]["actualrevenue"] == 42000);

  auto again = testing::check_once(h);
  INFO(again.output);
  CHECK(h.crm_records().size() == 1);
  CHECK(h.dv().opportunity_closes().size() == 1);
}
