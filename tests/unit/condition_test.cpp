// The condition language of mapping files (`select:`, rules' `when:`): every operator, the
// combinators, an absent side, hostile remote values, dates and ages against an injected now, the
// load errors (file, line, key), and `select:` written as before conditions existed.
#include <catch2/catch.hpp>

#include "daemon/mapping/condition.hpp"
#include "daemon/mapping/mapping.hpp"
#include "daemon/util/time.hpp"
#include "daemon/util/yaml_reader.hpp"
#include "tests/unit/mapping_file.hpp"

using namespace cosync;
using mapping::Condition;
using mapping::ConditionInput;
using mapping::ConditionScope;

namespace {

const ConditionScope kBothSides{};

// `text` is the condition map itself (the value of a `when:`), read from a file named c.yaml.
Condition condition(const std::string& text, const ConditionScope& scope = kBothSides) {
  return mapping::load_condition(YamlNode::load_string("when:\n" + text, "c.yaml").get("when"), scope);
}

std::string error_of(const std::string& text, const ConditionScope& scope = kBothSides) {
  try {
    condition(text, scope);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TimePoint at(const char* iso) { return *parse_iso8601(iso); }

const nlohmann::json kReferral = nlohmann::json::parse(R"({
  "status": "New", "substatus": "Pending", "type": "Shared", "_kind": "co_sell_opportunity",
  "createdDateTime": "2026-11-20T09:00:00Z", "consent": {"consentToContact": true},
  "details": {"dealValue": 60000, "closingDateTime": "2026-12-31T00:00:00Z", "notes": ""},
  "customerProfile": {"name": "Contoso", "team": [{"email": ""}, {"email": "jane@contoso.com"}]}})");
const nlohmann::json kRecord = nlohmann::json::parse(
    R"({"StageName": "Closed Won", "Probability": 90, "CloseDate": "2026-03-31", "IsClosed": true})");
const TimePoint kNow = at("2026-12-07T10:00:00Z");

bool on(const Condition& c, const nlohmann::json* pc = &kReferral, const nlohmann::json* crm = &kRecord,
        TimePoint now = kNow) {
  return c.evaluate(ConditionInput{pc, crm, now});
}

}  // namespace

TEST_CASE("condition: equality reads strings, numbers and booleans as the YAML writes them") {
  CHECK(on(condition("  pc.status: New")));
  CHECK_FALSE(on(condition("  pc.status: new")));  // exact, as select always was
  CHECK(on(condition("  crm.StageName: Closed Won")));
  CHECK(on(condition("  pc.details.dealValue: 60000")));
  CHECK(on(condition("  pc.details.dealValue: 60000.0")));
  CHECK(on(condition("  crm.IsClosed: true")));
  CHECK_FALSE(on(condition("  crm.IsClosed: false")));
  CHECK(on(condition("  pc.consent.consentToContact: true")));
  CHECK_FALSE(on(condition("  pc.details.dealValue: sixty")));
}

TEST_CASE("condition: in lists, as a YAML list or {in: [...]}") {
  CHECK(on(condition("  pc.status: [New, Active]")));
  CHECK_FALSE(on(condition("  pc.status: [Active, Closed]")));
  CHECK(on(condition("  pc.status: {in: [Active, New]}")));
  CHECK(on(condition("  crm.Probability: {in: [10, 90]}")));
  CHECK_FALSE(on(condition("  crm.Probability: {in: [10, 50]}")));
}

TEST_CASE("condition: numeric comparisons, each bound on both sides of the value") {
  CHECK(on(condition(R"(  pc.details.dealValue: {">=": 60000})")));
  CHECK_FALSE(on(condition(R"(  pc.details.dealValue: {">": 60000})")));
  CHECK(on(condition(R"(  pc.details.dealValue: {">": 59999.5})")));
  CHECK(on(condition(R"(  pc.details.dealValue: {"<=": 60000})")));
  CHECK_FALSE(on(condition(R"(  pc.details.dealValue: {"<": 60000})")));
  CHECK(on(condition(R"(  pc.details.dealValue: {"<": 1e5})")));
  // Several operators on one path all hold: a range.
  CHECK(on(condition(R"(  crm.Probability: {">=": 50, "<": 100})")));
  CHECK_FALSE(on(condition(R"(  crm.Probability: {">=": 50, "<": 90})")));
}

TEST_CASE("condition: dates compare as time points, timestamps or dates alone") {
  CHECK(on(condition(R"(  pc.details.closingDateTime: {"<": 2027-01-01})")));
  CHECK_FALSE(on(condition(R"(  pc.details.closingDateTime: {"<": 2026-12-31})")));
  CHECK(on(condition(R"(  pc.details.closingDateTime: {"<=": 2026-12-31})")));  // midnight UTC both
  CHECK(on(condition(R"(  pc.details.closingDateTime: {">": "2026-12-31T01:00:00+02:00"})")));
  CHECK_FALSE(on(condition(R"(  pc.details.closingDateTime: {">": "2026-12-30T23:00:00-02:00"})")));
  CHECK(on(condition(R"(  crm.CloseDate: {"<": 2026-04-01T00:00:00Z})")));  // a Salesforce date field
  CHECK_FALSE(on(condition(R"(  crm.CloseDate: {">=": 2026-04-01})")));
  nlohmann::json odd = {{"CloseDate", "next week"}};
  CHECK_FALSE(on(condition(R"(  crm.CloseDate: {"<": 2030-01-01})"), &kReferral, &odd));
}

TEST_CASE("condition: older_than and newer_than measure from the injected now") {
  auto older = condition("  pc.createdDateTime: {older_than: 14d}");
  auto newer = condition("  pc.createdDateTime: {newer_than: 14d}");
  // Created 2026-11-20T09:00Z: 14 days later is 2026-12-04T09:00Z.
  CHECK_FALSE(on(older, &kReferral, &kRecord, at("2026-12-04T08:59:59Z")));
  CHECK(on(newer, &kReferral, &kRecord, at("2026-12-04T08:59:59Z")));
  CHECK(on(older, &kReferral, &kRecord, at("2026-12-04T09:00:01Z")));
  CHECK_FALSE(on(newer, &kReferral, &kRecord, at("2026-12-04T09:00:01Z")));
  // At exactly 14 days one is true and the other false: together they cover every instant.
  CHECK(on(older, &kReferral, &kRecord, at("2026-12-04T09:00:00Z")));
  CHECK_FALSE(on(newer, &kReferral, &kRecord, at("2026-12-04T09:00:00Z")));
  CHECK(on(condition("  pc.createdDateTime: {older_than: 30m}")));
  CHECK_FALSE(on(condition("  pc.createdDateTime: {older_than: 480h}")));  // 20 days: not yet
  CHECK(on(condition("  pc.createdDateTime: {newer_than: 480h}")));
  // A timestamp in the future is newer than anything, older than nothing.
  CHECK(on(newer, &kReferral, &kRecord, at("2026-01-01T00:00:00Z")));
  CHECK_FALSE(on(older, &kReferral, &kRecord, at("2026-01-01T00:00:00Z")));
  // Far-apart time points do not overflow.
  CHECK(on(older, &kReferral, &kRecord, TimePoint::max()));
  CHECK_FALSE(on(older, &kReferral, &kRecord, TimePoint::min()));
}

TEST_CASE("condition: exists, with empty text, lists and objects as no value") {
  CHECK(on(condition("  crm.Probability: {exists: true}")));
  CHECK_FALSE(on(condition("  crm.Amount: {exists: true}")));
  CHECK(on(condition("  crm.Amount: {exists: false}")));
  CHECK(on(condition("  pc.details.notes: {exists: false}")));  // ""
  nlohmann::json empty = {{"tags", nlohmann::json::array()}, {"details", nlohmann::json::object()}};
  CHECK(on(condition("  pc.tags: {exists: false}"), &empty));
  CHECK(on(condition("  pc.details: {exists: false}"), &empty));
  CHECK(on(condition("  pc.details: {exists: true}")));
}

TEST_CASE("condition: a path into an array reads its first non-empty value") {
  CHECK(on(condition("  pc.customerProfile.team.email: jane@contoso.com")));
  CHECK(on(condition("  pc.customerProfile.team.email: {exists: true}")));
}

TEST_CASE("condition: and, or, not, and a map of several keys as and") {
  CHECK(on(condition("  pc.status: New\n  pc.type: Shared")));
  CHECK_FALSE(on(condition("  pc.status: New\n  pc.type: Independent")));
  CHECK(on(condition("  or:\n    - pc.type: Independent\n    - pc.status: New")));
  CHECK_FALSE(on(condition("  or:\n    - pc.type: Independent\n    - pc.status: Closed")));
  CHECK(on(condition("  and:\n    - pc.type: Shared\n    - crm.Probability: {\">\": 50}")));
  CHECK_FALSE(on(condition("  and:\n    - pc.type: Shared\n    - crm.Probability: {\">\": 95}")));
  CHECK(on(condition("  not: {pc.status: Closed}")));
  CHECK_FALSE(on(condition("  not: {pc.status: New, pc.type: Shared}")));
  CHECK(on(condition("  not: {pc.status: New, pc.type: Independent}")));  // not (a and b)
  CHECK(on(condition("  {}")));                                            // nothing to check
  CHECK(condition("  {}").always_true());
  CHECK_FALSE(condition("  pc.status: New").always_true());
}

TEST_CASE("condition: an absent side reads as every path missing") {
  // No CRM record yet: a leaf on it is false, exists: false is true, and so is its negation.
  CHECK_FALSE(on(condition("  crm.StageName: Closed Won"), &kReferral, nullptr));
  CHECK_FALSE(on(condition("  crm.StageName: {exists: true}"), &kReferral, nullptr));
  CHECK(on(condition("  crm.StageName: {exists: false}"), &kReferral, nullptr));
  CHECK(on(condition("  not: {crm.StageName: Closed Won}"), &kReferral, nullptr));
  CHECK_FALSE(on(condition("  pc.status: New"), nullptr, &kRecord));
  CHECK(on(condition("  pc.status: {exists: false}"), nullptr, &kRecord));
  CHECK(on(condition("  or:\n    - crm.StageName: Closed Won\n    - pc.status: New"), &kReferral, nullptr));
}

TEST_CASE("condition: hostile remote values of the wrong type never match and never throw") {
  auto conditions = {condition("  pc.status: New"), condition("  pc.status: [New, 1, true]"),
                     condition(R"(  pc.details.dealValue: {">": 1})"),
                     condition(R"(  pc.details.closingDateTime: {"<": 2030-01-01})"),
                     condition("  pc.createdDateTime: {older_than: 1d}"),
                     condition("  pc.customerProfile.team.email: x"), condition("  not: {pc.status: New}")};
  const auto hostile = nlohmann::json::parse(R"([
    null, 1, "text", [], {}, [1, [2]], {"status": ["New"]}, {"status": {"New": 1}}, {"status": null},
    {"details": "x"}, {"details": {"dealValue": "60000"}}, {"details": {"dealValue": [60000]}},
    {"details": {"dealValue": true}}, {"details": {"closingDateTime": 20261231}},
    {"details": {"closingDateTime": "2026-13-45T99:00:00Z"}}, {"createdDateTime": "9999-99-99"},
    {"createdDateTime": "1600-01-01T00:00:00Z"}, {"customerProfile": {"team": [null, 3, [], {"email": 4}]}},
    {"customerProfile": {"team": "jane"}}, {"details": {"dealValue": 1e308}}])");
  int matched_wrong_type = 0;
  for (const auto& c : conditions) {
    for (const auto& record : hostile) {
      bool result = false;
      CHECK_NOTHROW(result = c.evaluate({&record, &record, kNow}));
      if (c.describe() != "not (pc.status = New)" && &record != &hostile[19] && result) {
        FAIL_CHECK(c.describe() << " matched " << record.dump());
        ++matched_wrong_type;
      }
    }
  }
  CHECK(matched_wrong_type == 0);
  CHECK(on(condition(R"(  pc.details.dealValue: {">": 1})"), &hostile[19]));  // a huge number is a number
  // A number sent as text is text: equal to the same text, but not a number to compare.
  CHECK(on(condition("  pc.details.dealValue: 60000"), &hostile[10]));
  CHECK_FALSE(on(condition(R"(  pc.details.dealValue: {">=": 1})"), &hostile[10]));
}

