#include "daemon/rules/standard_rules.hpp"

#include "connectors/partner_center/referral_contract.hpp"
#include "daemon/util/remote_json.hpp"

namespace cosync::rules {

std::vector<engine::RuleAction> ReferralStateMachine::evaluate(const engine::RuleInput& input) const {
  if (input.trigger != engine::Trigger::paired || !input.pc || !input.pc_writes || input.pc_writes->empty()) return {};
  auto refusal = connectors::referral_contract_refusal(*input.pc, *input.pc_writes);
  if (!refusal) return {};
  engine::RuleAction refuse;
  refuse.kind = engine::RuleAction::Kind::refuse;
  refuse.side = engine::Side::pc;
  refuse.key = "state_machine";
  refuse.reason = "referral " + remote_json::string_or(*input.pc, "id") + ": " + *refusal;
  return {refuse};
}

}  // namespace cosync::rules
