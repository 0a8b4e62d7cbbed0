// Metadata validation: the fake serves describe from its schema, and a mapping that names a
// field the org lacks, writes a read-only field or maps to a value not in the picklist is a
// ConfigError naming the mapping file and the field rule's line.
#include <catch2/catch.hpp>

#include "daemon/mapping/metadata_check.hpp"
#include "daemon/util/yaml_reader.hpp"
#include "tests/unit/connector_fixture.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;

namespace {

struct DescribeFixture : testing::ConnectorFixture {
  testing::TempDir dir;
  connectors::SalesforceConnector sf{client, tokens, options(), captured.log};

  connectors::SalesforceOptions options() {
    connectors::SalesforceOptions o;
    o.instance_url = sf_fake.base_url();
    return o;
  }
  nlohmann::json lead_describe() {
    auto d = run(sf.describe("Lead"));
    INFO(testing::describe(d));
    REQUIRE(d.ok());
    return *d;
  }
  std::string error_for(const std::string& fields_yaml) {
    auto path = dir.write("m.yaml", "name: leads\n"
                                    "crm:\n"
                                    "  connection: salesforce\n"
                                    "  object: Lead\n"
                                    "  link_field: PartnerCenterReferralId__c\n"
                                    "fields:\n" + fields_yaml);
    auto m = mapping::load_mapping(path);
    try {
      mapping::check_against_describe(m, lead_describe());
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
};

}  // namespace

TEST_CASE_METHOD(DescribeFixture, "salesforce_describe: the fake serves describe from its schema") {
  auto d = lead_describe();
  CHECK(d["name"] == "Lead");
  bool status_seen = false;
  for (const auto& f : d["fields"]) {
    if (f["name"] == "Status") {
      status_seen = true;
      CHECK(f["updateable"] == true);
      CHECK(f["type"] == "picklist");
      CHECK(f["picklistValues"].size() == 4);
    }
    if (f["name"] == "SystemModstamp") CHECK(f["updateable"] == false);
  }
  CHECK(status_seen);
  CHECK(sf_fake.server().count("GET", "/services/data/v60.0/sobjects/Lead/describe") == 1);
}

TEST_CASE_METHOD(DescribeFixture, "salesforce_describe: the shipped Leads mapping matches a standard org") {
  auto m = mapping::load_mapping(std::string(COSYNC_SOURCE_DIR) + "/config/examples/mappings/pc-sf-leads.yaml");
  CHECK_NOTHROW(mapping::check_against_describe(m, lead_describe()));
}

TEST_CASE_METHOD(DescribeFixture, "salesforce_describe: mismatches are config errors naming file and line") {
  std::string ok_rule = "  - name: company\n    pc: customerProfile.name\n    crm: Company\n    direction: to_crm\n";
  CHECK(error_for(ok_rule).empty());

  auto unknown = error_for(ok_rule + "  - name: size\n    pc: details.size\n    crm: Employees__c\n    direction: to_crm\n");
  CHECK_THAT(unknown, Catch::Contains(dir.file("m.yaml") + ":11"));
  CHECK_THAT(unknown, Catch::Contains("Employees__c"));

  auto read_only = error_for(ok_rule + "  - name: stamp\n    pc: updatedDateTime\n    crm: SystemModstamp\n"
                                       "    direction: to_crm\n");
  CHECK_THAT(read_only, Catch::Contains(dir.file("m.yaml") + ":11"));
  CHECK_THAT(read_only, Catch::Contains("not updateable"));
  // Read only, but only read: fine.
  CHECK(error_for(ok_rule + "  - name: stamp\n    pc: details.notes\n    crm: SystemModstamp\n    direction: to_pc\n").empty());

  auto picklist = error_for(ok_rule +
                            "  - name: status\n    pc: [status, substatus]\n    crm: Status\n    owner: crm\n"
                            "    values:\n"
                            "      - { pc: [New, Pending], crm: \"Open - Not Contacted\" }\n"
                            "      - { pc: [Active, Accepted], crm: \"Working - Qualified\" }\n");
  CHECK_THAT(picklist, Catch::Contains(dir.file("m.yaml") + ":11"));
  CHECK_THAT(picklist, Catch::Contains("'Working - Qualified' is not an active value of the picklist Lead.Status"));
}
