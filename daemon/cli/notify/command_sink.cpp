// A command run for each notification, without a shell, with the message and its event as JSON
// on stdin; exit status 0 is delivered. It runs on the sender's blocking executor.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <thread>

#include "daemon/cli/notify/sink.hpp"

extern char** environ;

namespace cosync::notify {
namespace net = boost::asio;

namespace {

// Writes all of `data` to `fd`; a reader that exits early (EPIPE) is not our failure.
void write_all(int fd, const std::string& data) {
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);  // EPIPE instead of a signal, on this thread only
  std::size_t at = 0;
  while (at < data.size()) {
    ssize_t n = ::write(fd, data.data() + at, data.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    at += static_cast<std::size_t>(n);
  }
  timespec zero{};
  siginfo_t info;
  while (sigtimedwait(&pipe_only, &info, &zero) > 0) {  // drop a SIGPIPE we caused
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

std::optional<Failure> run_command(const CommandOptions& o, const std::string& input) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return Failure{FailureKind::transient, "command: cannot create a pipe", 0, ""};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], STDIN_FILENO);
  std::vector<char*> argv;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[0]);
  if (rc != 0) {
    ::close(pipe_fds[1]);
    return Failure{FailureKind::transient, "command " + o.argv[0] + ": cannot start: " + std::strerror(rc), 0, ""};
  }
  write_all(pipe_fds[1], input);
  ::close(pipe_fds[1]);
  auto deadline = std::chrono::steady_clock::now() + o.timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return Failure{FailureKind::transient, "command " + o.argv[0] + ": killed after " +
                                                 std::to_string(o.timeout.count()) + " s", 0, ""};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                      : "killed by signal " + std::to_string(WTERMSIG(status));
  return Failure{FailureKind::transient, "command " + o.argv[0] + " " + how, 0, ""};
}

class CommandSink final : public Sink {
 public:
  CommandSink(CommandOptions o, net::any_io_executor blocking) : options_(std::move(o)), blocking_(std::move(blocking)) {}
  net::awaitable<Status> send(const Message& m) override {
    nlohmann::json input = {{"message_id", m.message_id}, {"subject", m.subject}, {"text", m.body},
                            {"to", m.to},                 {"cc", m.cc},           {"event", m.event}};
    if (!m.html.empty()) input["html"] = m.html;
    auto run = [o = options_, text = input.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)]()
        -> net::awaitable<std::optional<Failure>> { co_return run_command(o, text); };
    auto failure = co_await net::co_spawn(blocking_, std::move(run), net::use_awaitable);
    if (failure) co_return *failure;
    co_return ok_status();
  }

 private:
  CommandOptions options_;
  net::any_io_executor blocking_;
};

}  // namespace

std::unique_ptr<Sink> make_command_sink(const CommandOptions& o, net::any_io_executor blocking) {
  return std::make_unique<CommandSink>(o, std::move(blocking));
}

}  // namespace cosync::notify
