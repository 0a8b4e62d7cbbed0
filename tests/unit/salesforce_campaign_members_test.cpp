// SalesforceConnector::add_campaign_members: one sObject Collections POST of CampaignMember
// records; a lead already in the campaign (DUPLICATE_VALUE) counts as a member, a refused one
// gets its own failure.
#include <catch2/catch.hpp>

#include "tests/unit/connector_fixture.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

const std::string kCampaign = "701000000000042AAA";

struct MembersFixture : testing::ConnectorFixture {
  connectors::SalesforceConnector sf{client, tokens, sf_options(), captured.log};
  std::string lead(const std::string& company) {
    return sf_fake.insert("Lead", {{"LastName", "[MSFT] " + company}, {"Company", company}});
  }
  std::size_t posts() { return sf_fake.server().count("POST", "/services/data/v60.0/composite/sobjects"); }
};

}  // namespace

TEST_CASE_METHOD(MembersFixture, "campaign members: new leads join in one call and joining again adds none") {
  std::vector<std::string> leads = {lead("Contoso"), lead("Fabrikam")};
  auto first = run(sf.add_campaign_members(kCampaign, leads));
  REQUIRE(first.size() == 2);
  CHECK_FALSE(first[0]);
  CHECK_FALSE(first[1]);
  CHECK(posts() == 1);
  auto again = run(sf.add_campaign_members(kCampaign, leads));
  REQUIRE(again.size() == 2);
  CHECK_FALSE(again[0]);  // DUPLICATE_VALUE: already a member
  CHECK_FALSE(again[1]);
  CHECK(sf_fake.records("CampaignMember").size() == 2);
  for (const auto& m : sf_fake.records("CampaignMember")) CHECK(m.value("CampaignId", "") == kCampaign);
}

TEST_CASE_METHOD(MembersFixture, "campaign members: a refused member fails alone and a rejected call fails them all") {
  auto contoso = lead("Contoso");
  // An org whose CampaignMember requires LeadId: a member without one is refused on its own.
  sf_fake.define_object("CampaignMember", [] {
    auto s = fakes::default_campaign_member_schema();
    s.required.insert("LeadId");
    return s;
  }());
  auto results = run(sf.add_campaign_members(kCampaign, {contoso, ""}));
  REQUIRE(results.size() == 2);
  CHECK_FALSE(results[0]);
  REQUIRE(results[1]);
  CHECK(results[1]->message.find("REQUIRED_FIELD_MISSING") != std::string::npos);
  sf_fake.fail_next(1, 400);
  auto refused = run(sf.add_campaign_members(kCampaign, {lead("Fabrikam")}));
  REQUIRE(refused.size() == 1);
  CHECK(refused[0]);
}
