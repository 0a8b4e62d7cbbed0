#include "tests/fakes/fault_queue.hpp"

namespace cosync::fakes {

void FaultQueue::fail_next(int count, int status, std::optional<int> retry_after_seconds, std::string body) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < count; ++i) faults_.push_back(Fault{status, retry_after_seconds, body, false});
}

void FaultQueue::serve_malformed_next(int count) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < count; ++i) faults_.push_back(Fault{200, std::nullopt, {}, true});
}

std::optional<FakeResponse> FaultQueue::take(const std::function<std::string(int status)>& error_body) {
  Fault fault;
  {
    std::lock_guard lock(mu_);
    if (faults_.empty()) return std::nullopt;
    fault = std::move(faults_.front());
    faults_.pop_front();
  }
  FakeResponse response;
  response.status = fault.status;
  response.headers.emplace_back("Content-Type", "application/json");
  if (fault.malformed) {
    // What a proxy cutting a response short looks like: valid start, no end.
    response.body = R"({"value":[{"id":"trunc)";
    return response;
  }
  if (fault.retry_after) response.headers.emplace_back("Retry-After", std::to_string(*fault.retry_after));
  response.body = fault.body.empty() ? error_body(fault.status) : fault.body;
  return response;
}

void FaultQueue::clear() {
  std::lock_guard lock(mu_);
  faults_.clear();
}

}  // namespace cosync::fakes
