#include "daemon/cli/commands.hpp"

#include <filesystem>
#include <iomanip>

#include "daemon/cli/notify/preview.hpp"
#include "daemon/cli/runtime.hpp"
#include "daemon/store/state_store.hpp"

namespace cosync::app {
namespace {

constexpr int kExitUsage = 64;

// Prints rows as aligned columns, the first row being the header.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i)
      out << (i + 1 < row.size() ? std::string(row[i]) + std::string(widths[i] - row[i].size() + 2, ' ') : row[i]);
    out << "\n";
  }
}

std::string text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::unique_ptr<StateStore> open_store(const Config& config) {
  if (!std::filesystem::exists(config.state_db_path()))
    throw std::runtime_error("no state database at " + config.state_db_path() + " yet: cosyncd has not run");
  return std::make_unique<StateStore>(config.state_db_path());
}

}  // namespace

int command_status(const Config& config, OutputFormat format, std::ostream& out) {
  auto store = open_store(config);
  auto cycles = store->cycles();
  auto quarantine = store->quarantined();
  nlohmann::json status = {{"state_db", config.state_db_path()},
                           {"pending_creates", store->pending_create_count()},
                           {"notifications", {{"pending", store->deliveries("pending").size()},
                                              {"failed", store->deliveries("failed").size()}}},
                           {"mappings", nlohmann::json::array()}};
  for (const auto& m : config.mappings) {
    auto links = store->links(m.name);
    nlohmann::json entry = {{"mapping", m.name},
                            {"links", links.size()},
                            {"orphaned", std::count_if(links.begin(), links.end(), [](const auto& l) { return l.orphaned(); })},
                            {"cursor_pc", store->cursor(m.name, "pc").value_or("")},
                            {"cursor_crm", store->cursor(m.name, "crm").value_or("")},
                            {"quarantined", std::count_if(quarantine.begin(), quarantine.end(),
                                                          [&](const auto& q) { return q.mapping == m.name; })}};
    entry["shared"] = store->audit_count(m.name, "share");
    entry["held"] = nlohmann::json::array();
    for (const auto& h : store->all_holds(m.name))
      entry["held"].push_back({{"record", h.pc_id}, {"key", h.key}, {"until", h.until}, {"reason", h.reason}});
    for (const auto& c : cycles)
      if (c.mapping == m.name)
        entry["last_cycle"] = {{"finished_at", c.finished_at}, {"result", c.result}, {"duration_ms", c.duration_ms},
                               {"summary", c.summary}};
    status["mappings"].push_back(entry);
  }
  if (format == OutputFormat::json) {
    out << status.dump(2) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"MAPPING", "LINKS", "LAST CYCLE", "RESULT", "DURATION", "QUARANTINED", "ORPHANED", "PC CURSOR", "CRM CURSOR"}};
  for (const auto& m : status["mappings"]) {
    const auto& last = m.contains("last_cycle") ? m["last_cycle"] : nlohmann::json::object();
    rows.push_back({m["mapping"], std::to_string(m["links"].get<size_t>()), last.value("finished_at", "never"),
                    last.value("result", "-"),
                    last.contains("duration_ms") ? std::to_string(last["duration_ms"].get<long long>()) + " ms" : "-",
                    std::to_string(m["quarantined"].get<long long>()), std::to_string(m["orphaned"].get<long long>()),
                    m["cursor_pc"], m["cursor_crm"]});
  }
  print_table(out, rows);
  for (const auto& m : status["mappings"]) {
    if (m["shared"].get<long long>() > 0) out << m["mapping"].get<std::string>() << ": shared " << m["shared"] << " (audit kept)\n";
    for (const auto& h : m["held"]) {
      // A hold that only remembers a refusal or a wait for consent is never due by time.
      std::string until = h["until"].get<std::string>() > "2100" ? "until the record changes" : "until " + h["until"].get<std::string>();
      out << m["mapping"].get<std::string>() << ": held " << h["key"].get<std::string>() << " for "
          << h["record"].get<std::string>() << " " << until << ": " << h["reason"].get<std::string>() << "\n";
    }
  }
  out << "pending creates: " << status["pending_creates"].get<size_t>() << "\n";
  out << "notifications: " << status["notifications"]["pending"].get<size_t>() << " pending, "
      << status["notifications"]["failed"].get<size_t>() << " failed (cosyncd notifications list)\n";
  return 0;
}

