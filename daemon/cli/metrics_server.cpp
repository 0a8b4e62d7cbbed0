#include "daemon/cli/metrics_server.hpp"

#include <list>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace cosync::app {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
constexpr auto kAwait = net::as_tuple(net::use_awaitable);

struct MetricsServer::Impl : std::enable_shared_from_this<Impl> {
  tcp::acceptor acceptor;
  MetricsEndpoints endpoints;
  Log log;
  unsigned short port = 0;
  bool stopped = false;
  // The open connections, closed by stop(): an idle keep-alive scraper must not keep the
  // io_context (and so a stopping daemon) running.
  std::list<std::weak_ptr<boost::beast::tcp_stream>> connections;

  Impl(net::io_context& io, MetricsEndpoints e, Log l) : acceptor(io), endpoints(std::move(e)), log(std::move(l)) {}

  http::response<http::string_body> answer(const http::request<http::string_body>& req) {
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    std::string_view target(req.target().data(), req.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET, HEAD");
      res.body() = "only GET\n";
    } else if (path == "/metrics") {
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = endpoints.metrics();
    } else if (path == "/healthz") {
      res.body() = "ok\n";  // answered by the event loop itself: it is not stuck
    } else if (path == "/readyz") {
      std::string why;
      bool ready = endpoints.ready(why);
      res.result(ready ? http::status::ok : http::status::service_unavailable);
      res.body() = ready ? "ready\n" : why + "\n";
    } else {
      res.result(http::status::not_found);
      res.body() = "not found: /metrics, /healthz, /readyz\n";
    }
    res.prepare_payload();
    if (req.method() == http::verb::head) res.body().clear();
    return res;
  }

  // One connection: requests in turn until the client closes it or is idle for 30 s.
  net::awaitable<void> session(tcp::socket socket) {
    auto self = shared_from_this();
    auto owned = std::make_shared<boost::beast::tcp_stream>(std::move(socket));
    auto& stream = *owned;
    auto entry = connections.insert(connections.end(), owned);
    boost::beast::flat_buffer buffer;
    while (!stopped) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(4096);  // scrapers send no body
      stream.expires_after(std::chrono::seconds(30));
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, kAwait);
      if (ec) break;
      auto res = answer(parser.get());
      stream.expires_after(std::chrono::seconds(30));
      auto [wec, wn] = co_await http::async_write(stream, res, kAwait);
      if (wec || !res.keep_alive()) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    connections.erase(entry);
  }

  net::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
      auto [ec, socket] = co_await acceptor.async_accept(kAwait);
      if (ec) {
        if (stopped || ec == net::error::operation_aborted) break;
        log->warn("metrics: accept failed: {}", ec.message());
        continue;
      }
      net::co_spawn(acceptor.get_executor(), session(std::move(socket)), net::detached);
    }
  }
};

MetricsServer::MetricsServer(net::io_context& io, const MetricsOptions& options, MetricsEndpoints endpoints, Log log)
    : impl_(std::make_shared<Impl>(io, std::move(endpoints), std::move(log))) {
  tcp::endpoint endpoint(net::ip::make_address(options.address), options.port);
  try {
    impl_->acceptor.open(endpoint.protocol());
    impl_->acceptor.set_option(net::socket_base::reuse_address(true));
    impl_->acceptor.bind(endpoint);
    impl_->acceptor.listen();
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("metrics.listen: cannot listen on " + options.address + ":" +
                             std::to_string(options.port) + ": " + e.code().message());
  }
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->log->info("metrics: serving /metrics, /healthz and /readyz on {}:{}", options.address, impl_->port);
  net::co_spawn(io, impl_->accept_loop(), net::detached);
}

MetricsServer::~MetricsServer() { stop(); }

unsigned short MetricsServer::port() const { return impl_->port; }

void MetricsServer::stop() {
  impl_->stopped = true;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  for (auto& weak : impl_->connections)
    if (auto stream = weak.lock()) stream->socket().close(ignored);
}

}  // namespace cosync::app
