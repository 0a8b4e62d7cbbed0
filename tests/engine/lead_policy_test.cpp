// The acceptance policy in-process (daemon/rules/lead_policy.*): the status is a mapped field, so
// the policy's write goes through the merge (engine/rule_merge_write.*): the referral and the CRM
// record get the accepted status in the cycle that creates the record, the shadow records it, and
// the next cycle is quiet. A seller's own status change wins over the policy.
#include <catch2/catch.hpp>

#include "tests/engine/engine_fixture.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

struct PolicyFixture : testing::EngineFixture {
  explicit PolicyFixture(const std::string& policy = "accept: auto\n")
      : EngineFixture(testing::kEngineLeadsMapping + policy) {}
  std::string pc_state(const std::string& id) {
    auto r = pc_fake.referral(id);
    return r.value("status", "") + "/" + r.value("substatus", "");
  }
  std::string lead_status(const std::string& id) { return sf_fake.record("Lead", lead_of(id)).value("Status", ""); }
};

}  // namespace

TEST_CASE_METHOD(PolicyFixture, "lead policy: accept auto accepts a new lead in the cycle that creates its Lead") {
  auto id = pc_fake.add_referral({{"customerProfile", {{"name", "Contoso"}}}});
  auto plan = this->plan();
  bool listed = false;
  for (const auto& line : testing::lines_of(plan, "update Partner Center"))
    if (line.field == "status" && line.new_value == "Active" && line.reason == "accept: auto") listed = true;
  CHECK(listed);  // `plan` says what the policy will do once the Lead exists

  auto stats = cycle();
  CHECK(stats.created == 1);
  CHECK(pc_state(id) == "Active/Accepted");
  CHECK(lead_status(id) == "Working - Contacted");
  auto link = store.link_by_pc(mapping.name, id);
  REQUIRE(link);
  CHECK(link->shadow["status"] == json{"Active", "Accepted"});
  bool audited = false;
  for (const auto& a : store.audit(mapping.name, 20))
    if (a.field == "status" && a.detail == "rule lead_policy: accept: auto" && a.new_value == json{"Active", "Accepted"})
      audited = true;
  CHECK(audited);

  int writes = this->writes();
  cycle();
  CHECK(this->writes() == writes);  // no echo of cosync's own write
  CHECK(pc_state(id) == "Active/Accepted");
}

TEST_CASE("lead policy: a seller's status change wins over the policy") {
  PolicyFixture manual("");
  auto id = manual.pc_fake.add_referral({{"customerProfile", {{"name", "Fabrikam"}}}});
  manual.cycle();
  REQUIRE(manual.pc_state(id) == "New/Pending");
  // The same store and fakes under an auto policy: the seller closes the Lead as lost meanwhile.
  manual.sf_fake.edit("Lead", manual.lead_of(id), {{"Status", "Closed - Not Converted"}});
  manual.mapping = mapping::load_mapping(manual.dir.write("auto.yaml", testing::kEngineLeadsMapping + "accept: auto\n"));
  manual.restart();
  manual.cycle();
  CHECK(manual.pc_state(id) == "Closed/Lost");
  int writes = manual.writes();
  manual.cycle();
  CHECK(manual.writes() == writes);
  CHECK(manual.pc_state(id) == "Closed/Lost");
}

TEST_CASE("lead policy: a lead already linked and still New is accepted when only its CRM record changes") {
  PolicyFixture f("");
  auto id = f.pc_fake.add_referral({{"customerProfile", {{"name", "Northwind"}}}});
  f.cycle();
  REQUIRE(f.pc_state(id) == "New/Pending");
  f.mapping = mapping::load_mapping(f.dir.write("when.yaml", testing::kEngineLeadsMapping +
                                                                 "accept:\n  when: { crm.Email: {exists: true} }\n"));
  f.restart();
  f.sf_fake.edit("Lead", f.lead_of(id), {{"Email", "buyer@northwind.example"}});
  f.cycle();  // the referral was not pulled (it did not change): the policy has it read
  CHECK(f.pc_state(id) == "Active/Accepted");
  CHECK(f.lead_status(id) == "Working - Contacted");
  int writes = f.writes();
  f.cycle();
  CHECK(f.writes() == writes);
}
