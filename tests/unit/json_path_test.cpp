// Dotted paths into JSON records (daemon/util/json_path.hpp): a part of digits indexes an array
// ("registrations.0.status", how a mapping reads the first deal registration); anything else
// that does not lead to a value reads as null.
#include <catch2/catch.hpp>

#include "daemon/util/json_path.hpp"

using nlohmann::json;

TEST_CASE("json path: digits index an array, everything else missing reads as null") {
  json referral = {{"registrations", {{{"status", "Approved"}, {"contract", {{"value", 5}}}}}},
                   {"details", {{"0", "a key of digits"}}}};
  CHECK(cosync::json_at(referral, "registrations.0.status") == "Approved");
  CHECK(cosync::json_at(referral, "registrations.0.contract.value") == 5);
  CHECK(cosync::json_at(referral, "details.0") == "a key of digits");  // an object's key stays a key
  CHECK(cosync::json_at(referral, "registrations.1.status").is_null());
  CHECK(cosync::json_at(referral, "registrations.status").is_null());  // no index: no value
  CHECK(cosync::json_at(referral, "registrations.-1.status").is_null());
  CHECK(cosync::json_at(referral, "registrations.99999999999.status").is_null());
  CHECK(cosync::json_at(json::array(), "0").is_null());
}
