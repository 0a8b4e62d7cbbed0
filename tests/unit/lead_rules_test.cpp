// `accept:` and `decline:` of a mapping (daemon/mapping/lead_rules.hpp): what a file means, what
// it refuses, and what the policy decides for a referral.
#include <algorithm>

#include <catch2/catch.hpp>

#include "connectors/activity_count.hpp"
#include "daemon/mapping/lead_rules.hpp"
#include "daemon/util/time.hpp"
#include "tests/unit/mapping_file.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

const std::string kStatus =
    "  - name: status\n    pc: [status, substatus]\n    crm: Status\n    owner: crm\n    values:\n"
    "      - { pc: [New, Pending], crm: Open }\n"
    "      - { pc: [Active, Accepted], crm: Working }\n"
    "      - { pc: [Closed, Declined], crm: Declined }\n";

std::string with_policy(const std::string& policy, const std::string& status = kStatus) {
  return testing::kHead + policy + testing::kField + status;
}

json lead(const std::string& country, double value, const std::string& status = "New") {
  return {{"_direction", "incoming"}, {"status", status}, {"substatus", status == "New" ? "Pending" : "Accepted"},
          {"customerProfile", {{"address", {{"country", country}}}}}, {"details", {{"dealValue", value}}}};
}

const std::string kWhenPolicy =
    "accept:\n  when: { pc.details.dealValue: {\">=\": 10000} }\n"
    "decline:\n  when: { pc.customerProfile.address.country: [RU, BY] }\n  reason: Outside our regions\n";

}  // namespace

TEST_CASE("lead rules: no accept or decline keeps today's behaviour (manual)") {
  testing::MappingFile f;
  CHECK(f.load(with_policy("")).leads == nullptr);
  auto m = f.load(with_policy("accept: manual\n"));
  REQUIRE(m.leads);
  CHECK_FALSE(m.leads->decides());
  CHECK(mapping::decide_lead(*m.leads, lead("US", 1), nullptr, TimePoint{}).kind == mapping::LeadDecision::Kind::none);
}

TEST_CASE("lead rules: accept auto accepts every incoming New lead and nothing else") {
  testing::MappingFile f;
  auto m = f.load(with_policy("accept: auto\n"));
  auto d = mapping::decide_lead(*m.leads, lead("US", 1), nullptr, TimePoint{});
  CHECK(d.kind == mapping::LeadDecision::Kind::accept);
  REQUIRE(d.changes.size() == 2);
  CHECK(d.changes[0].path == "status");
  CHECK(d.changes[0].value == "Active");
  CHECK(d.changes[1].value == "Accepted");
  CHECK(d.reason == "accept: auto");
  // Already accepted, closed, or a referral of our own: never decided on.
  CHECK(mapping::decide_lead(*m.leads, lead("US", 1, "Active"), nullptr, TimePoint{}).kind ==
        mapping::LeadDecision::Kind::none);
  auto closed = lead("US", 1, "Closed");
  closed["substatus"] = "Declined";
  CHECK(mapping::decide_lead(*m.leads, closed, nullptr, TimePoint{}).kind == mapping::LeadDecision::Kind::none);
  auto outgoing = lead("US", 1);
  outgoing["_direction"] = "outgoing";
  CHECK(mapping::decide_lead(*m.leads, outgoing, nullptr, TimePoint{}).kind == mapping::LeadDecision::Kind::none);
}

TEST_CASE("lead rules: a when policy accepts by its condition and the decline, checked first, sends its reason") {
  testing::MappingFile f;
  auto m = f.load(with_policy(kWhenPolicy));
  CHECK(mapping::decide_lead(*m.leads, lead("US", 50000), nullptr, TimePoint{}).kind == mapping::LeadDecision::Kind::accept);
  CHECK(mapping::decide_lead(*m.leads, lead("US", 500), nullptr, TimePoint{}).kind == mapping::LeadDecision::Kind::none);
  auto declined = mapping::decide_lead(*m.leads, lead("RU", 50000), nullptr, TimePoint{});
  CHECK(declined.kind == mapping::LeadDecision::Kind::decline);
  REQUIRE(declined.changes.size() == 3);
  CHECK(declined.changes[0].value == "Closed");
  CHECK(declined.changes[1].value == "Declined");
  CHECK(declined.changes[2].path == "statusReason");
  CHECK(declined.changes[2].value == "Outside our regions");
  CHECK_THAT(declined.reason, Catch::Contains("Outside our regions"));
  CHECK_THAT(declined.reason, Catch::Contains("pc.customerProfile.address.country"));
}

