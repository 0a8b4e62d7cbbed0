#include "daemon/rules/lead_policy.hpp"

#include <algorithm>

#include "daemon/mapping/lead_rules.hpp"

namespace cosync::rules {
namespace {

// The merge writes the status this cycle (a seller moved it): that decision is the seller's.
bool status_written(const std::vector<connectors::FieldChange>* writes) {
  return writes && std::any_of(writes->begin(), writes->end(), [](const auto& w) { return w.path == "status"; });
}

// The status both sides held after the last sync, as referral writes, when it is New: writing
// it back changes nothing, but makes the planner read the referral and ask again.
std::vector<connectors::FieldChange> synced_new_status(const engine::RuleInput& in) {
  for (const auto& f : in.mapping.fields) {
    if (f.pc_paths.empty() || f.pc_paths[0] != "status") continue;
    if (!in.link->shadow.contains(f.name)) return {};
    const auto& v = in.link->shadow[f.name];
    std::vector<connectors::FieldChange> changes;
    for (std::size_t i = 0; i < f.pc_paths.size(); ++i) {
      const auto& part = f.pc_paths.size() == 1 ? v : (v.is_array() && i < v.size() ? v[i] : nlohmann::json());
      changes.push_back({f.pc_paths[i], part});
    }
    if (changes[0].value != "New") return {};
    return changes;
  }
  return {};
}

}  // namespace

std::vector<engine::RuleAction> LeadPolicy::evaluate(const engine::RuleInput& in) const {
  const auto& rules = in.mapping.leads;
  if (in.trigger != engine::Trigger::paired || !rules || !rules->decides() || !in.link) return {};
  if (status_written(in.pc_writes) || status_written(in.crm_writes)) return {};
  if (!in.pc) {
    // Not read this cycle (only the CRM record changed): a lead still New is read and decided on.
    auto unchanged = synced_new_status(in);
    if (unchanged.empty()) return {};
    return {{engine::RuleAction::Kind::write, engine::Side::pc, std::move(unchanged), "", {}, "read to decide"}};
  }
  auto decision = mapping::decide_lead(*rules, *in.pc, in.crm, in.pc_now);
  if (decision.kind == mapping::LeadDecision::Kind::none) return {};
  const char* key = decision.kind == mapping::LeadDecision::Kind::accept ? "policy_accept" : "policy_decline";
  return {{engine::RuleAction::Kind::write, engine::Side::pc, std::move(decision.changes), key, {}, decision.reason}};
}

}  // namespace cosync::rules
