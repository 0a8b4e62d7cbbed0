#include "daemon/auth/client_credentials.hpp"

#include "daemon/auth/client_assertion.hpp"

namespace cosync::auth {

ClientCredentialsProvider::ClientCredentialsProvider(http::HttpClient& client, ClientCredentialsOptions options,
                                                     const Clock& clock, Log log, std::string name)
    : TokenProvider(clock, std::move(log), std::move(name), options.max_token_age),
      client_(client),
      options_(std::move(options)) {}

boost::asio::awaitable<Expected<TokenGrant>> ClientCredentialsProvider::acquire() {
  std::vector<std::pair<std::string, std::string>> form = {{"grant_type", "client_credentials"},
                                                           {"client_id", options_.client_id}};
  if (options_.certificate_file.empty()) {
    form.emplace_back("client_secret", options_.client_secret);
  } else {
    // A new assertion per token request: each has its own jti and a short exp.
    ClientAssertionRequest request;
    request.client_id = options_.client_id;
    request.token_url = options_.token_url;
    request.certificate_file = options_.certificate_file;
    request.private_key_file = options_.private_key_file;
    auto assertion = make_client_assertion(request, clock_.now());
    if (!assertion) co_return assertion.failure();
    form.emplace_back("client_assertion_type", kClientAssertionType);
    form.emplace_back("client_assertion", *assertion);
  }
  if (!options_.scope.empty()) form.emplace_back("scope", options_.scope);
  co_return co_await request_token(client_, options_.token_url, form);
}

}  // namespace cosync::auth
