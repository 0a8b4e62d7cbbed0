// The stale-lead watch in-process (daemon/rules/stale_close.*, `stale:` in the mapping): an
// accepted lead with its touches made and 8 weeks without progress is warned about once, then
// closed as Lost (with the configured statusReason) in Partner Center and, through the merge, in
// Salesforce in the same cycle; the clock and the warning survive restarts; a status change
// restarts the clock; too few touches keep it open.
#include <algorithm>

#include <catch2/catch.hpp>

#include "daemon/cli/report.hpp"
#include "tests/engine/stale_watch_fixture.hpp"
#include "tests/fakes/salesforce_schema.hpp"

using namespace cosync;
using namespace std::chrono_literals;

namespace {

constexpr const char* kReason = "No answer after three contacts";

struct StaleFixture : testing::StaleWatchFixture {
  StaleFixture()
      : StaleWatchFixture(testing::kEngineLeadsMapping +
                      "      - { pc: [Active, Accepted], crm: Working - Qualifying, direction: to_pc }\n"
                      "accept: auto\nstale:\n  after: 8w\n  touches: 3\n  reason: " +
                      std::string(kReason) + "\n  warn_before: 7d\n  progress: field:Touches__c\n") {
    auto schema = fakes::default_lead_schema();
    schema.fields.insert("Touches__c");
    schema.picklists["Status"].insert("Working - Qualifying");
    sf_fake.define_object("Lead", schema);
  }
  std::string accepted_lead(const std::string& company, int touches) {
    auto id = pc_fake.add_referral({{"customerProfile", {{"name", company}}}});
    REQUIRE(cycle().ok());
    REQUIRE(pc_fake.referral(id)["status"] == "Active");
    sf_fake.edit("Lead", lead_of(id), {{"Touches__c", touches}});
    REQUIRE(cycle().ok());
    return id;
  }
};

}  // namespace

TEST_CASE_METHOD(StaleFixture, "stale close: 3 touches and 8 weeks without progress: warned once, then closed as Lost on both sides") {
  auto id = accepted_lead("Contoso", 3);
  auto watch = store.holds(mapping.name, id);
  CHECK(std::any_of(watch.begin(), watch.end(), [](const HeldAction& h) { return h.key == "stale_since"; }));

  later(7 * 7 * 24h - 1h);  // an hour before the warning (8 weeks less 7 days)
  CHECK(events(id, "stale_warning") == 0);
  later(2h);
  CHECK(events(id, "stale_warning") == 1);
  later(1h);
  CHECK(events(id, "stale_warning") == 1);  // once, also after a restart
  CHECK(pc_fake.referral(id)["status"] == "Active");

  // `plan` shows the close and why before it happens.
  clock.advance(7 * 24h - 1h);  // a week after the warning
  restart();
  auto plan = this->plan();
  bool planned = std::any_of(plan.begin(), plan.end(), [&](const engine::PlannedChange& c) {
    return c.pc_id == id && c.field == "statusReason" && c.new_value == kReason;
  });
  CHECK(planned);
  // `cosyncd report stale` lists it with its warning and the close time.
  app::Config config;
  config.mappings.push_back(mapping);
  auto report = app::stale_report(config, store, clock.now());
  REQUIRE(report.rows.size() == 1);
  CHECK(report.rows[0][1] == id);
  CHECK(report.rows[0][2] == lead_of(id));
  CHECK(report.rows[0][4] != "-");
  CHECK(report.rows[0][5] == "closes as Lost");

  REQUIRE(cycle().ok());
  auto referral = pc_fake.referral(id);
  CHECK(referral["status"] == "Closed");
  CHECK(referral["substatus"] == "Lost");
  CHECK(referral["statusReason"] == kReason);
  CHECK(sf_fake.record("Lead", lead_of(id))["Status"] == "Closed - Not Converted");
  CHECK(events(id, "stale_closed") == 1);
  CHECK(app::stale_report(config, store, clock.now()).rows.empty());
  int writes = this->writes();
  later(1h);
  CHECK(this->writes() == writes);  // a closed referral is never written again
}

TEST_CASE_METHOD(StaleFixture, "stale close: a CRM status change restarts the clock, and too few touches keep a lead open") {
  auto moving = accepted_lead("Moving", 3);
  auto untouched = accepted_lead("Untouched", 1);
  later(6 * 7 * 24h);
  sf_fake.edit("Lead", lead_of(moving), {{"Status", "Working - Qualifying"}});  // progress
  REQUIRE(cycle().ok());
  later(3 * 7 * 24h);  // 9 weeks since acceptance, 3 since the progress
  CHECK(events(moving, "stale_warning") == 0);
  CHECK(events(untouched, "stale_warning") == 0);
  CHECK(pc_fake.referral(moving)["status"] == "Active");
  CHECK(pc_fake.referral(untouched)["status"] == "Active");
  later(5 * 7 * 24h);  // 8 weeks since the progress: warned
  CHECK(events(moving, "stale_warning") == 1);
  CHECK(events(untouched, "stale_warning") == 0);
  // The third touch: warned now, closed a week later.
  sf_fake.edit("Lead", lead_of(untouched), {{"Touches__c", 3}});
  REQUIRE(cycle().ok());
  CHECK(events(untouched, "stale_warning") == 1);
  later(7 * 24h);
  CHECK(pc_fake.referral(moving)["substatus"] == "Lost");
  CHECK(pc_fake.referral(untouched)["substatus"] == "Lost");
}
