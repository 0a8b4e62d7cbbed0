#pragma once
// The time-driven rules (expiry watch, stale close, ...) keep their state as held actions: one
// looks up what it holds for the referral, and asks for each hold again every time it is asked
// (a hold not asked for again is released).
#include <algorithm>
#include <string>
#include <string_view>

#include "daemon/engine/rule.hpp"

namespace cosync::rules {

inline const HeldAction* find_held(const engine::RuleInput& in, std::string_view key) {
  if (!in.held) return nullptr;
  auto it = std::find_if(in.held->begin(), in.held->end(), [&](const HeldAction& h) { return h.key == key; });
  return it == in.held->end() ? nullptr : &*it;
}

// Held until `until` on Partner Center's clock, the referral coming back then.
inline engine::RuleAction hold_until(std::string key, TimePoint until, std::string reason) {
  return {engine::RuleAction::Kind::hold, engine::Side::pc, {}, std::move(key), until, std::move(reason)};
}

}  // namespace cosync::rules
