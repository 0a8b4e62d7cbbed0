// The registration deadline (daemon/rules/registration_deadline.*): the win Partner Center recorded
// plus register_within, days left rounded down on Partner Center's clock, and the watch rule's
// answers for one deal (warnings once each, overdue once, the host clock never consulted).
#include <catch2/catch.hpp>

#include "daemon/mapping/registration_rule.hpp"
#include "daemon/rules/registration_deadline.hpp"
#include "daemon/util/time.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr auto kRegisterWithin30d = std::chrono::seconds(30 * 24h);

TimePoint pc_time(const char* iso) { return *parse_iso8601(iso); }

json won_referral(const char* closed) {
  return {{"id", "R1"}, {"status", "Closed"}, {"substatus", "Won"}, {"createdDateTime", "2026-01-01T00:00:00Z"},
          {"closedDateTime", closed}};
}

const std::string kRegistrationMapping = R"(name: deals
crm:
  connection: salesforce
  object: Lead
  link_field: Ref__c
fields:
  - name: status
    pc: [status, substatus]
    crm: Status
    values:
      - { pc: [Active, Accepted], crm: Working }
      - { pc: [Closed, Won], crm: Won }
registration:
  when: {crm.Registration__c: Eligible}
  warn_before: [1d, 14d, 7d]
  body:
    contract.term: {value: Finite}
)";

struct DeadlineWatch {
  testing::TempDir dir;
  mapping::Mapping mapping = mapping::load_mapping(dir.write("deals.yaml", kRegistrationMapping));
  Link link{"deals", "R1", "00Q1", "", ""};
  json crm = {{"Id", "00Q1"}, {"Status", "Won"}, {"Registration__c", "Eligible"}};
  std::vector<HeldAction> held;

  // The rule's answer for `referral` at `pc_now`; the host clock is 100 hours ahead of it.
  std::vector<engine::RuleAction> evaluate(const json& referral, TimePoint pc_now, const json* crm_record = nullptr) {
    engine::RuleInput in{engine::Trigger::paired, mapping};
    in.pc = &referral;
    in.crm = crm_record ? crm_record : &crm;
    in.link = &link;
    in.held = &held;
    in.pc_now = pc_now;
    in.now = pc_now + 100h;
    return rules::RegistrationDeadlineWatch().evaluate(in);
  }
  // Keeps what the executor would store (holds) and returns the events said.
  std::vector<std::string> cycle(const json& referral, TimePoint pc_now) {
    std::vector<std::string> events;
    auto actions = evaluate(referral, pc_now);
    held.clear();
    for (const auto& a : actions) {
      if (a.kind == engine::RuleAction::Kind::hold) held.push_back({"deals", "R1", a.key, format_iso8601(a.until), a.reason});
      if (a.kind == engine::RuleAction::Kind::event) events.push_back(a.key + ": " + a.reason);
    }
    return events;
  }
  std::string watch_until() const {
    for (const auto& h : held)
      if (h.key == "registration_deadline") return h.until;
    return "";
  }
};

}  // namespace

TEST_CASE("registration deadline: 30 days after closedDateTime, days left rounded down") {
  auto d = rules::registration_deadline(won_referral("2026-03-01T12:00:00Z"), pc_time("2026-03-08T13:00:00Z"), kRegisterWithin30d);
  REQUIRE(d);
  CHECK(format_iso8601(d->won) == "2026-03-01T12:00:00.000Z");
  CHECK(format_iso8601(d->deadline) == "2026-03-31T12:00:00.000Z");
  CHECK(d->days_left == 22);  // 22 days 23 hours
  CHECK(d->state == rules::RegistrationState::due);
  CHECK(rules::whole_days_left(pc_time("2026-03-31T12:00:00Z"), pc_time("2026-03-30T12:00:01Z")) == 0);
  CHECK(rules::whole_days_left(pc_time("2026-03-31T12:00:00Z"), pc_time("2026-03-30T12:00:00Z")) == 1);
  CHECK(rules::whole_days_left(pc_time("2026-03-31T12:00:00Z"), pc_time("2026-03-31T13:00:00Z")) == -1);
}

