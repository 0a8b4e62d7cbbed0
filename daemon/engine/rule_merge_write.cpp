#include "daemon/engine/rule_merge_write.hpp"

#include <algorithm>

#include "daemon/util/json_path.hpp"

namespace cosync::engine {
namespace {

using connectors::FieldChange;

bool maps_path(const mapping::FieldRule& f, Side side, const std::string& path) {
  if (side == Side::crm) return f.crm_field == path;
  return std::find(f.pc_paths.begin(), f.pc_paths.end(), path) != f.pc_paths.end();
}

const FieldChange* change_at(const std::vector<FieldChange>& changes, const std::string& path) {
  auto it = std::find_if(changes.begin(), changes.end(), [&](const FieldChange& c) { return c.path == path; });
  return it == changes.end() ? nullptr : &*it;
}

// The canonical value the rule asks for: for several PC paths, each one it writes, the others as
// the referral holds them.
std::optional<nlohmann::json> canonical_of(const mapping::Mapping& m, const mapping::FieldRule& f, Side side,
                                           const std::vector<FieldChange>& changes, const WorkItem& item) {
  if (side == Side::crm) {
    nlohmann::json record = nlohmann::json::object();
    record[f.crm_field] = change_at(changes, f.crm_field)->value;
    return m.canonical_from_crm(f, record);
  }
  if (f.pc_paths.size() == 1) return change_at(changes, f.pc_paths[0])->value;
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& path : f.pc_paths) {
    const auto* c = change_at(changes, path);
    parts.push_back(c ? c->value : (item.pc ? json_at(item.pc->fields, path) : nlohmann::json()));
  }
  return parts;
}

bool merge_writes(const PlannedUpdate& p, const mapping::FieldRule& f) {
  auto same = [&](const FieldWrite& w) { return w.rule == &f; };
  return std::any_of(p.merge.to_pc.begin(), p.merge.to_pc.end(), same) ||
         std::any_of(p.merge.to_crm.begin(), p.merge.to_crm.end(), same);
}

}  // namespace

std::optional<std::string> merge_rule_write(const mapping::Mapping& m, PlannedUpdate& p, RuleAction& action,
                                            const std::string& rule) {
  struct Planned {
    const mapping::FieldRule* field;
    nlohmann::json value;
  };
  std::vector<Planned> planned;
  for (const auto& f : m.fields) {
    bool touched = std::any_of(action.changes.begin(), action.changes.end(),
                               [&](const FieldChange& c) { return maps_path(f, action.side, c.path); });
    if (!touched) continue;
    if (merge_writes(p, f)) return "the merge already writes " + f.name + " this cycle (an edit wins over a rule)";
    auto value = canonical_of(m, f, action.side, action.changes, *p.item);
    if (!value) return "the value map of " + f.name + " has no entry for the value written";
    // The value must reach both sides, or the side left behind would read as an edit next cycle.
    if (m.pc_changes(f, *value).empty() || m.crm_changes(f, *value).empty())
      return "the value map of " + f.name + " cannot write " + value->dump() + " to both sides";
    planned.push_back({&f, std::move(*value)});
  }
  if (planned.empty()) return std::nullopt;
  // Without both records in hand nothing can be compared: the raw changes make the planner read
  // the missing side, merge again and ask the rules again.
  if (!p.item->pc || !p.item->crm) {
    if (!p.item->crm)
      for (const auto& x : planned)
        for (auto& c : m.crm_changes(*x.field, x.value)) p.crm_changes.push_back(std::move(c));
    return std::nullopt;
  }
  const std::string reason = "rule " + rule + ": " + action.reason;
  for (auto& [field, value] : planned) {
    auto pc_now = m.canonical_from_pc(*field, p.item->pc->fields);
    auto crm_now = m.canonical_from_crm(*field, p.item->crm->fields);
    if (pc_now != value) {
      p.merge.to_pc.push_back({field, value, reason});
      for (auto& c : m.pc_changes(*field, value)) p.pc_changes.push_back(std::move(c));
    }
    if (crm_now != value) {
      p.merge.to_crm.push_back({field, value, reason});
      for (auto& c : m.crm_changes(*field, value)) p.crm_changes.push_back(std::move(c));
    }
    if (pc_now == value && crm_now == value) p.shadow[field->name] = value;
  }
  std::erase_if(action.changes, [&](const FieldChange& c) {
    return std::any_of(planned.begin(), planned.end(), [&](const Planned& x) { return maps_path(*x.field, action.side, c.path); });
  });
  return std::nullopt;
}

}  // namespace cosync::engine
