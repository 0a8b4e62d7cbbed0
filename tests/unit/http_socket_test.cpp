// Socket hygiene of HttpClient, seen from both ends of a real loopback connection: the client's
// socket has TCP_NODELAY, each request reaches the server as one TCP segment, and every client
// shares one parse of the system trust store.
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "daemon/http/http_client.hpp"
#include "daemon/http/trust_store.hpp"
#include "tests/unit/run_async.hpp"

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using cosync::http::ClientOptions;
using cosync::http::HttpClient;
using cosync::http::Method;
using cosync::http::Request;

// Linux's struct tcp_info goes on past glibc's (which ends at tcpi_total_retrans) to the data
// segment counts (linux/tcp.h, which cannot be included next to glibc's netinet/tcp.h).
struct LinuxTcpInfo {
  tcp_info glibc_part;
  std::uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
  std::uint32_t segs_out, segs_in, notsent_bytes, min_rtt, data_segs_in, data_segs_out;
};
static_assert(sizeof(tcp_info) == 104, "glibc's tcp_info is the start of Linux's");

// What the server saw of the one request it answered.
struct ServerView {
  unsigned short client_port = 0;
  std::string request;            // header and body
  unsigned data_segments_in = 0;  // TCP segments carrying data received on the connection
};

// Accepts one connection, reads one request (with a Content-Length body), answers 200 and keeps
// the connection open (the client pools it) until the server is destroyed.
class OneRequestServer {
 public:
  OneRequestServer() : acceptor_(io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~OneRequestServer() { thread_.join(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/x"; }
  const ServerView& view() const { return view_; }

 private:
  void serve() {
    socket_.emplace(io_);
    acceptor_.accept(*socket_);
    view_.client_port = socket_->remote_endpoint().port();
    net::streambuf buffer;
    std::size_t header_end = net::read_until(*socket_, buffer, "\r\n\r\n");
    std::string head(net::buffers_begin(buffer.data()), net::buffers_begin(buffer.data()) + header_end);
    std::size_t at = head.find("Content-Length: ");
    std::size_t length = at == std::string::npos ? 0 : std::stoul(head.substr(at + 16));
    if (buffer.size() < header_end + length) net::read(*socket_, buffer, net::transfer_exactly(header_end + length - buffer.size()));
    view_.request.assign(net::buffers_begin(buffer.data()), net::buffers_end(buffer.data()));
    LinuxTcpInfo info{};
    socklen_t size = sizeof info;
    if (getsockopt(socket_->native_handle(), IPPROTO_TCP, TCP_INFO, &info, &size) == 0 && size >= sizeof info)
      view_.data_segments_in = info.data_segs_in;
    net::write(*socket_, net::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")));
  }

  net::io_context io_;
  tcp::acceptor acceptor_;
  std::optional<tcp::socket> socket_;
  ServerView view_;
  std::thread thread_;
};

// The TCP_NODELAY option of this process's socket whose local port is `port` (-1 when none).
int nodelay_of_local_port(unsigned short port) {
  DIR* fds = opendir("/proc/self/fd");
  if (!fds) return -1;
  int found = -1;
  while (dirent* entry = readdir(fds)) {
    int fd = std::atoi(entry->d_name);
    sockaddr_in address{};
    socklen_t length = sizeof address;
    if (fd <= 2 || getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) continue;
    if (address.sin_family != AF_INET || ntohs(address.sin_port) != port) continue;
    int value = 0;
    socklen_t size = sizeof value;
    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &size) == 0) found = value != 0 ? 1 : 0;
  }
  closedir(fds);
  return found;
}

}  // namespace

TEST_CASE("http socket: a client socket has TCP_NODELAY and a request arrives as one segment", "[http]") {
  OneRequestServer server;
  net::io_context io;
  HttpClient client(io.get_executor(), ClientOptions{}, cosync::null_logger());
  Request request;
  request.method = Method::patch;
  request.url = server.url();
  request.headers = {{"Content-Type", "application/json"}, {"If-Match", "\"etag-1\""}};
  request.body = "{\"notes\":\"" + std::string(12'000, 'n') + "\"}";  // well over one header's size
  auto response = cosync::testing::run_async(io, client.send(request));
  REQUIRE(response.ok());
  CHECK(response->status == 200);
  // The pooled connection is still open: find the client's end of it in this process.
  CHECK(nodelay_of_local_port(server.view().client_port) == 1);
  CHECK(server.view().request.size() > request.body.size());
  CHECK(server.view().request.ends_with(request.body));
  CHECK(server.view().data_segments_in == 1);
}

TEST_CASE("http socket: the system trust store is parsed once per process, not per client", "[http][tls]") {
  net::io_context io;
  { HttpClient first(io.get_executor(), ClientOptions{}, cosync::null_logger()); }
  std::size_t after_first = cosync::http::system_trust_store_loads();
  for (int i = 0; i < 3; ++i) HttpClient another(io.get_executor(), ClientOptions{}, cosync::null_logger());
  CHECK(after_first == 1);
  CHECK(cosync::http::system_trust_store_loads() == 1);
}
