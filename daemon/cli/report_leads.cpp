// `cosyncd report expiring`: the leads still New that the expiry watch (daemon/rules/expiry_watch.*)
// keeps an eye on, soonest first, and `cosyncd report stale`: the accepted leads the stale-lead
// watch (daemon/rules/stale_close.*) counts, from their held actions in the state database: no
// request is sent.
#include <algorithm>

#include "daemon/cli/report.hpp"

namespace cosync::app {

ReportTable expiring_report(const Config& config, const StateStore& store, TimePoint) {
  ReportTable t{{"mapping", "referral", "crm_record", "expires", "next_check", "warnings_given"}, {}};
  // The watch's hold says when the referral expires (its reason) and when it is looked at next.
  constexpr std::string_view kExpires = "expires at ";
  for (const auto& m : config.mappings)
    for (const auto& h : store.all_holds(m.name)) {
      if (h.key != "expiry_watch" || !h.reason.starts_with(kExpires)) continue;
      std::string warned;
      for (const auto& other : store.holds(m.name, h.pc_id))
        if (other.key.starts_with("expiry_warned_"))
          warned += (warned.empty() ? "" : ",") + other.key.substr(std::string_view("expiry_warned_").size());
      auto link = store.link_by_pc(m.name, h.pc_id);
      t.rows.push_back({m.name, h.pc_id, link ? link->crm_id : "-", h.reason.substr(kExpires.size()), h.until,
                        warned.empty() ? "-" : warned});
    }
  std::sort(t.rows.begin(), t.rows.end(), [](const auto& a, const auto& b) { return a[3] < b[3]; });
  return t;
}

namespace {

// The part of a stale-watch hold's reason after `prefix` and before ": " (its time).
std::string time_after(const std::vector<HeldAction>& holds, std::string_view key, std::string_view prefix) {
  for (const auto& h : holds)
    if (h.key == key && h.reason.starts_with(prefix)) {
      auto rest = h.reason.substr(prefix.size());
      return rest.substr(0, rest.find(": "));
    }
  return "-";
}

}  // namespace

ReportTable stale_report(const Config& config, const StateStore& store, TimePoint) {
  ReportTable t{{"mapping", "referral", "crm_record", "no_progress_since", "warned_at", "next_step", "due"}, {}};
  for (const auto& m : config.mappings)
    for (const auto& h : store.all_holds(m.name)) {
      if (h.key != "stale_watch") continue;
      auto holds = store.holds(m.name, h.pc_id);
      auto link = store.link_by_pc(m.name, h.pc_id);
      // The watch's reason reads "no progress since <time>[, n of m touches]: <next step>".
      auto step = h.reason.find(": ");
      t.rows.push_back({m.name, h.pc_id, link ? link->crm_id : "-", time_after(holds, "stale_since", "since "),
                        time_after(holds, "stale_warned", "warned at "),
                        step == std::string::npos ? h.reason : h.reason.substr(step + 2), h.until});
    }
  std::sort(t.rows.begin(), t.rows.end(), [](const auto& a, const auto& b) { return a[3] < b[3]; });
  return t;
}

}  // namespace cosync::app
