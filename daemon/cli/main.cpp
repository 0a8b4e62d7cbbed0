// cosyncd: keeps Microsoft Partner Center referrals and a CRM mirrored both ways.
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "daemon/cli/backup.hpp"
#include "daemon/cli/commands.hpp"
#include "daemon/cli/config.hpp"
#include "daemon/cli/help.hpp"
#include "daemon/cli/login.hpp"
#include "daemon/cli/notifications_command.hpp"
#include "daemon/cli/report.hpp"
#include "daemon/cli/runtime.hpp"
#include "daemon/store/state_store.hpp"
#include "daemon/util/yaml_reader.hpp"

namespace {

constexpr const char* kDefaultConfig = "/etc/cosync/cosync.yaml";

// Exit statuses beyond those of Runtime::run_once (kExitConfig: runtime.hpp).
constexpr int kExitUsage = 64;
using cosync::app::kExitConfig;

#ifndef COSYNC_VERSION
#define COSYNC_VERSION "0.1.0"
#endif
constexpr const char* kVersion = COSYNC_VERSION;

// `cosyncd --help`, `cosyncd help [COMMAND|--man]`, `cosyncd COMMAND --help`.
int help(const std::string& topic, bool man) {
  if (man) {
    cosync::app::write_man_page(std::cout, kVersion);
    return 0;
  }
  if (topic.empty()) {
    cosync::app::print_usage(std::cout);
    return 0;
  }
  const auto* command = cosync::app::find_command(topic);
  if (!command) {
    std::cerr << "cosyncd: no command '" << topic << "'\n";
    cosync::app::print_usage(std::cerr);
    return kExitUsage;
  }
  cosync::app::print_command_help(std::cout, *command);
  return 0;
}

struct CommandLine {
  std::string command, login_target, help_topic, config_path = kDefaultConfig;
  std::vector<std::string> args;  // the quarantine command's own arguments
  cosync::app::OutputFormat format = cosync::app::OutputFormat::table;
  bool offline = false, want_help = false, man = false;
};

// Reads argv; false on an argument no command takes (reported on stderr).
bool parse(int argc, char** argv, CommandLine& cl) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    const std::string& command = cl.command;
    if (arg == "--config" && i + 1 < argc) cl.config_path = argv[++i];
    else if (arg == "--json") cl.format = cosync::app::OutputFormat::json;
    else if (arg == "--offline" && command == "check") cl.offline = true;
    else if (arg.starts_with("--config=")) cl.config_path = arg.substr(9);
    else if (arg == "-h" || arg == "--help") cl.want_help = true;
    else if (command.empty() && !arg.starts_with("-")) cl.command = arg;
    else if (command == "help" && arg == "--man") cl.man = true;
    else if (command == "help" && cl.help_topic.empty() && !arg.starts_with("-")) cl.help_topic = arg;
    else if (command == "login" && cl.login_target.empty() && !arg.starts_with("-")) cl.login_target = arg;
    else if (command == "quarantine" || command == "notifications" || command == "report") cl.args.push_back(arg);
    else if (command == "backup" && cl.args.empty() && !arg.starts_with("-")) cl.args.push_back(arg);
    else {
      std::cerr << "cosyncd: unexpected argument '" << arg << "'\n";
      cosync::app::print_usage(std::cerr);
      return false;
    }
  }
  return true;
}

int check(const cosync::app::Config& config, const CommandLine& cl) {
  if (cl.offline) {
    std::cout << "configuration OK: " << cl.config_path << " (" << config.mappings.size()
              << " mapping(s); files only, not checked against the CRM)\n";
    return 0;
  }
  std::cout << "configuration files OK: " << cl.config_path << " (" << config.mappings.size() << " mapping(s))\n";
  try {
    cosync::SystemClock clock;
    cosync::app::Runtime runtime(config, cosync::make_stderr_logger(config.log), clock);
    int status = runtime.check_metadata(std::cout);
    if (status == 0) std::cout << "configuration OK: every mapping fits its CRM\n";
    return status;
  } catch (const std::exception& e) {
    std::cerr << "cosyncd: check: " << e.what() << "\n";
    return 1;
  }
}

