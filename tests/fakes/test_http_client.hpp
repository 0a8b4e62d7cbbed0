#pragma once
// A blocking HTTP/1.1 client for tests that talk to the fakes directly (plain http, loopback).
// Keeps one keep-alive connection and reconnects when the server closed it.
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tests/fakes/http_test_server.hpp"

namespace cosync::fakes {

struct ClientResponse {
  int status = 0;     // 0 when no response came (connection refused, dropped, timeout)
  std::string error;  // transport error text when status is 0
  HeaderList headers;
  std::string body;

  std::string header(std::string_view name) const { return find_header(headers, name); }
  nlohmann::json json() const { return nlohmann::json::parse(body); }  // throws on a bad body
};

class FakeClient {
 public:
  explicit FakeClient(int timeout_ms = 10'000);
  ~FakeClient();
  FakeClient(const FakeClient&) = delete;
  FakeClient& operator=(const FakeClient&) = delete;

  // `url` is absolute: http://127.0.0.1:PORT/path?query. Never throws for HTTP or transport errors.
  ClientResponse request(std::string_view method, std::string_view url, const HeaderList& headers = {},
                         std::string_view body = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cosync::fakes
