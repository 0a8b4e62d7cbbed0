#include "daemon/engine/merge.hpp"

#include "daemon/util/json_path.hpp"

namespace cosync::engine {

const char* to_string(Origin o) { return o == Origin::pc ? "pc" : "crm"; }

std::string Conflict::describe() const {
  return rule->name + ": pc=" + pc_value.dump() + " crm=" + crm_value.dump() + ", " + to_string(winner) +
         " wins (owner " + mapping::to_string(rule->owner) + ")";
}

MergePlan merge(const mapping::Mapping& m, const SideState& pc, const SideState& crm, const nlohmann::json& shadow) {
  MergePlan plan;
  for (const auto& f : m.fields) {
    std::optional<nlohmann::json> base;
    if (shadow.contains(f.name)) base = shadow[f.name];
    // A side not read this cycle holds what it held after the last sync.
    auto pc_value = pc.record ? m.canonical_from_pc(f, *pc.record) : base;
    auto crm_value = crm.record ? m.canonical_from_crm(f, *crm.record) : base;
    if (pc.record && !pc_value)
      plan.unmapped.push_back(f.name + ": Partner Center value " + json_at(*pc.record, f.pc_paths[0]).dump() +
                              " has no entry in the value map");
    if (crm.record && !crm_value)
      plan.unmapped.push_back(f.name + ": CRM value " + json_at(*crm.record, f.crm_field).dump() +
                              " has no entry in the value map");
    // A value outside the value map is never overwritten nor copied: a person has to look.
    if (!pc_value || !crm_value) continue;
    if (*pc_value == *crm_value) {
      plan.agreed[f.name] = *pc_value;
      continue;
    }
    bool pc_changed = pc_value != base;
    bool crm_changed = crm_value != base;

    Origin winner = Origin::pc;
    std::string reason;
    if (pc_changed && !crm_changed) {
      winner = Origin::pc;
      reason = "changed in Partner Center";
    } else if (crm_changed && !pc_changed) {
      winner = Origin::crm;
      reason = "changed in the CRM";
    } else {
      // Both changed (or never synced): the field's owner decides.
      switch (f.owner) {
        case mapping::Owner::pc: winner = Origin::pc; break;
        case mapping::Owner::crm: winner = Origin::crm; break;
        case mapping::Owner::newest: winner = crm.modified > pc.modified ? Origin::crm : Origin::pc; break;
      }
      // Before the first sync an empty value never wins over a real one: nothing was decided yet.
      if (!base && pc_value->is_null() != crm_value->is_null()) winner = pc_value->is_null() ? Origin::crm : Origin::pc;
      reason = base ? std::string("changed on both sides, owner ") + mapping::to_string(f.owner) + " wins"
                    : std::string("first sync, ") + (winner == Origin::pc ? "Partner Center" : "the CRM") + " value kept";
      if (base) plan.conflicts.push_back({&f, *base, *pc_value, *crm_value, winner});
    }
    // A one-way field only ever flows from its source side; an edit on the other side is left
    // alone until the source changes again.
    if (winner == Origin::pc && f.flows_to_crm()) plan.to_crm.push_back({&f, *pc_value, reason});
    if (winner == Origin::crm && f.flows_to_pc()) plan.to_pc.push_back({&f, *crm_value, reason});
  }
  return plan;
}

}  // namespace cosync::engine
