#include "tests/fakes/http_test_server.hpp"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>

namespace cosync::fakes {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+' && plus_as_space) {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string find_header(const HeaderList& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

bool has_header(const HeaderList& headers, std::string_view name) {
  for (const auto& h : headers)
    if (iequals(h.first, name)) return true;
  return false;
}

std::string FakeRequest::param(const std::string& name, std::string fallback) const {
  auto it = query.find(name);
  return it == query.end() ? fallback : it->second;
}

FakeResponse FakeResponse::json(int status, const nlohmann::json& body) {
  return FakeResponse{status, {{"Content-Type", "application/json;charset=UTF-8"}}, body.dump()};
}

std::map<std::string, std::string> decode_form(std::string_view body) {
  std::map<std::string, std::string> out;
  while (!body.empty()) {
    auto amp = body.find('&');
    auto pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    out[key] = eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1), true);
  }
  return out;
}

std::string url_encode(std::string_view value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

struct HttpTestServer::Impl {
  Handler handler;
  asio::io_context ioc;
  unsigned short port = 0;
  std::atomic<std::size_t> connections{0};

  mutable std::mutex mu;  // guards the request log and the fault counters
  std::vector<FakeRequest> log;
  int drops = 0;
  int delays = 0;
  int delay_ms = 0;

  std::thread thread;

  struct Fault {
    bool drop = false;
    int delay_ms = 0;
  };

  Fault record(const FakeRequest& request) {
    std::lock_guard lock(mu);
    log.push_back(request);
    Fault f;
    if (drops > 0) {
      --drops;
      f.drop = true;
    } else if (delays > 0) {
      --delays;
      f.delay_ms = delay_ms;
    }
    return f;
  }

  FakeResponse call(const FakeRequest& request) {
    try {
      return handler(request);
    } catch (const std::exception& e) {
      // A bug in a fake shows up as a 500 the test can see, not a dead server thread.
      return FakeResponse{500, {{"Content-Type", "text/plain"}}, std::string("fake handler threw: ") + e.what()};
    }
  }
};

namespace {

FakeRequest to_fake_request(const http::request<http::string_body>& req) {
  FakeRequest r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  for (const auto& field : req) r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  r.body = req.body();
  auto parsed = boost::urls::parse_origin_form(r.target);
  if (parsed) {
    r.path = parsed->path();
    for (auto p : parsed->params(boost::urls::encoding_opts(true))) r.query[p.key] = p.value;
  } else {
    // Be lenient with targets Boost.URL rejects (e.g. raw spaces): split and decode by hand.
    auto q = r.target.find('?');
    r.path = percent_decode(std::string_view(r.target).substr(0, q), false);
    if (q != std::string::npos) r.query = decode_form(std::string_view(r.target).substr(q + 1));
  }
  return r;
}

asio::awaitable<void> session(HttpTestServer::Impl* impl, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    auto [read_ec, read_n] = co_await http::async_read(stream, buffer, parser, kAwait);
    if (read_ec) break;  // client closed, or garbage
    auto& req = parser.get();
    FakeRequest request = to_fake_request(req);
    auto fault = impl->record(request);
    if (fault.drop) break;
    if (fault.delay_ms > 0) {
      asio::steady_timer timer(stream.get_executor(), std::chrono::milliseconds(fault.delay_ms));
      co_await timer.async_wait(kAwait);
    }
    FakeResponse answer = impl->call(request);

    http::response<http::string_body> res;
    res.version(req.version());
    res.result(static_cast<unsigned>(answer.status));
    res.set(http::field::server, "cosync-fake");
    for (const auto& [k, v] : answer.headers) res.insert(k, v);
    res.body() = std::move(answer.body);
    res.keep_alive(req.keep_alive() && !iequals(answer.header("Connection"), "close"));
    res.prepare_payload();
    auto [write_ec, write_n] = co_await http::async_write(stream, res, kAwait);
    if (write_ec || !res.keep_alive()) break;
  }
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream.socket().close(ec);
}

asio::awaitable<void> accept_loop(HttpTestServer::Impl* impl, tcp::acceptor acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kAwait);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    ++impl->connections;
    asio::co_spawn(acceptor.get_executor(), session(impl, std::move(socket)), asio::detached);
  }
}

}  // namespace

HttpTestServer::HttpTestServer(Handler handler, unsigned short port) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  tcp::acceptor acceptor(impl_->ioc);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen();
  impl_->port = acceptor.local_endpoint().port();
  // The acceptor and each connection live in their coroutine frames, which the io_context
  // destroys when it goes away: stopping needs no bookkeeping of open sockets.
  asio::co_spawn(impl_->ioc, accept_loop(impl_.get(), std::move(acceptor)), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

HttpTestServer::~HttpTestServer() {
  impl_->ioc.stop();
  impl_->thread.join();
}

unsigned short HttpTestServer::port() const { return impl_->port; }

std::string HttpTestServer::base_url() const { return "http://127.0.0.1:" + std::to_string(impl_->port); }

std::vector<FakeRequest> HttpTestServer::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->log;
}

std::vector<FakeRequest> HttpTestServer::requests(std::string_view method, std::string_view path_prefix) const {
  std::lock_guard lock(impl_->mu);
  std::vector<FakeRequest> out;
  for (const auto& r : impl_->log)
    if (r.method == method && r.path.starts_with(path_prefix)) out.push_back(r);
  return out;
}

void HttpTestServer::clear_requests() {
  std::lock_guard lock(impl_->mu);
  impl_->log.clear();
}

std::size_t HttpTestServer::count(std::string_view method, std::string_view path_prefix) const {
  std::lock_guard lock(impl_->mu);
  std::size_t n = 0;
  for (const auto& r : impl_->log)
    if ((method.empty() || r.method == method) && r.path.starts_with(path_prefix)) ++n;
  return n;
}

void HttpTestServer::drop_next_connections(int n) {
  std::lock_guard lock(impl_->mu);
  impl_->drops += n;
}

void HttpTestServer::delay_next(int n, int ms) {
  std::lock_guard lock(impl_->mu);
  impl_->delays = n;
  impl_->delay_ms = ms;
}

std::size_t HttpTestServer::connections_accepted() const { return impl_->connections.load(); }

}  // namespace cosync::fakes
