#include <catch2/catch.hpp>
#include <sys/stat.h>

#include "daemon/auth/authorized_send.hpp"
#include "daemon/auth/client_credentials.hpp"
#include "daemon/auth/refresh_token.hpp"
#include "tests/fakes/fake_token_server.hpp"
#include "tests/fakes/http_test_server.hpp"
#include "tests/unit/connector_fixture.hpp"
#include "tests/unit/run_async.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;
using namespace std::chrono_literals;

TEST_CASE("tokens: client credentials are cached and refreshed before they expire") {
  ManualClock clock(std::chrono::system_clock::now());
  fakes::FakeTokenServerOptions options;
  options.clock = &clock;
  fakes::FakeTokenServer server(options);
  server.add_client("id", "secret", fakes::TokenClientOptions{3600, false, ""});
  boost::asio::io_context io;
  auto captured = make_capturing_logger();
  http::HttpClient client(io.get_executor(), testing::fast_http_options(), captured.log);
  auth::ClientCredentialsProvider tokens(client, {server.url(), "id", "secret", "", 3600s}, clock, captured.log, "test");

  auto first = testing::run_async(io, tokens.access_token());
  REQUIRE(first.ok());
  CHECK(server.is_valid_access_token(*first));
  CHECK(testing::run_async(io, tokens.access_token()).value() == *first);
  CHECK(server.tokens_issued() == 1);

  clock.advance(3600s - 60s);  // inside the refresh margin, before the real expiry
  auto second = testing::run_async(io, tokens.access_token());
  REQUIRE(second.ok());
  CHECK(*second != *first);
  CHECK(server.tokens_issued() == 2);
  // The secret and the tokens never reach the log.
  CHECK(captured.text->find("secret") == std::string::npos);
  CHECK(captured.text->find(*second) == std::string::npos);
}

TEST_CASE("tokens: a wrong client secret is an auth failure that names the endpoint's error") {
  fakes::FakeTokenServer server;
  server.add_client("id", "right");
  boost::asio::io_context io;
  http::HttpClient client(io.get_executor(), testing::fast_http_options(), null_logger());
  SystemClock clock;
  auth::ClientCredentialsProvider tokens(client, {server.url(), "id", "wrong", "", 3600s}, clock, null_logger(), "t");
  auto token = testing::run_async(io, tokens.access_token());
  REQUIRE_FALSE(token.ok());
  CHECK(token.failure().kind == FailureKind::auth);
  CHECK_THAT(token.failure().message, Catch::Contains("invalid_client"));
  CHECK_THAT(token.failure().message, !Catch::Contains("wrong"));
}

TEST_CASE("tokens: a 401 refreshes the token once and repeats the request") {
  fakes::FakeTokenServer server;
  server.add_client("id", "secret");
  fakes::HttpTestServer api([&](const fakes::FakeRequest& r) {
    auto auth = r.header("Authorization");
    bool ok = auth.starts_with("Bearer ") && server.is_valid_access_token(auth.substr(7));
    return fakes::FakeResponse{ok ? 200 : 401, {}, ok ? "fine" : "expired"};
  });
  boost::asio::io_context io;
  http::HttpClient client(io.get_executor(), testing::fast_http_options(), null_logger());
  SystemClock clock;
  auth::ClientCredentialsProvider tokens(client, {server.url(), "id", "secret", "", 3600s}, clock, null_logger(), "t");
  http::Request request{http::Method::get, api.base_url() + "/x", {}, {}, {}, {}};

  REQUIRE(testing::run_async(io, auth::authorized_send(client, tokens, request))->status == 200);
  server.expire_all_access_tokens();
  auto res = testing::run_async(io, auth::authorized_send(client, tokens, request));
  REQUIRE(res.ok());
  CHECK(res->status == 200);
  CHECK(server.tokens_issued() == 2);
  CHECK(api.count("GET") == 3);
}

