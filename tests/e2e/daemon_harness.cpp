#include "tests/e2e/daemon_harness.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <array>
#include <cstdio>

#include "daemon/auth/refresh_token.hpp"

namespace cosync::testing {

CommandResult run_command(const std::string& command_line) {
  CommandResult result;
  FILE* pipe = ::popen((command_line + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  int status = ::pclose(pipe);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const std::string& output_file)
    : output_file_(output_file) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void BackgroundProcess::signal(int signo) {
  if (pid_ > 0) ::kill(pid_, signo);
}

std::optional<int> BackgroundProcess::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

std::string BackgroundProcess::output() const {
  std::ifstream in(output_file_);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

bool BackgroundProcess::wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (output().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

namespace {

fakes::FakePartnerCenterOptions pc_options(const fakes::FakeTokenServer& tokens, const std::string& public_url) {
  fakes::FakePartnerCenterOptions o;
  o.validate_token = tokens.validator();
  o.public_base_url = public_url;
  return o;
}

fakes::FakeSalesforceOptions sf_options(const fakes::FakeTokenServer& tokens) {
  fakes::FakeSalesforceOptions o;
  o.validate_token = tokens.validator();
  return o;
}

}  // namespace

DaemonHarness::DaemonHarness() : DaemonHarness(std::string()) {}

DaemonHarness::DaemonHarness(std::string pc_url)
    : pc(pc_options(tokens, pc_url)), sf(sf_options(tokens)), pc_url_(pc_url.empty() ? pc.base_url() : pc_url) {
  tokens.add_client("test-client", "test-secret", {.expires_in = 3600, .omit_expires_in = true, .instance_url = sf.base_url()});
  tokens.add_client("pc-client", "pc-secret");
  tokens.add_refresh_token("refresh-token-1");
  std::string error;
  dir.write("state/.keep", "");
  auth::write_secret_file(dir.file("state/pc_refresh_token"), "refresh-token-1", error);
  auth::write_secret_file(dir.file("sf_secret"), "test-secret", error);  // mode 0600, as cosyncd demands
  write_config();
}

void DaemonHarness::write_config(const std::string& extra_top_level) {
  std::ostringstream yaml;
  yaml << "state_dir: state\n"
       << "log: { level: debug }\n"
       // A key given twice is refused: the caller's own http: replaces the default one.
       << (extra_top_level.find("http:") == std::string::npos ? "http: { timeout: 5s, max_attempts: 3 }\n" : "")
       << extra_top_level  //
       << "partner_center:\n"
       << "  base_url: " << pc_url_ << "\n"
       << "  auth:\n"
       << "    token_url: " << tokens.url() << "\n"
       << "    client_id: pc-client\n"
       << "connections:\n"
       << "  salesforce:\n"
       << "    type: salesforce\n"
       << "    instance_url: " << sf.base_url() << "\n"
       << "    auth:\n"
       << "      token_url: " << tokens.url() << "\n"
       << "      client_id: test-client\n"
       << "      client_secret_file: sf_secret\n"
       << "mappings:\n"
       << "  - " << mapping_path_ << "\n";
  config_path_ = dir.write("cosync.yaml", yaml.str());
}

void DaemonHarness::edit_mapping(const std::string& from, const std::string& to) { edit_mapping({{from, to}}); }

void DaemonHarness::edit_mapping(const std::vector<std::pair<std::string, std::string>>& replacements) {
  std::ifstream in(COSYNC_SOURCE_DIR "/config/examples/mappings/pc-sf-leads.yaml");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  for (const auto& [from, to] : replacements) {
    auto at = text.find(from);
    if (at == std::string::npos) throw std::invalid_argument("the example mapping has no '" + from + "'");
    text.replace(at, from.size(), to);
  }
  mapping_path_ = dir.write("mapping.yaml", text);
  write_config();
}

CommandResult DaemonHarness::cosyncd(const std::string& command, const std::string& extra) {
  std::ostringstream line;
  line << COSYNC_BINARY_DIR << "/cosyncd " << command << " --config " << config_path_ << " " << extra;
  return run_command(line.str());
}

std::unique_ptr<BackgroundProcess> DaemonHarness::start_daemon() {
  return std::make_unique<BackgroundProcess>(
      std::vector<std::string>{std::string(COSYNC_BINARY_DIR) + "/cosyncd", "run", "--config", config_path_},
      dir.file("daemon.log"));
}

std::size_t DaemonHarness::write_calls() {
  std::size_t n = 0;
  for (auto* server : {&pc.server(), &sf.server()})
    for (const auto* method : {"POST", "PATCH", "PUT", "DELETE"}) n += server->count(method);
  return n;
}

void DaemonHarness::clear_requests() {
  pc.server().clear_requests();
  sf.server().clear_requests();
  tokens.server().clear_requests();
}

std::string DaemonHarness::add_incoming_lead(const std::string& company, double deal_value) {
  return pc.add_referral({{"type", "Independent"},
                          {"direction", "Incoming"},
                          {"status", "New"},
                          {"substatus", "Pending"},
                          {"customerProfile", {{"name", company}, {"address", {{"country", "US"}}}}},
                          {"details", {{"dealValue", deal_value}, {"currency", "USD"}, {"notes", "from Microsoft"}}}});
}

}  // namespace cosync::testing
