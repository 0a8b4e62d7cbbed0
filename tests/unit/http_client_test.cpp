// HttpClient against small Beast servers running on their own thread (plain and TLS, with a
// CA and certificates made at test time).
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <catch2/catch.hpp>

#include "tests/unit/failure_checks.hpp"
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include "daemon/http/http_client.hpp"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using cosync::Expected;
using cosync::FailureKind;
using cosync::http::ClientOptions;
using cosync::http::HttpClient;
using cosync::http::Method;
using cosync::http::Request;
using cosync::http::Response;
using SteadyClock = std::chrono::steady_clock;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// ---------------------------------------------------------------------------------------------
// Test server

struct Action {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body = "ok";
  std::chrono::milliseconds delay{0};  // before answering
  bool drop = false;                   // close the connection instead of answering
  bool close = false;                  // answer with Connection: close
  bool silent_close = false;           // answer (keep-alive) then close the connection
};

struct Seen {
  std::string method;
  std::string target;
  std::string body;
  SteadyClock::time_point at;
  int connection = 0;  // accept number, from 1
};

class TestServer {
 public:
  using Handler = std::function<Action(const Seen&, int index)>;

  explicit TestServer(Handler handler, std::shared_ptr<ssl::context> tls = nullptr)
      : handler_(std::move(handler)), tls_(std::move(tls)), acceptor_(ioc_, {net::ip::make_address("127.0.0.1"), 0}) {
    net::co_spawn(ioc_, accept_loop(), [](std::exception_ptr) {});
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TestServer() {
    ioc_.stop();
    thread_.join();
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::string url(const std::string& path, const std::string& host = "127.0.0.1") const {
    return std::string(tls_ ? "https" : "http") + "://" + host + ":" + std::to_string(port()) + path;
  }
  int accepts() const { return accepts_; }
  int handshakes_failed() const { return handshakes_failed_; }
  int max_concurrent() const { return max_concurrent_; }
  std::vector<Seen> requests() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
      if (ec) co_return;
      int id = ++accepts_;
      net::co_spawn(ioc_, session(std::move(socket), id), [](std::exception_ptr) {});
    }
  }

  net::awaitable<void> session(tcp::socket socket, int id) {
    if (!tls_) {
      beast::tcp_stream stream(std::move(socket));
      co_await serve(stream, id);
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls_);
    beast::get_lowest_layer(stream).expires_after(5s);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
    if (ec) {
      ++handshakes_failed_;
      co_return;
    }
    beast::get_lowest_layer(stream).expires_never();
    co_await serve(stream, id);
  }

  template <class Stream>
  net::awaitable<void> serve(Stream& stream, int id) {
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, req, use_tuple);
      (void)n;
      if (ec) co_return;
      Seen seen{std::string(req.method_string()), std::string(req.target()), req.body(), SteadyClock::now(), id};
      int index;
      {
        std::lock_guard lock(mutex_);
        index = static_cast<int>(seen_.size());
        seen_.push_back(seen);
      }
      Action action = handler_(seen, index);
      int now = ++concurrent_;
      for (int m = max_concurrent_; now > m && !max_concurrent_.compare_exchange_weak(m, now);) {
      }
      if (action.delay.count() > 0) {
        net::steady_timer timer(ioc_, action.delay);
        co_await timer.async_wait(use_tuple);
      }
      --concurrent_;
      if (action.drop) {
        beast::get_lowest_layer(stream).close();
        co_return;
      }
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(action.status), 11};
      for (auto& [k, v] : action.headers) res.set(k, v);
      res.body() = action.body;
      res.keep_alive(!action.close && req.keep_alive());
      res.prepare_payload();
      auto [wec, wn] = co_await bhttp::async_write(stream, res, use_tuple);
      (void)wn;
      if (wec || action.close || action.silent_close || !req.keep_alive()) {
        beast::get_lowest_layer(stream).close();
        co_return;
      }
    }
  }

  Handler handler_;
  std::shared_ptr<ssl::context> tls_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> accepts_{0};
  std::atomic<int> handshakes_failed_{0};
  std::atomic<int> concurrent_{0};
  std::atomic<int> max_concurrent_{0};
  mutable std::mutex mutex_;
  std::vector<Seen> seen_;
};

Action ok() { return Action{}; }

