#include <catch2/catch.hpp>

#include "daemon/engine/merge.hpp"
#include "daemon/util/json_path.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

mapping::Mapping mapping_of(const std::string& yaml) {
  testing::TempDir dir;
  return mapping::load_mapping(dir.write("m.yaml", yaml));
}

mapping::Mapping test_mapping() {
  return mapping_of(R"(
name: m
crm: { connection: sf, object: Lead, link_field: Ref__c }
fields:
  - { name: company, pc: customerProfile.name, crm: Company, direction: to_crm }
  - { name: value, pc: details.dealValue, crm: AnnualRevenue, direction: both, owner: newest }
  - { name: notes, pc: details.notes, crm: Description, direction: both, owner: crm }
  - name: status
    pc: [status, substatus]
    crm: Status
    owner: pc
    values:
      - { pc: [New, Pending], crm: "Open" }
      - { pc: [Active, Accepted], crm: "Working" }
)");
}

json referral(std::string name, double value, std::string notes, std::string status, std::string substatus) {
  return {{"customerProfile", {{"name", name}}},
          {"details", {{"dealValue", value}, {"notes", notes}}},
          {"status", status},
          {"substatus", substatus}};
}

json lead(std::string company, double revenue, std::string description, std::string status) {
  return {{"Company", company}, {"AnnualRevenue", revenue}, {"Description", description}, {"Status", status}};
}

json shadow_of(std::string company, double value, std::string notes, json status) {
  return {{"company", company}, {"value", value}, {"notes", notes}, {"status", status}};
}

const engine::FieldWrite* find(const std::vector<engine::FieldWrite>& writes, const std::string& field) {
  for (const auto& w : writes)
    if (w.rule->name == field) return &w;
  return nullptr;
}

}  // namespace

TEST_CASE("merge: nothing changed on either side plans no write") {
  auto m = test_mapping();
  auto pc = referral("Contoso", 100, "n", "New", "Pending");
  auto crm = lead("Contoso", 100, "n", "Open");
  auto plan = engine::merge(m, {&pc, {}}, {&crm, {}}, shadow_of("Contoso", 100, "n", json{"New", "Pending"}));
  CHECK(plan.empty());
  CHECK(plan.conflicts.empty());
  CHECK(plan.agreed.size() == 4);
}

TEST_CASE("merge: a change on one side flows to the other") {
  auto m = test_mapping();
  auto shadow = shadow_of("Contoso", 100, "n", json{"New", "Pending"});
  auto pc = referral("Contoso", 100, "n", "New", "Pending");
  auto crm = lead("Contoso", 100, "n", "Working");
  auto plan = engine::merge(m, {&pc, {}}, {&crm, {}}, shadow);
  REQUIRE(plan.to_pc.size() == 1);
  CHECK(plan.to_pc[0].rule->name == "status");
  CHECK(plan.to_pc[0].value == json{"Active", "Accepted"});
  CHECK(plan.to_crm.empty());
  CHECK(m.pc_changes(*plan.to_pc[0].rule, plan.to_pc[0].value).size() == 2);

  auto pc2 = referral("Contoso", 250, "n", "New", "Pending");
  auto crm2 = lead("Contoso", 100, "n", "Open");
  auto plan2 = engine::merge(m, {&pc2, {}}, {&crm2, {}}, shadow);
  REQUIRE(plan2.to_crm.size() == 1);
  CHECK(plan2.to_crm[0].value == 250);
  CHECK(plan2.to_pc.empty());
}

TEST_CASE("merge: a side that was not pulled counts as unchanged") {
  auto m = test_mapping();
  auto shadow = shadow_of("Contoso", 100, "n", json{"New", "Pending"});
  auto crm = lead("Contoso", 100, "edited", "Open");
  auto plan = engine::merge(m, {nullptr, {}}, {&crm, {}}, shadow);
  REQUIRE(plan.to_pc.size() == 1);
  CHECK(plan.to_pc[0].rule->name == "notes");
  CHECK(plan.to_pc[0].value == "edited");
}

