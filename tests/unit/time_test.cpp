#include <catch2/catch.hpp>

#include "daemon/util/remote_clock.hpp"
#include "daemon/util/time.hpp"

using namespace cosync;

TEST_CASE("time: parse_iso8601 reads the APIs' timestamp forms") {
  auto t = parse_iso8601("2024-05-01T10:20:30.123Z");
  REQUIRE(t);
  CHECK(format_iso8601(*t) == "2024-05-01T10:20:30.123Z");
  CHECK(parse_iso8601("2024-05-01T12:20:30.123+02:00") == t);
  CHECK(parse_iso8601("2024-05-01T10:20:30.123+0000") == t);
  CHECK(format_iso8601(*parse_iso8601("2261-12-31T23:59:59Z")) == "2261-12-31T23:59:59.000Z");
  CHECK(format_iso8601(*parse_iso8601("1700-01-01T00:00:00Z")) == "1700-01-01T00:00:00.000Z");
}

TEST_CASE("time: a date TimePoint cannot hold is nullopt, not an overflow") {
  // TimePoint counts nanoseconds since 1970 in 64 bits: 1677-09-21 to 2262-04-11. Past that the
  // arithmetic used to overflow (UBSan aborts; a plain build wraps to a date in 1680).
  for (const char* text : {"2262-04-12T00:00:00Z", "2300-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z",
                           "0000-01-01T00:00:00Z", "1000-01-01T00:00:00Z", "1677-01-01T00:00:00Z"}) {
    INFO(text);
    CHECK_FALSE(parse_iso8601(text));
  }
}

TEST_CASE("time: absurd fields are nullopt") {
  for (const char* text : {"2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-05-01T24:00:00Z",
                           "2024-05-01T10:60:00Z", "2024-05-01T10:00:61Z", "2024-05-01T-1:00:00Z",
                           "2024-05-01T10:-1:00Z", "+024-05-01T10:00:00Z", "2024-05-01T10:00:00+99:00",
                           "2024-05-01T10:00:00+01:75", "2024-05-01T10:00:00.Z", "2024-05-01T10:00:00Zjunk", ""}) {
    INFO(text);
    CHECK_FALSE(parse_iso8601(text));
  }
}

TEST_CASE("time: HTTP-dates read in their three forms and write as IMF-fixdate") {
  // RFC 9110 section 5.6.7's own example.
  auto t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
  REQUIRE(t);
  CHECK(format_iso8601(*t) == "1994-11-06T08:49:37.000Z");
  CHECK(format_http_date(*t) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(format_http_date(*parse_iso8601("2026-12-07T17:05:09.999Z")) == "Mon, 07 Dec 2026 17:05:09 GMT");
  // The obsolete forms recipients must still read (RFC 850, asctime).
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == t);
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == t);
  for (const char* text : {"", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 31 Nov 1994 08:49:37 GMT",
                           "Sun, 06 Nov 1994 25:49:37 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "yesterday"}) {
    INFO(text);
    CHECK_FALSE(parse_http_date(text));  // 9999: past what TimePoint holds, not an overflow
  }
}

TEST_CASE("time: a remote clock follows the server's Date, moved on by the host clock") {
  RemoteClock remote;
  auto local = *parse_iso8601("2026-12-07T10:00:00.500Z");
  CHECK_FALSE(remote.now(local));
  remote.observe("garbage", local);
  CHECK_FALSE(remote.now(local));
  // The server runs 5 hours behind the host: its clock is the one that counts.
  remote.observe("Mon, 07 Dec 2026 05:00:00 GMT", local);
  REQUIRE(remote.now(local));
  CHECK(format_iso8601(*remote.now(local)) == "2026-12-07T05:00:00.000Z");
  CHECK(format_iso8601(*remote.now(local + std::chrono::minutes(90))) == "2026-12-07T06:30:00.000Z");
  remote.observe("not a date", local);  // an unreadable header keeps what was learned
  CHECK(format_iso8601(*remote.now(local)) == "2026-12-07T05:00:00.000Z");
}
