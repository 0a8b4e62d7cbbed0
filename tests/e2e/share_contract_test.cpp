// The share of a CRM opportunity (POST /referrals with the body the share: block builds) and the
// deal-type upgrade after it (PATCH of consent) go through Prism with Microsoft's published
// contract, not only through the fake. Skipped (and reported so) where the specs or Prism are missing.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/prism.hpp"

using namespace cosync;

TEST_CASE("partner center contract: a share's POST and its deal-type upgrade PATCH pass validation", "[contract][e2e]") {
  if (testing::skipped_without_contract_check()) return;
  unsigned short port = testing::free_loopback_port();
  testing::E2eHarness h(testing::Crm::salesforce, "pc-sf-opportunities.yaml", "http://127.0.0.1:" + std::to_string(port));
  testing::PrismProxy prism(testing::partner_center_contract_path(), h.pc.base_url(), port, h.dir.file("prism.log"));
  INFO(prism.output());
  REQUIRE(prism.ready());
  auto account = h.sf().insert("Account", {{"Name", "Fabrikam"}, {"BillingCountry", "United States"}});
  auto contact = h.sf().insert("Contact", {{"FirstName", "Jane"}, {"LastName", "Doe"}, {"Email", "jane@fabrikam.example"}});
  auto opportunity = h.sf().insert("Opportunity", {{"Name", "Fabrikam deal"},
                                                   {"StageName", "Prospecting"},
                                                   {"CloseDate", "2027-06-30"},
                                                   {"Amount", 42000},
                                                   {"AccountId", account},
                                                   {"ContactId", contact},
                                                   {"Offering__c", "Contoso Cloud Platform"},
                                                   {"CoSell_Type__c", "Private"},
                                                   {"Customer_Consent__c", true},
                                                   {"Share_with_Microsoft__c", true}});
  auto first = testing::check_once(h);
  INFO(first.output);
  CHECK(first.output.find("answered 422") == std::string::npos);
  CHECK(h.pc.server().count("POST") == 1);  // Prism let the share through to the fake
  auto id = h.sf().record("Opportunity", opportunity)["PartnerCenterReferralId__c"];
  REQUIRE(id.is_string());

  h.sf().edit("Opportunity", opportunity, {{"CoSell_Type__c", "Partner-led"}});
  h.pc.server().clear_requests();
  auto upgrade = testing::check_once(h);
  INFO(upgrade.output);
  CHECK(upgrade.output.find("answered 422") == std::string::npos);
  CHECK(h.pc.server().count("PATCH") == 1);
  CHECK(h.pc.referral(id.get<std::string>())["consent"]["consentToShareReferralWithMicrosoftSellers"] == true);
}
