// End to end, Salesforce side: batched writes through sObject Collections, API usage in the
// cycle summary, deletions seen through queryAll.
#include <catch2/catch.hpp>

#include <iostream>
#include <map>

#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/lead_scenarios.hpp"
#include "tests/e2e/e2e_helpers.hpp"

using namespace cosync;
using nlohmann::json;

TEST_CASE("salesforce_e2e: 1,000 new and then 1,000 changed Leads take at most 10 Salesforce write calls each") {
  testing::E2eHarness h;
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back(h.add_incoming_lead("Company " + std::to_string(i), 1000 + i));

  auto run = h.cosyncd("once");
  INFO(run.output.substr(run.output.size() > 3000 ? run.output.size() - 3000 : 0));
  REQUIRE(run.exit_status == 0);
  REQUIRE(h.crm_records().size() == 1000);
  std::size_t create_calls = h.crm_write_calls();
  std::cout << "salesforce_e2e: 1000 Leads created with " << create_calls << " Salesforce write calls\n";
  CHECK(create_calls <= 10);
  CHECK(h.sf().server().count("PATCH", h.sf().data_path() + "/composite/sobjects/Lead/PartnerCenterReferralId__c") ==
        create_calls);

  // Every referral's deal value changes in Partner Center: 1,000 Lead updates.
  for (const auto& id : ids) h.pc.edit(id, [](json& r) { r["details"]["dealValue"] = r["details"]["dealValue"].get<double>() + 1; });
  h.clear_requests();
  auto again = h.cosyncd("once");
  INFO(again.output.substr(again.output.size() > 3000 ? again.output.size() - 3000 : 0));
  REQUIRE(again.exit_status == 0);
  std::size_t update_calls = h.crm_write_calls();
  std::cout << "salesforce_e2e: 1000 changed Leads updated with " << update_calls << " Salesforce write calls, "
            << h.sf().server().requests().size() << " Salesforce requests in all\n";
  CHECK(update_calls <= 10);
  CHECK(h.sf().server().count("PATCH", h.sf().data_path() + "/composite/sobjects") == update_calls);
  CHECK_THAT(again.output, Catch::Contains("updated_crm=1000"));
  for (const auto& lead : h.crm_records()) {
    auto ref = lead["PartnerCenterReferralId__c"].get<std::string>();
    CHECK(lead["AnnualRevenue"] == h.pc.referral(ref)["details"]["dealValue"]);
  }

  SECTION("a quiet system then makes no write call") {
    testing::check_quiet_cycle(h);
  }
}

TEST_CASE("salesforce_e2e: the cycle summary shows Salesforce's api-usage") {
  testing::E2eHarness h;
  h.add_incoming_lead("Contoso");
  auto run = testing::check_once(h);
  INFO(run.output);
  CHECK_THAT(run.output, Catch::Matches(R"((.|\n)*crm_api_usage=[0-9]+/15000(.|\n)*)"));
}

TEST_CASE("salesforce_e2e: a Lead deleted in Salesforce is handed to the engine, not ignored") {
  testing::crm_delete_reaches_the_engine(testing::Crm::salesforce);
}

TEST_CASE("salesforce_e2e: co-sell referrals become Opportunities under the Account matched by name, or a new one") {
  testing::E2eHarness h(testing::Crm::salesforce, "pc-sf-opportunities.yaml");  // the shipped Opportunities mapping

  auto contoso = h.sf().insert("Account", {{"Name", "Contoso"}});
  auto co_sell = [&](const std::string& customer) {
    return h.pc.add_referral({{"type", "Shared"},
                              {"direction", "Incoming"},
                              {"status", "New"},
                              {"substatus", "Pending"},
                              {"name", "Azure migration"},
                              {"customerProfile", {{"name", customer}, {"address", {{"country", "DE"}}}}},
                              {"details", {{"dealValue", 50000}, {"currency", "EUR"}, {"closingDateTime", "2027-03-31T00:00:00Z"}}}});
  };
  auto r1 = co_sell("Contoso");
  auto r2 = co_sell("Fabrikam");
  auto r3 = co_sell("Fabrikam");
  auto run = testing::check_once(h);
  INFO(run.output);
  auto opportunities = h.sf().records("Opportunity");
  REQUIRE(opportunities.size() == 3);
  std::map<std::string, json> by_ref;
  for (const auto& o : opportunities) by_ref[o["PartnerCenterReferralId__c"].get<std::string>()] = o;
  CHECK(by_ref[r1]["AccountId"] == contoso);
  CHECK(by_ref[r1]["StageName"] == "Prospecting");
  CHECK(by_ref[r1]["CloseDate"] == "2027-03-31");
  CHECK(by_ref[r1]["Name"] == "[MSFT] Contoso - Azure migration");
  CHECK(by_ref[r2]["AccountId"] == by_ref[r3]["AccountId"]);  // one new Fabrikam, not two
  auto accounts = h.sf().records("Account");
  REQUIRE(accounts.size() == 2);
  auto fabrikam = h.sf().record("Account", by_ref[r2]["AccountId"].get<std::string>());
  CHECK(fabrikam["Name"] == "Fabrikam");
  CHECK(fabrikam["BillingCountry"] == "DE");

  SECTION("a customer name matching two Accounts quarantines that referral, naming them") {
    auto dup = h.sf().insert("Account", {{"Name", "Contoso"}});
    auto r4 = co_sell("Contoso");
    auto again = h.cosyncd("once");
    INFO(again.output);
    CHECK(again.exit_status == 3);
    CHECK_THAT(again.output, Catch::Contains("record=" + r4 + " quarantined"));
    CHECK_THAT(again.output, Catch::Contains("several Account records match Account Name 'Contoso': " + contoso + ", " + dup));
    CHECK(h.sf().records("Opportunity").size() == 3);
  }
}
