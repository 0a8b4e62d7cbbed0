// The expiry watch in-process (daemon/rules/expiry_watch.*): a lead still New is warned about 7, 2
// and 1 days before its expirationDateTime, once each, also across restarts (the warnings said
// are held in the state database), and the referral comes back by itself when a warning is due.
#include <algorithm>

#include <catch2/catch.hpp>

#include "daemon/cli/report.hpp"
#include "tests/engine/engine_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;

namespace {

struct ExpiryFixture : testing::EngineFixture {
  ExpiryFixture() : EngineFixture(testing::kEngineLeadsMapping + "expiry:\n  warn_before: [1d, 7d, 2d]\n") {}
  long warnings(const std::string& id) {
    auto audit = store.audit(mapping.name, 200);
    return std::count_if(audit.begin(), audit.end(),
                         [&](const AuditEntry& e) { return e.field == "expiry_warning" && e.pc_id == id; });
  }
  // A restart, then a cycle `by` later: nothing else brings the referral back (it does not change).
  void later(std::chrono::system_clock::duration by) {
    clock.advance(by);
    restart();
    REQUIRE(cycle().ok());
  }
};

}  // namespace

TEST_CASE_METHOD(ExpiryFixture, "expiry watch: warnings 7, 2 and 1 days before expiry, once each, across restarts") {
  auto id = pc_fake.add_referral({{"customerProfile", {{"name", "Contoso"}}}});  // expires in 14 days
  REQUIRE(cycle().ok());
  REQUIRE_FALSE(lead_of(id).empty());
  CHECK(warnings(id) == 0);
  auto watch = store.holds(mapping.name, id);
  REQUIRE(watch.size() == 1);
  CHECK(watch[0].key == "expiry_watch");

  later(7 * 24h - 1h);  // 7 days and 1 hour left
  CHECK(warnings(id) == 0);
  later(2h);  // 7 days reached
  CHECK(warnings(id) == 1);
  int writes = this->writes();
  later(1h);
  later(0h);
  CHECK(warnings(id) == 1);  // not again, not after a restart
  CHECK(this->writes() == writes);  // a warning writes nothing to either side
  // `cosyncd report expiring` reads the same state: the lead, its expiry, the warnings given.
  app::Config config;
  config.mappings.push_back(mapping);
  auto report = app::expiring_report(config, store, clock.now());
  REQUIRE(report.rows.size() == 1);
  CHECK(report.rows[0][1] == id);
  CHECK(report.rows[0][2] == lead_of(id));
  CHECK(report.rows[0][3] == pc_fake.referral(id)["expirationDateTime"]);
  CHECK(report.rows[0][5] == "7d");

  later(5 * 24h);  // 2 days left
  CHECK(warnings(id) == 2);
  later(24h);  // 1 day left
  CHECK(warnings(id) == 3);
  later(1h);
  CHECK(warnings(id) == 3);
  auto audit = store.audit(mapping.name, 200);
  auto last = std::find_if(audit.begin(), audit.end(), [](const AuditEntry& e) { return e.field == "expiry_warning"; });
  REQUIRE(last != audit.end());
  CHECK_THAT(last->detail, Catch::Contains("warning 1d before") && Catch::Contains("still New"));
}

TEST_CASE_METHOD(ExpiryFixture, "expiry watch: a lead first seen 36 hours before expiry gets one warning, and an accepted one none") {
  auto late = pc_fake.add_referral({{"customerProfile", {{"name", "Late"}}}});
  auto answered = pc_fake.add_referral({{"customerProfile", {{"name", "Answered"}}}, {"status", "Active"}, {"substatus", "Accepted"}});
  clock.advance(14 * 24h - 36h);
  REQUIRE(cycle().ok());
  CHECK(warnings(late) == 1);  // the 2-day warning: the 7-day one is past, said as one
  CHECK(warnings(answered) == 0);
  CHECK(store.holds(mapping.name, answered).empty());
  later(1h);
  CHECK(warnings(late) == 1);
  later(12h);  // 1 day left
  CHECK(warnings(late) == 2);
}
