#pragma once
// The rules every mapping runs, in the order the planner asks them (later rules see the writes
// earlier ones added; the state machine guard comes last).
#include "daemon/engine/rule.hpp"
#include "daemon/mapping/mapping.hpp"

namespace cosync::rules {

engine::RuleSet standard_rules(const mapping::Mapping& mapping);

}  // namespace cosync::rules
