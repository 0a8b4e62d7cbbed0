#include "daemon/auth/token_provider.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <charconv>

#include "daemon/util/remote_json.hpp"

namespace cosync::auth {

namespace net = boost::asio;

// Refresh this long before the token's stated expiry, so that a request never races it.
constexpr std::chrono::seconds kExpirySkew{120};

TokenProvider::TokenProvider(const Clock& clock, Log log, std::string name, std::chrono::seconds max_age)
    : clock_(clock), log_(std::move(log)), name_(std::move(name)), max_age_(max_age) {}

void TokenProvider::invalidate() { token_.clear(); }

net::awaitable<Expected<std::string>> TokenProvider::access_token() {
  // One acquisition at a time: a rotated refresh token must not be redeemed twice.
  while (acquiring_) {
    net::steady_timer wait(co_await net::this_coro::executor, std::chrono::milliseconds(5));
    co_await wait.async_wait(net::use_awaitable);
  }
  if (!token_.empty() && clock_.now() < expires_at_) co_return token_;

  acquiring_ = true;
  auto grant = co_await acquire();
  acquiring_ = false;
  if (!grant) {
    last_failure_ = grant.failure();
    co_return grant.failure();
  }
  last_failure_.reset();

  on_grant(*grant);
  token_ = grant->access_token;
  auto lifetime = grant->expires_in ? *grant->expires_in : max_age_;
  expires_at_ = clock_.now() + (lifetime > 2 * kExpirySkew ? lifetime - kExpirySkew : lifetime / 2);
  log_->debug("auth: {} token acquired, valid for {}s", name_, lifetime.count());
  co_return token_;
}

http::Request form_post(const std::string& url, const std::vector<std::pair<std::string, std::string>>& form) {
  http::Request req;
  req.method = http::Method::post;
  req.url = url;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  req.body = form_encode(form);
  req.idempotent = true;
  return req;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& form) {
  std::string body;
  for (const auto& [name, value] : form) {
    if (!body.empty()) body += '&';
    body += boost::urls::encode(name, boost::urls::unreserved_chars);
    body += '=';
    body += boost::urls::encode(value, boost::urls::unreserved_chars);
  }
  return body;
}

Expected<std::optional<std::chrono::seconds>> lifetime_field(const nlohmann::json& body, std::string_view key) {
  const auto& v = remote_json::member(body, key);
  if (v.is_null()) return std::optional<std::chrono::seconds>{};
  std::optional<std::int64_t> n = remote_json::opt_int(body, key);
  if (v.is_string()) {
    const std::string& text = v.get_ref<const std::string&>();
    std::int64_t parsed = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) n = parsed;
  }
  if (!n || *n < 0 || *n > kMaxLifetime.count())
    return Failure{FailureKind::transient,
                   "the token endpoint answered an invalid " + std::string(key) + " (" + v.dump().substr(0, 40) + ")",
                   0, ""};
  return std::optional<std::chrono::seconds>(std::chrono::seconds(*n));
}

Expected<TokenGrant> parse_token_response(const http::Response& res) {
  auto body = remote_json::parse(res.body);
  if (res.status != 200) {
    std::string error = remote_json::string_or(body, "error");
    std::string description = remote_json::string_or(body, "error_description");
    Failure f;
    f.kind = (res.status >= 500 || res.status == 429) ? FailureKind::transient : FailureKind::auth;
    f.http_status = res.status;
    f.message = "token endpoint answered " + std::to_string(res.status) + (error.empty() ? "" : " " + error) +
                (description.empty() ? "" : ": " + description.substr(0, 200));
    return f;
  }
  auto access_token = remote_json::opt_string(body, "access_token");
  if (!access_token || access_token->empty())
    return Failure{FailureKind::transient, "token endpoint answered 200 without an access_token", 200, ""};

  TokenGrant grant;
  grant.access_token = std::move(*access_token);
  auto expires_in = lifetime_field(body, "expires_in");
  if (!expires_in) {
    Failure f = expires_in.failure();
    f.http_status = 200;
    return f;
  }
  grant.expires_in = *expires_in;
  grant.refresh_token = remote_json::string_or(body, "refresh_token");
  grant.instance_url = remote_json::string_or(body, "instance_url");
  return grant;
}

net::awaitable<Expected<TokenGrant>> request_token(http::HttpClient& client, const std::string& token_url,
                                                    const std::vector<std::pair<std::string, std::string>>& form) {
  auto req = form_post(token_url, form);
  auto res = co_await client.send(std::move(req));
  if (!res) co_return res.failure();

  co_return parse_token_response(*res);
}

}  // namespace cosync::auth
