#pragma once
// Prism (@stoplight/prism-cli, pinned in tools/prism, installed by scripts/install-deps.sh) in
// proxy mode with --errors, in front of a fake: it forwards requests that Microsoft's published
// Partner Center contract accepts and answers the others itself with 422.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "tests/e2e/child_process.hpp"

namespace cosync::testing {

// The contract (../shared/specs beside the repository), or "" when this clone has none.
std::string partner_center_contract_path();
// The pinned Prism executable, or "" when it is not installed.
std::string prism_executable();
// Why the contract check cannot run here ("" when it can).
std::string contract_check_unavailable();
// True when the contract check cannot run here, after reporting the test skipped with the reason
// (CTest counts it skipped through SKIP_REGULAR_EXPRESSION, never passed).
bool skipped_without_contract_check();
// A TCP port on 127.0.0.1 that was free a moment ago.
unsigned short free_loopback_port();

class PrismProxy {
 public:
  // Starts Prism on `port` (see free_loopback_port) proxying to `upstream`, and waits up to
  // `startup_limit` for it to accept connections. Check ready() / startup_time() afterwards.
  PrismProxy(const std::string& contract, const std::string& upstream, unsigned short port, const std::string& log_file,
             std::chrono::seconds startup_limit = std::chrono::seconds(30));
  bool ready() const { return ready_; }
  std::chrono::milliseconds startup_time() const { return startup_time_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string output() const { return process_->output(); }

 private:
  unsigned short port_;
  std::unique_ptr<BackgroundProcess> process_;
  bool ready_ = false;
  std::chrono::milliseconds startup_time_{0};
};

}  // namespace cosync::testing