TEST_CASE("condition: describe gives one line for plan output and logs") {
  CHECK(condition("  pc.status: [New, Active]\n  pc.details.dealValue: {\">=\": 50000}").describe() ==
        "pc.status in [New, Active] and pc.details.dealValue >= 50000");
  CHECK(condition("  or:\n    - crm.StageName: Closed Won\n    - pc.createdDateTime: {older_than: 14d}\n"
                  "  not: {crm.Probability: {exists: true}, pc.status: New}")
            .describe() ==
        "(crm.StageName = Closed Won or pc.createdDateTime older than 14d) and "
        "not (crm.Probability exists and pc.status = New)");
  CHECK(condition("  crm.Amount: {exists: false, newer_than: 12h}").describe() ==
        "crm.Amount does not exist and crm.Amount newer than 12h");
  CHECK(condition("  {}").describe() == "always");
  CHECK(Condition().describe() == "always");
  CHECK(Condition().evaluate({}));
}

TEST_CASE("condition: each kind of mistake names file, line and key") {
  CHECK_THAT(error_of("  pc.status: {equals: New}"),
             Catch::StartsWith("c.yaml:2: when.pc.status.equals: unknown operator 'equals' (expected one of: in, >"));
  CHECK_THAT(error_of("  xor: [{pc.status: New}]"),
             Catch::StartsWith("c.yaml:2: when.xor: 'xor' is neither and, or, not nor a path starting with pc. or crm."));
  CHECK_THAT(error_of("  status: New"), Catch::StartsWith("c.yaml:2: when.status: 'status' is neither and, or"));
  CHECK_THAT(error_of("  pc.stauts: New"),
             Catch::StartsWith("c.yaml:2: when.pc.stauts: 'pc.stauts' is not a field of a Partner Center referral"));
  CHECK_THAT(error_of("  crm.Stage-Name: Won"), Catch::StartsWith("c.yaml:2: when.crm.Stage-Name: 'crm.Stage-Name' is not a CRM field"));
  CHECK_THAT(error_of("  crm.Account.Name: Contoso"), Catch::Contains("is not a CRM field"));
  // Wrong value types.
  CHECK_THAT(error_of("  pc.details.dealValue:\n    \">=\": [1, 2]"),
             Catch::StartsWith("c.yaml:3: when.pc.details.dealValue.>=: expected a single value"));
  CHECK_THAT(error_of("  pc.details.dealValue: {\">=\": lots}"),
             Catch::StartsWith("c.yaml:2: when.pc.details.dealValue.>=: expected a number or an ISO 8601 date"));
  CHECK_THAT(error_of("  pc.status: {in: New}"), Catch::StartsWith("c.yaml:2: when.pc.status.in: expected a list of values"));
  CHECK_THAT(error_of("  pc.status: []"), Catch::StartsWith("c.yaml:2: when.pc.status: must not be empty"));
  CHECK_THAT(error_of("  pc.status: [New, \"\"]"), Catch::StartsWith("c.yaml:2: when.pc.status[1]: must not be empty"));
  CHECK_THAT(error_of("  pc.status: [[New]]"), Catch::StartsWith("c.yaml:2: when.pc.status[0]: expected a single value"));
  CHECK_THAT(error_of("  pc.status:\n  pc.type: Shared"), Catch::Contains("when.pc.status: expected a value, a list of values or a map"));
  CHECK_THAT(error_of("  pc.status: {}"), Catch::StartsWith("c.yaml:2: when.pc.status: expected at least one operator"));
  CHECK_THAT(error_of("  crm.Amount: {exists: maybe}"),
             Catch::StartsWith("c.yaml:2: when.crm.Amount.exists: expected true or false, got 'maybe'"));
  CHECK_THAT(error_of("  and: {pc.status: New}"), Catch::StartsWith("c.yaml:2: when.and: expected a list of conditions"));
  CHECK_THAT(error_of("  or: []"), Catch::StartsWith("c.yaml:2: when.or: must list at least one condition"));
  CHECK_THAT(error_of("  or:\n    - New"), Catch::StartsWith("c.yaml:3: when.or[0]: expected a mapping of keys to values"));
  CHECK_THAT(error_of("  not: [{pc.status: New}]"), Catch::StartsWith("c.yaml:2: when.not: expected a mapping"));
  // Bad durations: no unit, an unknown unit, zero, absurdly long.
  CHECK_THAT(error_of("  pc.createdDateTime: {older_than: 14}"),
             Catch::StartsWith("c.yaml:2: when.pc.createdDateTime.older_than: expected a duration with its unit such as 30m"));
  CHECK_THAT(error_of("  pc.createdDateTime: {older_than: 2y}"),
             Catch::StartsWith("c.yaml:2: when.pc.createdDateTime.older_than: expected a duration such as 30s"));
  CHECK_THAT(error_of("  pc.createdDateTime:\n    newer_than: 0d"),
             Catch::StartsWith("c.yaml:3: when.pc.createdDateTime.newer_than: must be between 1s and 3650d"));
  CHECK_THAT(error_of("  pc.createdDateTime: {newer_than: 99999d}"), Catch::Contains("must be between 1s and 3650d"));
  // A side the context does not allow, with the caller's reason.
  ConditionScope pc_only{true, false, false, "nothing on the CRM side yet"};
  CHECK_THAT(error_of("  pc.status: New\n  crm.StageName: Won", pc_only),
             Catch::StartsWith("c.yaml:3: when.crm.StageName: 'crm.StageName': crm. paths cannot be used here "
                               "(nothing on the CRM side yet)"));
  ConditionScope crm_only{false, true, false, ""};
  CHECK_THAT(error_of("  or:\n    - pc.status: New", crm_only),
             Catch::StartsWith("c.yaml:3: when.or[0].pc.status: 'pc.status': pc. paths cannot be used here"));
}

