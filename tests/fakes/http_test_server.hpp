#pragma once
// A small HTTP/1.1 server for tests: listens on 127.0.0.1, runs its own io_context on its own
// thread, records every request and can inject transport faults (dropped connections, delays).
// The fakes of Partner Center, Salesforce and the token endpoint are built on it.
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace cosync::fakes {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; empty when absent.
std::string find_header(const HeaderList& headers, std::string_view name);
bool has_header(const HeaderList& headers, std::string_view name);

struct FakeRequest {
  std::string method;  // "GET", "PATCH", ...
  std::string target;  // raw request target, e.g. "/referrals?%24top=10"
  std::string path;    // percent-decoded path without the query
  std::map<std::string, std::string> query;  // decoded query parameters (last one wins)
  HeaderList headers;
  std::string body;

  std::string header(std::string_view name) const { return find_header(headers, name); }
  bool has(std::string_view name) const { return has_header(headers, name); }
  // Decoded query parameter, or `fallback` when absent.
  std::string param(const std::string& name, std::string fallback = {}) const;
};

struct FakeResponse {
  int status = 200;
  HeaderList headers;
  std::string body;

  std::string header(std::string_view name) const { return find_header(headers, name); }
  // A response with a JSON body and content-type application/json.
  static FakeResponse json(int status, const nlohmann::json& body);
};

// Decodes an application/x-www-form-urlencoded body ('+' is a space).
std::map<std::string, std::string> decode_form(std::string_view body);
// Percent-encodes a value for use in a URL query or form.
std::string url_encode(std::string_view value);

class HttpTestServer {
 public:
  using Handler = std::function<FakeResponse(const FakeRequest&)>;

  // Starts listening on 127.0.0.1:`port` (0 = an ephemeral port) and serving on a new thread.
  // The handler runs on that thread, one request at a time.
  explicit HttpTestServer(Handler handler, unsigned short port = 0);
  ~HttpTestServer();  // stops serving and joins the thread
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  unsigned short port() const;
  std::string base_url() const;  // "http://127.0.0.1:PORT"

  // Request log (every request read, dropped ones included), thread-safe.
  std::vector<FakeRequest> requests() const;
  // Those whose method equals `method` and whose path starts with `path_prefix`, in order.
  std::vector<FakeRequest> requests(std::string_view method, std::string_view path_prefix = {}) const;
  void clear_requests();
  // Requests whose method equals `method` (empty: any) and whose path starts with `path_prefix`.
  std::size_t count(std::string_view method, std::string_view path_prefix = {}) const;

  // Transport faults, each applied to the next requests in arrival order.
  // Read the request, then close the socket without answering.
  void drop_next_connections(int n);
  // Wait `ms` milliseconds before handling (other connections are served meanwhile).
  void delay_next(int n, int ms);

  // Number of TCP connections accepted so far (keep-alive reuse shows as fewer connections).
  std::size_t connections_accepted() const;

  struct Impl;  // opaque; public only so the connection coroutines in the .cpp can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cosync::fakes
