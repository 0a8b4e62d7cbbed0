#pragma once
// OAuth 2.0 JWT bearer flow (RFC 7523) as Salesforce implements it for server-to-server access:
// an RS256-signed assertion (iss = connected app's client id, sub = the integration user's
// username, aud = https://login.salesforce.com or https://test.salesforce.com, exp a few minutes
// ahead) is posted with grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer. Salesforce
// answers no expires_in and no refresh token: a new assertion is signed for every new token.
#include <nlohmann/json.hpp>

#include "daemon/auth/token_provider.hpp"

namespace cosync::auth {

struct JwtBearerOptions {
  std::string token_url;         // https://login.salesforce.com/services/oauth2/token (or My Domain)
  std::string client_id;         // iss
  std::string username;          // sub
  std::string private_key_file;  // PEM (PKCS#8 or traditional RSA), read when a token is needed
  std::string audience = "https://login.salesforce.com";
  std::chrono::seconds assertion_lifetime{180};  // exp = now + this (Salesforce allows 3 minutes)
  std::chrono::seconds max_token_age{3600};      // Salesforce sends no expires_in
};

class JwtBearerProvider final : public TokenProvider {
 public:
  JwtBearerProvider(http::HttpClient& client, JwtBearerOptions options, const Clock& clock, Log log, std::string name);

 protected:
  boost::asio::awaitable<Expected<TokenGrant>> acquire() override;

 private:
  http::HttpClient& client_;
  JwtBearerOptions options_;
};

// base64url without padding (RFC 7515 section 2).
std::string base64url_encode(std::string_view data);
std::optional<std::string> base64url_decode(std::string_view text);
// header.claims.signature, signed RS256 with the PEM private key; the header is
// {"alg":"RS256","typ":"JWT"} plus `extra_header` (e.g. a certificate thumbprint). A Failure
// (kind auth) names what is wrong with the key, never its content.
Expected<std::string> sign_jwt_rs256(const std::string& claims_json, const std::string& private_key_pem,
                                     const nlohmann::json& extra_header = nlohmann::json::object());

}  // namespace cosync::auth
