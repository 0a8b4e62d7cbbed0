// The executor in-process against the fakes: what it writes, what it commits, and rules' actions
// held until their time, across a restart, with no record changed meanwhile.
#include <catch2/catch.hpp>

#include "daemon/util/time.hpp"
#include "tests/engine/engine_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// A referral whose campaignId is "hold-72h" gets campaignId "released", but no earlier than 72
// hours after it was created (the shape of "Won no earlier than 72 h after creation").
std::vector<engine::RuleAction> release_after_72h(const engine::RuleInput& in) {
  if (in.trigger != engine::Trigger::paired || !in.pc) return {};
  if (in.pc->value("campaignId", "") != "hold-72h") return {};
  auto created = parse_iso8601(in.pc->value("createdDateTime", ""));
  if (!created) return {};
  auto due = *created + 72h;
  engine::RuleAction a;
  a.side = engine::Side::pc;
  a.key = "release";
  if (in.now < due) {
    a.kind = engine::RuleAction::Kind::hold;
    a.until = due;
    a.reason = "released 72 h after creation";
  } else {
    a.kind = engine::RuleAction::Kind::write;
    a.changes = {{"campaignId", "released"}};
    a.reason = "72 h after creation";
  }
  return {a};
}

}  // namespace

TEST_CASE_METHOD(testing::EngineFixture, "executor: after a cycle that created and linked, the next makes no write") {
  pc_fake.add_referral({{"customerProfile", {{"name", "Contoso"}}}});
  pc_fake.add_referral({{"customerProfile", {{"name", "Fabrikam"}}}});
  auto stats = cycle();
  CHECK(stats.created == 2);
  CHECK(stats.ok());
  int after_first = writes();
  CHECK(cycle().ok());
  CHECK(writes() == after_first);  // DESIGN invariant 3: a quiet system makes no write
  CHECK(this->plan().empty());
}

TEST_CASE_METHOD(testing::EngineFixture,
                 "executor: a held action fires when its time comes, across a restart, with no record changed") {
  add_rule("test_release_after_72h", release_after_72h);
  auto id = pc_fake.add_referral({{"campaignId", "hold-72h"}});
  cycle();
  REQUIRE_FALSE(lead_of(id).empty());
  auto held = store.holds(mapping.name, id);
  REQUIRE(held.size() == 1);
  CHECK(held[0].key == "release");
  CHECK(pc_fake.referral(id)["campaignId"] == "hold-72h");

  // The plan shows the hold (the referral is still in the pull's overlap window); a day later
  // nothing is due yet.
  auto holds = testing::lines_of(plan(), "hold");
  REQUIRE(holds.size() == 1);
  CHECK(holds[0].field == "release");
  CHECK(holds[0].new_value == held[0].until);
  // A seller edits the Lead meanwhile: the pair is planned without the referral being pulled; the
  // rule is still asked with both records, so the hold stays.
  clock.advance(24h);
  sf_fake.edit("Lead", lead_of(id), {{"Phone", "+1 555 0100"}});
  cycle();
  CHECK(pc_fake.referral(id)["campaignId"] == "hold-72h");
  CHECK(store.holds(mapping.name, id).size() == 1);

  // 73 hours after creation, after a restart, with neither record changed: it fires.
  clock.advance(49h);
  restart();
  int pc_writes = pc_fake.writes();
  auto stats = cycle();
  CHECK(stats.ok());
  CHECK(pc_fake.referral(id)["campaignId"] == "released");
  CHECK(pc_fake.writes() == pc_writes + 1);
  CHECK(store.holds(mapping.name, id).empty());
  auto audit = store.audit(mapping.name, 20);
  for (const auto& e : audit) UNSCOPED_INFO(e.kind << " " << e.field << " " << e.detail);
  bool audited = std::any_of(audit.begin(), audit.end(), [](const AuditEntry& e) {
    return e.kind == "rule" && e.field == "campaignId";
  });
  CHECK(audited);
  CHECK(cycle().ok());
  CHECK(pc_fake.writes() == pc_writes + 1);  // fired once
}

TEST_CASE_METHOD(testing::EngineFixture, "executor: a link buried after a CRM delete takes its held actions with it") {
  add_rule("test_release_after_72h", release_after_72h);
  auto id = pc_fake.add_referral({{"campaignId", "hold-72h"}});
  cycle();
  auto link = store.link_by_pc(mapping.name, id);
  REQUIRE(link);
  REQUIRE(store.holds(mapping.name, id).size() == 1);
  store.bury_link(*link, "test");
  CHECK(store.holds(mapping.name, id).empty());
}
