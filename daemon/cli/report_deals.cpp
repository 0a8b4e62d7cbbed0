// `cosyncd report deals-to-register` and `cosyncd report registrations`: the co-sell guide's
// "Deals to Register" from the state database plus one pull of what Partner Center changed since
// the last cycle (ReportOptions::pc_changes: a deal registered since is dropped at once). The registration deadline watch
// (daemon/rules/registration_deadline.*) holds every eligible won deal without a registration
// with its win and deadline; the deal's name, customer and value are what the last sync left in
// the link's shadow, or else the referral as the latest event about it carried it.
#include <algorithm>
#include <map>
#include <set>

#include "daemon/cli/report.hpp"
#include "daemon/mapping/registration_rule.hpp"
#include "daemon/rules/registration_deadline.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"

namespace cosync::app {
namespace {

// The referral as the newest event of each (mapping, referral) carried it.
std::map<std::pair<std::string, std::string>, nlohmann::json> referrals_in_events(const StateStore& store) {
  std::map<std::pair<std::string, std::string>, nlohmann::json> latest;
  for (const auto& e : store.events()) {  // oldest first: the newest wins
    const auto& pc = remote_json::member(e.payload, "pc");
    if (pc.is_object() && !pc.empty()) latest[{e.mapping, e.pc_id}] = pc;
  }
  return latest;
}

// The deals cosync has registered (`registration_submitted`): the watch of such a deal may still
// be held until the next cycle reads the referral registered.
std::set<std::pair<std::string, std::string>> registered_deals(const StateStore& store) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& e : store.events())
    if (e.event == "registration_submitted") out.insert({e.mapping, e.pc_id});
  return out;
}

// One deal value: the synced shadow of the field that reads `pc_path`, else the referral's own.
nlohmann::json deal_value(const mapping::Mapping& m, const Link* link, const nlohmann::json& referral,
                          const std::string& pc_path) {
  if (link) {
    auto synced_value = synced(m, *link, {pc_path}, {});
    if (!synced_value.is_null()) return synced_value;
  }
  return mapping::first_value_at(referral, pc_path);
}

// Partner Center's clock now, as far as the state database knows it: the host's moved by the
// offset the mapping's last cycle saw (its Date header); the host's before any cycle.
TimePoint pc_clock(const StateStore& store, const std::string& mapping, TimePoint now) {
  for (const auto& c : store.cycles()) {
    if (c.mapping != mapping) continue;
    auto pc = parse_iso8601(remote_json::string_or(c.summary, "pc_clock"));
    auto host = parse_iso8601(c.finished_at);
    if (pc && host) return now + (*pc - *host);
  }
  return now;
}

}  // namespace

std::optional<std::chrono::seconds> parse_report_duration(const std::string& text) {
  if (text.size() < 2) return std::nullopt;
  long long factor = 0;
  switch (text.back()) {
    case 'm': factor = 60; break;
    case 'h': factor = 3600; break;
    case 'd': factor = 86400; break;
    default: return std::nullopt;
  }
  long long n = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9' || n > 1'000'000) return std::nullopt;
    n = n * 10 + (text[i] - '0');
  }
  return std::chrono::seconds(n * factor);
}

