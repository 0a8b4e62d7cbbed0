// The 30-day registration deadline end to end with the real cosyncd, for both CRMs: a deal won in
// the CRM whose registration Partner Center refuses stays unregistered; `cosyncd report
// deals-to-register` lists it with its days left on Partner Center's clock (the fake's, moved by
// shift_clock, reaching cosyncd through the Date header); the overdue warning fires once; and the
// deal leaves the report once it is registered.
#include <catch2/catch.hpp>

#include <fstream>

#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/e2e_helpers.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// The deals the report lists, as JSON (the command prints nothing else on stdout).
json deals_to_register(testing::E2eHarness& h) {
  auto run = h.cosyncd("report", "deals-to-register --format json");
  INFO(run.output);
  REQUIRE(run.exit_status == 0);
  auto list = json::parse(run.output.substr(std::min(run.output.find('['), run.output.size())), nullptr, false);
  REQUIRE(list.is_array());
  return list;
}

// One cycle that may quarantine the refused registration (`once` then exits 3).
std::string cycle_refusing(testing::E2eHarness& h) {
  auto run = h.cosyncd("once");
  INFO(run.output);
  CHECK((run.exit_status == 0 || run.exit_status == 3));
  return run.output;
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

void overdue_once_and_dropped_when_registered(testing::Crm crm) {
  bool sf = crm == testing::Crm::salesforce;
  testing::E2eHarness h(crm, sf ? "pc-sf-opportunities.yaml" : "pc-dataverse-opportunities.yaml");
  // The shipped mapping's registration block (deadline 30 days, warnings 14, 7 and 1 days before);
  // a minimal one when the mapping has none.
  if (testing::read_text(h.mapping_path()).find("\nregistration:") == std::string::npos)
    std::ofstream(h.mapping_path(), std::ios::app) << "registration:\n"
                                                      "  warn_before: [14d, 7d, 1d]\n"
                                                      "  body:\n"
                                                      "    contract.term: {value: Finite}\n";
  auto referral = h.add_co_sell_referral("Fabrikam - cloud migration", "Fabrikam", 120000);  // 5 days old
  testing::check_once(h);
  REQUIRE_FALSE(h.crm_id_for(referral).empty());

  h.pc.refuse_registrations("The registration is missing its solution details");
  const std::string offering = sf ? "Offering__c" : "cosync_offering";
  h.edit_crm_record(referral, {{offering, "Contoso Cloud Platform"}});  // eligible
  if (sf) h.edit_crm_record(referral, {{"StageName", "Closed Won"}});
  else h.edit_crm_record(referral, {{"statecode", 1}, {"statuscode", 3}});  // the UI runs WinOpportunity
  cycle_refusing(h);
  testing::check_referral_status(h, referral, "Closed", "Won");
  h.pc.shift_clock(1h);  // an hour after the win on Partner Center's clock
  auto refused = cycle_refusing(h);  // the registration is refused: the deal stays unregistered
  INFO(refused);
  auto deals = deals_to_register(h);
  REQUIRE(deals.size() == 1);
  CHECK(deals[0]["referralId"] == referral);
  CHECK(deals[0]["crmId"] == h.crm_id_for(referral));
  CHECK(deals[0]["daysLeft"] == 29);
  CHECK(deals[0]["wonDateTime"] == h.pc.referral(referral)["closedDateTime"]);

  // Partner Center's clock half a day past the deadline: overdue, said once.
  h.pc.shift_clock(30 * 24h + 11h);
  auto overdue = cycle_refusing(h);
  INFO(overdue);
  CHECK(occurrences(overdue, "event registration_overdue") == 1);
  CHECK(occurrences(overdue, "event registration_due") == 0);  // the 1-day warning is past: not said late
  CHECK(occurrences(cycle_refusing(h), "event registration_overdue") == 0);
  deals = deals_to_register(h);
  REQUIRE(deals.size() == 1);
  CHECK(deals[0]["daysLeft"] == -1);

  // Registered in Partner Center's own UI after the last cycle: the report's one pull sees it and
  // drops the deal before any cycle runs; taken back, the deal is listed again.
  h.pc.edit(referral, [](json& r) { r["registrations"] = json::array({{{"type", "AzureIPCoSell"}, {"status", "ReviewPending"}}}); });
  CHECK(deals_to_register(h).empty());
  h.pc.edit(referral, [](json& r) { r.erase("registrations"); });
  CHECK(deals_to_register(h).size() == 1);

  // Partner Center takes the registration now; a seller touches the opportunity, cosync registers
  // the deal, and the next cycle (which reads it registered) drops it from the report.
  h.pc.refuse_registrations(std::nullopt);
  h.edit_crm_record(referral, {{offering, "Contoso Cloud Platform"}});
  testing::check_once(h);
  REQUIRE_FALSE(h.pc.referral(referral)["registrations"].empty());
  CHECK(deals_to_register(h).empty());
  testing::check_once(h);
  CHECK(deals_to_register(h).empty());
  testing::check_quiet_cycle(h);
}

}  // namespace

TEST_CASE("registration deadline e2e: Dynamics 365, the report lists the unregistered win, overdue once, dropped when registered") {
  overdue_once_and_dropped_when_registered(testing::Crm::dataverse);
}

TEST_CASE("registration deadline e2e: Salesforce, the report lists the unregistered win, overdue once, dropped when registered") {
  overdue_once_and_dropped_when_registered(testing::Crm::salesforce);
}
