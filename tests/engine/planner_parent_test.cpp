// The account lookup of a create, in-process: `plan` lists it as one readable line of the create
// (not a {"match","create"} value), and the cycle sends it as the request's parent, which the
// Salesforce connector resolves to the Account's id.
#include <catch2/catch.hpp>

#include "tests/engine/engine_fixture.hpp"

using namespace cosync;
using cosync::testing::lines_of;

namespace {

const std::string kOpportunities = R"(name: opps
crm:
  connection: salesforce
  object: Opportunity
  link_field: PartnerCenterReferralId__c
  account:
    match: name
    from: customerProfile.name
    fields:
      BillingCountry: "{customerProfile.address.country}"
create:
  Name: "[MSFT] {customerProfile.name}"
  StageName: Prospecting
  CloseDate: "2027-03-31"
fields:
  - name: amount
    pc: details.dealValue
    crm: Amount
)";

struct ParentFixture : testing::EngineFixture {
  ParentFixture() : EngineFixture(kOpportunities) {
    // As load_config does: the names crm.account leaves out are the connector's.
    mapping::apply_parent_defaults(mapping, *connectors::SalesforceConnector::supported().parent_lookup);
  }
};

}  // namespace

TEST_CASE_METHOD(ParentFixture, "planner_parent: the account lookup is one line of the planned create, then the Account's id") {
  auto contoso = sf_fake.insert("Account", {{"Name", "Contoso"}});
  auto known = pc_fake.add_referral({{"customerProfile", {{"name", "Contoso"}}}, {"details", {{"dealValue", 5}}}});
  auto fresh = pc_fake.add_referral(
      {{"customerProfile", {{"name", "Fabrikam"}, {"address", {{"country", "DE"}}}}}, {"details", {{"dealValue", 7}}}});

  auto creates = lines_of(plan(), "create in CRM");
  std::map<std::string, std::string> lookup;  // referral -> the AccountId line
  for (const auto& c : creates)
    if (c.field == "AccountId") {
      CHECK(lookup.count(c.pc_id) == 0);
      lookup[c.pc_id] = c.new_value.is_string() ? c.new_value.get<std::string>() : c.new_value.dump();
    }
  CHECK(lookup[known] == "match Name = 'Contoso' (create if none)");
  CHECK(lookup[fresh] == "match Name = 'Fabrikam' (create if none)");
  CHECK(writes() == 0);

  auto stats = cycle();
  CHECK(stats.created == 2);
  auto of = [&](const std::string& referral) {
    return sf_fake.record("Opportunity", lead_of(referral)).value("AccountId", "");
  };
  CHECK(of(known) == contoso);
  auto created = sf_fake.record("Account", of(fresh));
  CHECK(created["Name"] == "Fabrikam");
  CHECK(created["BillingCountry"] == "DE");
}
