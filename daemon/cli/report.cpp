#include "daemon/cli/report.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "daemon/cli/runtime.hpp"
#include "daemon/util/clock.hpp"
#include "daemon/util/log.hpp"
#include "daemon/util/remote_json.hpp"

namespace cosync::app {
namespace {

constexpr int kExitUsage = 64;

// A shadow value as one cell: [Active, Accepted] -> "Active/Accepted", nothing -> "-".
std::string shown(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (const auto& part : v) out += (out.empty() ? "" : "/") + shown(part);
    return out;
  }
  if (v.is_null()) return "-";
  return v.dump();
}

}  // namespace

nlohmann::json synced(const mapping::Mapping& m, const Link& link, const std::set<std::string>& pc_paths,
                      const std::set<std::string>& crm_fields) {
  for (const auto& f : m.fields) {
    bool reads = std::any_of(f.pc_paths.begin(), f.pc_paths.end(), [&](const auto& p) { return pc_paths.contains(p); });
    if (reads || crm_fields.contains(f.crm_field)) return remote_json::member(link.shadow, f.name);
  }
  return nullptr;
}

ReportTable pipeline_report(const Config& config, const StateStore& store, TimePoint) {
  using Key = std::tuple<std::string, std::string, std::string, std::string, std::string>;
  std::map<Key, std::pair<long long, double>> groups;
  for (const auto& m : config.mappings)
    for (const auto& link : store.links(m.name)) {
      if (link.orphaned()) continue;
      Key key{m.name, shown(synced(m, link, {"status", "substatus"}, {})),
              shown(synced(m, link, {"salesStage"}, {"StageName", "salesstage", "stepname"})),
              shown(synced(m, link, {"details.requirements.solutions", "details.requirements.offers"}, {})),
              shown(synced(m, link, {"customerProfile.address.region", "customerProfile.address.country"}, {}))};
      auto value = synced(m, link, {"details.dealValue"}, {"Amount", "estimatedvalue"});
      auto& group = groups[key];
      ++group.first;
      if (value.is_number()) group.second += value.get<double>();
    }
  ReportTable t{{"mapping", "status", "stage", "offering", "region", "count", "value"}, {}};
  for (const auto& [k, g] : groups)
    t.rows.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k), std::get<4>(k), g.first, g.second});
  return t;
}

ReportTable shared_report(const Config&, const StateStore& store, TimePoint) {
  // Microsoft's answer to a shared deal is the latest accepted/declined event of that referral.
  std::map<std::pair<std::string, std::string>, std::string> answers;
  auto events = store.events();
  for (const auto& e : events)
    if (e.event.starts_with("co_sell_") && e.event != "co_sell_shared")  // co_sell_accepted, co_sell_declined
      answers[{e.mapping, e.pc_id}] = e.event.substr(8) + " " + e.at;
    else if (e.event == "accepted" || e.event == "declined")
      answers[{e.mapping, e.pc_id}] = e.event + " " + e.at;
  ReportTable t{{"mapping", "referral", "crm_record", "deal_type", "shared_on", "microsoft_response"}, {}};
  for (const auto& e : events) {
    if (e.event != "co_sell_shared") continue;  // the share's event (engine/share_execution.cpp)
    const auto& pc = remote_json::member(e.payload, "pc");
    std::string type = remote_json::string_or(pc, "_kind", remote_json::string_or(pc, "type", "-"));
    auto answer = answers.find({e.mapping, e.pc_id});
    t.rows.push_back({e.mapping, e.pc_id, e.crm_id, type, e.at, answer == answers.end() ? "pending" : answer->second});
  }
  return t;
}

