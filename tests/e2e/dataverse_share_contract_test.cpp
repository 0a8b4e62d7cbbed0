// The Dataverse side of the share contract check: a Dynamics 365 opportunity's share (POST
// /referrals, its customer profile read through $expand) and the deal-type upgrade after it (PATCH
// of consent) go through Prism with Microsoft's published contract, as the Salesforce ones do in
// share_contract_test.cpp. Skipped (and reported so) where the specs or Prism are missing.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/prism.hpp"

using namespace cosync;

TEST_CASE("partner center contract: a Dataverse share's POST and its deal-type upgrade PATCH pass validation",
          "[contract][e2e]") {
  if (testing::skipped_without_contract_check()) return;
  unsigned short port = testing::free_loopback_port();
  testing::E2eHarness h(testing::Crm::dataverse, "pc-dataverse-opportunities.yaml",
                        "http://127.0.0.1:" + std::to_string(port));
  testing::PrismProxy prism(testing::partner_center_contract_path(), h.pc.base_url(), port, h.dir.file("prism.log"));
  INFO(prism.output());
  REQUIRE(prism.ready());
  auto account = h.dv().insert("accounts", {{"name", "Fabrikam"}, {"address1_country", "United States"}});
  auto contact = h.dv().insert("contacts", {{"firstname", "Jane"}, {"lastname", "Doe"}, {"emailaddress1", "jane@fabrikam.example"}});
  auto opportunity = h.dv().insert("opportunities", {{"name", "Fabrikam deal"},
                                                     {"estimatedvalue", 42000},
                                                     {"_parentaccountid_value", account},
                                                     {"_parentcontactid_value", contact},
                                                     {"cosync_offering", "Contoso Cloud Platform"},
                                                     {"cosync_cosell_type", "Private"},
                                                     {"cosync_customerconsent", true},
                                                     {"cosync_sharewithmicrosoft", true}});
  auto first = testing::check_once(h);
  INFO(first.output);
  CHECK(first.output.find("answered 422") == std::string::npos);
  CHECK(h.pc.server().count("POST") == 1);  // Prism let the share through to the fake
  auto id = h.dv().row("opportunities", opportunity)["cosync_referralid"];
  REQUIRE(id.is_string());

  h.dv().edit("opportunities", opportunity, {{"cosync_cosell_type", "Partner-led"}});
  h.pc.server().clear_requests();
  auto upgrade = testing::check_once(h);
  INFO(upgrade.output);
  CHECK(upgrade.output.find("answered 422") == std::string::npos);
  CHECK(h.pc.server().count("PATCH") == 1);
  CHECK(h.pc.referral(id.get<std::string>())["consent"]["consentToShareReferralWithMicrosoftSellers"] == true);
}
