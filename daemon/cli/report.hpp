#pragma once
// `cosyncd report NAME [--format table|csv|json]`: the co-sell reports, each a function from the
// configuration and the state database to a table that report_writer prints. A report of another
// issue (deals-to-register, expiring, stale) plugs in with one entry in reports().
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "daemon/cli/config.hpp"
#include "daemon/cli/report_writer.hpp"
#include "daemon/store/state_store.hpp"
#include "daemon/util/clock.hpp"

namespace cosync::app {

// What the command line asks of a report besides its name (`--mapping` filters the configuration).
struct ReportOptions {
  ReportFormat format = ReportFormat::table;
  std::optional<std::chrono::seconds> due_within;  // `--due-within 7d`
  // Referrals Partner Center changed since each mapping's last cycle (mapping -> id -> referral),
  // read by command_report for the reports that say so: newer than the state database.
  const std::map<std::string, std::map<std::string, nlohmann::json>>* pc_changes = nullptr;
  const nlohmann::json* changed_referral(const std::string& mapping, const std::string& pc_id) const;
};

struct Report {
  const char* name;
  const char* description;
  std::function<ReportTable(const Config&, const StateStore&, TimePoint now)> build;
  // Instead of `build`, for a report that takes options.
  std::function<ReportTable(const Config&, const StateStore&, TimePoint now, const ReportOptions&)> build_with_options{};
  // The state database plus one pull: Partner Center's changes since the last cycle (ReportOptions::pc_changes).
  bool reads_partner_center = false;
};

const std::vector<Report>& reports();

// Co-sell deals grouped by referral status, CRM stage, offering and region, with counts and values,
// from what the last sync left in each link's shadow (a field the mapping does not sync shows "-").
ReportTable pipeline_report(const Config& config, const StateStore& store, TimePoint now);
// Deals shared with Microsoft (events "shared"), with the deal type, when, and Microsoft's answer.
ReportTable shared_report(const Config& config, const StateStore& store, TimePoint now);

// What the last sync left in `link`'s shadow for the first mapped field that reads one of
// `pc_paths` or writes one of `crm_fields`; null when the mapping syncs none of them.
nlohmann::json synced(const mapping::Mapping& m, const Link& link, const std::set<std::string>& pc_paths,
                      const std::set<std::string>& crm_fields);

// Leads still New under the expiry watch, soonest expiry first, with the warnings given (report_leads.cpp).
ReportTable expiring_report(const Config& config, const StateStore& store, TimePoint now);
// Accepted leads under the stale-lead watch, the longest without progress first (report_leads.cpp).
ReportTable stale_report(const Config& config, const StateStore& store, TimePoint now);

// Eligible won deals without a registration (the registration deadline watch's holds), soonest
// deadline first; JSON has exactly the keys referralId, crmId, name, customer, value, currency,
// wonDateTime, deadline, daysLeft (report_deals.cpp).
ReportTable deals_to_register_report(const Config& config, const StateStore& store, TimePoint now,
                                     const ReportOptions& options);
// Every registration the last sync saw, with its review status and dates (report_deals.cpp).
ReportTable registrations_report(const Config& config, const StateStore& store, TimePoint now,
                                 const ReportOptions& options = {});
// "7d", "36h", "90m"; nullopt for anything else.
std::optional<std::chrono::seconds> parse_report_duration(const std::string& text);

// args: {NAME, ["--format", FORMAT], ["--mapping", NAME], ["--due-within", DURATION]}. Returns the exit status.
int command_report(const Config& config, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace cosync::app
