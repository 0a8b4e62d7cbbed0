#include "tests/e2e/prism.hpp"

#include <catch2/catch.hpp>
#include <iostream>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

namespace cosync::testing {

namespace fs = std::filesystem;

std::string partner_center_contract_path() {
  fs::path p = fs::path(COSYNC_SOURCE_DIR "/../shared/specs") / "partner-center-referrals.contract.swagger.json";
  return fs::exists(p) ? fs::weakly_canonical(p).string() : "";
}

std::string prism_executable() {
  fs::path p = fs::path(COSYNC_SOURCE_DIR) / "tools/prism/node_modules/.bin/prism";
  return fs::exists(p) ? p.string() : "";
}

std::string contract_check_unavailable() {
  if (partner_center_contract_path().empty())
    return "no ../shared/specs/partner-center-referrals.contract.swagger.json beside this clone";
  if (prism_executable().empty()) return "Prism is not installed (run scripts/install-deps.sh)";
  return "";
}

namespace {

sockaddr_in loopback(unsigned short port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

bool accepts_connections(unsigned short port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  auto addr = loopback(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

unsigned short free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto addr = loopback(0);
  socklen_t len = sizeof addr;
  unsigned short port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  if (fd >= 0) ::close(fd);
  return port;
}

PrismProxy::PrismProxy(const std::string& contract, const std::string& upstream, unsigned short port,
                       const std::string& log_file, std::chrono::seconds startup_limit)
    : port_(port) {
  auto started = std::chrono::steady_clock::now();
  process_ = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{prism_executable(), "proxy", contract, upstream, "--errors", "-h", "127.0.0.1", "-p",
                               std::to_string(port), "-v", "warn"},
      log_file);
  auto deadline = started + startup_limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (accepts_connections(port_)) {
      ready_ = true;
      break;
    }
    if (process_->wait_exit(std::chrono::milliseconds(0))) break;  // Prism gave up (bad spec, port taken)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  startup_time_ = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
}

bool skipped_without_contract_check() {
  auto why = contract_check_unavailable();
  if (why.empty()) return false;
  std::string line = "COSYNC-TEST-SKIPPED: Partner Center contract check skipped: " + why;
  WARN(line);
  std::cout << line << std::endl;
  return true;
}

}  // namespace cosync::testing
