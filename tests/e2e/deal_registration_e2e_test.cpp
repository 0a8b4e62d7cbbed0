// Deal registration end to end with the real cosyncd (Dynamics 365; the Salesforce case is to come): a deal won in the CRM 10 hours
// after its co-sell referral was created stays Active in Partner Center until 72 hours have passed
// on Partner Center's clock (the fake's, which reaches cosyncd through the Date header), even with
// the host clock far ahead; then it becomes Closed/Won, and the next quiet cycle writes nothing.
#include <catch2/catch.hpp>

#include "daemon/util/time.hpp"
#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct WonDeal {
  testing::E2eHarness h;
  std::string referral;
  std::string release;  // createdDateTime + 72h, as the hold reports it

  explicit WonDeal(testing::Crm crm)
      : h(crm, crm == testing::Crm::salesforce ? "pc-sf-opportunities.yaml" : "pc-dataverse-opportunities.yaml") {
    // The host clock 100 hours ahead of Partner Center's: by the host the referral is 110 hours old.
    h.pc.shift_clock(-100h);
    referral = h.add_co_sell_referral("Fabrikam - cloud migration", "Fabrikam", 120000);
    auto created = h.pc.service_now() - 10h;
    h.pc.edit(referral, [&](json& r) {
      r["createdDateTime"] = format_iso8601(created);
      r["details"]["closingDateTime"] = "2027-03-31T00:00:00Z";  // the Opportunity's CloseDate
    });
    release = format_iso8601(created + 72h);
    testing::check_once(h);
    REQUIRE_FALSE(h.crm_id_for(referral).empty());
  }
  void win_in_crm() {
    if (h.crm() == testing::Crm::salesforce) h.edit_crm_record(referral, {{"StageName", "Closed Won"}});
    else h.edit_crm_record(referral, {{"statecode", 1}, {"statuscode", 3}});  // the UI runs WinOpportunity
  }
};

void won_after_the_hold(testing::Crm crm) {
  WonDeal d(crm);
  d.win_in_crm();
  auto run = testing::check_once(d.h);
  INFO(run.output);
  testing::check_referral_status(d.h, d.referral, "Active", "Accepted");
  auto status = d.h.cosyncd("status");
  INFO(status.output);
  CHECK_THAT(status.output, Catch::Contains("held won_hold for " + d.referral + " until " + d.release));
  auto plan = d.h.cosyncd("plan");
  INFO(plan.output);
  CHECK_THAT(plan.output, Catch::Contains("won_hold") && Catch::Contains(d.release));
  testing::check_quiet_cycle(d.h);
  testing::check_referral_status(d.h, d.referral, "Active", "Accepted");

  // Partner Center's clock at 71 hours: still held. At 72 hours: Closed/Won at the next cycle.
  d.h.pc.shift_clock(61h);
  testing::check_quiet_cycle(d.h);
  testing::check_referral_status(d.h, d.referral, "Active", "Accepted");
  d.h.pc.shift_clock(1h + 1min);  // past the second the Date header rounds to
  auto released = testing::check_once(d.h);
  INFO(released.output);
  testing::check_referral_status(d.h, d.referral, "Closed", "Won");
  CHECK_THAT(d.h.cosyncd("status").output, !Catch::Contains("won_hold"));
  testing::check_once(d.h);  // the referral's new stage may reach the CRM record once
  testing::check_quiet_cycle(d.h);
  testing::check_referral_status(d.h, d.referral, "Closed", "Won");
}

}  // namespace

TEST_CASE("deal registration e2e: a Dynamics 365 win 10 hours after creation reaches Partner Center at 72 hours") {
  won_after_the_hold(testing::Crm::dataverse);
}
