#pragma once
// Result type for operations that can fail at run time (I/O, remote APIs). Exceptions are kept
// for start-up and configuration errors only.
#include <string>
#include <utility>
#include <variant>

namespace cosync {

// How the caller should react to a failure.
enum class FailureKind {
  transient,   // network error, 429, 5xx: retry later, the record is not at fault
  conflict,    // 409/412: precondition failed, re-read and re-merge
  rejected,    // 400 and friends: the record is at fault, quarantine it
  not_found,   // 404: the remote record is gone
  auth,        // 401/403 after a refresh: configuration or permission problem
  fatal,       // anything else we cannot recover from in this cycle
};

const char* to_string(FailureKind kind);

struct Failure {
  FailureKind kind = FailureKind::fatal;
  std::string message;     // human-readable; never contains secrets
  int http_status = 0;     // 0 when no HTTP response was received
  std::string request_id;  // the remote side's request id, when it sent one
};

template <class T>
class Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Failure f) : v_(std::move(f)) {}
  explicit operator bool() const { return v_.index() == 0; }
  bool ok() const { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const Failure& failure() const { return std::get<1>(v_); }

 private:
  std::variant<T, Failure> v_;
};

struct Done {};
using Status = Expected<Done>;
inline Status ok_status() { return Done{}; }

}  // namespace cosync