TEST_CASE("lead rules: a when condition on the referral's age reads Partner Center's clock") {
  testing::MappingFile f;
  auto m = f.load(with_policy("accept:\n  when: { pc.createdDateTime: {older_than: 2d} }\n"));
  auto referral = lead("US", 1);
  referral["createdDateTime"] = "2026-03-01T00:00:00Z";
  auto created = parse_iso8601("2026-03-01T00:00:00Z").value();
  CHECK(mapping::decide_lead(*m.leads, referral, nullptr, created + std::chrono::hours(24)).kind ==
        mapping::LeadDecision::Kind::none);
  CHECK(mapping::decide_lead(*m.leads, referral, nullptr, created + std::chrono::hours(72)).kind ==
        mapping::LeadDecision::Kind::accept);
}

TEST_CASE("lead rules: a policy the file cannot carry out is refused with file, line and key") {
  testing::MappingFile f;
  CHECK_THAT(f.error_of(with_policy("accept: always\n")),
             Catch::StartsWith(f.path + ":6: accept: expected manual, auto or {when: ...}, got 'always'"));
  CHECK_THAT(f.error_of(with_policy("decline:\n  when: { pc.status: New }\n")),
             Catch::StartsWith(f.path + ":7: decline.reason: missing key"));
  CHECK_THAT(f.error_of(with_policy("decline:\n  when: { pc.status: New }\n  reason: \"\"\n")),
             Catch::StartsWith(f.path + ":8: decline.reason: must not be empty"));
  CHECK_THAT(f.error_of(with_policy("accept:\n  when: { pc.status: New }\n  then: x\n")),
             Catch::StartsWith(f.path + ":8: accept.then: unknown key"));
  // The status value map has no CRM value for a declined referral: the CRM would keep saying New.
  std::string no_declined =
      "  - name: status\n    pc: [status, substatus]\n    crm: Status\n    values:\n"
      "      - { pc: [New, Pending], crm: Open }\n      - { pc: [Active, Accepted], crm: Working }\n";
  CHECK(f.error_of(with_policy("accept: auto\n", no_declined)).empty());
  CHECK_THAT(f.error_of(with_policy("decline:\n  when: { pc.status: New }\n  reason: No\n", no_declined)),
             Catch::StartsWith(f.path + ":7: decline: the status field 'status' has no value-map entry that writes "
                                        "[\"Closed\",\"Declined\"] to the CRM"));
}

TEST_CASE("lead rules: stale progress: activities pulls the connector's count of completed activities") {
  testing::MappingFile f;
  const std::string lost = kStatus + "      - { pc: [Closed, Lost], crm: Lost }\n";
  auto m = f.load(with_policy("stale:\n  after: 8w\n  touches: 2\n  reason: x\n  progress: activities\n", lost));
  REQUIRE(m.leads);
  REQUIRE(m.leads->stale);
  CHECK(m.leads->stale->progress == mapping::StaleRules::Progress::activities);
  CHECK(m.leads->stale->touches == 2);
  auto spec = m.crm_spec();
  CHECK(std::find(spec.fields.begin(), spec.fields.end(), connectors::kCompletedActivitiesField) != spec.fields.end());
}

TEST_CASE("lead rules: stale reads weeks, defaults warn_before and touches, and pulls the touch counter") {
  testing::MappingFile f;
  const std::string lost = kStatus + "      - { pc: [Closed, Lost], crm: Lost }\n";
  auto m = f.load(with_policy("stale:\n  after: 8w\n  reason: No response\n  progress: field:Touches__c\n", lost));
  REQUIRE(m.leads);
  REQUIRE(m.leads->stale);
  const auto& s = *m.leads->stale;
  CHECK(s.after == std::chrono::hours(8 * 7 * 24));
  CHECK(s.warn_before == std::chrono::hours(7 * 24));
  CHECK(s.touches == 3);
  CHECK(s.progress == mapping::StaleRules::Progress::field);
  CHECK(s.touch_field == "Touches__c");
  auto spec = m.crm_spec();
  CHECK(std::find(spec.fields.begin(), spec.fields.end(), "Touches__c") != spec.fields.end());
  // The counter as a number or as digits; anything else counts no touch.
  CHECK(mapping::touches_of(s, {{"Touches__c", 4}}) == 4);
  CHECK(mapping::touches_of(s, {{"Touches__c", "3"}}) == 3);
  CHECK(mapping::touches_of(s, {{"Touches__c", "three"}}) == 0);
  CHECK(mapping::touches_of(s, {{"Touches__c", nullptr}}) == 0);
  auto status_only = f.load(with_policy("stale:\n  after: 6w\n  reason: Gone quiet\n", lost));
  CHECK(status_only.leads->stale->progress == mapping::StaleRules::Progress::status);
  CHECK(status_only.leads->stale->touches == 0);
}

