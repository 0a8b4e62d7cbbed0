#include <catch2/catch.hpp>

#include "daemon/engine/merge.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

mapping::Mapping test_mapping() {
  testing::TempDir dir;
  auto path = dir.write("m.yaml", R"(
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
  return mapping::load_mapping(path);
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
  REQUIRE(plan.unmapped.size() == 1);
  CHECK_THAT(plan.unmapped[0], Catch::Contains("Some custom status"));
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