const std::vector<Report>& reports() {
  static const std::vector<Report> all = {
      {"pipeline", "co-sell deals by status, stage, offering and region: counts and values", pipeline_report},
      {"shared", "deals shared with Microsoft: deal type, shared on, Microsoft's response", shared_report},
      {"expiring", "leads still New under the expiry watch: expiry, next check, warnings given", expiring_report},
      {"stale", "accepted leads under the stale-lead watch: no progress since, warned, when they close", stale_report},
      {"deals-to-register", "won deals without a registration, soonest deadline first: win, deadline, days left",
       nullptr, deals_to_register_report, true},
      {"registrations", "every deal registration with its review status and dates", nullptr, registrations_report, true},
  };
  return all;
}

const nlohmann::json* ReportOptions::changed_referral(const std::string& mapping, const std::string& pc_id) const {
  if (!pc_changes) return nullptr;
  auto m = pc_changes->find(mapping);
  if (m == pc_changes->end()) return nullptr;
  auto r = m->second.find(pc_id);
  return r == m->second.end() ? nullptr : &r->second;
}

namespace {
// One pull of what Partner Center changed since the last cycle, so that a report is not older
// than the API. Without it (network, credentials) the report says so and shows the state as of
// the last cycle.
void read_pc_changes(const Config& config, const StateStore& store,
                     std::map<std::string, std::map<std::string, nlohmann::json>>& changes, std::ostream& err) {
  // Before any cycle there is nothing to bring up to date (and no cursor to read from).
  bool synced_before = std::any_of(config.mappings.begin(), config.mappings.end(),
                                   [&](const mapping::Mapping& m) { return store.cursor(m.name, "pc").has_value(); });
  if (!synced_before) return;
  SystemClock clock;
  LogOptions quiet = config.log;  // the report on stdout; only problems on stderr
  quiet.level = "warn";
  Runtime runtime(config, make_stderr_logger(quiet), clock);
  std::vector<std::string> failures;
  int status = runtime.pc_changes_since_last_cycle(changes, failures);
  if (status == kExitConfig) failures.push_back("the configuration or the CRM's metadata does not fit");
  for (const auto& f : failures)
    err << "cosyncd report: Partner Center not read (" << f << "): shown as of the last cycle\n";
}
}  // namespace

int command_report(const Config& config, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto usage = [&] {
    err << "usage: cosyncd report NAME [--format table|csv|json] [--mapping NAME] [--due-within 7d]\nreports:\n";
    for (const auto& r : reports()) err << "  " << r.name << "  " << r.description << "\n";
    return kExitUsage;
  };
  std::string name, mapping_name;
  ReportOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i], value;
    if (auto eq = a.find('='); a.starts_with("--") && eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (a.starts_with("--") && i + 1 < args.size()) {
      value = args[++i];
    }
    if (a == "--format" && parse_report_format(value)) options.format = *parse_report_format(value);
    else if (a == "--mapping" && !value.empty()) mapping_name = value;
    else if (a == "--due-within" && parse_report_duration(value)) options.due_within = parse_report_duration(value);
    else if (name.empty() && !a.starts_with("-")) name = a;
    else return usage();
  }
  Config selected = config;  // --mapping: that mapping's deals only
  if (!mapping_name.empty()) {
    std::erase_if(selected.mappings, [&](const mapping::Mapping& m) { return m.name != mapping_name; });
    if (selected.mappings.empty()) {
      err << "cosyncd report: no mapping named '" << mapping_name << "'\n";
      return kExitUsage;
    }
  }
  for (const auto& r : reports()) {
    if (name != r.name) continue;
    if (options.due_within && !r.build_with_options) return usage();
    if (!std::filesystem::exists(config.state_db_path()))
      throw std::runtime_error("no state database at " + config.state_db_path() + " yet: cosyncd has not run");
    StateStore store(config.state_db_path());
    std::map<std::string, std::map<std::string, nlohmann::json>> changes;
    if (r.reads_partner_center) {
      read_pc_changes(selected, store, changes, err);
      options.pc_changes = &changes;
    }
    auto now = std::chrono::system_clock::now();
    write_report(out, r.build_with_options ? r.build_with_options(selected, store, now, options) : r.build(selected, store, now),
                 options.format);
    return 0;
  }
  return usage();
}

}  // namespace cosync::app
