#pragma once
// OAuth 2.0 access tokens for the connectors: cached in memory, refreshed shortly before they
// expire, and refreshed once when an API answers 401. Tokens are never logged.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "daemon/http/http_client.hpp"
#include "daemon/util/clock.hpp"
#include "daemon/util/expected.hpp"
#include "daemon/util/log.hpp"

namespace cosync::auth {

// What a token endpoint answered.
struct TokenGrant {
  std::string access_token;
  std::optional<std::chrono::seconds> expires_in;  // Salesforce sends none
  std::string refresh_token;                       // set when the endpoint rotated it
  std::string instance_url;                        // Salesforce only
};

class TokenProvider {
 public:
  TokenProvider(const Clock& clock, Log log, std::string name, std::chrono::seconds max_age);
  virtual ~TokenProvider() = default;

  // A valid access token, from the cache or freshly acquired.
  boost::asio::awaitable<Expected<std::string>> access_token();
  // The API rejected the cached token (401): the next access_token() acquires a new one.
  void invalidate();
  const std::string& name() const { return name_; }
  // Why the last attempt to acquire a token failed; empty once one succeeded (sign-in health).
  const std::optional<Failure>& last_failure() const { return last_failure_; }

 protected:
  // Asks the token endpoint for a new grant.
  virtual boost::asio::awaitable<Expected<TokenGrant>> acquire() = 0;
  // Called with every successful grant before it is used.
  virtual void on_grant(const TokenGrant&) {}

  const Clock& clock_;
  Log log_;

 private:
  std::string name_;
  std::chrono::seconds max_age_;  // used when the endpoint gives no expires_in
  std::string token_;
  TimePoint expires_at_{};
  bool acquiring_ = false;
  std::optional<Failure> last_failure_;
};

// POSTs an application/x-www-form-urlencoded body to a token endpoint and parses the answer,
// turning OAuth error bodies ({"error":"invalid_grant",...}) into a Failure of kind auth.
boost::asio::awaitable<Expected<TokenGrant>> request_token(
    http::HttpClient& client, const std::string& token_url,
    const std::vector<std::pair<std::string, std::string>>& form);

// A token endpoint's answer as a grant, or the Failure its status or error body describes.
Expected<TokenGrant> parse_token_response(const http::Response& res);

// Longest token or device-code lifetime taken from an endpoint's answer (Entra ID gives about an
// hour, device codes 15 minutes); anything longer is a broken or hostile answer, not a lifetime.
inline constexpr std::chrono::seconds kMaxLifetime{366LL * 24 * 3600};
// The lifetime in seconds at `key` of a token endpoint's answer: a JSON integer or, as Entra ID's
// v1 endpoint sends it, a decimal string. nullopt when absent; a Failure when it has another type
// or is negative or longer than kMaxLifetime.
Expected<std::optional<std::chrono::seconds>> lifetime_field(const nlohmann::json& body, std::string_view key);

// Encodes name=value pairs as application/x-www-form-urlencoded.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& form);

// A POST of `form` to an OAuth endpoint (token, device code), answered in JSON. Idempotent: such
// a request changes nothing the user did, so a 5xx is retried.
http::Request form_post(const std::string& url, const std::vector<std::pair<std::string, std::string>>& form);

}  // namespace cosync::auth
