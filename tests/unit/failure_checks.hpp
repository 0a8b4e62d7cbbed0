#pragma once
// The checks of a call that must fail: most hostile-input and error-path tests end with one.
#include <catch2/catch.hpp>

#include <optional>
#include <string>

namespace cosync::testing {

// `result` (an Expected) is a failure whose message contains `text`.
template <class Result>
void check_fails_with(const Result& result, const std::string& text) {
  REQUIRE_FALSE(result.ok());
  CHECK_THAT(result.failure().message, Catch::Contains(text));
}

// "Answered 200 with a malformed body": the fake's next answer is a 200 carrying `body`, and
// `call()`, the connector call it answers, fails naming `text`. Returns the call's result.
template <class Fake, class Call>
auto check_200_body_fails(Fake& fake, const std::string& body, Call&& call, const std::string& text) {
  fake.fail_next(1, 200, std::nullopt, body);
  INFO("answered 200 with " << body.substr(0, 200));
  auto result = call();
  check_fails_with(result, text);
  return result;
}

}  // namespace cosync::testing
