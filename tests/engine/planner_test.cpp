// The planner in-process against the fakes: a plan reads, decides and writes nothing; the rules
// it asks annotate, refuse and hold before anything is sent.
#include <catch2/catch.hpp>

#include "tests/engine/engine_fixture.hpp"

using namespace cosync;
using cosync::testing::lines_of;
using nlohmann::json;


TEST_CASE_METHOD(testing::EngineFixture, "planner: a plan reads both sides and writes nothing, however often it runs") {
  auto first = pc_fake.add_referral({{"customerProfile", {{"name", "Contoso"}}}});
  pc_fake.add_referral({{"customerProfile", {{"name", "Fabrikam"}}}});
  auto claimed = pc_fake.add_referral({{"customerProfile", {{"name", "Northwind"}}}});
  auto lead = sf_fake.insert("Lead", {{"LastName", "N"}, {"Company", "Northwind"}, {"PartnerCenterReferralId__c", claimed}});

  auto plan = this->plan();
  CHECK(this->plan().size() == plan.size());
  CHECK(writes() == 0);
  CHECK(store.links(mapping.name).empty());
  CHECK_FALSE(store.cursor(mapping.name, "pc").has_value());
  CHECK(store.pending_create_count() == 0);

  auto creates = lines_of(plan, "create in CRM");
  CHECK(creates.size() == 2 * 3);  // Company, Status, LastName of two referrals (no notes: empty is no value)
  auto links = lines_of(plan, "link existing CRM record");
  REQUIRE(links.size() == 1);
  CHECK(links[0].pc_id == claimed);
  CHECK(links[0].crm_id == lead);
  bool first_listed = std::any_of(creates.begin(), creates.end(), [&](const auto& c) {
    return c.pc_id == first && c.field == "Company" && c.new_value == "Contoso";
  });
  CHECK(first_listed);

  // What the plan said is what a cycle does.
  auto stats = cycle();
  CHECK(stats.created == 2);
  CHECK(lead_of(claimed) == lead);
}

TEST_CASE("planner: every referral read is classified before the mapping selects it") {
  testing::EngineFixture f(testing::kEngineLeadsMapping + "select:\n  _kind: qualified_lead\n");
  auto lead = f.pc_fake.add_referral({{"type", "Independent"}, {"qualification", "SalesQualified"}, {"direction", "Incoming"}});
  f.pc_fake.add_referral({{"type", "Shared"}, {"direction", "Incoming"}});  // a co-sell opportunity
  f.pc_fake.add_referral({{"type", "Independent"}, {"qualification", "MarketingQualified"}});  // marketplace

  auto plan = f.plan();
  auto creates = lines_of(plan, "create in CRM");
  REQUIRE_FALSE(creates.empty());
  for (const auto& c : creates) CHECK(c.pc_id == lead);
}

TEST_CASE_METHOD(testing::EngineFixture, "planner: an impossible transition is refused in the plan, and never sent") {
  auto id = pc_fake.add_referral({{"customerProfile", {{"name", "Contoso"}}}});
  cycle();
  auto lead = lead_of(id);
  REQUIRE_FALSE(lead.empty());
  pc_fake.edit(id, [](json& r) { r["status"] = "Active"; r["substatus"] = "Accepted"; });
  cycle();
  REQUIRE(sf_fake.record("Lead", lead)["Status"] == "Working - Contacted");

  // The seller moves the Lead back to a status whose pair is New: Partner Center cannot go back.
  sf_fake.edit("Lead", lead, {{"Status", "Open - Not Contacted"}, {"Description", "called twice"}});
  auto plan = this->plan();
  auto refused = lines_of(plan, "quarantine");
  REQUIRE(refused.size() == 1);
  CHECK_THAT(refused[0].reason, Catch::Contains("impossible transition Active -> New"));
  CHECK(lines_of(plan, "update Partner Center").empty());

  int pc_writes = pc_fake.writes();
  auto stats = cycle();
  CHECK(pc_fake.writes() == pc_writes);  // no PATCH went out
  CHECK(stats.quarantined == 1);
  CHECK(store.is_quarantined(mapping.name, "pc", id));
  CHECK(pc_fake.referral(id)["status"] == "Active");
}

TEST_CASE_METHOD(testing::EngineFixture, "planner: the guard sees the writes other rules added, and a rule's mapped-field write goes through the merge") {
  // A rule with bad ideas: it clears the campaign of referrals marked "clear-me" (Partner Center
  // takes no null), and it also tries to write a mapped field behind the merge's back.
  add_rule("test_clears_campaign", [](const engine::RuleInput& in) -> std::vector<engine::RuleAction> {
    if (in.trigger != engine::Trigger::paired || !in.pc || in.pc->value("campaignId", "") != "clear-me") return {};
    engine::RuleAction clear{engine::RuleAction::Kind::write, engine::Side::pc, {{"campaignId", nullptr}}, "", {}, "clear"};
    engine::RuleAction mapped{engine::RuleAction::Kind::write, engine::Side::pc, {{"details.notes", "x"}}, "", {}, "x"};
    return {clear, mapped};
  });
  auto id = pc_fake.add_referral({{"customerProfile", {{"name", "Contoso"}}}});
  cycle();
  REQUIRE_FALSE(lead_of(id).empty());
  pc_fake.edit(id, [](json& r) { r["campaignId"] = "clear-me"; });
  auto plan = this->plan();
  auto refused = lines_of(plan, "quarantine");
  REQUIRE(refused.size() == 1);
  CHECK_THAT(refused[0].reason, Catch::Contains("does not accept null for campaignId"));
  // The mapped field's write goes through the merge (listed as its write, shadowed when sent).
  bool merged = false;
  for (const auto& line : lines_of(plan, "update CRM"))
    if (line.field == "notes" && line.new_value == "x" && line.reason == "rule test_clears_campaign: x") merged = true;
  CHECK(merged);
  int pc_writes = pc_fake.writes();
  cycle();
  CHECK(pc_fake.writes() == pc_writes);
  CHECK(store.is_quarantined(mapping.name, "pc", id));
}
