// The registration deadline in-process (daemon/rules/registration_deadline.*): a won deal Partner
// Center does not take the registration of is warned about 14, 7 and 1 days before its deadline
// (closedDateTime + 30 days) once each, also across restarts, said overdue once, listed by
// `cosyncd report deals-to-register` with its days left, and dropped once it is registered. The
// fake refuses the registration cosync sends, so that the deal stays unregistered.
#include <algorithm>

#include <catch2/catch.hpp>

#include "daemon/cli/report.hpp"
#include "daemon/util/time.hpp"
#include "tests/engine/engine_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;

namespace {

struct DeadlineFixture : testing::EngineFixture {
  DeadlineFixture()
      : EngineFixture(testing::kEngineLeadsMapping +
                      "registration:\n"
                      "  when: {crm.Status: \"Closed - Converted\"}\n"
                      "  warn_before: [14d, 7d, 1d]\n"
                      "  body:\n"
                      "    contract.term: {value: Finite}\n") {}
  std::string referral;

  long said(const std::string& event) {
    auto audit = store.audit(mapping.name, 500);
    return std::count_if(audit.begin(), audit.end(),
                         [&](const AuditEntry& e) { return e.field == event && e.pc_id == referral; });
  }
  void later(std::chrono::system_clock::duration by) {
    clock.advance(by);
    restart();
    cycle();
  }
  app::ReportTable deals() {
    app::Config config;
    config.mappings.push_back(mapping);
    return app::deals_to_register_report(config, store, pc_fake.service_now(), {app::ReportFormat::json, std::nullopt});
  }
  // A referral accepted and linked, won in the CRM after the 72-hour hold: Closed/Won in Partner
  // Center, whose registration it refuses.
  void won_unregistered() {
    referral = pc_fake.add_referral({{"status", "Active"}, {"substatus", "Accepted"}});
    cycle();
    REQUIRE_FALSE(lead_of(referral).empty());
    clock.advance(73h);
    pc_fake.refuse_registrations("The registration is missing its solution details");
    sf_fake.edit("Lead", lead_of(referral), {{"Status", "Closed - Converted"}});
    cycle();
    REQUIRE(pc_fake.referral(referral)["substatus"] == "Won");
    later(2min);  // the next cycle reads the Won and the Lead
    REQUIRE(pc_fake.referral(referral)["registrations"].empty());
  }
};

}  // namespace

TEST_CASE_METHOD(DeadlineFixture, "registration deadline: warnings once each at 14, 7 and 1 days, overdue once, across restarts") {
  won_unregistered();
  std::string closed = pc_fake.referral(referral)["closedDateTime"];
  auto deadline = *parse_iso8601(closed) + 30 * 24h;
  auto list = deals();
  REQUIRE(list.rows.size() == 1);
  CHECK(list.rows[0][0] == referral);
  CHECK(list.rows[0][1] == lead_of(referral));
  CHECK(list.rows[0][6] == format_iso8601(*parse_iso8601(closed)));
  CHECK(list.rows[0][7] == format_iso8601(deadline));
  CHECK(list.rows[0][8] == 29);  // 29 days and 23 hours 58 minutes
  CHECK(said("registration_due") == 0);

  later(deadline - 14 * 24h - pc_fake.service_now() + 1min);  // 14 days left
  CHECK(said("registration_due") == 1);
  later(1h);
  later(0h);
  CHECK(said("registration_due") == 1);  // not again, not after a restart
  later(7 * 24h);  // 7 days left
  CHECK(said("registration_due") == 2);
  later(6 * 24h);  // 1 day left
  CHECK(said("registration_due") == 3);
  auto audit = store.audit(mapping.name, 500);
  auto last = std::find_if(audit.begin(), audit.end(), [](const AuditEntry& e) { return e.field == "registration_due"; });
  REQUIRE(last != audit.end());
  CHECK_THAT(last->detail, Catch::Contains("0 days left") && Catch::Contains("warning 1d before"));
  CHECK(said("registration_overdue") == 0);
  later(24h);  // the deadline has passed
  CHECK(said("registration_overdue") == 1);
  later(2 * 24h);
  later(0h);
  CHECK(said("registration_overdue") == 1);
  CHECK(said("registration_due") == 3);
  REQUIRE(deals().rows.size() == 1);
  CHECK(deals().rows[0][8] == -3);

  // A seller registers the deal in Partner Center: it leaves the report, its watch ends.
  pc_fake.edit(referral, [](nlohmann::json& r) {
    r["registrations"] = nlohmann::json::array({{{"id", "REG-1"}, {"status", "ReviewPending"}}});
  });
  later(1min);
  CHECK(deals().rows.empty());
  CHECK(store.holds(mapping.name, referral).empty());
  CHECK(said("registration_overdue") == 1);
}