ReportTable deals_to_register_report(const Config& config, const StateStore& store, TimePoint now,
                                     const ReportOptions& options) {
  bool json = options.format == ReportFormat::json;
  ReportTable t;
  if (json) t.columns = {"referralId", "crmId", "name", "customer", "value", "currency", "wonDateTime", "deadline", "daysLeft"};
  else t.columns = {"mapping", "referral", "crm_record", "name", "customer", "value", "currency", "won", "deadline",
                    "days_left", "held_until"};
  auto referrals = referrals_in_events(store);
  auto registered = registered_deals(store);
  for (const auto& m : config.mappings) {
    const TimePoint pc_now = pc_clock(store, m.name, now);
    for (const auto& h : store.all_holds(m.name)) {
      if (h.key != rules::RegistrationDeadlineWatch::kKey || registered.contains({m.name, h.pc_id})) continue;
      auto dates = rules::parse_deadline_watch_reason(h.reason);
      auto deadline = dates ? parse_iso8601(dates->deadline) : std::nullopt;
      if (!deadline) continue;  // not decided yet (the CRM record is read next cycle)
      if (options.due_within && *deadline > pc_now + *options.due_within) continue;
      // Changed in Partner Center since the last cycle: registered, or no longer won, it is not listed.
      const nlohmann::json* changed = options.changed_referral(m.name, h.pc_id);
      if (changed && (!remote_json::array_at(*changed, "registrations").empty() || !mapping::referral_closed_won(*changed))) continue;
      auto link = store.link_by_pc(m.name, h.pc_id);
      const auto& referral = changed ? *changed : referrals[{m.name, h.pc_id}];
      auto value_of = [&](const std::string& path) {
        return changed ? mapping::first_value_at(*changed, path) : deal_value(m, link ? &*link : nullptr, referral, path);
      };
      nlohmann::json won = dates->won.empty() ? nlohmann::json() : nlohmann::json(dates->won);
      std::vector<nlohmann::json> row{h.pc_id,
                                      link ? nlohmann::json(link->crm_id) : nlohmann::json(),
                                      value_of("name"),
                                      value_of("customerProfile.name"),
                                      value_of("details.dealValue"),
                                      value_of("details.currency"),
                                      won,
                                      dates->deadline,
                                      rules::whole_days_left(*deadline, pc_now)};
      if (!json) {
        row.insert(row.begin(), m.name);
        row.push_back(dates->held_until.empty() ? nlohmann::json() : nlohmann::json(dates->held_until));
      }
      t.rows.push_back(std::move(row));
    }
  }
  std::size_t deadline_column = json ? 7 : 8;
  std::stable_sort(t.rows.begin(), t.rows.end(),
                   [&](const auto& a, const auto& b) { return a[deadline_column] < b[deadline_column]; });
  return t;
}

ReportTable registrations_report(const Config& config, const StateStore& store, TimePoint, const ReportOptions& options) {
  // What the mapping's `registration: status:` block mirrors, as the last sync left it; without
  // one, the registration as the latest event about the referral carried it.
  const std::vector<std::pair<const char*, std::string>> columns = {
      {"registration_status", "registrationStatus"},
      {"status", "status"},
      {"status_reason", "statusReason"},
      {"review_pending", "statusHistory.reviewPendingDateTime"},
      {"action_required", "statusHistory.actionRequiredDateTime"},
      {"approved", "statusHistory.approvedDateTime"},
      {"rejected", "statusHistory.failedDateTime"},
  };
  ReportTable t{{"mapping", "referral", "crm_record"}, {}};
  for (const auto& column : columns) t.columns.push_back(column.first);
  auto referrals = referrals_in_events(store);
  for (const auto& m : config.mappings)
    for (const auto& link : store.links(m.name)) {
      std::vector<nlohmann::json> row{m.name, link.pc_id, link.crm_id};
      // Partner Center's answer since the last cycle first, then the last sync's, then the events'.
      const nlohmann::json* changed = options.changed_referral(m.name, link.pc_id);
      const auto& referral = changed ? *changed : referrals[{m.name, link.pc_id}];
      bool registered = false;
      for (const auto& [name, key] : columns) {
        bool top = key == "registrationStatus";
        std::string path = top ? key : "registrations." + key;
        auto value = changed ? mapping::first_value_at(*changed, path) : synced(m, link, {top ? key : "registrations.0." + key}, {});
        if (value.is_null()) value = mapping::first_value_at(referral, path);
        registered = registered || !(value.is_null() || value == "");
        row.push_back(std::move(value));
      }
      if (registered) t.rows.push_back(std::move(row));
    }
  return t;
}

}  // namespace cosync::app
