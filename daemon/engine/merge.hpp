#pragma once
// Three-way merge of one linked pair of records against the shadow (the values both sides held
// after the last sync). Pure: no I/O, so every rule is unit-tested directly.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/mapping/mapping.hpp"

namespace cosync::engine {

// One side of the pair as read in this cycle; absent when the side was not pulled (unchanged
// since the last sync, so its values are the shadow's).
struct SideState {
  const nlohmann::json* record = nullptr;
  TimePoint modified{};
};

enum class Origin { pc, crm };

struct FieldWrite {
  const mapping::FieldRule* rule = nullptr;
  nlohmann::json value;        // canonical value written
  std::string reason;          // why, for logs and `plan`
};

// Both sides changed a field since the last sync; the field's owner picked the winner.
struct Conflict {
  const mapping::FieldRule* rule = nullptr;
  nlohmann::json base;  // the shadow both started from
  nlohmann::json pc_value;
  nlohmann::json crm_value;
  Origin winner = Origin::pc;
  std::string describe() const;  // "status: pc=... crm=..., crm wins (owner crm)"
};

const char* to_string(Origin o);

struct MergePlan {
  std::vector<FieldWrite> to_pc;
  std::vector<FieldWrite> to_crm;
  // Fields both sides already agree on (the shadow catches up with them).
  nlohmann::json agreed = nlohmann::json::object();
  std::vector<Conflict> conflicts;
  // What the engine logs with the record: "field: CRM value \"X\" has no entry in the value map",
  // "notes: 300 characters cut to 255, the length of Lead.Description".
  std::vector<std::string> notes;
  bool empty() const { return to_pc.empty() && to_crm.empty(); }
};

// "notes: 300 characters cut to 255, the length of Lead.Description" when writing `canonical` to
// the CRM cuts it (the CRM field's length from its metadata), or nullopt.
std::optional<std::string> crm_cut_note(const mapping::Mapping& m, const mapping::FieldRule& f,
                                        const nlohmann::json& canonical);

MergePlan merge(const mapping::Mapping& m, const SideState& pc, const SideState& crm, const nlohmann::json& shadow);

}  // namespace cosync::engine