TEST_CASE("lead rules: a stale close the file cannot carry out is refused with file, line and key") {
  testing::MappingFile f;
  const std::string lost = kStatus + "      - { pc: [Closed, Lost], crm: Lost }\n";
  CHECK_THAT(f.error_of(with_policy("stale:\n  after: 8w\n  reason: No response\n")),
             Catch::StartsWith(f.path + ":7: stale: the status field 'status' has no value-map entry that writes "
                                        "[\"Closed\",\"Lost\"] to the CRM"));
  CHECK_THAT(f.error_of(with_policy("stale:\n  after: 8w\n  reason: x\n  warn_before: 8w\n", lost)),
             Catch::StartsWith(f.path + ":9: stale.warn_before: must be shorter than `after`"));
  CHECK_THAT(f.error_of(with_policy("stale:\n  after: 8w\n  reason: x\n  progress: emails\n", lost)),
             Catch::StartsWith(f.path + ":9: stale.progress: expected status, activities or field:"));
  CHECK_THAT(f.error_of(with_policy("stale:\n  after: 8w\n  reason: x\n  touches: 3\n", lost)),
             Catch::StartsWith(f.path + ":9: stale.touches: counts touches, which `progress: status` does not"));
  CHECK_THAT(f.error_of(with_policy("stale:\n  after: 8w\n", lost)),
             Catch::StartsWith(f.path + ":7: stale.reason: missing key"));
  CHECK_THAT(f.error_of(with_policy("stale:\n  after: 2h\n  reason: x\n", lost)),
             Catch::Contains(":7: stale.after:"));
}

TEST_CASE("lead rules: assign routes a new lead to the first matching owner, written on create") {
  testing::MappingFile f;
  auto m = f.load(with_policy("assign:\n  field: OwnerId\n  rules:\n"
                              "    - when: { pc.customerProfile.address.country: [DE, AT, CH] }\n      owner: 00GDACH\n"
                              "    - when: { pc.details.dealValue: {\">=\": 100000} }\n      owner: 00GENTERPRISE\n"
                              "    - owner: 005INSIDE\n"));
  auto owner_of = [&](const json& referral) {
    for (const auto& c : m.crm_create_request(referral).fields)
      if (c.path == "OwnerId") return c.value;
    return json();
  };
  CHECK(owner_of(lead("AT", 500000)) == "00GDACH");  // the first rule that holds
  CHECK(owner_of(lead("US", 500000)) == "00GENTERPRISE");
  CHECK(owner_of(lead("US", 10)) == "005INSIDE");
  auto no_default = f.load(with_policy("assign:\n  field: OwnerId\n  rules:\n"
                                       "    - when: { pc.customerProfile.address.country: DE }\n      owner: 00GDACH\n"));
  CHECK(no_default.crm_create_request(lead("US", 10)).fields.size() ==
        m.crm_create_request(lead("US", 10)).fields.size() - 1);  // no owner: the CRM's own assignment
}

TEST_CASE("lead rules: an assignment the file cannot carry out is refused with file, line and key") {
  testing::MappingFile f;
  CHECK_THAT(f.error_of(with_policy("assign:\n  field: OwnerId\n  rules:\n    - when: { crm.Country: DE }\n      owner: x\n")),
             Catch::Contains(":9: assign.rules[0].when") || Catch::Contains(":9: assign.rules.when") ||
                 Catch::Contains("a lead is assigned when its CRM record is created"));
  CHECK_THAT(f.error_of(with_policy("assign:\n  field: OwnerId\n  rules: []\n")),
             Catch::StartsWith(f.path + ":8: assign.rules: must list at least one"));
  CHECK_THAT(f.error_of(with_policy("assign:\n  field: OwnerId\n  rules:\n    - when: { pc.status: New }\n")),
             Catch::Contains("owner: missing key"));
}
