#pragma once
// OAuth 2.0 client-credentials grant (Salesforce, Dataverse, the sandbox's token endpoint), with
// a client secret or, for Entra ID, a certificate: a signed client assertion in its place.
#include "daemon/auth/token_provider.hpp"

namespace cosync::auth {

struct ClientCredentialsOptions {
  std::string token_url;
  std::string client_id;
  std::string client_secret;
  std::string scope;  // optional
  std::chrono::seconds max_token_age{3600};  // when the endpoint gives no expires_in
  // Certificate credentials (Entra ID) instead of client_secret: both PEM files set.
  std::string certificate_file{};
  std::string private_key_file{};
};

class ClientCredentialsProvider final : public TokenProvider {
 public:
  ClientCredentialsProvider(http::HttpClient& client, ClientCredentialsOptions options, const Clock& clock, Log log,
                            std::string name);

 protected:
  boost::asio::awaitable<Expected<TokenGrant>> acquire() override;

 private:
  http::HttpClient& client_;
  ClientCredentialsOptions options_;
};

}  // namespace cosync::auth
