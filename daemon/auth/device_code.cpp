#include "daemon/auth/device_code.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

namespace cosync::auth {

namespace net = boost::asio;

namespace {

net::awaitable<Expected<http::Response>> post_form(http::HttpClient& client, const std::string& url,
                                                   const std::vector<std::pair<std::string, std::string>>& form) {
  http::Request req;
  req.method = http::Method::post;
  req.url = url;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  req.body = form_encode(form);
  req.idempotent = true;  // neither call changes anything the user did
  co_return co_await client.send(std::move(req));
}

std::chrono::seconds seconds_of(const nlohmann::json& body, const char* key, long long fallback) {
  if (!body.contains(key)) return std::chrono::seconds(fallback);
  const auto& v = body[key];
  if (v.is_number_integer()) return std::chrono::seconds(v.get<long long>());
  if (v.is_string()) return std::chrono::seconds(std::atoll(v.get<std::string>().c_str()));
  return std::chrono::seconds(fallback);
}

}  // namespace

net::awaitable<Expected<TokenGrant>> device_code_login(http::HttpClient& client, DeviceCodeOptions options,
                                                       std::function<void(const DeviceCodePrompt&)> prompt) {
  std::vector<std::pair<std::string, std::string>> request = {{"client_id", options.client_id},
                                                              {"scope", options.scope}};
  auto res = co_await post_form(client, options.device_code_url, request);
  if (!res) co_return res.failure();
  auto body = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200 || !body.is_object() || !body.contains("device_code") || !body["device_code"].is_string()) {
    std::string error = body.is_object() ? body.value("error", "") + " " + body.value("error_description", "") : "";
    co_return Failure{FailureKind::auth,
                      "the device-code endpoint answered " + std::to_string(res->status) + ": " + error.substr(0, 300),
                      res->status, ""};
  }
  DeviceCodePrompt p;
  p.verification_uri = body.value("verification_uri", body.value("verification_url", ""));
  p.user_code = body.value("user_code", "");
  p.message = body.value("message", "");
  p.expires_in = seconds_of(body, "expires_in", 900);
  std::string device_code = body["device_code"].get<std::string>();
  std::chrono::milliseconds interval = seconds_of(body, "interval", 5);
  prompt(p);

  auto deadline = std::chrono::steady_clock::now() + p.expires_in;
  net::steady_timer timer(co_await net::this_coro::executor);
  std::vector<std::pair<std::string, std::string>> poll = {
      {"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
      {"client_id", options.client_id},
      {"device_code", device_code}};
  for (;;) {
    timer.expires_after(interval);
    co_await timer.async_wait(net::use_awaitable);
    auto answer = co_await post_form(client, options.token_url, poll);
    if (!answer) co_return answer.failure();
    auto j = nlohmann::json::parse(answer->body, nullptr, false);
    if (answer->status == 200) {
      if (!j.is_object() || !j.contains("access_token") || !j.contains("refresh_token") ||
          !j["refresh_token"].is_string())
        co_return Failure{FailureKind::auth,
                          "the token endpoint granted no refresh token: is offline_access in the scope?", 200, ""};
      TokenGrant grant;
      grant.access_token = j.value("access_token", "");
      grant.refresh_token = j["refresh_token"].get<std::string>();
      grant.expires_in = seconds_of(j, "expires_in", 3600);
      co_return grant;
    }
    std::string error = j.is_object() ? j.value("error", "") : "";
    if (error == "authorization_pending") {
      if (std::chrono::steady_clock::now() >= deadline)
        co_return Failure{FailureKind::auth, "the code expired before the sign-in: run the login again", 400, ""};
      continue;
    }
    if (error == "slow_down") {
      interval += options.slow_down_step;
      continue;
    }
    std::string description = j.is_object() ? j.value("error_description", "") : "";
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