TEST_CASE("merge: conflicts follow the field's owner") {
  auto m = test_mapping();
  auto shadow = shadow_of("Contoso", 100, "n", json{"New", "Pending"});
  auto pc = referral("Contoso", 200, "pc notes", "New", "Pending");
  auto crm = lead("Contoso", 300, "crm notes", "Open");
  auto t0 = TimePoint{} + std::chrono::hours(1000);
  SECTION("owner crm wins notes, owner newest picks the later edit") {
    auto plan = engine::merge(m, {&pc, t0}, {&crm, t0 + std::chrono::seconds(5)}, shadow);
    REQUIRE(find(plan.to_pc, "notes"));
    CHECK(find(plan.to_pc, "notes")->value == "crm notes");
    REQUIRE(find(plan.to_pc, "value"));
    CHECK(find(plan.to_pc, "value")->value == 300);
    CHECK(plan.conflicts.size() == 2);
  }
  SECTION("newest: Partner Center edited last") {
    auto plan = engine::merge(m, {&pc, t0 + std::chrono::seconds(5)}, {&crm, t0}, shadow);
    REQUIRE(find(plan.to_crm, "value"));
    CHECK(find(plan.to_crm, "value")->value == 200);
  }
}

TEST_CASE("merge: one-way fields never flow back") {
  auto m = test_mapping();
  auto shadow = shadow_of("Contoso", 100, "n", json{"New", "Pending"});
  auto pc = referral("Contoso", 100, "n", "New", "Pending");
  auto crm = lead("Renamed in CRM", 100, "n", "Open");
  auto plan = engine::merge(m, {&pc, {}}, {&crm, {}}, shadow);
  CHECK(plan.empty());

  auto pc2 = referral("Contoso Ltd", 100, "n", "New", "Pending");
  auto plan2 = engine::merge(m, {&pc2, {}}, {&crm, {}}, shadow);
  REQUIRE(plan2.to_crm.size() == 1);
  CHECK(plan2.to_crm[0].value == "Contoso Ltd");
}

TEST_CASE("merge: a value outside the value map is reported and never written") {
  auto m = test_mapping();
  auto shadow = shadow_of("Contoso", 100, "n", json{"New", "Pending"});
  auto pc = referral("Contoso", 100, "n", "New", "Pending");
  auto crm = lead("Contoso", 100, "n", "Some custom status");
  auto plan = engine::merge(m, {&pc, {}}, {&crm, {}}, shadow);
  CHECK(plan.empty());
  REQUIRE(plan.notes.size() == 1);
  CHECK_THAT(plan.notes[0], Catch::Contains("Some custom status"));
}

TEST_CASE("merge: a new link (empty shadow) settles differences by owner") {
  auto m = test_mapping();
  auto pc = referral("Contoso", 100, "pc", "New", "Pending");
  auto crm = lead("Contoso", 100, "crm", "Open");
  auto plan = engine::merge(m, {&pc, {}}, {&crm, {}}, json::object());
  REQUIRE(plan.to_pc.size() == 1);
  CHECK(plan.to_pc[0].value == "crm");
  CHECK(plan.conflicts.empty());  // nothing to conflict with before the first sync
}

TEST_CASE("merge: empty strings and missing values are the same") {
  auto m = test_mapping();
  auto shadow = shadow_of("Contoso", 100, "n", json{"New", "Pending"});
  shadow["notes"] = nullptr;
  auto pc = referral("Contoso", 100, "", "New", "Pending");
  auto crm = lead("Contoso", 100, "", "Open");
  crm["Description"] = nullptr;
  CHECK(engine::merge(m, {&pc, {}}, {&crm, {}}, shadow).empty());
}

TEST_CASE("merge: before the first sync an empty value never wins over a real one") {
  auto m = test_mapping();
  auto pc = referral("Contoso", 100, "pc notes", "New", "Pending");
  auto crm = lead("Contoso", 100, "", "Open");
  crm["Description"] = nullptr;  // owner crm, but the CRM has nothing to say
  auto plan = engine::merge(m, {&pc, {}}, {&crm, {}}, json::object());
  REQUIRE(find(plan.to_crm, "notes"));
  CHECK(find(plan.to_crm, "notes")->value == "pc notes");
  CHECK(plan.to_pc.empty());
}

