// Deal registration end to end with the real cosyncd, for Salesforce and Dynamics 365, with the
// shipped opportunity mappings: a deal won in the CRM 10 hours after its co-sell referral was
// created stays Active in Partner Center until 72 hours have passed on Partner Center's clock (the
// fake's, which reaches cosyncd through the Date header), even with the host clock far ahead; then
// it becomes Closed/Won, and the next quiet cycle writes nothing. The won deal is then registered
// once with the mapped values, not again after a SIGKILL right after the PATCH; Microsoft's
// approval reaches the CRM field within one cycle, and the next quiet cycle writes nothing.
#include <csignal>

#include <catch2/catch.hpp>

#include "daemon/util/time.hpp"
#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/e2e_helpers.hpp"

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
    referral = h.add_co_sell_referral("Fabrikam - cloud migration", "Fabrikam", 120000, 10h);
    auto created = *parse_iso8601(h.pc.referral(referral)["createdDateTime"].get<std::string>());
    release = format_iso8601(created + 72h);
    testing::check_once(h);
    REQUIRE_FALSE(h.crm_id_for(referral).empty());
  }
  void win_in_crm() {
    if (h.crm() == testing::Crm::salesforce) h.edit_crm_record(referral, {{"StageName", "Closed Won"}});
    else h.edit_crm_record(referral, {{"statecode", 1}, {"statuscode", 3}});  // the UI runs WinOpportunity
  }
  // The offering the shipped mapping's registration needs (solutionDetails.id from its value map).
  void set_offering() {
    bool sf = h.crm() == testing::Crm::salesforce;
    h.edit_crm_record(referral, {{sf ? "Offering__c" : "cosync_offering", "Contoso Cloud Platform"}});
  }
  std::string crm_text(const std::string& sf_field, const std::string& dv_column) {
    auto record = h.crm_record_for(referral);
    auto v = record[h.crm() == testing::Crm::salesforce ? sf_field : dv_column];
    return v.is_string() ? v.get<std::string>() : "";
  }
  json registrations() { return h.pc.referral(referral)["registrations"]; }
  std::size_t registration_adds() {
    std::size_t n = 0;
    for (const auto& r : h.pc.server().requests("PATCH"))
      if (r.body.find("/registrations/-") != std::string::npos) ++n;
    return n;
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

// The referral Closed/Won after the hold; the next run registers it. Partner Center answers late,
// so the SIGKILL lands after the fake took the PATCH and before cosyncd read the answer.
void registered_once(testing::Crm crm) {
  WonDeal d(crm);
  d.set_offering();
  d.win_in_crm();
  testing::check_once(d.h);
  testing::check_referral_status(d.h, d.referral, "Active", "Accepted");
  d.h.pc.shift_clock(62h + 1min);
  auto won = testing::check_once(d.h);
  INFO(won.output);
  testing::check_referral_status(d.h, d.referral, "Closed", "Won");
  REQUIRE(d.registrations().is_null());

  d.h.pc.server().delay_next(100, 800);
  auto daemon = d.h.start_daemon();
  REQUIRE(testing::wait_until([&] { return d.registration_adds() > 0; }, std::chrono::seconds(30)));
  REQUIRE(d.registration_adds() == 1);
  daemon->signal(SIGKILL);
  daemon->wait_exit(std::chrono::seconds(5));
  d.h.pc.server().delay_next(0, 0);
  testing::wait_until([&] { return !d.registrations().is_null(); }, std::chrono::seconds(10));
  REQUIRE(d.registrations().size() == 1);  // the fake took it after the daemon died

  auto again = testing::check_once(d.h);
  INFO(again.output);
  CHECK_THAT(again.output, Catch::Contains("found again after an interrupted submission"));
  CHECK(d.registration_adds() == 1);
  auto regs = d.registrations();
  REQUIRE(regs.size() == 1);
  CHECK(regs[0]["contract"]["value"] == 120000);
  CHECK(regs[0]["contract"]["term"] == "Finite");
  CHECK(regs[0]["solutionDetails"][0]["id"] == "SOL-0000-EXAMPLE");
  CHECK(regs[0]["solutionDetails"][0]["value"] == 120000);
  CHECK(regs[0]["solutionDetails"][0]["pricingModel"] == "PayAsYouGo");
  testing::check_once(d.h);  // the review status reaches the CRM
  CHECK(d.crm_text("Registration_Status__c", "cosync_registrationstatus") == "In review");

  // Microsoft approves: the CRM field says so after one cycle; then nothing more is written.
  d.h.pc.review_registration(d.referral, "Approved");
  auto approved = testing::check_once(d.h);
  INFO(approved.output);
  CHECK(d.crm_text("Registration_Status__c", "cosync_registrationstatus") == "Registered");
  testing::check_quiet_cycle(d.h);  // no write at all, so no second registration either
  CHECK(d.registrations().size() == 1);
}

}  // namespace

TEST_CASE("deal registration e2e: a Dynamics 365 win 10 hours after creation reaches Partner Center at 72 hours") {
  won_after_the_hold(testing::Crm::dataverse);
}

TEST_CASE("deal registration e2e: a Salesforce win 10 hours after creation reaches Partner Center at 72 hours") {
  won_after_the_hold(testing::Crm::salesforce);
}

TEST_CASE("deal registration e2e: a Dynamics 365 won deal is registered once, after a SIGKILL too, and its approval reaches the CRM") {
  registered_once(testing::Crm::dataverse);
}

TEST_CASE("deal registration e2e: a Salesforce won deal is registered once, after a SIGKILL too, and its approval reaches the CRM") {
  registered_once(testing::Crm::salesforce);
}
