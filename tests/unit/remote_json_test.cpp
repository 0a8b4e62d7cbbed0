#include <string>

#include <catch2/catch.hpp>

#include "daemon/util/remote_json.hpp"

using namespace cosync;

TEST_CASE("remote_json: wrong types read as absent, never throw") {
  auto j = remote_json::parse(R"({"s":"x","n":null,"i":7,"f":7.5,"big":1e300,"b":true,"o":{"k":1},"a":[1,2]})");
  REQUIRE(j.is_object());
  CHECK(remote_json::string_or(j, "s") == "x");
  CHECK(remote_json::string_or(j, "n", "d") == "d");
  CHECK(remote_json::string_or(j, "i", "d") == "d");
  CHECK(remote_json::string_or(j, "o", "d") == "d");
  CHECK(remote_json::string_or(j, "missing", "d") == "d");
  CHECK_FALSE(remote_json::opt_string(j, "a"));
  CHECK(remote_json::opt_int(j, "i") == 7);
  CHECK_FALSE(remote_json::opt_int(j, "f"));
  CHECK_FALSE(remote_json::opt_int(j, "big"));
  CHECK_FALSE(remote_json::opt_int(j, "s"));
  CHECK(remote_json::opt_number(j, "f") == 7.5);
  CHECK(remote_json::bool_or(j, "b", false));
  CHECK(remote_json::bool_or(j, "s", true));
  CHECK(remote_json::object_at(j, "o").size() == 1);
  CHECK(remote_json::object_at(j, "a").empty());
  CHECK(remote_json::array_at(j, "a").size() == 2);
  CHECK(remote_json::array_at(j, "n").empty());
  // Non-objects as the container.
  auto arr = remote_json::parse("[1]");
  CHECK(remote_json::string_or(arr, "s", "d") == "d");
  CHECK(remote_json::member(nlohmann::json(), "k").is_null());
}

TEST_CASE("remote_json: a body nested deeper than the limit is refused, strings do not count") {
  std::string deep(70000, '[');
  deep += std::string(70000, ']');
  CHECK(remote_json::parse(deep).is_discarded());
  std::string ok = std::string(64, '[') + std::string(64, ']');
  CHECK_FALSE(remote_json::parse(ok).is_discarded());
  std::string sixty_five = std::string(65, '{');
  CHECK(remote_json::nested_deeper_than(sixty_five, 64));
  CHECK_FALSE(remote_json::parse(R"({"s":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"[["})").is_discarded());
  CHECK(remote_json::parse("{not json").is_discarded());
}
