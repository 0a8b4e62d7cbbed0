// A cycle streams its pulls (issue 18 part 2): each page of Partner Center is planned, written
// and committed before the next is requested, so memory holds a page, not the backlog; a pull
// failing midway keeps what its earlier pages wrote and leaves the cursors where they were.
#include <catch2/catch.hpp>

#include <set>

#include "daemon/rules/standard_rules.hpp"
#include "tests/engine/engine_fixture.hpp"

using namespace cosync;

namespace {

// 250 new referrals: three pages of the fake's 100.
void add_referrals(fakes::FakePartnerCenter& pc, int n) {
  for (int i = 0; i < n; ++i) pc.add_referral({{"customerProfile", {{"name", "Company " + std::to_string(i)}}}});
}

}  // namespace

TEST_CASE_METHOD(testing::EngineFixture,
                 "streamed cycle: a page's Leads are created and linked while the next page is requested, not after") {
  add_referrals(pc_fake, 250);
  pc_fake.server().clear_requests();
  auto stats = cycle();
  CHECK(stats.ok());
  CHECK(stats.pulled_pc == 250);
  CHECK(stats.created == 250);
  CHECK(sf_fake.records("Lead").size() == 250);

  // Partner Center's requests in order: a page, the next page (read ahead while the cycle works
  // on this one), then the PATCHes that give this page's referrals their new Lead's id (sent once
  // the Lead exists), and so on: the third page is requested only once the second is handed over,
  // after the first page's PATCHes. Collected, all three pages came before the first PATCH; not
  // read ahead, each page came after the previous page's PATCHes ({100, 100, 50}).
  std::vector<std::size_t> patches_after_page;
  for (const auto& r : pc_fake.server().requests()) {
    if (r.method == "GET" && r.path == "/referrals") patches_after_page.push_back(0);
    else if (r.method == "PATCH" && !patches_after_page.empty()) ++patches_after_page.back();
  }
  CHECK(patches_after_page == std::vector<std::size_t>{0, 100, 150});
  // Salesforce's creates in batches of at most a page's records.
  for (const auto& r : sf_fake.server().requests("PATCH", "/services/data"))
    CHECK(nlohmann::json::parse(r.body, nullptr, false).value("records", nlohmann::json::array()).size() <= 200);
}

TEST_CASE_METHOD(testing::EngineFixture,
                 "streamed cycle: a pull failing on page 3 keeps pages 1-2 linked, the cursors unmoved, no duplicate next") {
  add_referrals(pc_fake, 250);
  {
    // A connector that refuses a third page, as a pull failing midway.
    connectors::PartnerCenterOptions o;
    o.base_url = pc_fake.base_url();
    o.clock = &clock;
    o.max_pages = 2;
    connectors::PartnerCenterConnector two_pages{client, tokens, o, captured.log};
    engine::SyncEngine limited(mapping, two_pages, sf, store, clock, captured.log, rules::standard_rules(mapping));
    std::atomic<bool> stop{false};
    auto stats = run(limited.run_cycle(stop));
    CHECK(stats.pull_failed);
    CHECK(stats.pulled_pc == 200);
    CHECK(stats.created == 200);
  }
  CHECK(store.links(mapping.name).size() == 200);
  CHECK(sf_fake.records("Lead").size() == 200);
  CHECK_FALSE(store.cursor(mapping.name, "pc").has_value());
  CHECK_FALSE(store.cursor(mapping.name, "crm").has_value());

  auto stats = cycle();
  CHECK(stats.ok());
  CHECK(stats.created == 50);
  CHECK(store.links(mapping.name).size() == 250);
  CHECK(sf_fake.records("Lead").size() == 250);  // the 200 were linked, not created again
  CHECK(store.cursor(mapping.name, "pc").has_value());
}

TEST_CASE_METHOD(testing::EngineFixture, "streamed cycle: a stop requested mid-pull ends it after the page in flight, no cursor moved") {
  add_referrals(pc_fake, 250);
  std::atomic<bool> stop{false};
  // SIGTERM arrives as the second page is planned (the 101st referral the rules see).
  std::set<std::string> seen;
  add_rule("stop_on_page_2", [&](const engine::RuleInput& input) {
    if (input.trigger == engine::Trigger::pulled && input.pc) seen.insert(input.pc->value("id", ""));
    if (seen.size() > 100) stop = true;
    return std::vector<engine::RuleAction>{};
  });
  auto stats = run(engine().run_cycle(stop));
  CHECK_FALSE(stats.pull_failed);
  CHECK(stats.created == 100);  // the first page's, written and committed
  CHECK(store.links(mapping.name).size() == 100);
  CHECK_FALSE(store.cursor(mapping.name, "pc").has_value());

  stop = false;
  stats = cycle();
  CHECK(stats.ok());
  CHECK(sf_fake.records("Lead").size() == 250);
}

TEST_CASE_METHOD(testing::EngineFixture,
                 "streamed cycle: a write-back a crash cut short is sent though the CRM batch saw the pair first") {
  // The state a SIGKILL leaves between the Lead's link commit and the referral's write-back: the
  // link stores the referral's version without the Lead's id, and the cursors never moved. Both
  // pulls bring the pair back, neither side at a version the link does not know; the CRM batch
  // plans it without the referral, so the Partner Center batch must not drop the referral as
  // "nothing new": the referral alone still asks for its link field.
  auto id = pc_fake.add_referral({{"customerProfile", {{"name", "Contoso"}}}});
  REQUIRE(cycle().ok());
  auto lead = pc_fake.referral(id)["externalReferenceId"];
  REQUIRE(lead.is_string());
  pc_fake.edit(id, [](nlohmann::json& r) { r["externalReferenceId"] = nullptr; });
  auto link = store.link_by_pc(mapping.name, id);
  REQUIRE(link);
  link->pc_version = pc_fake.referral(id)["eTag"].get<std::string>();
  store.save_link(*link);
  store.set_cursor(mapping.name, "pc", "");
  store.set_cursor(mapping.name, "crm", "");

  auto stats = cycle();
  CHECK(stats.ok());
  CHECK(stats.pulled_crm == 1);
  CHECK(stats.created == 0);
  CHECK(pc_fake.referral(id)["externalReferenceId"] == lead);
  CHECK(sf_fake.records("Lead").size() == 1);
}
