#include "daemon/auth/client_credentials.hpp"

namespace cosync::auth {

ClientCredentialsProvider::ClientCredentialsProvider(http::HttpClient& client, ClientCredentialsOptions options,
                                                     const Clock& clock, Log log, std::string name)
    : TokenProvider(clock, std::move(log), std::move(name), options.max_token_age),
      client_(client),
      options_(std::move(options)) {}

boost::asio::awaitable<Expected<TokenGrant>> ClientCredentialsProvider::acquire() {
  std::vector<std::pair<std::string, std::string>> form = {{"grant_type", "client_credentials"},
                                                           {"client_id", options_.client_id},
                                                           {"client_secret", options_.client_secret}};
  if (!options_.scope.empty()) form.emplace_back("scope", options_.scope);
  co_return co_await request_token(client_, options_.token_url, form);
}

}  // namespace cosync::auth
