#pragma once
// OAuth 2.0 client-credentials grant (Salesforce, Dataverse, the sandbox's token endpoint).
#include "daemon/auth/token_provider.hpp"

namespace cosync::auth {

struct ClientCredentialsOptions {
  std::string token_url;
  std::string client_id;
  std::string client_secret;
  std::string scope;  // optional
  std::chrono::seconds max_token_age{3600};  // when the endpoint gives no expires_in
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
