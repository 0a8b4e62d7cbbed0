#include "daemon/http/http_client.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <spdlog/logger.h>

#include "daemon/http/retry_policy.hpp"
#include "daemon/http/trust_store.hpp"

namespace cosync::http {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
namespace urls = boost::urls;
using tcp = net::ip::tcp;
using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr const char* kUserAgent = "cosync/0.1";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

Failure make_failure(FailureKind kind, std::string message) {
  Failure f;
  f.kind = kind;
  f.message = std::move(message);
  return f;
}

bool default_idempotent(Method m) { return m == Method::get || m == Method::put || m == Method::del; }

bhttp::verb to_verb(Method m) {
  switch (m) {
    case Method::get: return bhttp::verb::get;
    case Method::post: return bhttp::verb::post;
    case Method::put: return bhttp::verb::put;
    case Method::patch: return bhttp::verb::patch;
    case Method::del: return bhttp::verb::delete_;
  }
  return bhttp::verb::get;
}

// ---------------------------------------------------------------------------------------------
// URL

struct Target {
  bool tls = true;
  std::string host;         // for DNS, SNI and certificate checks: no brackets, percent-decoded
  std::string port;         // decimal
  std::string host_header;  // Host: header value
  std::string resource;     // request-target: path and query
  std::string log_url;      // scheme://host[:port]/path: no userinfo, query or fragment
  std::string key;          // pool key: scheme, host, port
  bool loopback_only = false;  // plain http: connect to loopback addresses only
};

bool is_loopback_host(const urls::url_view& u) {
  switch (u.host_type()) {
    case urls::host_type::ipv4: return u.host_ipv4_address().to_bytes()[0] == 127;
    case urls::host_type::ipv6: return u.host_ipv6_address().is_loopback();
    case urls::host_type::name: {
      std::string name = u.host_name();
      if (!name.empty() && name.back() == '.') name.pop_back();
      return iequals(name, "localhost");
    }
    default: return false;
  }
}

Expected<Target> parse_target(const std::string& url) {
  auto parsed = urls::parse_absolute_uri(url);
  if (!parsed) return make_failure(FailureKind::fatal, "invalid URL: " + parsed.error().message());
  const urls::url_view& u = *parsed;
  Target t;
  if (u.scheme_id() == urls::scheme::https) {
    t.tls = true;
  } else if (u.scheme_id() == urls::scheme::http) {
    t.tls = false;
  } else {
    return make_failure(FailureKind::fatal, "unsupported URL scheme '" + std::string(u.scheme()) + "'");
  }
  if (!u.has_authority() || u.host_type() == urls::host_type::none || u.encoded_host().empty())
    return make_failure(FailureKind::fatal, "URL has no host");
  if (u.host_type() == urls::host_type::ipvfuture) return make_failure(FailureKind::fatal, "unsupported URL host");
  if (u.has_userinfo()) return make_failure(FailureKind::fatal, "credentials in URLs are not supported");
  t.host = u.host_address();
  std::string scheme = t.tls ? "https" : "http";
  const char* default_port = t.tls ? "443" : "80";
  if (u.has_port() && !u.port().empty()) {
    if (u.port_number() == 0) return make_failure(FailureKind::fatal, "invalid port in URL");
    t.port = std::to_string(u.port_number());
  } else {
    t.port = default_port;
  }
  std::string authority = std::string(u.encoded_host());
  for (char& c : authority) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t.port != default_port) authority += ":" + t.port;
  t.host_header = authority;
  t.key = scheme + "://" + authority;
  std::string path = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
  t.log_url = t.key + path;
  t.resource = path;
  if (u.has_query()) t.resource += "?" + std::string(u.encoded_query());
  if (!t.tls) {
    if (!is_loopback_host(u))
      return make_failure(FailureKind::fatal, "refusing plain http:// to non-loopback host " + authority +
                                             " (use https://)");
    t.loopback_only = true;
  }
  return t;
}