TEST_CASE("registration deadline: exactly at the deadline the deal is overdue with 0 days left") {
  auto d = rules::registration_deadline(won_referral("2026-03-01T12:00:00Z"), pc_time("2026-03-31T12:00:00Z"), kRegisterWithin30d);
  REQUIRE(d);
  CHECK(d->days_left == 0);
  CHECK(d->state == rules::RegistrationState::overdue);
  auto before = rules::registration_deadline(won_referral("2026-03-01T12:00:00Z"), pc_time("2026-03-31T11:59:59Z"), kRegisterWithin30d);
  CHECK(before->state == rules::RegistrationState::due);
  CHECK(before->days_left == 0);
}

TEST_CASE("registration deadline: only a Closed/Won referral with a closedDateTime has one, registered or not") {
  auto open = won_referral("2026-03-01T12:00:00Z");
  open["status"] = "Active";
  open["substatus"] = "Accepted";
  CHECK_FALSE(rules::registration_deadline(open, pc_time("2026-03-02T00:00:00Z"), kRegisterWithin30d));
  auto lost = won_referral("2026-03-01T12:00:00Z");
  lost["substatus"] = "Lost";
  CHECK_FALSE(rules::registration_deadline(lost, pc_time("2026-03-02T00:00:00Z"), kRegisterWithin30d));
  CHECK_FALSE(rules::registration_deadline(won_referral("not a date"), pc_time("2026-03-02T00:00:00Z"), kRegisterWithin30d));
  auto registered = won_referral("2026-03-01T12:00:00Z");
  registered["registrations"] = json::array({{{"id", "REG1"}, {"status", "ReviewPending"}}});
  CHECK(rules::registration_deadline(registered, pc_time("2026-04-02T00:00:00Z"), kRegisterWithin30d)->state ==
        rules::RegistrationState::registered);
  registered["registrations"] = json::array();
  CHECK_FALSE(rules::has_registration(registered));
  CHECK(std::string(rules::to_string(rules::RegistrationState::overdue)) == "overdue");
}

TEST_CASE("registration deadline: the watch hold's reason reads back") {
  auto dates = rules::parse_deadline_watch_reason(
      rules::deadline_watch_reason({"2026-03-01T12:00:00.000Z", "", "2026-03-31T12:00:00.000Z"}));
  REQUIRE(dates);
  CHECK(dates->won == "2026-03-01T12:00:00.000Z");
  CHECK(dates->held_until.empty());
  CHECK(dates->deadline == "2026-03-31T12:00:00.000Z");
  auto held = rules::parse_deadline_watch_reason(rules::deadline_watch_reason({"", "2026-03-04T00:00:00.000Z", "X"}));
  REQUIRE(held);
  CHECK(held->won.empty());
  CHECK(held->held_until == "2026-03-04T00:00:00.000Z");
  CHECK_FALSE(rules::parse_deadline_watch_reason("expires at 2026-03-01T12:00:00.000Z"));
}

TEST_CASE("registration deadline watch: warnings at 14, 7 and 1 days left once each, then overdue once") {
  DeadlineWatch w;
  auto referral = won_referral("2026-03-01T12:00:00Z");  // deadline 2026-03-31T12:00
  CHECK(w.cycle(referral, pc_time("2026-03-02T00:00:00Z")).empty());
  CHECK(w.watch_until() == "2026-03-17T12:00:00.000Z");  // comes back at the 14-day threshold
  auto first = w.cycle(referral, pc_time("2026-03-17T12:00:00Z"));
  REQUIRE(first.size() == 1);
  CHECK_THAT(first[0], Catch::StartsWith("registration_due: won deal R1 (CRM 00Q1) is not registered: 14 days left") &&
                           Catch::Contains("register it by 2026-03-31T12:00:00.000Z") && Catch::Contains("warning 14d"));
  CHECK(w.cycle(referral, pc_time("2026-03-17T13:00:00Z")) == std::vector<std::string>{});  // not again
  CHECK(w.watch_until() == "2026-03-24T12:00:00.000Z");
  auto second = w.cycle(referral, pc_time("2026-03-25T00:00:00Z"));
  REQUIRE(second.size() == 1);
  CHECK_THAT(second[0], Catch::Contains("6 days left") && Catch::Contains("warning 7d"));
  auto third = w.cycle(referral, pc_time("2026-03-30T12:00:00Z"));
  REQUIRE(third.size() == 1);
  CHECK_THAT(third[0], Catch::Contains("1 days left"));
  CHECK(w.watch_until() == "2026-03-31T12:00:00.000Z");
  auto overdue = w.cycle(referral, pc_time("2026-03-31T12:00:00Z"));
  REQUIRE(overdue.size() == 1);
  CHECK_THAT(overdue[0], Catch::StartsWith("registration_overdue: won deal R1 (CRM 00Q1) was not registered by its "
                                           "deadline 2026-03-31T12:00:00.000Z"));
  CHECK(w.cycle(referral, pc_time("2026-04-30T12:00:00Z")) == std::vector<std::string>{});  // overdue is said once
  CHECK(w.watch_until() > "2026-04-30T12:00:00.000Z");  // the watch stays (the report lists the deal)
}