// The commands that read the state database or the remote systems without running cycles;
// nullopt for the others.
std::optional<int> offline_command(cosync::app::Config& config, const CommandLine& cl) {
  const std::string& command = cl.command;
  try {
    if (command == "status") return cosync::app::command_status(config, cl.format, std::cout);
    if (command == "quarantine")
      return cosync::app::command_quarantine(config, cl.args, cl.format, std::cout, std::cerr);
    if (command == "plan") return cosync::app::command_plan(std::move(config), cl.format, std::cout);
    bool json = cl.format == cosync::app::OutputFormat::json;
    if (command == "notifications")
      return cosync::app::command_notifications(config, cl.args, json ? cosync::app::ReportFormat::json
                                                                      : cosync::app::ReportFormat::table,
                                                std::cout, std::cerr);
    if (command == "report") {
      auto args = cl.args;
      if (json) args.push_back("--format=json");
      return cosync::app::command_report(config, args, std::cout, std::cerr);
    }
    if (command == "backup") return cosync::app::command_backup(config, cl.args.at(0), std::cout, std::cerr);
  } catch (const cosync::SchemaTooNew& e) {
    std::cerr << "cosyncd: " << command << ": " << e.what() << "\n";
    return kExitConfig;
  } catch (const std::exception& e) {
    std::cerr << "cosyncd: " << command << ": " << e.what() << "\n";
    return 1;
  }
  return std::nullopt;
}

int daemon_command(cosync::app::Config config, const std::string& command) {
  auto log = cosync::make_stderr_logger(config.log);
  if (command == "login") return cosync::app::login_partner_center(config, log, std::cout, std::cerr);
  try {
    cosync::SystemClock clock;
    cosync::app::Runtime runtime(std::move(config), log, clock);
    if (command == "once") return runtime.run_once();
    if (command == "run") return runtime.run_forever();
  } catch (const cosync::SchemaTooNew& e) {
    log->critical("cosyncd cannot start: {} (restore a backup or run the newer cosyncd)", e.what());
    return kExitConfig;
  } catch (const std::exception& e) {
    log->critical("cosyncd stopped on an unexpected error: {}", e.what());
    return 1;
  }
  // A command of the help table that main does not dispatch yet: never run the daemon for it.
  std::cerr << "cosyncd: command '" << command << "' is not available in this build\n";
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine cl;
  if (!parse(argc, argv, cl)) return kExitUsage;
  const std::string& command = cl.command;
  if (command == "help") return help(cl.want_help && cl.help_topic.empty() ? "help" : cl.help_topic, cl.man);
  if (cl.want_help) return help(command, false);
  if (command == "version") {
    std::cout << "cosyncd " << kVersion << "\n";
    return 0;
  }
  if (command == "login" && cl.login_target != "partner-center") {
    std::cerr << "cosyncd: login takes the system to sign in to: cosyncd login partner-center\n";
    return kExitUsage;
  }
  if (command == "backup" && cl.args.empty()) {
    std::cerr << "cosyncd: backup needs the file to write: cosyncd backup FILE\n";
    return kExitUsage;
  }
  if (!cosync::app::find_command(command)) {
    if (!command.empty()) std::cerr << "cosyncd: unknown command '" << command << "'\n";
    cosync::app::print_usage(std::cerr);
    return kExitUsage;
  }

  cosync::app::Config config;
  try {
    config = cosync::app::load_config(cl.config_path);
  } catch (const cosync::ConfigError& e) {
    std::cerr << "cosyncd: configuration error: " << e.what() << "\n";
    return kExitConfig;
  }
  if (command == "check") return check(config, cl);
  if (auto status = offline_command(config, cl)) return *status;
  return daemon_command(std::move(config), command);
}
