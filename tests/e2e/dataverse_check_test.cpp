// End to end, metadata validation on Dynamics 365: `cosyncd check` reads the mapped tables'
// EntityDefinitions from the (fake) org and names, by mapping file and line, a column the table
// does not have and an option value its option set does not have.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/e2e_helpers.hpp"

using namespace cosync;
using testing::line_of;

TEST_CASE("dataverse e2e: check accepts the shipped opportunity mapping against the org's table definitions") {
  testing::E2eHarness h(testing::Crm::dataverse, "pc-dataverse-opportunities.yaml");
  auto check = h.cosyncd("check");
  INFO(check.output);
  CHECK(check.exit_status == 0);
  CHECK_THAT(check.output, Catch::Contains("configuration OK"));
  // It asked the org: the table by its entity set name, then its option sets.
  bool read_definitions = false;
  for (const auto& r : h.dv().server().requests())
    read_definitions |= r.path == "/api/data/v9.2/EntityDefinitions" &&
                        r.param("$filter") == "EntitySetName eq 'opportunities'";
  CHECK(read_definitions);
  CHECK(h.write_calls() == 0);
}

TEST_CASE("dataverse e2e: check names the mapping file and line of an unknown column and of a bad option value") {
  testing::E2eHarness h(testing::Crm::dataverse, "pc-dataverse-opportunities.yaml");
  const std::string mapping = h.mapping_path();
  testing::replace_in_file(mapping, "crm: description", "crm: cosync_notes");             // no such column
  testing::replace_in_file(mapping, "{ pc: [Active, Engaged], crm: \"2\" }", "{ pc: [Active, Engaged], crm: \"7\" }");  // salesstage: 0-3
  auto check = h.cosyncd("check");
  INFO(check.output);
  CHECK(check.exit_status == 78);
  CHECK_THAT(check.output, Catch::Contains(mapping + ":" + std::to_string(line_of(mapping, "- name: notes")) + ":"));
  CHECK_THAT(check.output, Catch::Contains("cosync_notes"));
  // The value's own line and key, not the rule's (issue 10, item 3).
  CHECK_THAT(check.output, Catch::Contains(mapping + ":" + std::to_string(line_of(mapping, "crm: \"7\"")) +
                                           ": fields[3].values[2].crm: '7' is not an active value"));
  CHECK(h.write_calls() == 0);
}
