#include "daemon/auth/device_code.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/util/remote_json.hpp"

namespace cosync::auth {

namespace net = boost::asio;

namespace {

net::awaitable<Expected<http::Response>> post_form(http::HttpClient& client, const std::string& url,
                                                   const std::vector<std::pair<std::string, std::string>>& form) {
  auto req = form_post(url, form);
  auto res = co_await client.send(std::move(req));
  co_return res;
}

// A lifetime or interval of the device-code answer: `fallback` when absent, nullopt when broken.
std::optional<std::chrono::seconds> seconds_of(const nlohmann::json& body, std::string_view key,
                                               std::chrono::seconds fallback) {
  auto value = lifetime_field(body, key);
  if (!value) return std::nullopt;
  return value->value_or(fallback);
}

}  // namespace

net::awaitable<Expected<TokenGrant>> device_code_login(http::HttpClient& client, DeviceCodeOptions options,
                                                       std::function<void(const DeviceCodePrompt&)> prompt) {
  std::vector<std::pair<std::string, std::string>> request = {{"client_id", options.client_id},
                                                              {"scope", options.scope}};
  auto res = co_await post_form(client, options.device_code_url, request);
  if (!res) co_return res.failure();
  auto body = remote_json::parse(res->body);
  auto device_code = remote_json::opt_string(body, "device_code");
  if (res->status != 200 || !device_code) {
    std::string error = remote_json::string_or(body, "error") + " " + remote_json::string_or(body, "error_description");
    co_return Failure{FailureKind::auth,
                      "the device-code endpoint answered " + std::to_string(res->status) + ": " + error.substr(0, 300),
                      res->status, ""};
  }
  DeviceCodePrompt p;
  p.verification_uri = remote_json::opt_string(body, "verification_uri")
                           .value_or(remote_json::string_or(body, "verification_url"));
  p.user_code = remote_json::string_or(body, "user_code");
  p.message = remote_json::string_or(body, "message");
  auto expires_in = seconds_of(body, "expires_in", std::chrono::seconds(900));
  auto interval_s = seconds_of(body, "interval", std::chrono::seconds(5));
  if (!expires_in || !interval_s)
    co_return Failure{FailureKind::auth, "the device-code endpoint answered an invalid expires_in or interval",
                      res->status, ""};
  p.expires_in = *expires_in;
  std::chrono::milliseconds interval = *interval_s;
  prompt(p);

  auto deadline = std::chrono::steady_clock::now() + p.expires_in;
  net::steady_timer timer(co_await net::this_coro::executor);
  std::vector<std::pair<std::string, std::string>> poll = {
      {"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
      {"client_id", options.client_id},
      {"device_code", *device_code}};
  for (;;) {
    timer.expires_after(interval);
    co_await timer.async_wait(net::use_awaitable);
    auto answer = co_await post_form(client, options.token_url, poll);
    if (!answer) co_return answer.failure();
    auto j = remote_json::parse(answer->body);
    if (answer->status == 200) {
      auto refresh_token = remote_json::opt_string(j, "refresh_token");
      if (!refresh_token)
        co_return Failure{FailureKind::auth,
                          "the token endpoint granted no refresh token: is offline_access in the scope?", 200, ""};
      auto grant = parse_token_response(*answer);
      if (grant) grant->refresh_token = *refresh_token;
      co_return grant;
    }
    std::string error = remote_json::string_or(j, "error");
    if (error == "authorization_pending") {
      if (std::chrono::steady_clock::now() >= deadline)
        co_return Failure{FailureKind::auth, "the code expired before the sign-in: run the login again", 400, ""};
      continue;
    }
    if (error == "slow_down") {
      interval += options.slow_down_step;
      continue;
    }
    std::string description = remote_json::string_or(j, "error_description");
    std::string why = error == "expired_token"     ? "the code expired before the sign-in: run the login again"
                      : error == "access_denied" ||
                              error == "authorization_declined" ? "the sign-in was declined"
                                                                : "the token endpoint answered " +
                                                                      std::to_string(answer->status) + " " + error;
    co_return Failure{FailureKind::auth, why + (description.empty() ? "" : ": " + description.substr(0, 300)),
                      answer->status, ""};
  }
}

}  // namespace cosync::auth