// ---------------------------------------------------------------------------------------------
// Certificates

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  REQUIRE(ext != nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key`, issued by (issuer, issuer_key), or self-signed when issuer is null.
Cert make_cert(EVP_PKEY* key, const std::string& cn, const char* san, X509* issuer, EVP_PKEY* issuer_key) {
  static long serial = 1;
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                             0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (!issuer) {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid");
    add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    add_ext(cert.get(), signer, NID_subject_alt_name, san);
  }
  REQUIRE(X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0);
  return cert;
}

std::string pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::string pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

// A test CA (written to a temporary PEM file for ClientOptions::ca_file) and server contexts
// with certificates it issued.
struct TestPki {
  TestPki() {
    ca_key.reset(EVP_EC_gen("P-256"));
    REQUIRE(ca_key);
    ca_cert = make_cert(ca_key.get(), "cosync test CA", nullptr, nullptr, nullptr);
    ca_file = std::filesystem::temp_directory_path() /
              ("cosync_http_test_ca_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".pem");
    std::ofstream(ca_file) << pem(ca_cert.get());
  }
  ~TestPki() {
    std::error_code ignored;
    std::filesystem::remove(ca_file, ignored);
  }
  std::shared_ptr<ssl::context> server_context(const std::string& cn, const char* san) {
    Pkey key(EVP_EC_gen("P-256"));
    Cert cert = make_cert(key.get(), cn, san, ca_cert.get(), ca_key.get());
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    std::string cert_pem = pem(cert.get()), key_pem = pem(key.get());
    ctx->use_certificate(net::buffer(cert_pem), ssl::context::pem);
    ctx->use_private_key(net::buffer(key_pem), ssl::context::pem);
    return ctx;
  }

  static inline int counter = 0;
  Pkey ca_key;
  Cert ca_cert;
  std::filesystem::path ca_file;
};

// ---------------------------------------------------------------------------------------------
// Client side

// A server handler answering every request with `status`.
auto always_status(int status) {
  return [status](const Seen&, int) {
    Action a;
    a.status = status;
    return a;
  };
}

// A server handler answering every request with 200 after `delay`.
auto always_after(std::chrono::milliseconds delay) {
  return [delay](const Seen&, int) {
    Action a;
    a.delay = delay;
    return a;
  };
}

// A server handler answering the first request with `status` and a Retry-After, then 200.
auto retry_after_once(int status, std::string retry_after) {
  return [status, retry_after](const Seen&, int index) {
    Action a;
    if (index == 0) {
      a.status = status;
      a.headers = {{"Retry-After", retry_after}};
    }
    return a;
  };
}

ClientOptions fast_options() {
  ClientOptions o;
  o.timeout = 5s;
  o.max_attempts = 4;
  o.base_backoff = 10ms;
  o.max_backoff = 50ms;
  o.max_retry_after = 5s;
  return o;
}

// Runs one coroutine on `ioc` to completion.
template <class F>
void run(net::io_context& ioc, F&& body) {
  std::exception_ptr error;
  bool done = false;
  net::co_spawn(ioc, std::forward<F>(body)(), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  ioc.restart();
  ioc.run();
  REQUIRE(done);
  if (error) std::rethrow_exception(error);
}

// Sends one request and returns the outcome.
Expected<Response> send(net::io_context& ioc, HttpClient& client, Request request) {
  std::optional<Expected<Response>> out;
  run(ioc, [&]() -> net::awaitable<void> { out.emplace(co_await client.send(std::move(request))); });
  REQUIRE(out.has_value());
  return std::move(*out);
}

Request get(const std::string& url) {
  Request r;
  r.url = url;
  return r;
}

Request post(const std::string& url, std::string body = "{}") {
  Request r;
  r.method = Method::post;
  r.url = url;
  r.body = std::move(body);
  r.headers = {{"Content-Type", "application/json"}};
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE("http client: keep-alive reuses one connection for sequential requests", "[http]") {
  TestServer server([](const Seen& s, int) {
    Action a;
    a.headers = {{"X-Request-Id", "abc-123"}};
    a.body = "hello " + s.target;
    return a;
  });
  net::io_context ioc;
  HttpClient client(ioc.get_executor(), fast_options(), cosync::null_logger());

  auto r1 = send(ioc, client, get(server.url("/one")));
  REQUIRE(r1.ok());
  CHECK(r1->status == 200);
  CHECK(r1->body == "hello /one");
  CHECK(r1->header("x-request-id") == "abc-123");
  CHECK(r1->header("X-REQUEST-ID") == "abc-123");
  CHECK(r1->header("missing").empty());

  auto r2 = send(ioc, client, post(server.url("/two?x=1"), "payload"));
  REQUIRE(r2.ok());
  CHECK(r2->body == "hello /two?x=1");

  CHECK(server.accepts() == 1);
  CHECK(client.requests_sent() == 2);
  auto seen = server.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].method == "POST");
  CHECK(seen[1].body == "payload");
}

TEST_CASE("http client: Connection: close is honoured (next request opens a new connection)", "[http]") {
  TestServer server([](const Seen&, int) {
    Action a;
    a.close = true;
    return a;
  });
  net::io_context ioc;
  HttpClient client(ioc.get_executor(), fast_options(), cosync::null_logger());
  REQUIRE(send(ioc, client, get(server.url("/a"))).ok());
  REQUIRE(send(ioc, client, get(server.url("/b"))).ok());
  CHECK(server.accepts() == 2);
  CHECK(client.requests_sent() == 2);
}

TEST_CASE("http client: a pooled connection the server closed is not reused", "[http]") {
  TestServer server([](const Seen&, int) {
    Action a;
    a.silent_close = true;  // keep-alive response, then the server closes the connection
    return a;
  });
  net::io_context ioc;
  auto options = fast_options();
  options.max_attempts = 1;
  HttpClient client(ioc.get_executor(), options, cosync::null_logger());
  REQUIRE(send(ioc, client, get(server.url("/a"))).ok());
  std::this_thread::sleep_for(50ms);  // let the FIN arrive
  auto r = send(ioc, client, post(server.url("/b")));  // not idempotent: must not hit the dead one
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(server.accepts() == 2);
  CHECK(client.requests_sent() == 2);
}

TEST_CASE("http client: a reused connection closed before any response byte", "[http]") {
  // The server answers the first request on each connection and drops the second one unanswered,
  // like a server closing an idle connection just as the next request arrives.
  TestServer server([&](const Seen& s, int) {
    Action a;
    a.drop = s.connection == 1 && s.target == "/second";
    return a;
  });
  net::io_context ioc;
  auto options = fast_options();
  options.max_attempts = 1;  // the re-send on a new connection is not a retry
  auto captured = cosync::make_capturing_logger("debug");
  HttpClient client(ioc.get_executor(), options, captured.log);

  SECTION("idempotent request: sent again at once on a new connection") {
    REQUIRE(send(ioc, client, get(server.url("/first"))).ok());
    auto r = send(ioc, client, get(server.url("/second")));
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(server.accepts() == 2);
    CHECK(client.requests_sent() == 3);
  }
  SECTION("non-idempotent request: not sent again (the server may have processed it)") {
    REQUIRE(send(ioc, client, get(server.url("/first"))).ok());
    auto r = send(ioc, client, post(server.url("/second")));
    REQUIRE_FALSE(r.ok());
    CHECK(r.failure().kind == FailureKind::transient);
    CHECK(server.requests().size() == 2);
    CHECK(client.requests_sent() == 2);
  }
}

TEST_CASE("http client: 503 is retried, then 200 is returned", "[http]") {
  TestServer server([](const Seen&, int index) {
    Action a;
    if (index == 0) {
      a.status = 503;
      a.body = "busy";
    }
    return a;
  });
  net::io_context ioc;
  auto captured = cosync::make_capturing_logger("debug");
  HttpClient client(ioc.get_executor(), fast_options(), captured.log);
  Request request = get(server.url("/items?access_token=SECRET-TOKEN"));
  request.headers = {{"Authorization", "Bearer SECRET-BEARER"}};
  auto r = send(ioc, client, request);
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(client.requests_sent() == 2);
  CHECK(server.requests().size() == 2);
  // Each attempt is counted by its status class (for /metrics).
  CHECK(client.outcomes().status_5xx == 1);
  CHECK(client.outcomes().status_2xx == 1);
  CHECK(client.outcomes().status_4xx == 0);
  // One warning with method, URL (no query), status and attempt; no secret anywhere in the log.
  const std::string& log = *captured.text;
  CHECK(log.find("GET http://127.0.0.1:" + std::to_string(server.port()) + "/items") != std::string::npos);
  CHECK(log.find("503") != std::string::npos);
  CHECK(log.find("attempt 1/4") != std::string::npos);
  CHECK(log.find("SECRET") == std::string::npos);
  CHECK(log.find("busy") == std::string::npos);
}

TEST_CASE("http client: 429 with Retry-After: 1 waits about a second", "[http]") {
  TestServer server(retry_after_once(429, "1"));
  net::io_context ioc;
  HttpClient client(ioc.get_executor(), fast_options(), cosync::null_logger());
  auto r = send(ioc, client, get(server.url("/limited")));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  auto seen = server.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].at - seen[0].at >= 900ms);
}

TEST_CASE("http client: Retry-After is capped by max_retry_after", "[http]") {
  TestServer server(retry_after_once(503, "3600"));
  net::io_context ioc;
  auto options = fast_options();
  options.max_retry_after = 100ms;
  HttpClient client(ioc.get_executor(), options, cosync::null_logger());
  auto start = SteadyClock::now();
  auto r = send(ioc, client, get(server.url("/x")));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(SteadyClock::now() - start < 2s);
  auto seen = server.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].at - seen[0].at >= 90ms);
}

TEST_CASE("http client: non-idempotent requests are not retried on 500", "[http]") {
  TestServer server(always_status(500));
  net::io_context ioc;
  HttpClient client(ioc.get_executor(), fast_options(), cosync::null_logger());

  auto r = send(ioc, client, post(server.url("/create")));
  REQUIRE(r.ok());
  CHECK(r->status == 500);
  CHECK(server.requests().size() == 1);
  CHECK(client.requests_sent() == 1);

  SECTION("unless marked idempotent; the last response is returned when attempts run out") {
    Request request = post(server.url("/create"));
    request.idempotent = true;
    auto r2 = send(ioc, client, request);
    REQUIRE(r2.ok());
    CHECK(r2->status == 500);
    CHECK(server.requests().size() == 1 + 4);
  }
}

TEST_CASE("http client: 4xx other than 408/429 is returned without retry", "[http]") {
  TestServer server(always_status(404));
  net::io_context ioc;
  HttpClient client(ioc.get_executor(), fast_options(), cosync::null_logger());
  auto r = send(ioc, client, get(server.url("/gone")));
  REQUIRE(r.ok());
  CHECK(r->status == 404);
  CHECK(client.requests_sent() == 1);
  CHECK(client.outcomes().status_4xx == 1);
  CHECK(client.outcomes().status_2xx == 0);
}

TEST_CASE("http client: a timeout gives a transient Failure", "[http]") {
  TestServer server(always_after(3s));
  net::io_context ioc;
  auto options = fast_options();
  options.max_attempts = 1;
  HttpClient client(ioc.get_executor(), options, cosync::null_logger());
  Request request = get(server.url("/slow"));
  request.timeout = 200ms;
  auto start = SteadyClock::now();
  auto r = send(ioc, client, request);
  auto elapsed = SteadyClock::now() - start;
  REQUIRE_FALSE(r.ok());
  CHECK(r.failure().kind == FailureKind::transient);
  CHECK_THAT(r.failure().message, Catch::Contains("timed out"));
  CHECK(client.outcomes().no_response == 1);
  CHECK(elapsed >= 150ms);
  CHECK(elapsed < 2s);
}

TEST_CASE("http client: a dropped connection is retried for GET, not for POST", "[http]") {
  TestServer server([](const Seen& s, int) {
    Action a;
    a.drop = s.connection == 1;  // the first connection is closed without an answer
    return a;
  });
  net::io_context ioc;
  HttpClient client(ioc.get_executor(), fast_options(), cosync::null_logger());

  SECTION("GET") {
    auto r = send(ioc, client, get(server.url("/x")));
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(server.requests().size() == 2);
    CHECK(client.requests_sent() == 2);
  }
  SECTION("POST") {
    auto r = send(ioc, client, post(server.url("/x")));
    REQUIRE_FALSE(r.ok());
    CHECK(r.failure().kind == FailureKind::transient);
    CHECK(r.failure().http_status == 0);
    CHECK(server.requests().size() == 1);
  }
}

TEST_CASE("http client: a refused connection is a transient Failure after the retries", "[http]") {
  unsigned short port;
  {
    net::io_context probe;
    tcp::acceptor a(probe, {net::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  net::io_context ioc;
  auto options = fast_options();
  options.max_attempts = 3;
  auto captured = cosync::make_capturing_logger("debug");
  HttpClient client(ioc.get_executor(), options, captured.log);
  // Nothing reached a server, so even a POST is tried again.
  Request request = GENERATE(as<bool>{}, false, true) ? post("http://127.0.0.1:" + std::to_string(port) + "/")
                                                      : get("http://127.0.0.1:" + std::to_string(port) + "/");
  auto r = send(ioc, client, request);
  REQUIRE_FALSE(r.ok());
  CHECK(r.failure().kind == FailureKind::transient);
  CHECK_THAT(r.failure().message, Catch::Contains("connect"));
  CHECK(client.requests_sent() == 0);
  auto count = [&](const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = captured.text->find(needle); pos != std::string::npos; pos = captured.text->find(needle, pos + 1))
      ++n;
    return n;
  };
  CHECK(count("retrying") == 2);
}

TEST_CASE("http client: plain http is refused unless the host is loopback", "[http]") {
  net::io_context ioc;
  auto captured = cosync::make_capturing_logger("debug");
  HttpClient client(ioc.get_executor(), fast_options(), captured.log);

  // 192.0.2.1 is TEST-NET-1: a connection attempt would hang until the timeout.
  for (std::string url : {"http://192.0.2.1:8080/api", "http://example.com/api", "http://[2001:db8::1]/x"}) {
    INFO(url);
    auto start = SteadyClock::now();
    auto r = send(ioc, client, get(url));
    REQUIRE_FALSE(r.ok());
    CHECK(r.failure().kind == FailureKind::fatal);
    CHECK_THAT(r.failure().message, Catch::Contains("http://"));
    CHECK(SteadyClock::now() - start < 500ms);
  }
  CHECK(client.requests_sent() == 0);
  CHECK(captured.text->find("connected") == std::string::npos);

  SECTION("other bad URLs are refused too") {
    for (std::string url : {"ftp://127.0.0.1/x", "not a url", "https://user:pw@example.com/", "/relative"}) {
      INFO(url);
      auto r = send(ioc, client, get(url));
      REQUIRE_FALSE(r.ok());
      CHECK(r.failure().kind == FailureKind::fatal);
      CHECK(r.failure().message.find("pw") == std::string::npos);
    }
  }
  SECTION("loopback names and addresses are allowed") {
    TestServer server([](const Seen&, int) { return ok(); });
    for (std::string host : {"127.0.0.1", "localhost"}) {
      INFO(host);
      auto r = send(ioc, client, get(server.url("/local", host)));
      REQUIRE(r.ok());
      CHECK(r->status == 200);
    }
  }
}

TEST_CASE("http client: at most max_in_flight_per_host requests in flight", "[http]") {
  TestServer server(always_after(100ms));
  net::io_context ioc;
  auto options = fast_options();
  options.max_in_flight_per_host = 2;
  HttpClient client(ioc.get_executor(), options, cosync::null_logger());

  int ok_count = 0;
  run(ioc, [&]() -> net::awaitable<void> {
    auto ex = co_await net::this_coro::executor;
    auto one = [&](int i) -> net::awaitable<void> {
      auto r = co_await client.send(get(server.url("/item/" + std::to_string(i))));
      if (r.ok() && r->status == 200) ++ok_count;
    };
    using namespace net::experimental::awaitable_operators;
    co_await (net::co_spawn(ex, one(0), net::use_awaitable) && net::co_spawn(ex, one(1), net::use_awaitable) &&
              net::co_spawn(ex, one(2), net::use_awaitable) && net::co_spawn(ex, one(3), net::use_awaitable) &&
              net::co_spawn(ex, one(4), net::use_awaitable) && net::co_spawn(ex, one(5), net::use_awaitable));
  });
  CHECK(ok_count == 6);
  CHECK(server.requests().size() == 6);
  CHECK(server.max_concurrent() == 2);
  CHECK(server.accepts() <= 2);
  CHECK(client.requests_sent() == 6);
}

TEST_CASE("http client: a cancelled request gives back its slot", "[http]") {
  TestServer server([](const Seen& s, int) {
    Action a;
    if (s.target == "/slow") a.delay = 2s;
    return a;
  });
  net::io_context ioc;
  auto options = fast_options();
  options.max_in_flight_per_host = 1;
  HttpClient client(ioc.get_executor(), options, cosync::null_logger());

  std::optional<bool> slow_finished;
  std::optional<Expected<Response>> waiting;
  run(ioc, [&]() -> net::awaitable<void> {
    using namespace net::experimental::awaitable_operators;
    auto ex = co_await net::this_coro::executor;
    auto slow = [&]() -> net::awaitable<bool> {
      auto r = co_await client.send(get(server.url("/slow")));
      co_return r.ok();
    };
    // The second request waits for the only slot; both are cancelled after 100 ms.
    auto queued = [&]() -> net::awaitable<bool> {
      auto r = co_await client.send(get(server.url("/queued")));
      co_return r.ok();
    };
    net::steady_timer timer(ex, 100ms);
    auto result = co_await ((slow() && queued()) || timer.async_wait(net::use_awaitable));
    slow_finished = result.index() == 0;
    // The slot must be free again.
    waiting.emplace(co_await client.send(get(server.url("/after"))));
  });
  CHECK(slow_finished == false);
  REQUIRE(waiting.has_value());
  REQUIRE(waiting->ok());
  CHECK((*waiting)->status == 200);
}

// Sends `request` and calls client.stop() `after` it started; returns the outcome and how long
// the send took.
std::pair<Expected<Response>, SteadyClock::duration> send_and_stop(net::io_context& ioc, HttpClient& client,
                                                                   Request request, std::chrono::milliseconds after) {
  std::optional<Expected<Response>> out;
  net::steady_timer stopper(ioc, after);
  stopper.async_wait([&](const boost::system::error_code&) { client.stop(); });
  auto start = SteadyClock::now();
  run(ioc, [&]() -> net::awaitable<void> { out.emplace(co_await client.send(std::move(request))); });
  REQUIRE(out.has_value());
  return {std::move(*out), SteadyClock::now() - start};
}

TEST_CASE("http client: stop() cancels a request the server never answers", "[http]") {
  TestServer server([](const Seen&, int) {
    Action a;
    a.delay = 30s;  // never answers within the test
    return a;
  });
  net::io_context ioc;
  auto options = fast_options();
  options.timeout = 60s;
  HttpClient client(ioc.get_executor(), options, cosync::null_logger());
  auto [r, elapsed] = send_and_stop(ioc, client, get(server.url("/hang")), 200ms);
  REQUIRE_FALSE(r.ok());
  CHECK(r.failure().kind == FailureKind::transient);
  CHECK_THAT(r.failure().message, Catch::Contains("cancelled"));
  CHECK(elapsed < 2s);
  CHECK(server.requests().size() == 1);  // not retried

  // A stopped client refuses later requests at once, without a connection.
  auto later = send(ioc, client, get(server.url("/later")));
  cosync::testing::check_fails_with(later, "stopping");
  CHECK(server.requests().size() == 1);
}

TEST_CASE("http client: stop() cuts a Retry-After wait short", "[http]") {
  TestServer server([](const Seen&, int) {
    Action a;
    a.status = 429;
    a.headers = {{"Retry-After", "300"}};
    return a;
  });
  net::io_context ioc;
  auto options = fast_options();
  options.max_retry_after = 300s;
  HttpClient client(ioc.get_executor(), options, cosync::null_logger());
  auto [r, elapsed] = send_and_stop(ioc, client, get(server.url("/limited")), 300ms);
  cosync::testing::check_fails_with(r, "cancelled");
  CHECK(elapsed < 2s);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("http client: a response body over max_body_bytes is refused, not retried", "[http]") {
  TestServer server([](const Seen& s, int) {
    Action a;
    a.body = std::string(s.target == "/big" ? 4097 : 4096, 'x');
    return a;
  });
  net::io_context ioc;
  auto options = fast_options();
  options.max_body_bytes = 4096;
  HttpClient client(ioc.get_executor(), options, cosync::null_logger());
  auto fits = send(ioc, client, get(server.url("/fits")));
  REQUIRE(fits.ok());
  CHECK(fits->body.size() == 4096);
  auto big = send(ioc, client, get(server.url("/big")));
  REQUIRE_FALSE(big.ok());
  CHECK(big.failure().kind == FailureKind::fatal);
  CHECK_THAT(big.failure().message, Catch::Contains("larger than 4096 bytes"));
  CHECK(server.requests().size() == 2);  // once each: a too-large answer is not asked for again
}

TEST_CASE("http client: TLS verification", "[http][tls]") {
  TestPki pki;
  net::io_context ioc;

  SECTION("a certificate from an untrusted CA is refused") {
    TestServer server([](const Seen&, int) { return ok(); }, pki.server_context("localhost", "DNS:localhost,IP:127.0.0.1"));
    HttpClient client(ioc.get_executor(), fast_options(), cosync::null_logger());
    auto r = send(ioc, client, get(server.url("/secure")));
    REQUIRE_FALSE(r.ok());
    CHECK(r.failure().kind == FailureKind::fatal);  // not retried: it will not fix itself
    CHECK_THAT(r.failure().message, Catch::Contains("certificate"));
    CHECK(server.requests().empty());
    CHECK(server.accepts() == 1);
  }
  SECTION("the same certificate trusted via ca_file is accepted, by address and by name") {
    TestServer server([](const Seen&, int) { return ok(); }, pki.server_context("localhost", "DNS:localhost,IP:127.0.0.1"));
    auto options = fast_options();
    options.ca_file = pki.ca_file.string();
    HttpClient client(ioc.get_executor(), options, cosync::null_logger());
    for (std::string host : {"127.0.0.1", "localhost"}) {
      INFO(host);
      auto r = send(ioc, client, get(server.url("/secure", host)));
      REQUIRE(r.ok());
      CHECK(r->status == 200);
      CHECK(r->body == "ok");
    }
    auto r = send(ioc, client, get(server.url("/again")));
    REQUIRE(r.ok());
    CHECK(server.accepts() == 2);  // one per host name; the third request reused the first
  }
  SECTION("stop() cancels a TLS request the server never answers") {
    TestServer server(
        [](const Seen&, int) {
          Action a;
          a.delay = 30s;
          return a;
        },
        pki.server_context("localhost", "DNS:localhost,IP:127.0.0.1"));
    auto options = fast_options();
    options.ca_file = pki.ca_file.string();
    options.timeout = 60s;
    HttpClient client(ioc.get_executor(), options, cosync::null_logger());
    auto [r, elapsed] = send_and_stop(ioc, client, get(server.url("/hang")), 300ms);
    cosync::testing::check_fails_with(r, "cancelled");
    CHECK(elapsed < 2s);
    CHECK(server.requests().size() == 1);
  }
  SECTION("a trusted certificate for another name fails host name verification") {
    TestServer server([](const Seen&, int) { return ok(); }, pki.server_context("other.example", "DNS:other.example"));
    auto options = fast_options();
    options.ca_file = pki.ca_file.string();
    HttpClient client(ioc.get_executor(), options, cosync::null_logger());
    for (std::string host : {"127.0.0.1", "localhost"}) {
      INFO(host);
      auto r = send(ioc, client, get(server.url("/secure", host)));
      REQUIRE_FALSE(r.ok());
      CHECK(r.failure().kind == FailureKind::fatal);
      CHECK_THAT(r.failure().message, Catch::Contains("mismatch"));
    }
    CHECK(server.requests().empty());
  }
  SECTION("a TLS client against a plain server fails cleanly") {
    TestServer plain([](const Seen&, int) { return ok(); });
    auto options = fast_options();
    options.max_attempts = 1;
    HttpClient client(ioc.get_executor(), options, cosync::null_logger());
    auto r = send(ioc, client, get("https://127.0.0.1:" + std::to_string(plain.port()) + "/"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.failure().kind == FailureKind::transient);
  }
}

TEST_CASE("http client: a missing ca_file is a configuration error", "[http][tls]") {
  net::io_context ioc;
  auto options = fast_options();
  options.ca_file = "/nonexistent/ca.pem";
  CHECK_THROWS_WITH(HttpClient(ioc.get_executor(), options, cosync::null_logger()), Catch::Contains("ca_file"));
}