TEST_CASE("condition: nesting has a limit, so no file can exhaust the stack") {
  std::string deep = "  ";
  for (int i = 0; i < 17; ++i) deep += "not: {";
  deep += "pc.status: New";
  for (int i = 0; i < 17; ++i) deep += "}";
  CHECK_THAT(error_of(deep), Catch::Contains("conditions nested deeper than 16 levels"));
  std::string fine = "  ";
  for (int i = 0; i < 16; ++i) fine += "not: {";
  fine += "pc.status: New";
  for (int i = 0; i < 16; ++i) fine += "}";
  CHECK(on(condition(fine)));  // an even number of nots
}

namespace {

// A Lead mapping whose select is `select` (starting at line 6).
struct SelectFile : testing::MappingFile {
  mapping::Mapping load(const std::string& select) { return MappingFile::load(testing::kHead + select + testing::kField); }
  std::string error_of(const std::string& select) { return MappingFile::error_of(testing::kHead + select + testing::kField); }
};

}  // namespace

TEST_CASE("condition: select written as before still selects exactly the same referrals") {
  SelectFile f;
  auto m = f.load("select:\n  _kind: co_sell_opportunity\n  _direction: incoming\n  status: [New, Active]\n");
  CHECK(m.select.describe() == "pc._kind = co_sell_opportunity and pc._direction = incoming and pc.status in [New, Active]");
  nlohmann::json referral = {{"_kind", "co_sell_opportunity"}, {"_direction", "incoming"}, {"status", "Active"}};
  CHECK(m.selects(referral, kNow));
  referral["status"] = "Closed";
  CHECK_FALSE(m.selects(referral, kNow));
  referral["status"] = "Active";
  referral["_kind"] = "marketplace_lead";
  CHECK_FALSE(m.selects(referral, kNow));
  referral.erase("_kind");
  CHECK_FALSE(m.selects(referral, kNow));
  // No select: every referral.
  CHECK(f.load("").selects(nlohmann::json::object(), kNow));
  CHECK(f.load("").select.always_true());
  // The errors of before, word for word.
  CHECK_THAT(f.error_of("select:\n  stauts: [New]\n"),
             Catch::StartsWith(f.path + ":7: select.stauts: 'stauts' is not a field of a Partner Center referral"));
  CHECK_THAT(f.error_of("select:\n  status: []\n"), Catch::StartsWith(f.path + ":7: select.status: must not be empty"));
}