// ---- Transforms, cut text, one-way value-map entries and status pairs (issue 11, part 4) ----

namespace {

mapping::Mapping transform_mapping() {
  return mapping_of(R"(
name: m
crm: { connection: sf, object: Lead, link_field: Ref__c }
fields:
  - { name: closing, pc: details.closingDateTime, crm: CloseDate__c, transform: date }
  - { name: value, pc: details.dealValue, crm: AnnualRevenue, transform: number }
  - { name: notes, pc: details.notes, crm: Description }
  - name: status
    pc: [status, substatus]
    crm: Status
    values:
      - { pc: [New, Pending], crm: "Open - Not Contacted" }
      - { pc: [New, Received], crm: "Open - Not Contacted", direction: to_crm }
      - { pc: [New, Received], crm: "Open - Contacted", direction: to_pc }
      - { pc: [Active, Accepted], crm: "Working" }
      - { pc: [Active, Engaged], crm: "Working - Engaged" }
)");
}

json pc_referral(json closing, json value, json notes, std::string status, std::string substatus) {
  return {{"details", {{"closingDateTime", closing}, {"dealValue", value}, {"notes", notes}}},
          {"status", status},
          {"substatus", substatus}};
}

json crm_lead(json close_date, json revenue, json description, std::string status) {
  return {{"CloseDate__c", close_date}, {"AnnualRevenue", revenue}, {"Description", description}, {"Status", status}};
}

// What the engine does with a plan: the agreed values and what was written become the shadow,
// and each write lands on its side. Returns the number of fields written.
std::size_t apply(const mapping::Mapping& m, json& pc, json& crm, json& shadow) {
  auto plan = engine::merge(m, {&pc, {}}, {&crm, {}}, shadow);
  for (auto& [k, v] : plan.agreed.items()) shadow[k] = v;
  for (const auto& w : plan.to_pc) {
    for (auto& c : m.pc_changes(*w.rule, w.value)) json_set(pc, c.path, c.value);
    shadow[w.rule->name] = w.value;
  }
  for (const auto& w : plan.to_crm) {
    for (auto& c : m.crm_changes(*w.rule, w.value)) crm[c.path] = c.value;
    shadow[w.rule->name] = w.value;
  }
  return plan.to_pc.size() + plan.to_crm.size();
}

// Runs cycles until one writes nothing (at most `limit`); the number of cycles that wrote.
int cycles_until_quiet(const mapping::Mapping& m, json& pc, json& crm, json& shadow, int limit = 4) {
  for (int i = 0; i < limit; ++i)
    if (apply(m, pc, crm, shadow) == 0) return i;
  return limit;
}

}  // namespace

TEST_CASE("merge transforms: a PC timestamp and a CRM date, or 120000 and 120000.0, are one value") {
  auto m = transform_mapping();
  auto pc = pc_referral("2026-12-31T00:00:00Z", 120000, "n", "New", "Pending");
  auto crm = crm_lead("2026-12-31", 120000.0, "n", "Open - Not Contacted");
  SECTION("first sync and every later one write nothing") {
    json shadow = json::object();
    CHECK(engine::merge(m, {&pc, {}}, {&crm, {}}, shadow).empty());
    CHECK(cycles_until_quiet(m, pc, crm, shadow) == 0);
    CHECK(shadow["closing"] == "2026-12-31");
    CHECK(shadow["value"] == 120000);
  }
  SECTION("fractional seconds, offsets and numbers as text read alike") {
    pc["details"]["closingDateTime"] = "2026-12-31T00:00:00.0000000+01:00";
    crm["AnnualRevenue"] = "120000";
    CHECK(engine::merge(m, {&pc, {}}, {&crm, {}}, json::object()).empty());
  }
  SECTION("a CRM date change reaches Partner Center as a timestamp") {
    json shadow = json::object();
    CHECK(cycles_until_quiet(m, pc, crm, shadow) == 0);
    crm["CloseDate__c"] = "2027-01-15";
    auto plan = engine::merge(m, {&pc, {}}, {&crm, {}}, shadow);
    REQUIRE(plan.to_pc.size() == 1);
    auto changes = m.pc_changes(*plan.to_pc[0].rule, plan.to_pc[0].value);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].value == "2027-01-15T00:00:00Z");
    CHECK(cycles_until_quiet(m, pc, crm, shadow) == 1);
    CHECK(pc["details"]["closingDateTime"] == "2027-01-15T00:00:00Z");
  }
  SECTION("a value that is no date reads as no value and never throws") {
    for (json hostile : {json("tomorrow"), json(20261231), json("2026-02-30"), json("2026-12-31Tnoon"), json::array()}) {
      auto bad = pc;
      bad["details"]["closingDateTime"] = hostile;
      CHECK(m.canonical_from_pc(m.fields[0], bad) == json(nullptr));
    }
  }
}

