// End to end, Salesforce side: batched writes through sObject Collections, API usage in the
// cycle summary, deletions seen through queryAll.
#include <catch2/catch.hpp>

#include <iostream>

#include "tests/e2e/daemon_harness.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

// Write calls Salesforce received (sObject Collections or single-record).
std::size_t sf_write_calls(testing::DaemonHarness& h) {
  std::size_t n = 0;
  for (const auto* method : {"POST", "PATCH", "PUT", "DELETE"}) n += h.sf.server().count(method);
  return n;
}

}  // namespace

TEST_CASE("salesforce_e2e: 1,000 new and then 1,000 changed Leads take at most 10 Salesforce write calls each") {
  testing::DaemonHarness h;
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back(h.add_incoming_lead("Company " + std::to_string(i), 1000 + i));

  auto run = h.cosyncd("once");
  INFO(run.output.substr(run.output.size() > 3000 ? run.output.size() - 3000 : 0));
  REQUIRE(run.exit_status == 0);
  REQUIRE(h.leads().size() == 1000);
  std::size_t create_calls = sf_write_calls(h);
  std::cout << "salesforce_e2e: 1000 Leads created with " << create_calls << " Salesforce write calls\n";
  CHECK(create_calls <= 10);
  CHECK(h.sf.server().count("PATCH", h.sf.data_path() + "/composite/sobjects/Lead/PartnerCenterReferralId__c") ==
        create_calls);

  // Every referral's deal value changes in Partner Center: 1,000 Lead updates.
  for (const auto& id : ids) h.pc.edit(id, [](json& r) { r["details"]["dealValue"] = r["details"]["dealValue"].get<double>() + 1; });
  h.clear_requests();
  auto again = h.cosyncd("once");
  INFO(again.output.substr(again.output.size() > 3000 ? again.output.size() - 3000 : 0));
  REQUIRE(again.exit_status == 0);
  std::size_t update_calls = sf_write_calls(h);
  std::cout << "salesforce_e2e: 1000 changed Leads updated with " << update_calls << " Salesforce write calls, "
            << h.sf.server().requests().size() << " Salesforce requests in all\n";
  CHECK(update_calls <= 10);
  CHECK(h.sf.server().count("PATCH", h.sf.data_path() + "/composite/sobjects") == update_calls);
  CHECK_THAT(again.output, Catch::Contains("updated_crm=1000"));
  for (const auto& lead : h.leads()) {
    auto ref = lead["PartnerCenterReferralId__c"].get<std::string>();
    CHECK(lead["AnnualRevenue"] == h.pc.referral(ref)["details"]["dealValue"]);
  }

  SECTION("a quiet system then makes no write call") {
    h.clear_requests();
    auto quiet = h.cosyncd("once");
    CHECK(quiet.exit_status == 0);
    CHECK(h.write_calls() == 0);
  }
}

TEST_CASE("salesforce_e2e: the cycle summary shows Salesforce's api-usage") {
  testing::DaemonHarness h;
  h.add_incoming_lead("Contoso");
  auto run = h.cosyncd("once");
  INFO(run.output);
  REQUIRE(run.exit_status == 0);
  CHECK_THAT(run.output, Catch::Matches(R"((.|\n)*crm_api_usage=[0-9]+/15000(.|\n)*)"));
}

TEST_CASE("salesforce_e2e: a Lead deleted in Salesforce is handed to the engine, not ignored") {
  testing::DaemonHarness h;
  auto id = h.add_incoming_lead("Contoso");
  REQUIRE(h.cosyncd("once").exit_status == 0);
  auto leads = h.leads();
  REQUIRE(leads.size() == 1);
  std::string lead_id = leads[0]["Id"];
  h.sf.edit("Lead", lead_id, {{"IsDeleted", true}});
  auto run = h.cosyncd("once");
  INFO(run.output);
  CHECK(run.exit_status == 0);
  CHECK_THAT(run.output, Catch::Contains("Lead " + lead_id + " was deleted in salesforce (linked to referral " + id + ")"));
  CHECK(h.sf.server().count("GET", h.sf.data_path() + "/queryAll") >= 1);
}
