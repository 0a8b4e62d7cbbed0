#pragma once
// Async HTTPS client over Beast: verified TLS, keep-alive pool per host, per-request timeout,
// retries with backoff for idempotent requests, bounded requests in flight per host.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/util/expected.hpp"
#include "daemon/util/log.hpp"

namespace cosync::http {

enum class Method { get, post, put, patch, del };
const char* to_string(Method m);

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  Method method = Method::get;
  std::string url;  // absolute: https://host[:port]/path?query (http:// only to loopback)
  Headers headers;
  std::string body;
  // Retry on 429/5xx/network errors. Defaults from the method: GET, PUT, DELETE yes; POST, PATCH no
  // (set it explicitly when the API makes the call idempotent, e.g. an If-Match precondition).
  std::optional<bool> idempotent;
  std::optional<std::chrono::milliseconds> timeout;  // overrides ClientOptions::timeout
};

struct Response {
  int status = 0;
  Headers headers;
  std::string body;
  // Case-insensitive header lookup; empty when absent.
  std::string header(std::string_view name) const;
};

struct ClientOptions {
  std::string ca_file;                            // extra trust anchors (PEM); system store otherwise
  std::chrono::milliseconds timeout{30'000};      // per attempt: connect + write + read
  int max_attempts = 5;                           // first try included
  std::chrono::milliseconds base_backoff{500};    // doubled per attempt, with full jitter
  std::chrono::milliseconds max_backoff{60'000};
  std::chrono::milliseconds max_retry_after{300'000};  // cap on a server's Retry-After
  std::size_t max_in_flight_per_host = 4;
  std::size_t max_idle_per_host = 4;
  std::chrono::milliseconds idle_timeout{30'000};  // a pooled connection idle longer is closed
  // A response body larger than this fails the request (not retried) before it is read whole: a
  // page is held and parsed in memory (nlohmann takes some 10-25 times its size). The largest
  // legitimate pages are a Salesforce query batch (at most 2,000 records, 200 with long text
  // fields) or a Dataverse page (at most 5,000 rows) of the mapped fields only: a few MB.
  std::size_t max_body_bytes = 16u * 1024 * 1024;
};

// Use from one thread (or one strand) at a time: the pool and the per-host limits are not locked.
// The client may be destroyed while requests are still running (they keep its state alive), but
// the io_context behind `ex` must outlive it and them.
class HttpClient {
 public:
  HttpClient(boost::asio::any_io_executor ex, ClientOptions options, Log log);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Returns the final response whatever its status (after retries of 429/5xx are exhausted),
  // or a Failure when no response could be had (network error, timeout, TLS, refused URL).
  boost::asio::awaitable<Expected<Response>> send(Request request);

  // For a prompt shutdown: cancels every request in flight, including its connect, read, write
  // and Retry-After or backoff waits (each returns a transient Failure "cancelled" at once), and
  // fails every later request the same way. Irreversible.
  void stop();

  // Number of HTTP requests put on the wire (retries included), for summaries and tests.
  std::size_t requests_sent() const;

  // Outcomes of the attempts so far (retries included), by HTTP status class, for /metrics: an
  // operator tells a throttled API (4xx: 429) from a sick one (5xx) from an unreachable one.
  struct Outcomes {
    std::size_t status_2xx = 0, status_3xx = 0, status_4xx = 0, status_5xx = 0;
    std::size_t no_response = 0;  // network error, timeout or TLS failure
  };
  Outcomes outcomes() const;

  // Requests sent to one host at a time (ClientOptions::max_in_flight_per_host, at least 1): how
  // many a caller with independent calls gains by starting at once; more only wait here.
  std::size_t max_in_flight_per_host() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cosync::http
