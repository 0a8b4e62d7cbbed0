#include "daemon/rules/standard_rules.hpp"

namespace cosync::rules {

using engine::RuleAction;

std::vector<RuleAction> CrmDeletePolicy::evaluate(const engine::RuleInput& input) const {
  const auto& m = input.mapping;
  if (input.trigger != engine::Trigger::crm_deleted || m.on_crm_delete == mapping::DeletePolicy::ignore) return {};
  std::string reason = m.crm_object + " deleted in the CRM";
  std::vector<RuleAction> actions;
  if (m.on_crm_delete == mapping::DeletePolicy::close) {
    // The reason shows in Partner Center why the referral was lost. The executor sends it only
    // to a referral that is not closed already.
    RuleAction close{RuleAction::Kind::write, engine::Side::pc, {}, "close", {}, reason};
    close.changes = {{"status", "Closed"}, {"substatus", "Lost"}, {"statusReason", m.close_reason}};
    actions.push_back(std::move(close));
  }
  actions.push_back({RuleAction::Kind::unlink, engine::Side::pc, {}, "unlink", {}, reason});
  return actions;
}

}  // namespace cosync::rules
