#pragma once
// What the planner asks the rules (daemon/rules/, a layer above this one: the daemon hands the
// rules of each mapping to its engine). A rule is a pure function of the records, their link and
// what is held for them, the mapping and the time; it answers with actions, never does I/O.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "connectors/records.hpp"
#include "daemon/mapping/mapping.hpp"
#include "daemon/store/state_store.hpp"
#include "daemon/util/clock.hpp"

namespace cosync::engine {

enum class Side { pc, crm };
const char* to_string(Side side);  // "pc", "crm"

// When the planner asks.
enum class Trigger {
  pulled,       // a referral was read (pulled or re-read), before the mapping selects it
  paired,       // a linked pair was merged: `pc_writes` / `crm_writes` are what the plan sends so far
  crm_deleted,  // the linked CRM record was deleted
};

struct RuleInput {
  Trigger trigger = Trigger::paired;
  const mapping::Mapping& mapping;
  const nlohmann::json* pc = nullptr;   // the referral, when read this cycle
  const nlohmann::json* crm = nullptr;  // the CRM record, when read this cycle (deleted: what is left)
  const Link* link = nullptr;           // the pair's link, when there is one
  const std::vector<HeldAction>* held = nullptr;  // what rules hold for this referral now
  const std::vector<connectors::FieldChange>* pc_writes = nullptr;
  const std::vector<connectors::FieldChange>* crm_writes = nullptr;
  TimePoint now{};
  // Partner Center's clock (the Date header of its answers, see daemon/util/remote_clock.hpp): a
  // deadline on a referral's own timestamps is measured against it. The host clock until Partner
  // Center has answered.
  TimePoint pc_now{};
};

struct RuleAction {
  enum class Kind {
    annotate,  // computed fields added to the referral as read (never written back)
    write,     // set `changes` on `side`
    refuse,    // the planned writes to `side` must not be sent: the record is quarantined with `reason`
    hold,      // keep `key` held until `until`; the referral joins the cycle again then. With
               // `changes` (paths on `side`): those planned writes are withheld until then, their
               // fields' shadows kept, so the merge plans them again (cancelled when it does not)
    event,     // something happened that people may want to hear about (`key` names it)
    unlink,    // forget the pair (a tombstone keeps the referral from being recreated)
  };
  Kind kind = Kind::event;
  Side side = Side::pc;
  std::vector<connectors::FieldChange> changes;
  std::string key;
  TimePoint until{};  // on Partner Center's clock (pc_now), as holds come due
  std::string reason;  // why: shown by `plan`, logged and audited
};

class Rule {
 public:
  virtual ~Rule() = default;
  virtual const char* name() const = 0;
  virtual std::vector<RuleAction> evaluate(const RuleInput& input) const = 0;
};

using RuleSet = std::vector<std::shared_ptr<const Rule>>;

}  // namespace cosync::engine
