#include "daemon/cli/notifications_command.hpp"

#include <filesystem>

#include "daemon/store/state_store.hpp"

namespace cosync::app {
namespace {

constexpr int kExitUsage = 64;

ReportTable delivery_table(const std::vector<Delivery>& list) {
  ReportTable t{{"id", "status", "rule", "event", "referral", "attempts", "next_attempt", "sent_at", "last_error",
                 "message_id"},
                {}};
  for (const auto& d : list)
    t.rows.push_back({d.id, d.status, d.rule, d.event.event, d.event.pc_id, d.attempts,
                      d.status == "pending" && d.next_attempt.empty() ? "now" : d.next_attempt, d.sent_at,
                      d.last_error, d.message_id});
  return t;
}

}  // namespace

int command_notifications(const Config& config, const std::vector<std::string>& args, ReportFormat format,
                          std::ostream& out, std::ostream& err) {
  if (!std::filesystem::exists(config.state_db_path()))
    throw std::runtime_error("no state database at " + config.state_db_path() + " yet: cosyncd has not run");
  StateStore store(config.state_db_path());
  std::string verb = args.empty() ? "list" : args[0];
  if (verb == "list" && args.size() <= 1) {
    write_report(out, delivery_table(store.deliveries("")), format);
    return 0;
  }
  if ((verb == "retry" || verb == "drop") && args.size() == 2) {
    long long id = 0;
    try {
      id = std::stoll(args[1]);
    } catch (const std::exception&) {
      err << "cosyncd: notifications " << verb << ": expected a notification id (see notifications list), got '"
          << args[1] << "'\n";
      return kExitUsage;
    }
    bool found = verb == "retry" ? store.retry_delivery_now(id) : store.drop_delivery(id);
    if (!found) {
      err << "cosyncd: no " << (verb == "retry" ? "unsent " : "") << "notification " << id << "\n";
      return 1;
    }
    out << "notification " << id << (verb == "retry" ? " is sent again at the next pass (attempts reset)\n" : " dropped: it is not sent\n");
    return 0;
  }
  err << "usage: cosyncd notifications list | retry ID | drop ID\n";
  return kExitUsage;
}

}  // namespace cosync::app
