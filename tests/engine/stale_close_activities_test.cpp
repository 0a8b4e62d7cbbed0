// The stale-lead watch counting the seller's completed activities (`stale: {progress: activities}`):
// the Salesforce connector reads the Lead's closed Tasks and ended Events through relationship
// subqueries (connectors/salesforce/salesforce_activities.hpp), the fake Salesforce answers them,
// and three of them plus 8 weeks without progress close the lead; fewer keep it open.
#include <algorithm>

#include <catch2/catch.hpp>

#include "daemon/util/time.hpp"
#include "tests/engine/stale_watch_fixture.hpp"
#include "tests/fakes/salesforce_schema.hpp"

using namespace cosync;
using namespace std::chrono_literals;

namespace {

struct ActivitiesFixture : testing::StaleWatchFixture {
  ActivitiesFixture()
      : StaleWatchFixture(testing::kEngineLeadsMapping +
                      "      - { pc: [Active, Accepted], crm: Working - Qualifying, direction: to_pc }\n"
                      "accept: auto\nstale:\n  after: 8w\n  touches: 3\n  reason: No answer\n"
                      "  warn_before: 7d\n  progress: activities\n") {
    auto schema = fakes::default_lead_schema();
    schema.picklists["Status"].insert("Working - Qualifying");
    sf_fake.define_object("Lead", schema);
  }
  std::string accepted_lead(const std::string& company) {
    auto id = pc_fake.add_referral({{"customerProfile", {{"name", company}}}});
    REQUIRE(cycle().ok());
    REQUIRE(pc_fake.referral(id)["status"] == "Active");
    return id;
  }
  void task(const std::string& lead, bool closed) {
    sf_fake.insert("Task", {{"WhoId", lead}, {"Subject", "Call"}, {"IsClosed", closed}});
  }
  void event(const std::string& lead, std::chrono::system_clock::duration ends_in) {
    sf_fake.insert("Event", {{"WhoId", lead}, {"Subject", "Meeting"}, {"EndDateTime", format_iso8601(clock.now() + ends_in)}});
  }
};

}  // namespace

TEST_CASE_METHOD(ActivitiesFixture, "stale close activities: 2 closed Tasks and an ended Event with 8 weeks without progress close the lead") {
  auto id = accepted_lead("Contoso");
  const auto lead = lead_of(id);
  task(lead, true);
  task(lead, true);
  task(lead, false);  // still open: not a touch
  event(lead, -48h);
  later(7 * 7 * 24h + 1h);  // 8 weeks less the 7 days' warning
  CHECK(events(id, "stale_warning") == 1);
  CHECK(pc_fake.referral(id)["status"] == "Active");
  later(7 * 24h);
  CHECK(pc_fake.referral(id)["status"] == "Closed");
  CHECK(pc_fake.referral(id)["substatus"] == "Lost");
  CHECK(events(id, "stale_closed") == 1);
}

TEST_CASE_METHOD(ActivitiesFixture, "stale close activities: open Tasks and coming Events are no touches, so the lead stays open") {
  auto id = accepted_lead("Fabrikam");
  const auto lead = lead_of(id);
  task(lead, true);
  task(lead, true);
  task(lead, false);
  event(lead, 30 * 24h * 4);  // ends after the 10 weeks below
  later(10 * 7 * 24h);
  CHECK(events(id, "stale_warning") == 0);
  CHECK(pc_fake.referral(id)["status"] == "Active");
  // The third completed activity: warned now, closed a week later.
  task(lead, true);
  later(24h);
  CHECK(events(id, "stale_warning") == 1);
  later(7 * 24h);
  CHECK(pc_fake.referral(id)["substatus"] == "Lost");
}
