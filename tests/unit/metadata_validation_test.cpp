// The startup check of a mapping against the CRM's metadata: what the connector can describe is
// its capability, not a guess from a failure.
#include <catch2/catch.hpp>

#include "connectors/partner_center/partner_center_connector.hpp"
#include "connectors/salesforce/salesforce_connector.hpp"
#include "daemon/cli/metadata_validation.hpp"
#include "tests/engine/engine_fixture.hpp"

using namespace cosync;

TEST_CASE_METHOD(testing::EngineFixture, "metadata check: a connector without describe is skipped without a request") {
  app::MetadataValidator validator;
  pc_fake.server().clear_requests();
  auto result = run(validator.validate(mapping, pc));
  CHECK(result.verdict == app::MetadataVerdict::skipped);
  CHECK_THAT(result.reason, Catch::Contains("partner_center has no metadata to describe Lead"));
  CHECK(pc_fake.server().requests().empty());
}

TEST_CASE("metadata check: an object the org does not have is the mapping's error, with its line") {
  testing::EngineFixture f(testing::kEngineLeadsMapping);
  auto m = f.mapping;
  m.crm_object = "Leed";
  app::MetadataValidator validator;
  auto result = f.run(validator.validate(m, f.sf));
  CHECK(result.verdict == app::MetadataVerdict::mismatch);
  REQUIRE_FALSE(result.errors.empty());
  CHECK_THAT(result.errors[0].what(), Catch::Contains(":" + std::to_string(m.crm_object_line) + ": crm.object: Leed does not exist"));
}