TEST_CASE("condition: select takes the whole language on the referral, and refuses crm. paths") {
  SelectFile f;
  auto m = f.load("select:\n  or:\n    - pc.details.dealValue: {\">=\": 50000}\n"
                  "    - and: [{status: New}, {pc.createdDateTime: {older_than: 14d}}]\n");
  nlohmann::json big = {{"details", {{"dealValue", 75000}}}, {"status", "Active"}};
  nlohmann::json old_new = {{"status", "New"}, {"createdDateTime", "2026-11-01T00:00:00Z"}};
  CHECK(m.selects(big, kNow));
  CHECK(m.selects(old_new, kNow));
  CHECK_FALSE(m.selects(old_new, at("2026-11-10T00:00:00Z")));  // the now given is the one used
  CHECK_FALSE(m.selects(nlohmann::json{{"status", "New"}}, kNow));
  CHECK_THAT(f.error_of("select:\n  pc.status: New\n  crm.StageName: Prospecting\n"),
             Catch::StartsWith(f.path + ":8: select.crm.StageName: 'crm.StageName': crm. paths cannot be used here "
                               "(a referral is selected before any CRM record exists)"));
  CHECK_THAT(f.error_of("select:\n  pc.createdDateTime: {older_than: soon}\n"),
             Catch::StartsWith(f.path + ":7: select.pc.createdDateTime.older_than: expected a duration"));
}

