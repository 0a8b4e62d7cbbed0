#include "daemon/engine/merge.hpp"

#include "daemon/mapping/field_transform.hpp"
#include "daemon/util/json_path.hpp"

namespace cosync::engine {

const char* to_string(Origin o) { return o == Origin::pc ? "pc" : "crm"; }

std::string Conflict::describe() const {
  return rule->name + ": pc=" + pc_value.dump() + " crm=" + crm_value.dump() + ", " + to_string(winner) +
         " wins (owner " + mapping::to_string(rule->owner) + ")";
}

namespace {

using nlohmann::json;

// The index of "status" among a value-mapped field's Partner Center paths ([status, substatus]).
std::optional<std::size_t> status_index(const mapping::FieldRule& f) {
  if (f.values.empty() || f.pc_paths.size() < 2) return std::nullopt;
  for (std::size_t i = 0; i < f.pc_paths.size(); ++i)
    if (f.pc_paths[i] == "status") return i;
  return std::nullopt;
}

// Two values of a status pair with the same status. Partner Center moves the substatus within a
// status itself (New: Pending, Received): cosync writes a pair only to change the status, so a
// CRM value whose pair differs from the referral's only in substatus sends nothing.
bool same_status(const mapping::FieldRule& f, const json& a, const json& b) {
  auto i = status_index(f);
  return i && a.is_array() && b.is_array() && a.size() > *i && b.size() > *i && a[*i] == b[*i];
}

// Which value both sides agreeing stand for in the shadow, or nullopt when they disagree. Besides
// equal values, a side may hold what writing the other side's value there gives: the text cut to
// the CRM field's length, or the CRM value a one-way entry maps several PC values onto. The shadow
// keeps the fuller value, so that the lossy side reads as unchanged against it.
std::optional<json> agreed_value(const mapping::Mapping& m, const mapping::FieldRule& f, const json& pc,
                                 const json& crm) {
  if (pc == crm) return pc;
  if (auto in_crm = m.crm_round_trip(f, pc); in_crm && *in_crm == crm) return pc;
  if (auto in_pc = m.pc_round_trip(f, crm); in_pc && *in_pc == pc) return crm;
  return std::nullopt;
}

bool pc_changed(const mapping::Mapping& m, const mapping::FieldRule& f, const json& pc, const std::optional<json>& base) {
  if (!base || pc == *base) return !base;
  auto written = m.pc_round_trip(f, *base);
  return !(written && *written == pc);
}

bool crm_changed(const mapping::Mapping& m, const mapping::FieldRule& f, const json& crm,
                 const std::optional<json>& base) {
  if (!base || crm == *base) return !base;
  if (same_status(f, crm, *base)) return false;  // nothing Partner Center would take
  auto written = m.crm_round_trip(f, *base);
  return !(written && *written == crm);
}

// "notes: 300 characters cut to 255, the length of Lead.Description", when a write to the CRM
// loses text (logged with the record; the CRM would reject the whole write otherwise).
}  // namespace

std::optional<std::string> crm_cut_note(const mapping::Mapping& m, const mapping::FieldRule& f, const json& value) {
  auto limit = f.crm_text_limit();
  if (!limit || !f.values.empty() || !value.is_string()) return std::nullopt;
  auto length = mapping::text_length(value.get_ref<const std::string&>());
  if (length <= *limit) return std::nullopt;
  return f.name + ": " + std::to_string(length) + " characters cut to " + std::to_string(*limit) + ", the length of " +
         m.crm_object + "." + f.crm_field;
}

namespace {

// Who wins a field both sides changed (or that was never synced), and why.
Origin settle(const mapping::FieldRule& f, const SideState& pc, const SideState& crm, const json& pc_value,
              const json& crm_value, bool first_sync) {
  Origin winner = Origin::pc;
  switch (f.owner) {
    case mapping::Owner::pc: winner = Origin::pc; break;
    case mapping::Owner::crm: winner = Origin::crm; break;
    case mapping::Owner::newest: winner = crm.modified > pc.modified ? Origin::crm : Origin::pc; break;
  }
  // Before the first sync an empty value never wins over a real one: nothing was decided yet.
  if (first_sync && pc_value.is_null() != crm_value.is_null()) winner = pc_value.is_null() ? Origin::crm : Origin::pc;
  return winner;
}

}  // namespace

MergePlan merge(const mapping::Mapping& m, const SideState& pc, const SideState& crm, const nlohmann::json& shadow) {
  MergePlan plan;
  for (const auto& f : m.fields) {
    std::optional<nlohmann::json> base;
    if (shadow.contains(f.name)) base = shadow[f.name];
    // A side not read this cycle holds what it held after the last sync.
    auto pc_value = pc.record ? m.canonical_from_pc(f, *pc.record) : base;
    auto crm_value = crm.record ? m.canonical_from_crm(f, *crm.record) : base;
    if (pc.record && !pc_value)
      plan.notes.push_back(f.name + ": Partner Center value " + json_at(*pc.record, f.pc_paths[0]).dump() +
                              " has no entry in the value map");
    if (crm.record && !crm_value)
      plan.notes.push_back(f.name + ": CRM value " + json_at(*crm.record, f.crm_field).dump() +
                              " has no entry in the value map");
    // A value outside the value map is never overwritten nor copied: a person has to look.
    if (!pc_value || !crm_value) continue;
    if (auto agreed = agreed_value(m, f, *pc_value, *crm_value)) {
      plan.agreed[f.name] = std::move(*agreed);
      continue;
    }
    bool pc_moved = pc_changed(m, f, *pc_value, base);
    bool crm_moved = crm_changed(m, f, *crm_value, base);
    if (!pc_moved && !crm_moved) continue;  // they differ only in a substatus nobody writes

    Origin winner = pc_moved ? Origin::pc : Origin::crm;
    std::string reason = pc_moved ? "changed in Partner Center" : "changed in the CRM";
    if (pc_moved == crm_moved) {
      winner = settle(f, pc, crm, *pc_value, *crm_value, !base);
      reason = base ? std::string("changed on both sides, owner ") + mapping::to_string(f.owner) + " wins"
                    : std::string("first sync, ") + (winner == Origin::pc ? "Partner Center" : "the CRM") + " value kept";
    }
    if (winner == Origin::crm && same_status(f, *crm_value, *pc_value)) {
      // The referral already has that status: nothing to send, and the shadow follows the
      // referral so that the CRM value reads as unchanged until it names another status.
      plan.agreed[f.name] = *pc_value;
      continue;
    }
    if (pc_moved && crm_moved && base) plan.conflicts.push_back({&f, *base, *pc_value, *crm_value, winner});
    // A one-way field only ever flows from its source side; an edit on the other side is left
    // alone until the source changes again.
    if (winner == Origin::pc && f.flows_to_crm()) {
      if (auto note = crm_cut_note(m, f, *pc_value)) plan.notes.push_back(std::move(*note));
      plan.to_crm.push_back({&f, *pc_value, reason});
    }
    if (winner == Origin::crm && f.flows_to_pc()) plan.to_pc.push_back({&f, *crm_value, reason});
  }
  return plan;
}

}  // namespace cosync::engine
