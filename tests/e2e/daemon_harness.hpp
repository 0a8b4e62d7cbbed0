#pragma once
// End-to-end harness: the fakes of Partner Center, Salesforce and the token endpoint in this
// process, a config in a temp dir pointing at them, and the real cosyncd binary run against it.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/fakes/fake_partner_center.hpp"
#include "tests/fakes/fake_salesforce.hpp"
#include "tests/fakes/fake_token_server.hpp"
#include "tests/unit/test_files.hpp"

namespace cosync::testing {

struct CommandResult {
  int exit_status = -1;
  std::string output;  // stdout and stderr together
};

// Runs a command line through the shell, capturing its output.
CommandResult run_command(const std::string& command_line);

// A child process started in the background with its output going to a file.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& output_file);
  ~BackgroundProcess();  // SIGKILLs the process if it still runs
  void signal(int signo);
  // The exit status, or nullopt if it did not exit within `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // Waits until the output contains `text`; false on timeout.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const;
  std::string output() const;

 private:
  int pid_ = -1;
  std::string output_file_;
};

class DaemonHarness {
 public:
  DaemonHarness();
  // cosyncd reaches Partner Center at `pc_url` (e.g. a Prism proxy in front of `pc`), which is
  // also the base of the fake's nextLinks.
  explicit DaemonHarness(std::string pc_url);

  // Runs `cosyncd <command> --config <config> [extra]`.
  CommandResult cosyncd(const std::string& command, const std::string& extra = "");
  std::unique_ptr<BackgroundProcess> start_daemon();
  std::string config_path() const { return config_path_; }
  // Rewrites the config with `extra` appended at the top level.
  void write_config(const std::string& extra_top_level = "");
  // Uses a copy of the shipped example mapping with the text `from` replaced by `to`.
  void edit_mapping(const std::string& from, const std::string& to);
  // The same with several replacements, each of text that must occur in the example mapping.
  void edit_mapping(const std::vector<std::pair<std::string, std::string>>& replacements);

  // Write calls (POST, PATCH, PUT, DELETE) each fake has received since the last clear.
  std::size_t write_calls();
  void clear_requests();

  // Incoming, Independent, New/Pending lead from Microsoft.
  std::string add_incoming_lead(const std::string& company, double deal_value = 25000);
  std::vector<nlohmann::json> leads() const { return sf.records("Lead"); }

  TempDir dir;
  fakes::FakeTokenServer tokens;
  fakes::FakePartnerCenter pc;
  fakes::FakeSalesforce sf;

 private:
  std::string pc_url_;
  std::string config_path_;
  std::string mapping_path_ = COSYNC_SOURCE_DIR "/config/examples/mappings/pc-sf-leads.yaml";
};

}  // namespace cosync::testing