int command_quarantine(const Config& config, const std::vector<std::string>& args, OutputFormat format,
                       std::ostream& out, std::ostream& err) {
  auto store = open_store(config);
  std::string verb = args.empty() ? "list" : args[0];
  if (verb == "list" && args.size() <= 1) {
    auto entries = store->quarantined();
    if (format == OutputFormat::json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& q : entries)
        list.push_back({{"id", q.id}, {"mapping", q.mapping}, {"side", q.side}, {"record_id", q.record_id},
                        {"reason", q.reason}, {"request_id", q.request_id}, {"attempts", q.attempts},
                        {"first_seen", q.first_seen}, {"last_seen", q.last_seen}, {"next_retry", q.next_retry}});
      out << list.dump(2) << "\n";
      return 0;
    }
    std::vector<std::vector<std::string>> rows = {
        {"ID", "MAPPING", "SIDE", "RECORD", "ATTEMPTS", "NEXT RETRY", "REASON"}};
    for (const auto& q : entries)
      rows.push_back({std::to_string(q.id), q.mapping, q.side, q.record_id, std::to_string(q.attempts),
                      q.next_retry.empty() ? "next cycle" : q.next_retry, q.reason});
    print_table(out, rows);
    return 0;
  }
  if ((verb == "retry" || verb == "drop") && args.size() == 2) {
    if (verb == "retry" && args[1] == "--all") {
      store->retry_all_quarantine_now();
      out << "every quarantined record is retried in the next cycle\n";
      return 0;
    }
    long long id = 0;
    try {
      id = std::stoll(args[1]);
    } catch (const std::exception&) {
      err << "cosyncd: quarantine " << verb << ": expected an entry id (see quarantine list), got '" << args[1] << "'\n";
      return kExitUsage;
    }
    bool found = verb == "retry" ? store->retry_quarantine_now(id) : store->drop_quarantine(id);
    if (!found) {
      err << "cosyncd: no quarantine entry " << id << "\n";
      return 1;
    }
    out << (verb == "retry" ? "entry " + args[1] + " is retried in the next cycle\n"
                            : "entry " + args[1] + " dropped: the record syncs again when it changes\n");
    return 0;
  }
  err << "usage: cosyncd quarantine list | retry ID | retry --all | drop ID\n";
  return kExitUsage;
}

namespace {

// After each planned event, the notifications it would send (rule, recipients, subject).
void add_notification_previews(const notify::NotificationConfig& config, TimePoint now,
                               std::vector<engine::PlannedChange>& changes) {
  std::vector<engine::PlannedChange> out;
  for (auto& c : changes) {
    out.push_back(c);
    if (c.action != "event" || !c.event.is_object()) continue;
    for (const auto& p : notify::preview(config, c.event, now)) {
      nlohmann::json what = {{"sink", p.sink}, {"to", p.to}, {"subject", p.subject}};
      if (!p.cc.empty()) what["cc"] = p.cc;
      std::string why = "on " + c.field + (p.problem.empty() ? "" : ": would fail: " + p.problem);
      out.push_back({c.mapping, c.pc_id, c.crm_id, "notify", p.rule, nullptr, what, why});
    }
  }
  changes = std::move(out);
}

}  // namespace

int command_plan(Config config, OutputFormat format, std::ostream& out) {
  auto log = make_stderr_logger(config.log);
  SystemClock clock;
  auto notifications = config.notifications;
  Runtime runtime(std::move(config), log, clock);
  std::vector<engine::PlannedChange> changes;
  if (int status = runtime.plan(changes); status != 0) return status;
  add_notification_previews(notifications, clock.now(), changes);
  if (format == OutputFormat::json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : changes)
      list.push_back({{"mapping", c.mapping}, {"referral", c.pc_id}, {"crm_record", c.crm_id}, {"action", c.action},
                      {"field", c.field}, {"old", c.old_value}, {"new", c.new_value}, {"why", c.reason}});
    out << list.dump(2) << "\n";
    return 0;
  }
  if (changes.empty()) {
    out << "nothing would change\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"MAPPING", "REFERRAL", "CRM RECORD", "ACTION", "FIELD", "OLD", "NEW", "WHY"}};
  for (const auto& c : changes)
    rows.push_back({c.mapping, c.pc_id, c.crm_id.empty() ? "(new)" : c.crm_id, c.action, c.field, text(c.old_value),
                    text(c.new_value), c.reason});
  print_table(out, rows);
  return 0;
}

}  // namespace cosync::app