TEST_CASE("merge truncation: text cut to the CRM field's length echoes neither way") {
  auto m = transform_mapping();
  m.fields[2].crm_max_length = 255;  // as the metadata check learns it from describe
  const std::string long_text(300, 'x');
  auto pc = pc_referral("2026-12-31T00:00:00Z", 100, long_text, "New", "Pending");
  auto crm = crm_lead("2026-12-31", 100, "short", "Open - Not Contacted");
  json shadow = json::object();
  shadow["notes"] = "short";

  auto plan = engine::merge(m, {&pc, {}}, {&crm, {}}, shadow);
  REQUIRE(plan.to_crm.size() == 1);
  CHECK(m.crm_changes(*plan.to_crm[0].rule, plan.to_crm[0].value)[0].value == std::string(255, 'x'));
  REQUIRE(plan.notes.size() == 1);
  CHECK(plan.notes[0] == "notes: 300 characters cut to 255, the length of Lead.Description");

  CHECK(cycles_until_quiet(m, pc, crm, shadow) == 1);  // the one write, then quiet
  CHECK(crm["Description"] == std::string(255, 'x'));
  CHECK(pc["details"]["notes"] == long_text);  // the cut text never flows back
  CHECK(engine::merge(m, {&pc, {}}, {&crm, {}}, shadow).notes.empty());

  SECTION("the same holds with an empty shadow (a new link, or a lost one)") {
    json fresh = json::object();
    CHECK(engine::merge(m, {&pc, {}}, {&crm, {}}, fresh).empty());
  }
  SECTION("an edit past the cut changes nothing the CRM can hold") {
    pc["details"]["notes"] = long_text + "more";
    CHECK(cycles_until_quiet(m, pc, crm, shadow) == 0);
  }
  SECTION("a CRM edit still flows to Partner Center") {
    crm["Description"] = "rewritten in the CRM";
    auto edit = engine::merge(m, {&pc, {}}, {&crm, {}}, shadow);
    REQUIRE(edit.to_pc.size() == 1);
    CHECK(edit.to_pc[0].value == "rewritten in the CRM");
    CHECK(cycles_until_quiet(m, pc, crm, shadow) == 1);
    CHECK(pc["details"]["notes"] == "rewritten in the CRM");
  }
}

TEST_CASE("merge truncation: `transform: truncate` with a length cuts what goes to both sides") {
  auto m = mapping_of(R"(
name: m
crm: { connection: sf, object: Lead, link_field: Ref__c }
fields:
  - { name: notes, pc: details.notes, crm: Description, owner: crm, transform: truncate, length: 10 }
)");
  json pc = {{"details", {{"notes", "short"}}}};
  json crm = {{"Description", "a CRM text longer than ten"}};
  json shadow = json::object();
  CHECK(cycles_until_quiet(m, pc, crm, shadow) == 1);
  CHECK(pc["details"]["notes"] == "a CRM text");
  CHECK(crm["Description"] == "a CRM text longer than ten");  // the fuller side is left alone
  CHECK(cycles_until_quiet(m, pc, crm, shadow) == 0);
}

