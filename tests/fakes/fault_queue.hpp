#pragma once
// Scripted API failures shared by the fakes: the next requests get an error status (429 with
// Retry-After, 503, 500...) or a 200 whose body is not JSON, in the order the test queued them.
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "tests/fakes/http_test_server.hpp"

namespace cosync::fakes {

// One line per write a fake accepted (for the sandbox's console and for test logs).
using EventSink = std::function<void(const std::string& line)>;

class FaultQueue {
 public:
  // The next `count` requests answer `status`; an empty body means the fake's own error body.
  void fail_next(int count, int status, std::optional<int> retry_after_seconds = std::nullopt,
                 std::string body = {});
  // The next `count` requests answer 200 with a truncated JSON body.
  void serve_malformed_next(int count);
  // Consumes the next fault, if any. `error_body(status)` makes the body when none was given.
  std::optional<FakeResponse> take(const std::function<std::string(int status)>& error_body);
  void clear();

 private:
  struct Fault {
    int status;
    std::optional<int> retry_after;
    std::string body;
    bool malformed;
  };
  std::mutex mu_;
  std::deque<Fault> faults_;
};

}  // namespace cosync::fakes
