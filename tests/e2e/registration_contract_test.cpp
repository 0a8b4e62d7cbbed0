// The deal registration cosyncd builds from the shipped Salesforce opportunity mapping goes
// through Prism with Microsoft's published contract, in both PATCH forms: `add /registrations/-`
// (DealRegistration) once the referral is Closed/Won, then `replace /registrations/0/...`
// (UpdateDealRegistration) after a CRM edit while it is in review. Skipped (and reported so) where
// the specs or Prism are missing.
#include <catch2/catch.hpp>

#include "daemon/util/time.hpp"
#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/prism.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::size_t patches_with(testing::E2eHarness& h, const std::string& text) {
  std::size_t n = 0;
  for (const auto& r : h.pc.server().requests("PATCH"))
    if (r.body.find(text) != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST_CASE("partner center contract: the registration add and replace PATCHes cosyncd sends pass validation", "[contract][e2e]") {
  if (testing::skipped_without_contract_check()) return;
  unsigned short port = testing::free_loopback_port();
  testing::E2eHarness h(testing::Crm::salesforce, "pc-sf-opportunities.yaml", "http://127.0.0.1:" + std::to_string(port));
  testing::PrismProxy prism(testing::partner_center_contract_path(), h.pc.base_url(), port, h.dir.file("prism.log"));
  INFO(prism.output());
  REQUIRE(prism.ready());
  // A co-sell referral 80 hours old: its Won is not held.
  auto referral = h.add_co_sell_referral("Fabrikam - cloud migration", "Fabrikam", 120000, 80h);
  testing::check_once(h);
  REQUIRE_FALSE(h.crm_id_for(referral).empty());
  h.edit_crm_record(referral, {{"Offering__c", "Contoso Cloud Platform"}, {"StageName", "Closed Won"}});
  testing::check_once(h);  // Closed/Won
  testing::check_referral_status(h, referral, "Closed", "Won");
  auto added = testing::check_once(h);
  INFO(added.output);
  CHECK(added.output.find("answered 422") == std::string::npos);
  CHECK(patches_with(h, "/registrations/-") == 1);  // Prism let it through to the fake
  REQUIRE(h.pc.referral(referral)["registrations"].size() == 1);

  // CloseDate is the contract's sign date, and no field of the (closed) referral itself.
  h.edit_crm_record(referral, {{"CloseDate", "2026-12-15"}});
  auto replaced = testing::check_once(h);
  INFO(replaced.output);
  CHECK(replaced.output.find("answered 422") == std::string::npos);
  CHECK(patches_with(h, "/registrations/0/contract/signDateTime") == 1);
  CHECK(h.pc.referral(referral)["registrations"][0]["contract"]["signDateTime"] == "2026-12-15T00:00:00Z");
}
