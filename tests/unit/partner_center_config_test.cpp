// partner_center settings of the daemon config. `page_size` is gone: Partner Center's $top is the
// total to retrieve, so no page size can be asked for; an old config keeps loading, with a warning.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "daemon/cli/config.hpp"
#include "tests/unit/config_fixtures.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;

namespace {

std::string config_with(const std::string& partner_center_extra) {
  return testing::config_text("", "client_secret: ${COSYNC_TEST_SF_SECRET}", "  - leads.yaml\n", partner_center_extra);
}

const std::string& kMapping = testing::kLeadsMapping;

}  // namespace

TEST_CASE("partner center config: page_size is deprecated: a warning names its file and line, the config still loads") {
  testing::TempDir dir;
  dir.write("leads.yaml", kMapping);

  auto with = app::load_config(dir.write("cosync.yaml", config_with("  page_size: 100\n")));
  REQUIRE(with.warnings.size() == 1);
  CHECK(with.warnings[0].starts_with(dir.file("cosync.yaml") + ":4: partner_center.page_size: deprecated and ignored"));
  CHECK_THAT(with.warnings[0], Catch::Contains("@odata.nextLink"));

  auto without = app::load_config(dir.write("cosync.yaml", config_with("")));
  CHECK(without.warnings.empty());
}