TEST_CASE("merge value maps: a one-way entry's CRM value reads back without an echo") {
  auto m = transform_mapping();
  // [New, Received] is written as "Open - Not Contacted", which reads back as [New, Pending].
  auto pc = pc_referral(nullptr, 1, "n", "New", "Received");
  auto crm = crm_lead(nullptr, 1, "n", "Working");
  json shadow = {{"status", json{"Active", "Accepted"}}};
  auto plan = engine::merge(m, {&pc, {}}, {&crm, {}}, shadow);
  REQUIRE(plan.to_crm.size() == 1);  // Partner Center changed
  CHECK(m.crm_changes(*plan.to_crm[0].rule, plan.to_crm[0].value)[0].value == "Open - Not Contacted");
  CHECK(cycles_until_quiet(m, pc, crm, shadow) == 1);
  CHECK(pc["substatus"] == "Received");
}

TEST_CASE("merge status pairs: a CRM value with the referral's status sends nothing, and settles") {
  auto m = transform_mapping();
  auto pc = pc_referral(nullptr, 1, "n", "New", "Received");
  auto crm = crm_lead(nullptr, 1, "n", "Open - Contacted");
  json shadow = {{"closing", nullptr}, {"value", 1}, {"notes", "n"}, {"status", json{"New", "Received"}}};
  CHECK(cycles_until_quiet(m, pc, crm, shadow) == 0);

  // "Open - Not Contacted" is [New, Pending]: the referral is New already, no substatus PATCH.
  crm["Status"] = "Open - Not Contacted";
  auto plan = engine::merge(m, {&pc, {}}, {&crm, {}}, shadow);
  CHECK(plan.empty());
  CHECK(plan.conflicts.empty());
  CHECK(cycles_until_quiet(m, pc, crm, shadow) == 0);
  CHECK(pc["substatus"] == "Received");
  SECTION("the same with an empty shadow and either owner") {
    json fresh = json::object();
    CHECK(cycles_until_quiet(m, pc, crm, fresh) == 0);
  }
  SECTION("a later CRM status change still flows to Partner Center") {
    crm["Status"] = "Working";
    auto later = engine::merge(m, {&pc, {}}, {&crm, {}}, shadow);
    REQUIRE(later.to_pc.size() == 1);
    CHECK(later.to_pc[0].value == json{"Active", "Accepted"});
    CHECK(cycles_until_quiet(m, pc, crm, shadow) == 1);
    CHECK(pc["status"] == "Active");
  }
  SECTION("a later Partner Center change flows to the CRM, with no conflict") {
    pc["status"] = "Active";
    pc["substatus"] = "Accepted";
    auto later = engine::merge(m, {&pc, {}}, {&crm, {}}, shadow);
    REQUIRE(later.to_crm.size() == 1);
    CHECK(later.conflicts.empty());
    CHECK(cycles_until_quiet(m, pc, crm, shadow) == 1);
    CHECK(crm["Status"] == "Working");
  }
  SECTION("first sync with owner crm: the referral's status wins, no write either way") {
    m.fields[3].owner = mapping::Owner::crm;
    pc["status"] = "Active";
    pc["substatus"] = "Accepted";
    crm["Status"] = "Working - Engaged";
    json fresh = json::object();
    CHECK(engine::merge(m, {&pc, {}}, {&crm, {}}, fresh).empty());
    CHECK(cycles_until_quiet(m, pc, crm, fresh) == 0);
    CHECK(fresh["status"] == json{"Active", "Accepted"});
    crm["Status"] = "Open - Contacted";  // a status change still flows (owner crm, changed in the CRM)
    CHECK(cycles_until_quiet(m, pc, crm, fresh) == 1);
    CHECK(pc["status"] == "New");
  }
  SECTION("within Active as well: Engaged in the CRM leaves an Accepted referral alone") {
    pc["status"] = "Active";
    pc["substatus"] = "Accepted";
    CHECK(cycles_until_quiet(m, pc, crm, shadow) == 1);
    crm["Status"] = "Working - Engaged";
    CHECK(cycles_until_quiet(m, pc, crm, shadow) == 0);
    CHECK(pc["substatus"] == "Accepted");
  }
}