bool valid_header(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name)
    if (c <= ' ' || c == ':' || c == 127) return false;
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Errors

// How an I/O error is treated: benign ones are expected while closing and ignored; retryable
// ones make an idempotent request be retried; fatal ones are returned at once.
enum class ErrorClass { benign, retryable, fatal };

bool is_certificate_error(const error_code& ec) {
  return ec.category() == net::error::get_ssl_category() &&
         ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED;
}

ErrorClass classify(const error_code& ec) {
  if (!ec || ec == net::error::operation_aborted) return ErrorClass::benign;
  if (is_certificate_error(ec)) return ErrorClass::fatal;  // will not fix itself by retrying
  if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow)
    return ErrorClass::fatal;
  return ErrorClass::retryable;
}

// An error reading the very start of a response: the peer closed (or reset) the connection.
bool is_closed_error(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::connection_aborted || ec == net::error::broken_pipe ||
         ec == ssl::error::stream_truncated;
}

// ---------------------------------------------------------------------------------------------
// Connections

// The host-name check of the peer certificate, reporting a mismatch as such (plain
// ssl::host_name_verification fails without saying why).
struct VerifyHost {
  ssl::host_name_verification check;
  bool operator()(bool preverified, ssl::verify_context& ctx) const {
    bool ok = check(preverified, ctx);
    if (preverified && !ok) X509_STORE_CTX_set_error(ctx.native_handle(), X509_V_ERR_HOSTNAME_MISMATCH);
    return ok;
  }
};

struct Connection {
  explicit Connection(const net::any_io_executor& ex) : plain(std::in_place, ex) {}
  Connection(const net::any_io_executor& ex, ssl::context& ctx) : secure(std::in_place, ex, ctx) {}

  beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  // Whether a pooled connection still looks usable: nothing to read, in particular no EOF (the
  // server closed it while idle) and no stray data.
  bool looks_alive() {
    auto& socket = tcp().socket();
    if (!socket.is_open()) return false;
    char c;
    ssize_t n = ::recv(socket.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  void close() {
    error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().close();
  }

  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  SteadyClock::time_point idle_since{};
};
using ConnectionPtr = std::unique_ptr<Connection>;

struct Exchange {
  error_code ec;
  bool write_failed = false;
  bool got_response_bytes = false;
  bool keep_alive = false;
  bhttp::response<bhttp::string_body> response;
};

// The request as it goes on the wire, header and body in one buffer: written in one piece, it
// leaves in as few segments as its size allows (with TCP_NODELAY, a header written apart from its
// body would be a segment of its own).
std::string serialize(const bhttp::request<bhttp::string_body>& message) {
  std::ostringstream header;
  header << message.base();
  std::string wire = std::move(header).str();
  wire += message.body();
  return wire;
}

template <class Stream>
net::awaitable<Exchange> exchange_on(Stream& stream, beast::flat_buffer& buffer, const std::string& wire,
                                     std::atomic<std::size_t>& sent, std::size_t max_body_bytes) {
  Exchange out;
  ++sent;
  auto [wec, written] = co_await net::async_write(stream, net::buffer(wire), use_tuple);
  (void)written;
  if (wec) {
    out.ec = wec;
    out.write_failed = true;
    co_return out;
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_body_bytes);
  parser.header_limit(kHeaderLimit);
  auto [rec, read] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
  (void)read;
  if (rec) {
    out.ec = rec;
    out.got_response_bytes = parser.got_some() || buffer.size() > 0;
    co_return out;
  }
  out.keep_alive = parser.keep_alive() && !parser.need_eof() && buffer.size() == 0;
  out.response = parser.release();
  co_return out;
}

// ---------------------------------------------------------------------------------------------
// Per-host state: idle connections and the in-flight limit (an async semaphore whose waiters
// sleep on a timer that never expires; release() hands the slot over and wakes the first one).

struct Waiter {
  explicit Waiter(const net::any_io_executor& ex) : timer(ex, SteadyClock::time_point::max()) {}
  net::steady_timer timer;
  bool granted = false;
};

struct HostState {
  std::size_t in_flight = 0;
  std::deque<std::shared_ptr<Waiter>> waiters;
  std::vector<ConnectionPtr> idle;  // oldest first

  void release() {
    if (!waiters.empty()) {
      auto w = std::move(waiters.front());
      waiters.pop_front();
      w->granted = true;  // the slot passes to the waiter; in_flight is unchanged
      w->timer.cancel();
      return;
    }
    --in_flight;
  }
};

// Holds one in-flight slot of a host; releases it on destruction (also when a coroutine is
// destroyed or unwound by cancellation).
class Slot {
 public:
  Slot() = default;
  explicit Slot(HostState* host) : host_(host) {}
  Slot(Slot&& o) noexcept : host_(std::exchange(o.host_, nullptr)) {}
  Slot& operator=(Slot&&) = delete;
  ~Slot() {
    if (host_) host_->release();
  }
  explicit operator bool() const { return host_ != nullptr; }

 private:
  HostState* host_ = nullptr;
};

// Removes a waiter from the queue unless it was granted; gives back a slot granted to a waiter
// that does not take it (cancelled coroutine).
struct WaitGuard {
  HostState& host;
  std::shared_ptr<Waiter> waiter;
  bool taken = false;
  ~WaitGuard() {
    if (taken) return;
    if (waiter->granted) {
      host.release();
    } else {
      auto it = std::find(host.waiters.begin(), host.waiters.end(), waiter);
      if (it != host.waiters.end()) host.waiters.erase(it);
    }
  }
};

// ---------------------------------------------------------------------------------------------

const char* method_name(Method m) {
  switch (m) {
    case Method::get: return "GET";
    case Method::post: return "POST";
    case Method::put: return "PUT";
    case Method::patch: return "PATCH";
    case Method::del: return "DELETE";
  }
  return "?";
}


// The client's state lives here, shared with running requests so that they never outlive it.
struct Core : std::enable_shared_from_this<Core> {
  Core(net::any_io_executor executor, ClientOptions opts, Log logger)
      : ex(std::move(executor)),
        options(std::move(opts)),
        log(logger ? std::move(logger) : null_logger()),
        tls(ssl::context::tls_client),
        rng(std::random_device{}()) {
    if (options.max_attempts < 1) options.max_attempts = 1;
    if (options.max_in_flight_per_host < 1) options.max_in_flight_per_host = 1;
    // TLS 1.2 and 1.3 only; the peer must present a chain to a trusted root.
    if (SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION) != 1)
      throw std::runtime_error("cannot set the minimum TLS version");
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    tls.set_verify_mode(ssl::verify_peer);
    // The system anchors are parsed once per process and shared by every client.
    X509_STORE* store = options.ca_file.empty() ? shared_system_trust_store() : system_trust_store_with(options.ca_file);
    SSL_CTX_set_cert_store(tls.native_handle(), store);  // takes the reference
  }

  ~Core() {
    for (auto& [key, host] : hosts)
      for (auto& c : host.idle) c->close();
  }

  HostState& host_state(const std::string& key) { return hosts[key]; }

  net::awaitable<Slot> acquire(HostState& host) {
    if (host.in_flight < options.max_in_flight_per_host && host.waiters.empty()) {
      ++host.in_flight;
      co_return Slot(&host);
    }
    WaitGuard guard{host, std::make_shared<Waiter>(ex)};
    host.waiters.push_back(guard.waiter);
    co_await guard.waiter->timer.async_wait(use_tuple);
    if (!guard.waiter->granted) co_return Slot();  // cancelled
    guard.taken = true;
    co_return Slot(&host);
  }

  // An idle connection that still looks usable, or null. Expired or dead ones are closed.
  ConnectionPtr take_idle(HostState& host) {
    auto now = SteadyClock::now();
    while (!host.idle.empty()) {
      ConnectionPtr c = std::move(host.idle.back());  // the most recently used
      host.idle.pop_back();
      if (now - c->idle_since < options.idle_timeout && c->looks_alive()) return c;
      c->close();
    }
    return nullptr;
  }

  void put_idle(HostState& host, ConnectionPtr c) {
    if (options.max_idle_per_host == 0) {
      c->close();
      return;
    }
    while (host.idle.size() >= options.max_idle_per_host) {
      host.idle.front()->close();
      host.idle.erase(host.idle.begin());
    }
    c->idle_since = SteadyClock::now();
    host.idle.push_back(std::move(c));
  }

  void drop_idle(HostState& host) {
    for (auto& c : host.idle) c->close();
    host.idle.clear();
  }

  static std::string describe(const Request& r, const Target& t) {
    return std::string(method_name(r.method)) + " " + t.log_url;
  }

  static std::string error_text(const error_code& ec) {
    if (ec == beast::error::timeout) return "timed out";
    return ec.message();
  }

  // Opens a connection: resolve, connect and (https) TLS handshake with certificate and host
  // name verification, all before `deadline` (the resolver, which cannot be interrupted, is
  // only checked against it afterwards).
  net::awaitable<Expected<ConnectionPtr>> connect(const Request& request, const Target& target,
                                                  SteadyClock::time_point deadline, milliseconds timeout) {
    auto fail = [&](FailureKind kind, const std::string& what) {
      return make_failure(kind, describe(request, target) + ": " + what);
    };
    auto timed_out = [&](const char* stage) {
      return fail(FailureKind::transient, std::string(stage) + " timed out after " +
                                              std::to_string(timeout.count()) + " ms");
    };
    tcp::resolver resolver(ex);
    auto [rec, results] = co_await resolver.async_resolve(target.host, target.port, use_tuple);
    if (rec) {
      if (rec == net::error::operation_aborted) co_return fail(FailureKind::transient, "cancelled");
      co_return fail(FailureKind::transient, "cannot resolve " + target.host + ": " + rec.message());
    }
    if (SteadyClock::now() >= deadline) co_return timed_out("name resolution");
    std::vector<tcp::endpoint> endpoints;
    for (const auto& entry : results)
      if (!target.loopback_only || entry.endpoint().address().is_loopback()) endpoints.push_back(entry.endpoint());
    if (endpoints.empty())
      co_return fail(FailureKind::fatal, target.loopback_only
                                             ? "refusing plain http:// to " + target.host +
                                                   ": it does not resolve to a loopback address"
                                             : "no address for " + target.host);

    ConnectionPtr conn = target.tls ? std::make_unique<Connection>(ex, tls) : std::make_unique<Connection>(ex);
    conn->tcp().expires_at(deadline);
    auto [cec, endpoint] = co_await conn->tcp().async_connect(endpoints, use_tuple);
    (void)endpoint;
    if (cec) {
      if (cec == beast::error::timeout) co_return timed_out("connect");
      co_return fail(FailureKind::transient, "connect: " + error_text(cec));
    }
    // Requests and responses are small and answer each other: Nagle's algorithm would only hold
    // back the tail of a request written in more than one segment until the peer's delayed ACK.
    error_code nodelay_ec;
    conn->tcp().socket().set_option(tcp::no_delay(true), nodelay_ec);
    if (nodelay_ec) log->debug("http: cannot set TCP_NODELAY for {}: {}", target.key, nodelay_ec.message());
    if (target.tls) {
      SSL* native = conn->secure->native_handle();
      error_code addr_ec;
      net::ip::make_address(target.host, addr_ec);
      // SNI carries host names only, never IP addresses (RFC 6066).
      if (addr_ec && SSL_set_tlsext_host_name(native, target.host.c_str()) != 1)
        co_return fail(FailureKind::fatal, "cannot set TLS server name " + target.host);
      conn->secure->set_verify_mode(ssl::verify_peer);
      conn->secure->set_verify_callback(VerifyHost{ssl::host_name_verification(target.host)});
      auto [hec] = co_await conn->secure->async_handshake(ssl::stream_base::client, use_tuple);
      if (hec) {
        if (hec == beast::error::timeout) co_return timed_out("TLS handshake");
        if (is_certificate_error(hec)) {
          long verify = SSL_get_verify_result(native);
          co_return fail(FailureKind::fatal, "TLS certificate verification failed for " + target.host + ": " +
                                                 X509_verify_cert_error_string(verify));
        }
        co_return fail(FailureKind::transient, "TLS handshake: " + error_text(hec));
      }
    }
    log->debug("http: connected to {} ({})", target.key, target.tls ? "TLS" : "plain");
    co_return std::move(conn);
  }

  // One attempt: a connection (pooled or new), the request written, the response read; on_wire
  // tells whether the request was (even partly) sent. A request
  // that fails on a pooled connection the server had closed meanwhile is sent again at once on a
  // new connection when the server cannot have processed it: the write failed, or (idempotent
  // requests only) the connection was closed before any byte of response.
  net::awaitable<Expected<Response>> attempt(const Request& request, const Target& target, bool idempotent,
                                             bool& on_wire, const std::string& wire, HostState& host) {
    milliseconds timeout = request.timeout.value_or(options.timeout);
    auto deadline = SteadyClock::now() + timeout;
    ConnectionPtr conn = take_idle(host);
    bool reused = conn != nullptr;
    if (reused) log->debug("http: reusing a connection to {}", target.key);
    for (;;) {
      if (!conn) {
        auto opened = co_await connect(request, target, deadline, timeout);  // nothing sent yet
        if (!opened) co_return opened.failure();
        conn = std::move(opened.value());
        reused = false;
      }
      conn->tcp().expires_at(deadline);
      on_wire = true;
      // (No co_await inside a conditional expression: GCC 12 miscompiles it.)
      Exchange ex;
      if (conn->secure)
        ex = co_await exchange_on(*conn->secure, conn->buffer, wire, sent, options.max_body_bytes);
      else
        ex = co_await exchange_on(*conn->plain, conn->buffer, wire, sent, options.max_body_bytes);
      if (!ex.ec) {
        conn->tcp().expires_never();
        Response response;
        response.status = static_cast<int>(ex.response.result_int());
        for (const auto& field : ex.response)
          response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        response.body = std::move(ex.response.body());
        if (ex.keep_alive) {
          put_idle(host, std::move(conn));
        } else {
          conn->close();
        }
        co_return response;
      }
      conn->close();
      conn.reset();
      bool unprocessed = ex.write_failed || (idempotent && !ex.got_response_bytes && is_closed_error(ex.ec));
      if (reused && unprocessed && ex.ec != beast::error::timeout && SteadyClock::now() < deadline) {
        log->debug("http: {} failed on a reused connection ({}); sending it again on a new connection",
                   describe(request, target), ex.ec.message());
        drop_idle(host);  // opened at the same time, probably as dead
        continue;
      }
      std::string stage = ex.write_failed ? "write" : "read";
      if (ex.ec == beast::error::timeout)
        co_return make_failure(FailureKind::transient, describe(request, target) + ": timed out after " +
                                                      std::to_string(timeout.count()) + " ms");
      if (ex.ec == net::error::operation_aborted)
        co_return make_failure(FailureKind::transient, describe(request, target) + ": cancelled");
      if (ex.ec == bhttp::error::body_limit)
        co_return make_failure(FailureKind::fatal, describe(request, target) + ": the response body is larger than " +
                                                  std::to_string(options.max_body_bytes) + " bytes: refused");
      auto kind = classify(ex.ec) == ErrorClass::fatal ? FailureKind::fatal : FailureKind::transient;
      co_return make_failure(kind, describe(request, target) + ": " + stage + ": " + error_text(ex.ec));
    }
  }

  static net::awaitable<bool> cancelled() {
    auto state = co_await net::this_coro::cancellation_state;
    co_return state.cancelled() != net::cancellation_type::none;
  }

  net::awaitable<Expected<Response>> send(Request request) {
    auto parsed = parse_target(request.url);
    if (!parsed) {
      Failure f = parsed.failure();
      f.message = std::string(method_name(request.method)) + ": " + f.message;
      co_return f;
    }
    const Target& target = parsed.value();
    const bool idempotent = request.idempotent.value_or(default_idempotent(request.method));

    bhttp::request<bhttp::string_body> message{to_verb(request.method), target.resource, 11};
    message.set(bhttp::field::host, target.host_header);
    message.set(bhttp::field::user_agent, kUserAgent);
    for (const auto& [name, value] : request.headers) {
      if (!valid_header(name, value))
        co_return make_failure(FailureKind::fatal, describe(request, target) + ": invalid request header");
      if (iequals(name, "content-length") || iequals(name, "transfer-encoding") || iequals(name, "connection"))
        continue;  // framing and connection management are ours
      if (iequals(name, "host") || iequals(name, "user-agent"))
        message.set(name, value);
      else
        message.insert(name, value);
    }
    message.body() = std::move(request.body);  // (sent from `wire` below)
    message.prepare_payload();
    message.keep_alive(true);
    const std::string wire = serialize(message);

    HostState& host = host_state(target.key);
    for (int attempt_no = 1;; ++attempt_no) {
      Expected<Response> result = Failure{};
      bool on_wire = false;  // whether the request was (at least partly) sent
      {
        Slot slot = co_await acquire(host);
        if (!slot) co_return make_failure(FailureKind::transient, describe(request, target) + ": cancelled");
        result = co_await this->attempt(request, target, idempotent, on_wire, wire, host);
      }
      count_outcome(result);
      bool was_cancelled = co_await cancelled();  // named first: GCC 12 and co_await in conditions
      if (was_cancelled) {
        if (result) co_return result;
        co_return make_failure(FailureKind::transient, describe(request, target) + ": cancelled");
      }
      bool last = attempt_no >= options.max_attempts;
      std::string what;
      milliseconds delay{0};
      if (result) {
        int status = result->status;
        if (!idempotent || last || !is_retryable_status(status)) co_return result;
        what = describe(request, target) + ": HTTP " + std::to_string(status);
        std::optional<milliseconds> retry_after;
        if (status == 429 || status == 503) {
          std::string value = result->header("Retry-After");
          if (!value.empty()) retry_after = parse_retry_after(value, std::chrono::system_clock::now());
        }
        if (retry_after) {
          delay = std::min(*retry_after, options.max_retry_after);
          what += " (Retry-After " + value_text(*retry_after) + ")";
        } else {
          delay = backoff(attempt_no);
        }
      } else {
        // A request that never left (resolve, connect or TLS handshake failed) is retried
        // whatever its method: the server cannot have seen it.
        if ((!idempotent && on_wire) || last || result.failure().kind != FailureKind::transient)
          co_return result;
        what = result.failure().message;
        delay = backoff(attempt_no);
      }
      // Method and URL without query (which may hold secrets); never headers or bodies.
      log->warn("http: {} (attempt {}/{}); retrying in {} ms", what, attempt_no, options.max_attempts,
                delay.count());
      net::steady_timer timer(ex, delay);
      auto [ec] = co_await timer.async_wait(use_tuple);
      if (ec) co_return make_failure(FailureKind::transient, describe(request, target) + ": cancelled");
    }
  }

  static std::string value_text(milliseconds d) {
    if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
    return std::to_string(d.count()) + " ms";
  }

  milliseconds backoff(int retry) {
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    return backoff_delay(retry, options.base_backoff, options.max_backoff, uniform(rng));
  }

  // (An optional: co_spawn wants a default-constructible result.)
  static net::awaitable<std::optional<Expected<Response>>> send_caught(std::shared_ptr<Core> self, Request request) {
    try {
      co_return co_await self->send(std::move(request));
    } catch (const boost::system::system_error& e) {
      // Only cancellation gets here: an Asio coroutine that was cancelled (throw_if_cancelled)
      // throws at its next co_await. I/O errors are all returned as values.
      if (e.code() != net::error::operation_aborted) throw;
      co_return make_failure(FailureKind::transient, "request cancelled");
    }
  }

  // Runs one request as its own coroutine, whose cancellation slot stop() can reach: a
  // terminal cancellation aborts whichever connect, read, write or wait it is in.
  static net::awaitable<Expected<Response>> run(std::shared_ptr<Core> self, Request request) {
    if (self->stopped)
      co_return make_failure(FailureKind::transient, std::string(method_name(request.method)) + " " +
                                                         request.url.substr(0, request.url.find('?')) +
                                                         ": cancelled: stopping");
    auto signal = std::make_shared<net::cancellation_signal>();
    self->running.insert(signal);
    // The caller's own cancellation (e.g. a timeout racing the request) reaches it too.
    net::cancellation_slot caller = (co_await net::this_coro::cancellation_state).slot();
    if (caller.is_connected()) caller.assign([signal](net::cancellation_type type) { signal->emit(type); });
    struct Unregister {
      Core& core;
      std::shared_ptr<net::cancellation_signal> signal;
      net::cancellation_slot caller;
      ~Unregister() {
        core.running.erase(signal);
        if (caller.is_connected()) caller.clear();
      }
    } unregister{*self, signal, caller};
    auto result = co_await net::co_spawn(self->ex, send_caught(self, std::move(request)),
                                         net::bind_cancellation_slot(signal->slot(), net::use_awaitable));
    co_return std::move(*result);
  }

  void count_outcome(const Expected<Response>& result) {
    if (!result) return void(++outcomes.no_response);
    int status_class = result->status / 100;
    if (status_class == 2) ++outcomes.status_2xx;
    else if (status_class == 3) ++outcomes.status_3xx;
    else if (status_class == 4) ++outcomes.status_4xx;
    else if (status_class == 5) ++outcomes.status_5xx;
  }

  void stop() {
    stopped = true;
    auto signals = running;  // a cancelled request unregisters itself (later, but be safe)
    for (const auto& signal : signals) signal->emit(net::cancellation_type::terminal);
  }

  net::any_io_executor ex;
  ClientOptions options;
  Log log;
  ssl::context tls;
  std::mt19937_64 rng;
  std::atomic<std::size_t> sent{0};
  HttpClient::Outcomes outcomes;  // (on the executor's thread, as every request's coroutine)
  std::map<std::string, HostState> hosts;
  bool stopped = false;
  std::set<std::shared_ptr<net::cancellation_signal>> running;  // one per request in flight
};

}  // namespace

const char* to_string(Method m) { return method_name(m); }

std::string Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

struct HttpClient::Impl {
  std::shared_ptr<Core> core;
};

HttpClient::HttpClient(boost::asio::any_io_executor ex, ClientOptions options, Log log)
    : impl_(std::make_unique<Impl>(Impl{std::make_shared<Core>(std::move(ex), std::move(options), std::move(log))})) {}

HttpClient::~HttpClient() = default;

boost::asio::awaitable<Expected<Response>> HttpClient::send(Request request) {
  // Not a coroutine itself: the returned awaitable holds the core, not `this`.
  return Core::run(impl_->core, std::move(request));
}

void HttpClient::stop() { impl_->core->stop(); }

std::size_t HttpClient::requests_sent() const { return impl_->core->sent.load(); }

HttpClient::Outcomes HttpClient::outcomes() const { return impl_->core->outcomes; }

std::size_t HttpClient::max_in_flight_per_host() const { return impl_->core->options.max_in_flight_per_host; }

}  // namespace cosync::http
