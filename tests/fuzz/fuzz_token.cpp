// The OAuth token endpoint's answers (Entra ID, Salesforce): a grant from a 200, a Failure from
// anything else, never an exception, whatever the body holds.
#include "daemon/auth/token_provider.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cosync::http::Response response;
  response.body = cosync::fuzz::text_of(data, size);
  for (int status : {200, 400, 401, 429, 503}) {
    response.status = status;
    auto grant = cosync::auth::parse_token_response(response);
    if (status != 200) FUZZ_REQUIRE(!grant && grant.failure().http_status == status);
    if (!grant) FUZZ_REQUIRE(!grant.failure().message.empty());
  }
  return 0;
}
