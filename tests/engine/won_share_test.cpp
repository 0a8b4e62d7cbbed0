// Wins that never were referrals (issue 13 part 4), in-process: a Salesforce Opportunity already
// Closed Won, flagged for Microsoft, with no referral. One configuration (share:, the stage field,
// won_hold, registration:) shares it, holds its Won for 72 hours after the new referral's
// creation on Partner Center's clock, sends the Won, then registers it once.
#include <algorithm>

#include <catch2/catch.hpp>

#include "tests/engine/engine_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// share: has no stage condition here (the shipped mappings share open stages only: a won deal
// that never was a referral needs `when:` to include Closed Won).
const std::string kWonShareMapping = R"(name: wins
crm:
  connection: salesforce
  object: Opportunity
  link_field: PartnerCenterReferralId__c
share:
  when: { crm.Share_with_Microsoft__c: true }
  name: "{Account.Name} | {Id}"
  deal_type:
    field: CoSell_Type__c
    values: { Partner-led: partner-led, Co-sell: co-sell }
  body:
    customerProfile.name: "{Account.Name}"
    customerProfile.address.country: "{Account.BillingCountry|country}"
registration:
  when: { crm.StageName: Closed Won }
  body:
    contract.value: Amount
    contract.term: { value: Finite }
fields:
  - name: deal_value
    pc: details.dealValue
    crm: Amount
    transform: number
    owner: crm
  - name: stage
    pc: [status, substatus]
    crm: StageName
    owner: crm
    values:
      - { pc: [New, Pending], crm: Prospecting }
      - { pc: [Active, Accepted], crm: Qualification }
      - { pc: [Closed, Won], crm: Closed Won }
      - { pc: [Closed, Lost], crm: Closed Lost }
)";

struct WonShareFixture : testing::EngineFixture {
  WonShareFixture() : EngineFixture(kWonShareMapping) {
    auto schema = fakes::default_opportunity_schema();
    for (auto f : {"Share_with_Microsoft__c", "CoSell_Type__c"}) schema.fields.insert(f);
    sf_fake.define_object("Opportunity", schema);
    auto account = sf_fake.insert("Account", {{"Name", "Fabrikam"}, {"BillingCountry", "Germany"}});
    opportunity = sf_fake.insert("Opportunity", {{"Name", "Fabrikam migration"},
                                                 {"StageName", "Closed Won"},
                                                 {"CloseDate", "2026-12-01"},
                                                 {"Amount", 50000},
                                                 {"AccountId", account},
                                                 {"CoSell_Type__c", "Partner-led"},
                                                 {"Share_with_Microsoft__c", true}});
  }
  std::string referral() {
    auto link = store.link_by_crm(mapping.name, opportunity);
    return link ? link->pc_id : "";
  }
  std::string pc_state() {
    auto r = pc_fake.referral(referral());
    return r.value("status", "") + "/" + r.value("substatus", "");
  }
  std::string opportunity;
};

}  // namespace

TEST_CASE_METHOD(WonShareFixture, "won share: a won opportunity with no referral is shared, its Won held 72 hours, then registered once") {
  cycle();
  REQUIRE_FALSE(referral().empty());  // shared: one referral
  CHECK(pc_fake.all_referrals().size() == 1);
  cycle();  // the pair's first merge: the CRM's Closed Won is held, the referral just created
  CHECK(pc_state() != "Closed/Won");
  auto held = store.holds(mapping.name, referral());
  CHECK(std::any_of(held.begin(), held.end(), [](const HeldAction& h) { return h.key == "won_hold"; }));
  CHECK(pc_fake.referral(referral())["registrations"].empty());
  // The registration deadline watch lists it already, with the release and the earliest deadline.
  auto watch = std::find_if(held.begin(), held.end(), [](const HeldAction& h) { return h.key == "registration_deadline"; });
  REQUIRE(watch != held.end());
  CHECK_THAT(watch->reason, Catch::StartsWith("Won held until "));

  clock.advance(72h + 1min);
  restart();
  cycle();  // the hold comes due: Closed/Won
  CHECK(pc_state() == "Closed/Won");
  cycle();  // Partner Center has the Won: registered
  cycle();
  auto registrations = pc_fake.referral(referral())["registrations"];
  REQUIRE(registrations.size() == 1);
  CHECK(registrations[0]["contract"]["value"] == 50000);
  CHECK(pc_fake.all_referrals().size() == 1);  // never shared twice
  int writes = this->writes();
  cycle();
  CHECK(this->writes() == writes);
}
