// The standard rules as pure functions: classification, the CRM delete policy and the state
// machine guard, each asked exactly as the planner asks them.
#include <catch2/catch.hpp>

#include "daemon/rules/standard_rules.hpp"
#include "tests/engine/engine_fixture.hpp"

using namespace cosync;
using engine::RuleAction;
using nlohmann::json;

namespace {

mapping::Mapping leads_mapping(const std::string& extra = "") {
  testing::TempDir dir;
  return mapping::load_mapping(dir.write("leads.yaml", testing::kEngineLeadsMapping + extra));
}

std::vector<RuleAction> ask(const engine::Rule& rule, engine::RuleInput input) { return rule.evaluate(input); }

}  // namespace

TEST_CASE("rules: referrals are classified as Microsoft classifies them") {
  using rules::classify_referral;
  auto c = classify_referral({{"type", "Independent"}, {"qualification", "SalesQualified"}, {"direction", "Incoming"}});
  CHECK(c.kind == "qualified_lead");
  CHECK(c.direction == "incoming");
  c = classify_referral({{"type", "Independent"}, {"qualification", "MarketingQualified"}, {"direction", "Incoming"}});
  CHECK(c.kind == "marketplace_lead");
  c = classify_referral({{"type", "Independent"}, {"referralSource", "AppSource"}});
  CHECK(c.kind == "marketplace_lead");
  c = classify_referral({{"type", "Shared"}, {"direction", "Outgoing"}});
  CHECK(c.kind == "co_sell_opportunity");
  CHECK(c.direction == "outgoing");
  // Without "direction": who sent the invitation decides.
  c = classify_referral({{"type", "Shared"},
                         {"organizationId", "me"},
                         {"inviteContext", {{"invitedBy", {{"organizationId", "microsoft"}}}}}});
  CHECK(c.direction == "incoming");
  c = classify_referral(
      {{"type", "Shared"}, {"organizationId", "me"}, {"inviteContext", {{"invitedBy", {{"organizationId", "me"}}}}}});
  CHECK(c.direction == "outgoing");
}

TEST_CASE("rules: classification annotates a referral when it is read, and only then") {
  auto m = leads_mapping();
  json referral = {{"type", "Shared"}, {"direction", "Incoming"}};
  rules::ReferralClassification rule;
  engine::RuleInput pulled{engine::Trigger::pulled, m};
  pulled.pc = &referral;
  auto actions = ask(rule, pulled);
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].kind == RuleAction::Kind::annotate);
  REQUIRE(actions[0].changes.size() == 2);
  CHECK(actions[0].changes[0].path == "_kind");
  CHECK(actions[0].changes[0].value == "co_sell_opportunity");
  CHECK(actions[0].changes[1].value == "incoming");
  engine::RuleInput paired{engine::Trigger::paired, m};
  paired.pc = &referral;
  CHECK(ask(rule, paired).empty());
}

TEST_CASE("rules: a deleted CRM record closes the referral as Lost, unlinks, or does nothing, by policy") {
  rules::CrmDeletePolicy rule;
  Link link{"leads", "ref-1", "00Q1", "", "", json::object()};
  json gone = {{"Id", "00Q1"}};
  auto input_for = [&](const mapping::Mapping& m) {
    engine::RuleInput in{engine::Trigger::crm_deleted, m};
    in.crm = &gone;
    in.link = &link;
    return in;
  };
  auto ignore = leads_mapping();
  CHECK(ask(rule, input_for(ignore)).empty());

  auto unlink = leads_mapping("on_crm_delete: unlink\n");
  auto actions = ask(rule, input_for(unlink));
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].kind == RuleAction::Kind::unlink);
  CHECK(actions[0].reason == "Lead deleted in the CRM");

  auto close = leads_mapping("on_crm_delete: close\nclose_reason: Lead removed by sales ops\n");
  actions = ask(rule, input_for(close));
  REQUIRE(actions.size() == 2);
  CHECK(actions[0].kind == RuleAction::Kind::write);
  CHECK(actions[0].side == engine::Side::pc);
  REQUIRE(actions[0].changes.size() == 3);
  CHECK(actions[0].changes[1].value == "Lost");
  CHECK(actions[0].changes[2].value == "Lead removed by sales ops");
  CHECK(actions[1].kind == RuleAction::Kind::unlink);

  // Any other trigger: nothing.
  engine::RuleInput paired{engine::Trigger::paired, close};
  CHECK(ask(rule, paired).empty());
}

TEST_CASE("rules: the state machine guard refuses what Partner Center's contract refuses, and nothing else") {
  auto m = leads_mapping();
  rules::ReferralStateMachine guard;
  auto refusal = [&](json referral, std::vector<connectors::FieldChange> writes) -> std::string {
    referral["id"] = "ref-1";
    engine::RuleInput in{engine::Trigger::paired, m};
    in.pc = &referral;
    in.pc_writes = &writes;
    auto actions = ask(guard, in);
    if (actions.empty()) return "";
    CHECK(actions.size() == 1);
    CHECK(actions[0].kind == RuleAction::Kind::refuse);
    return actions[0].reason;
  };
  json active = {{"status", "Active"}, {"substatus", "Accepted"}};
  CHECK(refusal(active, {{"status", "Closed"}, {"substatus", "Won"}}).empty());
  CHECK(refusal(active, {{"details.notes", "x"}}).empty());
  CHECK(refusal(active, {}).empty());
  CHECK_THAT(refusal(active, {{"status", "New"}, {"substatus", "Pending"}}),
             Catch::Equals("referral ref-1: impossible transition Active -> New (New -> Active -> Closed only)"));
  CHECK_THAT(refusal(active, {{"substatus", "Won"}}), Catch::Contains("substatus Won is not allowed with status Active"));
  CHECK_THAT(refusal(active, {{"status", "Pending"}}), Catch::Contains("unknown referral status Pending"));
  CHECK_THAT(refusal(active, {{"customerProfile.name", "x"}}), Catch::Contains("does not accept a patch of"));
  CHECK_THAT(refusal(active, {{"details.notes", nullptr}}), Catch::Contains("does not accept null"));
  CHECK_THAT(refusal({{"status", "Closed"}, {"substatus", "Lost"}}, {{"details.notes", "late"}}),
             Catch::Contains("Closed/Lost (terminal)"));
  // Hostile values read as absent, never throw.
  CHECK_NOTHROW(refusal({{"status", 42}, {"substatus", json::array()}}, {{"status", "Active"}, {"substatus", "Accepted"}}));
  CHECK_THAT(refusal({{"status", 42}}, {{"status", "Active"}, {"substatus", "Won"}}), Catch::Contains("not allowed"));
}

TEST_CASE("rules: the standard rules run classification first and the guard last") {
  auto rules = rules::standard_rules(leads_mapping());
  REQUIRE(rules.size() >= 3);
  CHECK(std::string(rules.front()->name()) == "referral_classification");
  CHECK(std::string(rules.back()->name()) == "referral_state_machine");
}