TEST_CASE("tokens: the Partner Center refresh token rotates into its 0600 file, a rejected one says to log in") {
  testing::TempDir dir;
  auto file = dir.file("pc_refresh_token");
  std::string error;
  REQUIRE(auth::write_secret_file(file, "rt-1", error));
  fakes::FakeTokenServer server;
  server.add_refresh_token("rt-1");
  boost::asio::io_context io;
  http::HttpClient client(io.get_executor(), testing::fast_http_options(), null_logger());
  SystemClock clock;
  auth::RefreshTokenProvider tokens(client, {server.url(), "pc-client", "", "scope", file}, clock, null_logger(), "pc");

  REQUIRE(testing::run_async(io, tokens.access_token()).ok());
  auto stored = auth::read_secret_file(file);
  REQUIRE(stored);
  CHECK(*stored != "rt-1");
  CHECK(*stored == server.latest_refresh_token());
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  server.revoke_refresh_tokens();
  tokens.invalidate();
  auto rejected = testing::run_async(io, tokens.access_token());
  REQUIRE_FALSE(rejected.ok());
  CHECK(rejected.failure().kind == FailureKind::auth);
  CHECK_THAT(rejected.failure().message, Catch::Contains("cosyncd login partner-center"));
}

namespace {

// What a ClientCredentialsProvider makes of a token endpoint answering `status` with `body`.
Expected<std::string> token_from(int status, const std::string& body) {
  fakes::HttpTestServer server([&](const fakes::FakeRequest&) {
    fakes::FakeResponse r;
    r.status = status;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = body;
    return r;
  });
  boost::asio::io_context io;
  auto options = testing::fast_http_options();
  options.max_attempts = 1;
  http::HttpClient client(io.get_executor(), options, null_logger());
  SystemClock clock;
  auth::ClientCredentialsProvider tokens(client, {server.base_url() + "/token", "id", "secret", "", 3600s}, clock,
                                         null_logger(), "t");
  return testing::run_async(io, tokens.access_token());
}

}  // namespace

TEST_CASE("tokens: a token answer with wrong types is a clear failure, never an exception") {
  struct Case {
    const char* body;
    const char* says;
  };
  const Case cases[] = {
      {R"({"access_token":12345,"expires_in":3599})", "without an access_token"},
      {R"({"access_token":null})", "without an access_token"},
      {R"({"access_token":["a"]})", "without an access_token"},
      {R"({"access_token":"t","expires_in":"soon"})", "invalid expires_in"},
      {R"({"access_token":"t","expires_in":-1})", "invalid expires_in"},
      {R"({"access_token":"t","expires_in":"-5"})", "invalid expires_in"},
      {R"({"access_token":"t","expires_in":1e300})", "invalid expires_in"},
      {R"({"access_token":"t","expires_in":18446744073709551615})", "invalid expires_in"},
      {R"({"access_token":"t","expires_in":"99999999999999999999999"})", "invalid expires_in"},
      {R"({"access_token":"t","expires_in":{"s":1}})", "invalid expires_in"},
      {R"([1,2,3])", "without an access_token"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    Expected<std::string> token = Failure{};
    REQUIRE_NOTHROW(token = token_from(200, c.body));
    REQUIRE_FALSE(token.ok());
    CHECK(token.failure().kind == FailureKind::transient);
    CHECK_THAT(token.failure().message, Catch::Contains(c.says));
  }
}

TEST_CASE("tokens: Entra ID's string expires_in and refresh fields of the wrong type are accepted as far as sane") {
  // The v1 endpoint sends expires_in as a string ("3599").
  auto v1 = token_from(200, R"({"access_token":"abc","expires_in":"3599","refresh_token":17,"instance_url":null})");
  REQUIRE(v1.ok());
  CHECK(*v1 == "abc");
}

TEST_CASE("tokens: an error body whose error fields are not strings is a plain auth failure") {
  const char* bodies[] = {R"({"error":400,"error_description":null})", R"({"error":{"x":1},"error_description":[1]})",
                          R"({"error":null})", R"("invalid_client")", "<html>"};
  for (const char* body : bodies) {
    INFO(body);
    Expected<std::string> token = Failure{};
    REQUIRE_NOTHROW(token = token_from(401, body));
    REQUIRE_FALSE(token.ok());
    CHECK(token.failure().kind == FailureKind::auth);
    CHECK(token.failure().message == "token endpoint answered 401");
  }
}
