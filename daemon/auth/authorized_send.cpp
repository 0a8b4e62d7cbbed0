#include "daemon/auth/authorized_send.hpp"

namespace cosync::auth {

boost::asio::awaitable<Expected<http::Response>> authorized_send(http::HttpClient& client, TokenProvider& tokens,
                                                                 http::Request request) {
  for (int attempt = 0;; ++attempt) {
    auto token = co_await tokens.access_token();
    if (!token) co_return token.failure();
    http::Request r = request;
    r.headers.emplace_back("Authorization", "Bearer " + *token);
    auto res = co_await client.send(std::move(r));
    if (!res || res->status != 401 || attempt == 1) co_return res;
    tokens.invalidate();
  }
}

}  // namespace cosync::auth
