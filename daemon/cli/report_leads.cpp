// `cosyncd report expiring`: the leads still New that the expiry watch (daemon/rules/expiry_watch.*)
// keeps an eye on, soonest first, from its held actions in the state database: no request is sent.
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

}  // namespace cosync::app
