// cosyncd: keeps Microsoft Partner Center referrals and a CRM mirrored both ways.
#include <cstring>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "daemon/cli/commands.hpp"
#include "daemon/cli/config.hpp"
#include "daemon/cli/login.hpp"
#include "daemon/cli/runtime.hpp"
#include "daemon/util/yaml_reader.hpp"

namespace {

constexpr const char* kVersion = "0.1.0";
constexpr const char* kDefaultConfig = "/etc/cosync/cosync.yaml";

// Exit statuses beyond those of Runtime::run_once (kExitConfig: runtime.hpp).
constexpr int kExitUsage = 64;
using cosync::app::kExitConfig;

void usage(std::ostream& out) {
  out << "usage: cosyncd COMMAND [--config FILE]\n"
         "commands:\n"
         "  run      run the daemon: sync every poll interval until SIGTERM/SIGINT\n"
         "  once     run one sync cycle of every mapping; exit 0 when all synced\n"
         "  check    validate the configuration and mapping files, then each mapping against its CRM's\n"
         "           metadata (a token and a describe per mapping); writes nothing\n"
         "  plan     dry run on live data: what would change and why; writes nothing\n"
         "  status   links, last cycle, cursors and quarantine of every mapping\n"
         "  quarantine list | retry ID | retry --all | drop ID\n"
         "  login partner-center  sign in to Partner Center (device code) and store the refresh token\n"
         "  version  print the version\n"
         "options:\n"
         "  --config FILE  configuration file (default " << kDefaultConfig << ")\n"
         "  --json         JSON output (plan, status, quarantine list)\n"
         "  --offline      check: only the files, no network\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string command, login_target, config_path = kDefaultConfig;
  std::vector<std::string> args;  // the quarantine command's own arguments
  auto format = cosync::app::OutputFormat::table;
  bool offline = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) config_path = argv[++i];
    else if (arg == "--json") format = cosync::app::OutputFormat::json;
    else if (arg == "--offline" && command == "check") offline = true;
    else if (arg.starts_with("--config=")) config_path = arg.substr(9);
    else if (arg == "-h" || arg == "--help" || arg == "help") {
      usage(std::cout);
      return 0;
    } else if (command.empty() && !arg.starts_with("-")) command = arg;
    else if (command == "login" && login_target.empty() && !arg.starts_with("-")) login_target = arg;
    else if (command == "quarantine") args.push_back(arg);
    else {
      std::cerr << "cosyncd: unexpected argument '" << arg << "'\n";
      usage(std::cerr);
      return kExitUsage;
    }
  }
  if (command == "version") {
    std::cout << "cosyncd " << kVersion << "\n";
    return 0;
  }
  if (command == "login" && login_target != "partner-center") {
    std::cerr << "cosyncd: login takes the system to sign in to: cosyncd login partner-center\n";
    return kExitUsage;
  }
  static const std::set<std::string> commands = {"run", "once", "check", "login", "plan", "status", "quarantine"};
  if (!commands.contains(command)) {
    if (!command.empty()) std::cerr << "cosyncd: unknown command '" << command << "'\n";
    usage(std::cerr);
    return kExitUsage;
  }

  cosync::app::Config config;
  try {
    config = cosync::app::load_config(config_path);
  } catch (const cosync::ConfigError& e) {
    std::cerr << "cosyncd: configuration error: " << e.what() << "\n";
    return kExitConfig;
  }
  if (command == "check") {
    if (offline) {
      std::cout << "configuration OK: " << config_path << " (" << config.mappings.size()
                << " mapping(s); files only, not checked against the CRM)\n";
      return 0;
    }
    std::cout << "configuration files OK: " << config_path << " (" << config.mappings.size() << " mapping(s))\n";
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

  try {
    if (command == "status") return cosync::app::command_status(config, format, std::cout);
    if (command == "quarantine") return cosync::app::command_quarantine(config, args, format, std::cout, std::cerr);
    if (command == "plan") return cosync::app::command_plan(std::move(config), format, std::cout);
  } catch (const std::exception& e) {
    std::cerr << "cosyncd: " << command << ": " << e.what() << "\n";
    return 1;
  }

  auto log = cosync::make_stderr_logger(config.log);
  if (command == "login") return cosync::app::login_partner_center(config, log, std::cout, std::cerr);
  try {
    cosync::SystemClock clock;
    cosync::app::Runtime runtime(std::move(config), log, clock);
    return command == "once" ? runtime.run_once() : runtime.run_forever();
  } catch (const std::exception& e) {
    log->critical("cosyncd stopped on an unexpected error: {}", e.what());
    return 1;
  }
}