TEST_CASE("registration deadline watch: a deal first seen overdue is said overdue once, with no due warning") {
  DeadlineWatch w;
  auto events = w.cycle(won_referral("2026-03-01T12:00:00Z"), pc_time("2026-04-05T00:00:00Z"));
  REQUIRE(events.size() == 1);
  CHECK_THAT(events[0], Catch::StartsWith("registration_overdue"));
}

TEST_CASE("registration deadline watch: the host clock does not count, Partner Center's does") {
  DeadlineWatch w;
  // 15 days left on Partner Center's clock; the host is 100 hours ahead (11 days left by it).
  CHECK(w.cycle(won_referral("2026-03-01T12:00:00Z"), pc_time("2026-03-16T12:00:00Z")).empty());
}

TEST_CASE("registration deadline watch: registered, not eligible, private or still open deals are not watched") {
  DeadlineWatch w;
  auto registered = won_referral("2026-03-01T12:00:00Z");
  registered["registrations"] = json::array({{{"id", "REG1"}}});
  CHECK(w.evaluate(registered, pc_time("2026-03-30T12:00:00Z")).empty());
  json ineligible = {{"Id", "00Q1"}, {"Status", "Won"}, {"Registration__c", "Not eligible"}};
  CHECK(w.evaluate(won_referral("2026-03-01T12:00:00Z"), pc_time("2026-03-30T12:00:00Z"), &ineligible).empty());
  auto private_deal = won_referral("2026-03-01T12:00:00Z");  // shared by the partner, not with Microsoft's sellers
  private_deal["direction"] = "Outgoing";
  private_deal["consent"] = {{"consentToShareReferralWithMicrosoftSellers", false}};
  CHECK(w.evaluate(private_deal, pc_time("2026-03-30T12:00:00Z")).empty());
  private_deal["consent"]["consentToShareReferralWithMicrosoftSellers"] = true;  // partner-led: watched
  CHECK_FALSE(w.evaluate(private_deal, pc_time("2026-03-30T12:00:00Z")).empty());
  json open = {{"id", "R1"}, {"status", "Active"}, {"substatus", "Accepted"}};
  CHECK(w.evaluate(open, pc_time("2026-03-30T12:00:00Z")).empty());
}

TEST_CASE("registration deadline watch: a Won held for 72 hours is watched from its release") {
  DeadlineWatch w;
  json active = {{"id", "R1"}, {"status", "Active"}, {"substatus", "Accepted"}, {"createdDateTime", "2026-03-01T00:00:00Z"}};
  std::vector<connectors::FieldChange> writes = {{"status", "Closed"}, {"substatus", "Won"}};
  engine::RuleInput in{engine::Trigger::paired, w.mapping};
  in.pc = &active;
  in.crm = &w.crm;
  in.link = &w.link;
  in.held = &w.held;
  in.pc_writes = &writes;
  in.pc_now = pc_time("2026-03-01T10:00:00Z");
  in.now = in.pc_now;
  auto actions = rules::RegistrationDeadlineWatch().evaluate(in);
  REQUIRE(actions.size() == 1);
  CHECK(format_iso8601(actions[0].until) == "2026-03-04T00:00:00.000Z");
  auto dates = rules::parse_deadline_watch_reason(actions[0].reason);
  REQUIRE(dates);
  CHECK(dates->held_until == "2026-03-04T00:00:00.000Z");
  CHECK(dates->deadline == "2026-04-03T00:00:00.000Z");
}
