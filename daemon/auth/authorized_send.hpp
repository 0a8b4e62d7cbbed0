#pragma once
// Sends a request with a bearer token; on 401 the token is refreshed once and the request sent
// again (DESIGN: "refreshed before expiry and once on a 401").
#include "daemon/auth/token_provider.hpp"

namespace cosync::auth {

boost::asio::awaitable<Expected<http::Response>> authorized_send(http::HttpClient& client, TokenProvider& tokens,
                                                                 http::Request request);

}  // namespace cosync::auth
