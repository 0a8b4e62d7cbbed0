#pragma once
// OAuth 2.0 refresh-token grant for Partner Center's App+User tokens. The refresh token lives in
// a file (mode 0600) in the state directory; every rotated token replaces it atomically, and the
// file is read again before each redemption so that a new `cosyncd login` is picked up.
#include "daemon/auth/token_provider.hpp"

namespace cosync::auth {

struct RefreshTokenOptions {
  std::string token_url;
  std::string client_id;
  std::string client_secret;  // optional (public clients have none)
  std::string scope;
  std::string refresh_token_file;
};

class RefreshTokenProvider final : public TokenProvider {
 public:
  RefreshTokenProvider(http::HttpClient& client, RefreshTokenOptions options, const Clock& clock, Log log,
                       std::string name);

 protected:
  boost::asio::awaitable<Expected<TokenGrant>> acquire() override;
  void on_grant(const TokenGrant& grant) override;

 private:
  http::HttpClient& client_;
  RefreshTokenOptions options_;
};

// Writes a secret to `path` atomically with mode 0600 (temp file, fsync, rename).
// Returns false with `error` set when it could not.
bool write_secret_file(const std::string& path, const std::string& secret, std::string& error);
// Reads a secret file (trailing newline stripped); nullopt when missing or empty.
std::optional<std::string> read_secret_file(const std::string& path);

}  // namespace cosync::auth
