// `campaign:` on a Salesforce lead mapping (engine/campaign_execution.cpp): each Lead cosync
// creates joins the campaign through exactly one CampaignMember, and neither a second cycle nor a
// retry after a crash (the Lead created, its link lost) adds another: the fake Salesforce refuses
// a second (CampaignId, LeadId) with DUPLICATE_VALUE, which cosync counts as done.
#include <catch2/catch.hpp>

#include "daemon/mapping/lead_rules.hpp"
#include "tests/engine/engine_fixture.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

const std::string kCampaign = "701000000000042AAA";

struct CampaignFixture : testing::EngineFixture {
  CampaignFixture() : EngineFixture(testing::kEngineLeadsMapping + "campaign: " + kCampaign + "\n") {}
  // The live CampaignMember records of `lead_id` in the campaign.
  int members_of(const std::string& lead_id) {
    int n = 0;
    for (const auto& m : sf_fake.records("CampaignMember"))
      if (m.value("LeadId", "") == lead_id && m.value("CampaignId", "") == kCampaign && !m.value("IsDeleted", false))
        ++n;
    return n;
  }
  // A Lead cosync created before a crash cut its link short: the Lead holds the referral id, a
  // pending create row remains, no link.
  std::string lead_created_before_crash(const std::string& referral_id) {
    auto lead = sf_fake.insert("Lead", {{"LastName", "[MSFT] Contoso"}, {"Company", "Contoso"},
                                        {"PartnerCenterReferralId__c", referral_id}});
    store.add_pending_create(mapping.name, "crm", referral_id, json::object());
    return lead;
  }
};

}  // namespace

TEST_CASE_METHOD(CampaignFixture, "campaign: a created lead joins the campaign once and a second cycle adds no member") {
  auto id = pc_fake.add_referral({{"customerProfile", {{"name", "Contoso"}}}});
  auto stats = cycle();
  CHECK(stats.created == 1);
  auto lead = lead_of(id);
  CHECK(members_of(lead) == 1);
  CHECK(sf_fake.records("CampaignMember").size() == 1);
  cycle();
  CHECK(members_of(lead) == 1);
  CHECK(sf_fake.records("CampaignMember").size() == 1);
}

TEST_CASE_METHOD(CampaignFixture, "campaign: a retry after a crash that lost the link joins and links the lead once") {
  auto id = pc_fake.add_referral({{"customerProfile", {{"name", "Contoso"}}}});
  auto lead = lead_created_before_crash(id);
  SECTION("the crash came before the membership: the retry adds it") {}
  SECTION("the crash came after the membership: DUPLICATE_VALUE counts as done") {
    sf_fake.insert("CampaignMember", {{"CampaignId", kCampaign}, {"LeadId", lead}});
  }
  cycle();
  CHECK(lead_of(id) == lead);
  CHECK(members_of(lead) == 1);
  CHECK_FALSE(store.pending_create(mapping.name, "crm", id));
  CHECK(sf_fake.records("Lead").size() == 1);
}

TEST_CASE_METHOD(CampaignFixture, "campaign: a lead the campaign refuses is linked and synced all the same, the refusal an error naming it") {
  auto refusing = fakes::default_campaign_member_schema();
  refusing.required.insert("ContactId");  // an org whose validation refuses these members
  sf_fake.define_object("CampaignMember", refusing);
  auto id = pc_fake.add_referral({{"customerProfile", {{"name", "Contoso"}}}});
  cycle();
  REQUIRE(sf_fake.records("Lead").size() == 1);
  auto lead = lead_of(id);
  CHECK(store.link_by_pc(mapping.name, id));  // linked: held back, a retry would upsert over the seller's edits
  CHECK_FALSE(store.pending_create(mapping.name, "crm", id));
  CHECK(members_of(lead) == 0);
  CHECK_THAT(*captured.text, Catch::Contains("error") && Catch::Contains(lead + " of referral " + id) &&
                                 Catch::Contains("could not join campaign " + kCampaign));
  // The seller works the lead; later cycles keep the edit (no second create over it) and one Lead.
  sf_fake.edit("Lead", lead, {{"Status", "Working - Contacted"}});
  clock.advance(std::chrono::hours(24));
  cycle();
  CHECK(sf_fake.records("Lead").size() == 1);
  CHECK(sf_fake.record("Lead", lead)["Status"] == "Working - Contacted");
  CHECK(pc_fake.referral(id)["status"] == "Active");
}

TEST_CASE_METHOD(CampaignFixture, "campaign: a lead linked without a create of cosync's does not join the campaign") {
  auto id = pc_fake.add_referral({{"customerProfile", {{"name", "Contoso"}}}});
  auto lead = sf_fake.insert("Lead", {{"LastName", "Seller's own"}, {"Company", "Contoso"},
                                      {"PartnerCenterReferralId__c", id}});
  cycle();
  CHECK(lead_of(id) == lead);
  CHECK(members_of(lead) == 0);
}

TEST_CASE("campaign: the mapping key must be a Salesforce Campaign id on a Lead mapping") {
  testing::TempDir dir;
  auto load = [&](const std::string& value) {
    return mapping::load_mapping(dir.write("leads.yaml", testing::kEngineLeadsMapping + "campaign: " + value + "\n"));
  };
  CHECK(load(kCampaign).leads->campaign == kCampaign);
  CHECK(load("701000000000042").leads->campaign == "701000000000042");
  CHECK_THROWS_WITH(load("00Q000000000042AAA"), Catch::Contains("leads.yaml") && Catch::Contains("campaign") &&
                                                     Catch::Contains("Salesforce Campaign id"));
  CHECK_THROWS_WITH(load("/campaigns(6f1c)"), Catch::Contains("campaignid@odata.bind"));
  CHECK_THROWS_WITH(load("701000000000042AA"), Catch::Contains("15 or 18 characters"));
}
