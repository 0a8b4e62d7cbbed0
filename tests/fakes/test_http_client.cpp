#include "tests/fakes/test_http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <optional>

namespace cosync::fakes {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

struct FakeClient::Impl {
  int timeout_ms;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  std::string connected_to;  // "host:port" of the open connection

  // Sends on the open connection (or a new one); false when no response came.
  bool attempt(const std::string& host, const std::string& port, http::request<http::string_body>& req,
               ClientResponse& out) {
    beast::error_code ec;
    if (!stream || connected_to != host + ":" + port) {
      stream.emplace(ioc);
      tcp::resolver resolver(ioc);
      auto endpoints = resolver.resolve(host, port, ec);
      if (ec) return fail(out, ec);
      stream->expires_after(std::chrono::milliseconds(timeout_ms));
      stream->connect(endpoints, ec);
      if (ec) return fail(out, ec);
      connected_to = host + ":" + port;
    }
    // Blocking calls on tcp_stream do not honour expires_after, so run the async ops on our
    // io_context instead: that gives every request a timeout.
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    beast::flat_buffer buffer;
    stream->expires_after(std::chrono::milliseconds(timeout_ms));
    http::async_write(*stream, req, [&](beast::error_code e, std::size_t) {
      if (e) {
        ec = e;
        return;
      }
      http::async_read(*stream, buffer, parser, [&](beast::error_code e2, std::size_t) { ec = e2; });
    });
    ioc.restart();
    ioc.run();
    if (ec) return fail(out, ec);
    auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    out.error.clear();
    for (const auto& field : res) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    out.body = res.body();
    if (!res.keep_alive()) stream.reset();
    return true;
  }

  bool fail(ClientResponse& out, const beast::error_code& ec) {
    out.status = 0;
    out.error = ec.message();
    stream.reset();
    return false;
  }
};

FakeClient::FakeClient(int timeout_ms) : impl_(std::make_unique<Impl>()) { impl_->timeout_ms = timeout_ms; }
FakeClient::~FakeClient() = default;

ClientResponse FakeClient::request(std::string_view method, std::string_view url, const HeaderList& headers,
                                   std::string_view body) {
  ClientResponse out;
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    out.error = "bad url";
    return out;
  }
  std::string host(parsed->host());
  std::string port = parsed->has_port() ? std::string(parsed->port()) : "80";
  std::string target(parsed->encoded_target());
  if (target.empty()) target = "/";

  http::request<http::string_body> req;
  req.method_string(std::string(method));
  req.target(target);
  req.version(11);
  req.set(http::field::host, host + ":" + port);
  for (const auto& [k, v] : headers) req.insert(k, v);
  req.body() = std::string(body);
  req.prepare_payload();
  req.keep_alive(true);

  // No retry: the fakes never close an idle connection, so a failure is a fault a test injected.
  impl_->attempt(host, port, req, out);
  return out;
}

}  // namespace cosync::fakes
