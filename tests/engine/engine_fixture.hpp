#pragma once
// The engine in-process against the fakes (Partner Center, Salesforce, token endpoint) over
// real HTTP, with a state store in a temporary directory and the standard rules, for component
// tests of the planner and the executor. No binary: a test can move time and restart the engine.
#include <functional>
#include <memory>

#include "connectors/partner_center/partner_center_connector.hpp"
#include "connectors/salesforce/salesforce_connector.hpp"
#include "daemon/engine/sync_engine.hpp"
#include "daemon/rules/standard_rules.hpp"
#include "tests/unit/connector_fixture.hpp"
#include "tests/unit/test_files.hpp"

namespace cosync::testing {

// Referrals <-> Salesforce Leads: the company one way, notes owned by the CRM, the status pair
// through a value map.
inline const std::string kEngineLeadsMapping = R"(name: leads
crm:
  connection: salesforce
  object: Lead
  link_field: PartnerCenterReferralId__c
create:
  LastName: "[MSFT] {customerProfile.name}"
fields:
  - name: company
    pc: customerProfile.name
    crm: Company
    direction: to_crm
  - name: notes
    pc: details.notes
    crm: Description
    owner: crm
  - name: status
    pc: [status, substatus]
    crm: Status
    owner: crm
    values:
      - { pc: [New, Pending], crm: Open - Not Contacted }
      - { pc: [Active, Accepted], crm: Working - Contacted }
      - { pc: [Closed, Won], crm: Closed - Converted }
      - { pc: [Closed, Lost], crm: Closed - Not Converted }
)";

// A rule written inline by a test: a name and the pure function.
class TestRule final : public engine::Rule {
 public:
  using Evaluate = std::function<std::vector<engine::RuleAction>(const engine::RuleInput&)>;
  TestRule(const char* name, Evaluate evaluate) : name_(name), evaluate_(std::move(evaluate)) {}
  const char* name() const override { return name_; }
  std::vector<engine::RuleAction> evaluate(const engine::RuleInput& input) const override { return evaluate_(input); }

 private:
  const char* name_;
  Evaluate evaluate_;
};

struct EngineFixture : ConnectorFixture {
  explicit EngineFixture(const std::string& mapping_text = kEngineLeadsMapping)
      : mapping(mapping::load_mapping(dir.write("leads.yaml", mapping_text))) {}

  TempDir dir;
  connectors::PartnerCenterConnector pc{client, tokens, pc_options(), captured.log};
  connectors::SalesforceConnector sf{client, tokens, sf_options(), captured.log};
  StateStore store{dir.file("state.db")};
  mapping::Mapping mapping;
  engine::RuleSet extra_rules;  // rules a test adds after the standard ones
  void add_rule(const char* name, TestRule::Evaluate evaluate) {
    extra_rules.push_back(std::make_shared<TestRule>(name, std::move(evaluate)));
  }

  // The engine as the daemon builds it; restart() drops it, as a restart of cosyncd would.
  engine::SyncEngine& engine() {
    if (!engine_) {
      auto rules = rules::standard_rules(mapping);
      rules.insert(rules.begin() + 1, extra_rules.begin(), extra_rules.end());  // before the guard
      engine_ = std::make_unique<engine::SyncEngine>(mapping, pc, sf, store, clock, captured.log, rules);
    }
    return *engine_;
  }
  void restart() { engine_.reset(); }
  engine::CycleStats cycle() {
    std::atomic<bool> stop{false};
    return run(engine().run_cycle(stop));
  }
  std::vector<engine::PlannedChange> plan() { return run(engine().plan()); }
  int writes() const { return pc_fake.writes() + sf_fake.writes(); }
  std::string lead_of(const std::string& referral_id) {
    auto link = store.link_by_pc(mapping.name, referral_id);
    return link ? link->crm_id : "";
  }

 private:
  connectors::PartnerCenterOptions pc_options() {
    connectors::PartnerCenterOptions o;
    o.base_url = pc_fake.base_url();
    o.clock = &clock;
    return o;
  }
  connectors::SalesforceOptions sf_options() {
    connectors::SalesforceOptions o;
    o.instance_url = sf_fake.base_url();
    return o;
  }
  std::unique_ptr<engine::SyncEngine> engine_;
};

// The plan's lines with this action.
inline std::vector<engine::PlannedChange> lines_of(const std::vector<engine::PlannedChange>& plan,
                                                   const std::string& action) {
  std::vector<engine::PlannedChange> out;
  for (const auto& c : plan)
    if (c.action == action) out.push_back(c);
  return out;
}

}  // namespace cosync::testing
