#include <catch2/catch.hpp>

#include "daemon/http/retry_policy.hpp"
#include "daemon/util/time.hpp"

using namespace std::chrono;
using cosync::http::backoff_delay;
using cosync::http::is_retryable_status;
using cosync::parse_http_date;
using cosync::http::parse_retry_after;

namespace {
system_clock::time_point at(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
  return sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss};
}
}  // namespace

TEST_CASE("http retry policy: Retry-After in seconds", "[http]") {
  auto now = system_clock::now();
  CHECK(parse_retry_after("1", now) == milliseconds(1000));
  CHECK(parse_retry_after(" 120 ", now) == milliseconds(120'000));
  CHECK(parse_retry_after("0", now) == milliseconds(0));
  CHECK(parse_retry_after("99999999999999999999", now) >= hours(24));  // no overflow
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("-5", now));
  CHECK_FALSE(parse_retry_after("1.5", now));
  CHECK_FALSE(parse_retry_after("soon", now));
}

TEST_CASE("http retry policy: Retry-After as an HTTP-date", "[http]") {
  auto expected = at(1994, 11, 6, 8, 49, 37);
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == expected);  // IMF-fixdate
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == expected);  // RFC 850
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == expected);       // asctime
  CHECK_FALSE(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT"));
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));
  CHECK_FALSE(parse_http_date("yesterday"));

  auto now = at(2024, 5, 1, 10, 0, 0);
  CHECK(parse_retry_after("Wed, 01 May 2024 10:00:30 GMT", now) == milliseconds(30'000));
  CHECK(parse_retry_after("Wed, 01 May 2024 09:00:00 GMT", now) == milliseconds(0));  // in the past
}

TEST_CASE("http retry policy: exponential backoff with full jitter", "[http]") {
  const milliseconds base{100}, max{1000};
  CHECK(backoff_delay(1, base, max, 1.0) == milliseconds(100));
  CHECK(backoff_delay(2, base, max, 1.0) == milliseconds(200));
  CHECK(backoff_delay(3, base, max, 1.0) == milliseconds(400));
  CHECK(backoff_delay(5, base, max, 1.0) == milliseconds(1000));    // capped
  CHECK(backoff_delay(100, base, max, 1.0) == milliseconds(1000));  // no overflow
  CHECK(backoff_delay(3, base, max, 0.0) == milliseconds(0));
  CHECK(backoff_delay(3, base, max, 0.5) == milliseconds(200));
}

TEST_CASE("http retry policy: retryable statuses", "[http]") {
  for (int s : {408, 429, 500, 502, 503, 504}) CHECK(is_retryable_status(s));
  for (int s : {200, 201, 204, 301, 400, 401, 403, 404, 409, 412, 501, 505}) CHECK_FALSE(is_retryable_status(s));
}
