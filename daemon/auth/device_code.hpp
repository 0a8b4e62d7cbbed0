#pragma once
// OAuth 2.0 device authorization grant (RFC 8628) against the Microsoft identity platform, for
// `cosyncd login partner-center`: Partner Center accepts only App+User tokens, so an admin signs
// in once in a browser and the daemon keeps the refresh token.
#include <chrono>
#include <functional>
#include <string>

#include "daemon/auth/token_provider.hpp"

namespace cosync::auth {

struct DeviceCodeOptions {
  std::string device_code_url;  // https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode
  std::string token_url;        // https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token
  std::string client_id;
  std::string scope = "https://api.partner.microsoft.com/.default offline_access";
  std::chrono::milliseconds slow_down_step{5000};  // added to the interval on slow_down (RFC 8628)
};

// What the user must do: open `verification_uri` and enter `user_code`.
struct DeviceCodePrompt {
  std::string verification_uri;
  std::string user_code;
  std::string message;  // the identity platform's own sentence, when it sent one
  std::chrono::seconds expires_in{0};
};

// Requests a device code, calls `prompt`, then polls the token endpoint every `interval`
// (authorization_pending: keep waiting; slow_down: wait longer; expired_token, access_denied,
// anything else: fail) until the user signed in. The grant holds the refresh token.
boost::asio::awaitable<Expected<TokenGrant>> device_code_login(http::HttpClient& client, DeviceCodeOptions options,
                                                               std::function<void(const DeviceCodePrompt&)> prompt);

}  // namespace cosync::auth
