// The device-code sign-in of `cosyncd login partner-center` against the fake identity platform.
#include <catch2/catch.hpp>

#include "daemon/auth/device_code.hpp"
#include "tests/unit/connector_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;

namespace {

struct LoginFixture {
  ManualClock clock{std::chrono::system_clock::now()};
  fakes::FakeTokenServerOptions token_options() {
    fakes::FakeTokenServerOptions o;
    o.clock = &clock;
    o.device_code_interval = 0;  // poll at once: the test needs no real waiting
    return o;
  }
  fakes::FakeTokenServer server{token_options()};
  boost::asio::io_context io;
  CapturedLog captured = make_capturing_logger();
  http::HttpClient client{io.get_executor(), testing::fast_http_options(), captured.log};
  auth::DeviceCodeOptions options() {
    auth::DeviceCodeOptions o;
    o.device_code_url = server.device_code_url();
    o.token_url = server.url();
    o.client_id = "pc-public-client";
    o.slow_down_step = 10ms;
    return o;
  }
};

// Device-code login against a scripted `server`: its /devicecode and /token.
Expected<auth::TokenGrant> login_against(fakes::HttpTestServer& server, const std::function<void()>& on_prompt) {
  boost::asio::io_context io;
  http::HttpClient client(io.get_executor(), testing::fast_http_options(), null_logger());
  auth::DeviceCodeOptions o;
  o.device_code_url = server.base_url() + "/devicecode";
  o.token_url = server.base_url() + "/token";
  o.client_id = "c";
  Expected<auth::TokenGrant> grant = Failure{};
  REQUIRE_NOTHROW(grant = testing::run_async(
                      io, auth::device_code_login(client, o, [&](const auth::DeviceCodePrompt&) { on_prompt(); })));
  return grant;
}

}  // namespace

TEST_CASE_METHOD(LoginFixture, "partner center login: the device-code flow waits for the sign-in and gets a refresh token") {
  server.slow_down_next(1);
  auth::DeviceCodePrompt shown;
  auto result = testing::run_async(io, auth::device_code_login(client, options(), [&](const auth::DeviceCodePrompt& p) {
    shown = p;
    server.approve_device_code(p.user_code, 2);  // two more "authorization_pending" first
  }));
  INFO(testing::describe(result));
  REQUIRE(result.ok());
  CHECK(result->refresh_token == server.latest_refresh_token());
  CHECK_FALSE(result->access_token.empty());
  CHECK(shown.verification_uri == "https://microsoft.com/devicelogin");
  CHECK(shown.user_code == server.latest_user_code());

  auto requests = server.server().requests();
  REQUIRE(requests.size() == 1 + 4);  // device code, slow_down, 2 x pending, granted
  auto first = fakes::decode_form(requests[0].body);
  CHECK(requests[0].path == "/devicecode");
  CHECK(first["scope"] == "https://api.partner.microsoft.com/.default offline_access");
  CHECK(first["client_id"] == "pc-public-client");
  for (size_t i = 1; i < requests.size(); ++i) {
    auto poll = fakes::decode_form(requests[i].body);
    CHECK(poll["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code");
    CHECK_FALSE(poll["device_code"].empty());
  }
  CHECK(captured.text->find(result->refresh_token) == std::string::npos);  // never logged
}

TEST_CASE_METHOD(LoginFixture, "partner center login: an expired code ends the login with a clear message") {
  auto result = testing::run_async(io, auth::device_code_login(client, options(), [&](const auth::DeviceCodePrompt&) {
    clock.advance(16min);  // nobody signed in within the code's 15 minutes
  }));
  REQUIRE_FALSE(result.ok());
  CHECK(result.failure().kind == FailureKind::auth);
  CHECK_THAT(result.failure().message, Catch::Contains("expired") && Catch::Contains("login again"));
}

TEST_CASE("partner center login: device-code answers with wrong types are clear failures, never exceptions") {
  // A device-code endpoint answering each body in turn.
  const std::pair<int, const char*> answers[] = {
      {200, R"({"device_code":5,"user_code":"U"})"},
      {400, R"({"error":17,"error_description":{"a":1}})"},
      {200, R"({"device_code":"d","user_code":null,"expires_in":"never","interval":5})"},
      {200, R"({"device_code":"d","user_code":"U","expires_in":900,"interval":-3})"},
  };
  for (const auto& [status, body] : answers) {
    INFO(body);
    fakes::HttpTestServer server([&](const fakes::FakeRequest&) {
      fakes::FakeResponse r;
      r.status = status;
      r.body = body;
      return r;
    });
    bool prompted = false;
    auto grant = login_against(server, [&] { prompted = true; });
    REQUIRE_FALSE(grant.ok());
    CHECK(grant.failure().kind == FailureKind::auth);
    CHECK_FALSE(prompted);
  }
}

TEST_CASE("partner center login: a poll answer with a non-string error or access_token fails cleanly") {
  int polls = 0;
  const char* poll_bodies[] = {R"({"error":{"code":1}})", R"({"access_token":5,"refresh_token":"r"})"};
  for (const char* poll_body : poll_bodies) {
    INFO(poll_body);
    polls = 0;
    fakes::HttpTestServer server([&](const fakes::FakeRequest& r) {
      if (r.path == "/devicecode")
        return fakes::FakeResponse::json(200, {{"device_code", "d"}, {"user_code", "U"}, {"interval", 0}});
      ++polls;
      fakes::FakeResponse answer;
      answer.status = std::string(poll_body).find("error") != std::string::npos ? 400 : 200;
      answer.body = poll_body;
      return answer;
    });
    auto grant = login_against(server, [] {});
    REQUIRE_FALSE(grant.ok());
    CHECK(polls == 1);
  }
}