TEST_CASE("condition: the example mappings load with their selects") {
  const std::string dir = std::string(COSYNC_SOURCE_DIR) + "/config/examples/mappings/";
  for (std::string name : {"pc-sf-leads.yaml", "pc-sf-opportunities.yaml", "pc-dataverse-leads.yaml",
                           "pc-dataverse-opportunities.yaml"}) {
    auto m = mapping::load_mapping(dir + name);
    CHECK_FALSE(m.select.always_true());
    CHECK(m.select.describe().find("status in [New, Active]") != std::string::npos);
  }
}

TEST_CASE("condition: the README's rule examples mean what the README says") {
  auto stale_lead = condition("  pc._kind: [marketplace_lead, qualified_lead]\n  pc.status: New\n"
                              "  pc.createdDateTime: {older_than: 14d}");
  nlohmann::json lead = {{"_kind", "qualified_lead"}, {"status", "New"}, {"createdDateTime", "2026-11-20T09:00:00Z"}};
  CHECK(on(stale_lead, &lead, nullptr, at("2026-12-05T00:00:00Z")));
  CHECK_FALSE(on(stale_lead, &lead, nullptr, at("2026-12-01T00:00:00Z")));

  auto won_or_overdue = condition("  or:\n    - crm.StageName: Closed Won\n      not: {pc.status: Closed}\n"
                                  "    - crm.CloseDate: {older_than: 1d}\n      crm.Probability: {exists: false}");
  nlohmann::json open = {{"status", "Active"}};
  nlohmann::json closed = {{"status", "Closed"}};
  nlohmann::json won = {{"StageName", "Closed Won"}, {"Probability", 100}, {"CloseDate", "2027-01-01"}};
  nlohmann::json overdue = {{"StageName", "Prospecting"}, {"CloseDate", "2026-12-05"}};
  CHECK(on(won_or_overdue, &open, &won));
  CHECK_FALSE(on(won_or_overdue, &closed, &won));
  CHECK(on(won_or_overdue, &closed, &overdue));                                    // 2 days past
  CHECK_FALSE(on(won_or_overdue, &closed, &overdue, at("2026-12-05T12:00:00Z")));  // 12 h past
  CHECK_FALSE(on(won_or_overdue, &open, nullptr));                                 // no CRM record yet
}

