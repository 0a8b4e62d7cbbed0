#pragma once
// A rule's write to a mapped field (the acceptance policy writing the referral status, say) goes
// through the merge's bookkeeping instead of behind its back: the field's canonical value is
// written to every side that does not hold it yet, as a merge write, so that the shadow records
// it once written and the next cycle reads it as cosync's own value, not as an edit to echo.
// The CRM thus shows the mapped value in the same cycle.
#include <optional>
#include <string>

#include "daemon/engine/cycle_plan.hpp"
#include "daemon/engine/rule.hpp"

namespace cosync::engine {

// Moves the changes of `action` that write mapped fields out of it and into `p` (merge writes
// and the side changes they need); the changes left in `action` are unmapped paths. Returns why
// the whole action must be ignored instead (a value the value map cannot carry, a field the merge
// already writes this cycle: a person's edit wins over a rule); then `p` is untouched.
std::optional<std::string> merge_rule_write(const mapping::Mapping& m, PlannedUpdate& p, RuleAction& action,
                                            const std::string& rule);

}  // namespace cosync::engine
