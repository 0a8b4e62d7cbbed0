// Error bodies of Partner Center / Dataverse ({"error":{...}}) and Salesforce ([{...}]) as
// failures, including bodies whose fields have the wrong types.
#include <catch2/catch.hpp>

#include "connectors/api_error.hpp"

using namespace cosync;

namespace {

Failure failure_for(int status, std::string body) {
  http::Response response;
  response.status = status;
  response.headers = {{"MS-CorrelationId", "corr-1"}};
  response.body = std::move(body);
  return connectors::api_failure(response, "PATCH referral 1", "MS-CorrelationId");
}

}  // namespace

TEST_CASE("api error: the API's code and message name the failure") {
  // Microsoft REST error shape: https://learn.microsoft.com/partner-center/developer/error-codes
  auto pc = failure_for(400, R"({"error":{"code":"600012","message":"bad status","target":"status",
                                 "innerError":{"message":"New -> Won is not allowed"}}})");
  CHECK(pc.kind == FailureKind::rejected);
  CHECK(pc.request_id == "corr-1");
  CHECK(pc.message == "PATCH referral 1 answered 400: 600012: bad status (target status); New -> Won is not allowed");
  // Salesforce: [{"message":...,"errorCode":...}]
  auto sf = failure_for(400, R"([{"errorCode":"REQUIRED_FIELD_MISSING","message":"Company"}])");
  CHECK(sf.message == "PATCH referral 1 answered 400: REQUIRED_FIELD_MISSING: Company");
}

TEST_CASE("api error: an error body with numbers, nulls, objects or arrays in its fields is a plain failure") {
  const char* bodies[] = {
      R"({"error":{"code":404,"message":null}})",
      R"({"error":{"code":null,"message":{"text":"x"},"target":7,"innerError":"no"}})",
      R"({"error":{"code":["a"],"message":1.5,"innerError":{"message":[1,2]}}})",
      R"({"error":null})",
      R"({"error":"invalid_grant"})",
      R"([{"errorCode":12,"message":null}])",
      R"([null,{"errorCode":"X"}])",
      R"([[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]])",
      "",
      "not json",
  };
  for (const char* body : bodies) {
    INFO(body);
    Failure f;
    REQUIRE_NOTHROW(f = failure_for(503, body));
    CHECK(f.kind == FailureKind::transient);
    CHECK(f.http_status == 503);
    CHECK_THAT(f.message, Catch::StartsWith("PATCH referral 1 answered 503"));
  }
  // The type-correct field still counts when its neighbour is broken.
  CHECK(failure_for(409, R"({"error":{"code":12,"message":"stale eTag"}})").message ==
        "PATCH referral 1 answered 409: stale eTag");
}