TEST_CASE("condition: next_time_change says when an age condition flips, so a rule can wait for it") {
  auto c = condition("  or:\n    - pc.createdDateTime: {older_than: 14d}\n"
                     "    - crm.CloseDate: {newer_than: 2d}\n  pc.status: New");
  // Created 2026-11-20T09:00Z (flips 2026-12-04T09:00Z); CloseDate 2026-03-31 (flipped 2026-04-02).
  auto before = ConditionInput{&kReferral, &kRecord, at("2026-12-01T00:00:00Z")};
  REQUIRE(c.next_time_change(before));
  CHECK(*c.next_time_change(before) == at("2026-12-04T09:00:00Z"));
  CHECK_FALSE(c.evaluate(before));
  CHECK(c.evaluate({&kReferral, &kRecord, *c.next_time_change(before)}));  // true from that instant
  // Nothing left to flip: after both instants, without the sides that hold the times, without ages.
  CHECK_FALSE(c.next_time_change({&kReferral, &kRecord, at("2026-12-04T09:00:00Z")}));
  CHECK_FALSE(c.next_time_change({nullptr, nullptr, at("2026-01-01T00:00:00Z")}));
  CHECK(c.next_time_change({nullptr, &kRecord, at("2026-01-01T00:00:00Z")}) == at("2026-04-02T00:00:00Z"));
  CHECK(c.next_time_change({&kReferral, nullptr, at("2026-01-01T00:00:00Z")}) == at("2026-12-04T09:00:00Z"));
  CHECK_FALSE(condition("  pc.status: New").next_time_change(before));
  auto earliest = c.next_time_change({&kReferral, &kRecord, at("2026-03-30T00:00:00Z")});
  REQUIRE(earliest);
  CHECK(*earliest == at("2026-04-02T00:00:00Z"));  // the CRM leaf flips first
  // A time near the end of what a TimePoint holds does not overflow.
  nlohmann::json late = {{"createdDateTime", "2261-12-31T00:00:00Z"}};
  CHECK_FALSE(condition("  pc.createdDateTime: {older_than: 3650d}").next_time_change({&late, nullptr, kNow}));
}
