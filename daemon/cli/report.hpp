#pragma once
// `cosyncd report NAME [--format table|csv|json]`: the co-sell reports, each a function from the
// configuration and the state database to a table that report_writer prints. A report of another
// issue (deals-to-register, expiring, stale) plugs in with one entry in reports().
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "daemon/cli/config.hpp"
#include "daemon/cli/report_writer.hpp"
#include "daemon/store/state_store.hpp"
#include "daemon/util/clock.hpp"

namespace cosync::app {

struct Report {
  const char* name;
  const char* description;
  std::function<ReportTable(const Config&, const StateStore&, TimePoint now)> build;
};

const std::vector<Report>& reports();

// Co-sell deals grouped by referral status, CRM stage, offering and region, with counts and values,
// from what the last sync left in each link's shadow (a field the mapping does not sync shows "-").
ReportTable pipeline_report(const Config& config, const StateStore& store, TimePoint now);
// Deals shared with Microsoft (events "shared"), with the deal type, when, and Microsoft's answer.
ReportTable shared_report(const Config& config, const StateStore& store, TimePoint now);

// Leads still New under the expiry watch, soonest expiry first, with the warnings given (report_leads.cpp).
ReportTable expiring_report(const Config& config, const StateStore& store, TimePoint now);

// args: {NAME, ["--format", FORMAT]}. Returns the exit status.
int command_report(const Config& config, const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace cosync::app
