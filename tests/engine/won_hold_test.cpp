// The 72-hour Won hold in-process (daemon/rules/won_hold.*): a CRM win of a young referral is held
// on Partner Center's clock, listed by the plan, released by the cycle after its time (also after a
// restart, also when the host clock runs far ahead), cancelled when the CRM reopens; Lost is not held.
#include <catch2/catch.hpp>

#include "daemon/util/time.hpp"
#include "daemon/util/yaml_reader.hpp"
#include "tests/engine/engine_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct WonHoldFixture : testing::EngineFixture {
  using EngineFixture::EngineFixture;
  std::string referral;

  // An accepted referral created now on Partner Center's clock, its Lead created 10 hours later.
  void linked_referral_10h_old() {
    referral = pc_fake.add_referral({{"status", "Active"}, {"substatus", "Accepted"}});
    clock.advance(10h);
    cycle();
    REQUIRE_FALSE(lead_of(referral).empty());
  }
  void crm_sets(const std::string& status) { sf_fake.edit("Lead", lead_of(referral), {{"Status", status}}); }
  std::string pc_state() {
    auto r = pc_fake.referral(referral);
    return r.value("status", "") + "/" + r.value("substatus", "");
  }
  std::string created() { return pc_fake.referral(referral).value("createdDateTime", ""); }
};

std::string load_error(const std::string& text) {
  testing::TempDir dir;
  try {
    mapping::load_mapping(dir.write("won.yaml", text));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE_METHOD(WonHoldFixture, "won hold: a Won 10 hours after creation waits for 72 hours on Partner Center's clock") {
  linked_referral_10h_old();
  crm_sets("Closed - Converted");
  int pc_writes = pc_fake.writes();
  CHECK(cycle().ok());
  CHECK(pc_state() == "Active/Accepted");
  CHECK(pc_fake.writes() == pc_writes);
  auto held = store.holds(mapping.name, referral);
  REQUIRE(held.size() == 1);
  CHECK(held[0].key == "won_hold");
  std::string release = format_iso8601(*parse_iso8601(created()) + 72h);
  CHECK(held[0].until == release);
  CHECK_THAT(held[0].reason, Catch::Contains("Closed/Won held until " + release));
  // The CRM keeps its Won: the withheld write is no Partner Center edit to revert.
  CHECK(sf_fake.record("Lead", lead_of(referral))["Status"] == "Closed - Converted");
  auto holds = testing::lines_of(plan(), "hold");
  REQUIRE(holds.size() == 1);
  CHECK(holds[0].field == "won_hold");
  CHECK(holds[0].new_value == release);

  // The host clock 100 hours ahead of Partner Center's: 110 hours after creation by the host,
  // 30 by Partner Center. Nothing is released, after a restart either.
  clock.advance(100h);
  pc_fake.shift_clock(-80h);
  restart();
  CHECK(cycle().ok());
  CHECK(pc_state() == "Active/Accepted");
  CHECK(pc_fake.writes() == pc_writes);
  CHECK(store.holds(mapping.name, referral).size() == 1);

  // Partner Center's clock passes 72 hours (its Date header has whole seconds): the next cycle
  // sends the Won, with no record changed.
  pc_fake.shift_clock(42h + 1min);
  restart();
  CHECK(cycle().ok());
  CHECK(pc_state() == "Closed/Won");
  CHECK(pc_fake.writes() == pc_writes + 1);
  CHECK(store.holds(mapping.name, referral).empty());
  CHECK(sf_fake.record("Lead", lead_of(referral))["Status"] == "Closed - Converted");
  auto audit = store.audit(mapping.name, 50);
  bool won_event = std::any_of(audit.begin(), audit.end(), [](const AuditEntry& e) { return e.field == "won"; });
  CHECK(won_event);
  int after = writes();
  CHECK(cycle().ok());
  CHECK(writes() == after);  // quiet
}

TEST_CASE_METHOD(WonHoldFixture, "won hold: a CRM that reopens the deal cancels the held Won") {
  linked_referral_10h_old();
  crm_sets("Closed - Converted");
  cycle();
  REQUIRE(store.holds(mapping.name, referral).size() == 1);
  clock.advance(1h);
  crm_sets("Working - Contacted");
  CHECK(cycle().ok());
  CHECK(store.holds(mapping.name, referral).empty());
  int pc_writes = pc_fake.writes();
  clock.advance(72h);
  CHECK(cycle().ok());
  CHECK(pc_state() == "Active/Accepted");
  CHECK(pc_fake.writes() == pc_writes);
}

TEST_CASE_METHOD(WonHoldFixture, "won hold: a Lost is sent at once") {
  linked_referral_10h_old();
  crm_sets("Closed - Not Converted");
  CHECK(cycle().ok());
  CHECK(pc_state() == "Closed/Lost");
  CHECK(store.holds(mapping.name, referral).empty());
}

TEST_CASE_METHOD(WonHoldFixture, "won hold: a Won of a referral older than the hold is sent at once") {
  referral = pc_fake.add_referral({{"status", "Active"}, {"substatus", "Accepted"}});
  clock.advance(80h);
  cycle();
  crm_sets("Closed - Converted");
  CHECK(cycle().ok());
  CHECK(pc_state() == "Closed/Won");
  CHECK(store.holds(mapping.name, referral).empty());
}

TEST_CASE("won hold: won_hold may lengthen the hold, never shorten it below 72 hours") {
  testing::TempDir dir;
  auto m = mapping::load_mapping(dir.write("won.yaml", testing::kEngineLeadsMapping + "won_hold: 96h\n"));
  CHECK(m.won_hold == 96h);
  CHECK(mapping::load_mapping(dir.write("default.yaml", testing::kEngineLeadsMapping)).won_hold == 72h);
  auto error = load_error(testing::kEngineLeadsMapping + "won_hold: 48h\n");
  CHECK_THAT(error, Catch::Contains("won.yaml") && Catch::Contains("won_hold") && Catch::Contains("between 3d"));
}

TEST_CASE_METHOD(WonHoldFixture, "won hold: a longer won_hold holds the Won until then",
                 "") {
  mapping = mapping::load_mapping(dir.write("long.yaml", testing::kEngineLeadsMapping + "won_hold: 96h\n"));
  referral = pc_fake.add_referral({{"status", "Active"}, {"substatus", "Accepted"}});
  clock.advance(80h);
  cycle();
  crm_sets("Closed - Converted");
  CHECK(cycle().ok());
  CHECK(pc_state() == "Active/Accepted");
  clock.advance(17h);
  CHECK(cycle().ok());
  CHECK(pc_state() == "Closed/Won");
}
