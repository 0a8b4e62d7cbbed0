#include "daemon/rules/referral_events.hpp"

#include <optional>

#include "daemon/util/remote_json.hpp"

namespace cosync::rules {
namespace {

// The last synced value of referral path `path`, from the shadow of the field that maps it.
std::optional<std::string> synced(const mapping::Mapping& m, const Link& link, const std::string& path) {
  for (const auto& f : m.fields)
    for (std::size_t i = 0; i < f.pc_paths.size(); ++i) {
      if (f.pc_paths[i] != path) continue;
      const auto& v = remote_json::member(link.shadow, f.name);
      const auto& part = f.pc_paths.size() == 1 ? v : (v.is_array() && i < v.size() ? v[i] : nlohmann::json());
      if (part.is_string()) return part.get<std::string>();
    }
  return std::nullopt;
}

// The value of `path` once this merge's Partner Center writes are applied.
std::string after_merge(const engine::RuleInput& in, const std::string& path) {
  if (in.pc_writes)
    for (const auto& w : *in.pc_writes)
      if (w.path == path && w.value.is_string()) return w.value.get<std::string>();
  return remote_json::string_or(*in.pc, path);
}

std::string transition_event(const std::string& before, const std::string& status, const std::string& substatus) {
  if (status == before) return "";
  if (status == "Active" && before == "New") return "accepted";
  if (status != "Closed") return "";
  for (const char* closed : {"Won", "Lost", "Declined", "Expired"})
    if (substatus == closed) {
      std::string key = closed;
      key[0] = static_cast<char>(key[0] - 'A' + 'a');
      return key;
    }
  return "";
}

// A referral the partner shared (direction Outgoing): Microsoft answers it. Partner Center shows
// the answer in its substatus: Accepted or Engaged, or Closed/Declined ("referral resources",
// ReferralSubstatus).
std::string microsoft_answer(const std::string& before_sub, const std::string& status, const std::string& substatus) {
  if (status == "Closed") return substatus == "Declined" ? "co_sell_declined" : "";
  auto answered = [](const std::string& sub) { return sub == "Accepted" || sub == "Engaged"; };
  return status == "Active" && answered(substatus) && !answered(before_sub) ? "co_sell_accepted" : "";
}

}  // namespace

std::vector<engine::RuleAction> ReferralEvents::evaluate(const engine::RuleInput& in) const {
  if (in.trigger != engine::Trigger::paired || !in.pc || !in.link) return {};
  auto before = synced(in.mapping, *in.link, "status");
  if (!before) return {};
  std::string status = after_merge(in, "status");
  std::string substatus = after_merge(in, "substatus");
  std::string key = transition_event(*before, status, substatus);
  if (remote_json::string_or(*in.pc, "direction") == "Outgoing" && *before != "Closed") {
    // Without a mapped substatus, an unchanged status is an unchanged answer.
    auto before_sub = synced(in.mapping, *in.link, "substatus").value_or(*before == status ? substatus : "");
    if (auto answer = microsoft_answer(before_sub, status, substatus); !answer.empty()) key = answer;
  }
  if (key.empty()) return {};
  engine::RuleAction event;
  event.kind = engine::RuleAction::Kind::event;
  event.side = engine::Side::pc;
  event.key = key;
  event.reason = "referral " + in.link->pc_id + ": " + *before + " -> " + status +
                 (substatus.empty() ? "" : "/" + substatus) +
                 (key.starts_with("co_sell_") ? " (Microsoft's answer to the shared referral)" : "");
  return {event};
}

}  // namespace cosync::rules
