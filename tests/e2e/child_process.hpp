#pragma once
// The cosyncd binary as the end-to-end tests run it: a command line to completion, or a child
// process in the background whose output goes to a file.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

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
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  void signal(int signo);
  // The exit status, or nullopt if it did not exit within `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // Waits until the output contains `text`; false on timeout.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const;
  std::string output() const;
  int pid() const { return pid_; }
  // Why the process could not be started (posix_spawn's error, e.g. the binary being relinked); empty if it was.
  std::string start_error() const { return start_error_; }

 private:
  int pid_ = -1;
  std::string output_file_;
  std::string start_error_;
};

}  // namespace cosync::testing
