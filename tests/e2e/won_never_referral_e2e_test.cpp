// Wins that never were referrals (issue 13 part 4), end to end with the real cosyncd and the
// shipped Salesforce opportunity mapping: an Opportunity already Closed Won and flagged for
// Microsoft, which never came through a referral, is shared (share:), its Won is held until 72
// hours after the new referral's creation on Partner Center's clock, then sent, then the deal is
// registered once (registration:), all from that one configuration; then the cycle is quiet.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/e2e_helpers.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_CASE("e2e: a won Opportunity that never was a referral is shared, won after the hold, then registered once") {
  testing::E2eHarness h{testing::Crm::salesforce, "pc-sf-opportunities.yaml"};
  auto account = h.sf().insert("Account", {{"Name", "Fabrikam"}, {"BillingCity", "Berlin"}, {"BillingCountry", "Germany"}});
  auto opportunity = h.sf().insert("Opportunity", {{"Name", "Fabrikam cloud migration"},
                                                   {"StageName", "Closed Won"},
                                                   {"CloseDate", "2026-12-01"},
                                                   {"Amount", 120000},
                                                   {"CurrencyIsoCode", "EUR"},
                                                   {"AccountId", account},
                                                   {"Offering__c", "Contoso Cloud Platform"},
                                                   {"Region__c", "EMEA"},
                                                   {"CoSell_Type__c", "Co-sell"},
                                                   {"Customer_Consent__c", false},
                                                   {"Share_with_Microsoft__c", true}});
  auto referral_of_opportunity = [&] {
    for (const auto& r : h.pc.all_referrals())
      if (r.value("externalReferenceId", "") == opportunity) return r;
    return json();
  };

  auto shared = testing::check_once(h);
  INFO(shared.output);
  auto referral = referral_of_opportunity();
  REQUIRE(referral.is_object());
  std::string id = referral["id"];
  CHECK(referral["status"] != "Closed");  // not won before the hold
  testing::check_once(h);                  // the link and the held Won settle
  CHECK_THAT(h.cosyncd("status").output, Catch::Contains("held won_hold for " + id));

  // 72 hours later on Partner Center's clock: Closed/Won, then the registration, once.
  h.pc.shift_clock(72h + 1min);
  auto won = testing::check_once(h);
  INFO(won.output);
  testing::check_referral_status(h, id, "Closed", "Won");
  testing::check_once(h);
  auto regs = h.pc.referral(id)["registrations"];
  REQUIRE(regs.is_array());
  REQUIRE(regs.size() == 1);
  CHECK(regs[0]["contract"]["value"] == 120000);
  CHECK(regs[0]["solutionDetails"][0]["id"] == "SOL-0000-EXAMPLE");
  testing::check_once(h);  // the review status may reach the Opportunity once
  testing::check_quiet_cycle(h);
  CHECK(h.pc.referral(id)["registrations"].size() == 1);
  std::size_t referrals = 0;
  for (const auto& r : h.pc.all_referrals())
    if (r.value("externalReferenceId", "") == opportunity) ++referrals;
  CHECK(referrals == 1);
}
