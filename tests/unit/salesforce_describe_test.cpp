// Metadata validation: the fake serves describe from its schema, the connector turns it into
// CRM-neutral ObjectMetadata, and a mapping that names a field the org lacks, writes a read-only
// field or maps to a value not in the picklist gets a ConfigError naming the mapping file, the
// line and the key; every mismatch is reported, not only the first.
#include <catch2/catch.hpp>

#include "daemon/mapping/metadata_check.hpp"
#include "daemon/util/yaml_reader.hpp"
#include "tests/unit/connector_fixture.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;

namespace {

std::string joined(const std::vector<ConfigError>& errors) {
  std::string text;
  for (const auto& e : errors) text += std::string(e.what()) + "\n";
  return text;
}

struct DescribeFixture : testing::ConnectorFixture {
  testing::TempDir dir;
  connectors::SalesforceConnector sf{client, tokens, options(), captured.log};

  connectors::SalesforceOptions options() {
    connectors::SalesforceOptions o;
    o.instance_url = sf_fake.base_url();
    return o;
  }
  connectors::ObjectMetadata metadata(const std::string& object) {
    auto d = run(sf.describe_object(object));
    INFO(testing::describe(d));
    REQUIRE(d.ok());
    return *d;
  }
  mapping::Mapping load(const std::string& fields_yaml, const std::string& crm_extra = "",
                        const std::string& object = "Lead") {
    auto path = dir.write("m.yaml", "name: leads\n"
                                    "crm:\n"
                                    "  connection: salesforce\n"
                                    "  object: " + object + "\n"
                                    "  link_field: PartnerCenterReferralId__c\n" +
                                        crm_extra + "fields:\n" + fields_yaml);
    return with_defaults(mapping::load_mapping(path));
  }
  // As load_config leaves it: crm.account's names default to the connector's.
  static mapping::Mapping with_defaults(mapping::Mapping m) {
    mapping::apply_parent_defaults(m, *connectors::SalesforceConnector::supported().parent_lookup);
    return m;
  }
  mapping::MetadataCheck check(const std::string& fields_yaml) {
    auto m = load(fields_yaml);
    return mapping::check_against_metadata(m, metadata("Lead"));
  }
  std::string errors_of(const std::string& fields_yaml) { return joined(check(fields_yaml).errors); }
};

const std::string kOkRule = "  - name: company\n    pc: customerProfile.name\n    crm: Company\n    direction: to_crm\n";

}  // namespace

TEST_CASE_METHOD(DescribeFixture, "salesforce_describe: the fake serves describe from its schema") {
  auto d = run(sf.describe("Lead"));
  REQUIRE(d.ok());
  CHECK((*d)["name"] == "Lead");
  bool status_seen = false;
  for (const auto& f : (*d)["fields"]) {
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

TEST_CASE_METHOD(DescribeFixture, "salesforce_describe: describe_object gives updateable, createable and active picklist values") {
  auto schema = fakes::default_lead_schema();
  schema.inactive_picklist_values["Status"] = {"Working - Qualified"};
  sf_fake.define_object("Lead", schema);
  auto meta = metadata("Lead");
  CHECK(meta.object == "Lead");
  CHECK(meta.change_tracking);
  const connectors::FieldMetadata* status = nullptr;
  const connectors::FieldMetadata* stamp = nullptr;
  for (const auto& f : meta.fields) {
    if (f.name == "Status") status = &f;
    if (f.name == "SystemModstamp") stamp = &f;
  }
  REQUIRE(status);
  REQUIRE(stamp);
  CHECK(status->updateable);
  CHECK(status->createable);
  CHECK(status->allowed_values.size() == 4);  // the inactive value is not offered
  CHECK(std::find(status->allowed_values.begin(), status->allowed_values.end(), "Working - Qualified") ==
        status->allowed_values.end());
  CHECK_FALSE(stamp->updateable);
  CHECK_FALSE(stamp->createable);
}

TEST_CASE_METHOD(DescribeFixture, "salesforce_describe: an object the org lacks is not_found") {
  auto d = run(sf.describe_object("Nonexistent__c"));
  REQUIRE_FALSE(d.ok());
  CHECK(d.failure().kind == FailureKind::not_found);
}

TEST_CASE_METHOD(DescribeFixture, "salesforce_describe: the shipped Leads mapping matches a standard org") {
  auto m = mapping::load_mapping(std::string(COSYNC_SOURCE_DIR) + "/config/examples/mappings/pc-sf-leads.yaml");
  auto result = mapping::check_against_metadata(m, metadata("Lead"));
  for (const auto& e : result.errors) FAIL_CHECK(e.what());
  CHECK(result.ok());
  CHECK(result.warnings.empty());
}

TEST_CASE_METHOD(DescribeFixture, "salesforce_describe: mismatches are config errors naming file, line and key") {
  CHECK(errors_of(kOkRule).empty());

  auto unknown = errors_of(kOkRule + "  - name: size\n    pc: customerProfile.size\n    crm: Employees__c\n    direction: to_crm\n");
  CHECK_THAT(unknown, Catch::Contains(dir.file("m.yaml") + ":11: fields[1].crm:"));
  CHECK_THAT(unknown, Catch::Contains("Employees__c"));

  auto read_only = errors_of(kOkRule + "  - name: stamp\n    pc: updatedDateTime\n    crm: SystemModstamp\n"
                                       "    direction: to_crm\n");
  CHECK_THAT(read_only, Catch::Contains(dir.file("m.yaml") + ":11"));
  CHECK_THAT(read_only, Catch::Contains("not updateable"));
  // Read only, but only read: fine.
  CHECK(errors_of(kOkRule + "  - name: stamp\n    pc: details.notes\n    crm: SystemModstamp\n    direction: to_pc\n").empty());

  auto picklist = errors_of(kOkRule +
                            "  - name: status\n    pc: [status, substatus]\n    crm: Status\n    owner: crm\n"
                            "    values:\n"
                            "      - { pc: [New, Pending], crm: \"Open - Not Contacted\" }\n"
                            "      - { pc: [Active, Accepted], crm: \"Working - Qualified\" }\n");
  CHECK_THAT(picklist, Catch::Contains(dir.file("m.yaml") + ":17: fields[1].values[1].crm:"));  // the value's line
  CHECK_THAT(picklist, Catch::Contains("'Working - Qualified' is not an active value of the picklist Lead.Status"));
}

TEST_CASE_METHOD(DescribeFixture, "salesforce_describe: an inactive picklist value is a mismatch") {
  auto schema = fakes::default_lead_schema();
  schema.picklists["Status"].erase("Working - Contacted");
  schema.inactive_picklist_values["Status"] = {"Working - Contacted"};
  sf_fake.define_object("Lead", schema);
  auto m = mapping::load_mapping(std::string(COSYNC_SOURCE_DIR) + "/config/examples/mappings/pc-sf-leads.yaml");
  auto result = mapping::check_against_metadata(m, metadata("Lead"));
  REQUIRE(result.errors.size() == 1);
  CHECK_THAT(result.errors[0].what(), Catch::Contains("'Working - Contacted' is not an active value"));
  CHECK_THAT(result.errors[0].what(), Catch::Contains("pc-sf-leads.yaml:"));
}

TEST_CASE_METHOD(DescribeFixture, "salesforce_describe: creates must be allowed to set what they set, and all mismatches are listed") {
  auto m = load(kOkRule + "  - name: gone\n    pc: details.notes\n    crm: Gone__c\n    direction: to_pc\n");
  m.create_templates["SystemModstamp"] = "{createdDateTime}";
  m.create_lines["SystemModstamp"] = 3;
  m.create_templates["Status"] = "Hot";
  m.create_lines["Status"] = 4;
  auto result = mapping::check_against_metadata(m, metadata("Lead"));
  std::string all = joined(result.errors);
  INFO(all);
  CHECK(result.errors.size() == 3);
  CHECK_THAT(all, Catch::Contains("fields[1].crm: Lead has no field 'Gone__c'"));
  CHECK_THAT(all, Catch::Contains(":3: create.SystemModstamp: Lead.SystemModstamp is not createable"));
  CHECK_THAT(all, Catch::Contains(":4: create.Status: 'Hot' is not an active value of the picklist Lead.Status"));
}

TEST_CASE_METHOD(DescribeFixture, "salesforce_describe: change tracking off is a warning, not an error") {
  auto m = load(kOkRule);
  auto meta = metadata("Lead");
  meta.change_tracking = false;
  auto result = mapping::check_against_metadata(m, meta);
  CHECK(result.ok());
  REQUIRE(result.warnings.size() == 1);
  CHECK_THAT(result.warnings[0], Catch::Contains("change tracking off"));
}

TEST_CASE_METHOD(DescribeFixture, "salesforce_describe: the account lookup is checked on both objects") {
  std::string opp_rule = "  - name: amount\n    pc: details.dealValue\n    crm: Amount\n";
  auto good = load(opp_rule,
                   "  account:\n    match: name\n    from: customerProfile.name\n"
                   "    fields:\n      Name: \"{customerProfile.name}\"\n      BillingCountry: \"{customerProfile.address.country}\"\n",
                   "Opportunity");
  auto account = metadata("Account");
  auto ok = mapping::check_against_metadata(good, metadata("Opportunity"), &account);
  for (const auto& e : ok.errors) FAIL_CHECK(e.what());

  auto bad = load(opp_rule,
                  "  account:\n    match: website\n    from: customerProfile.team.email\n    lookup_field: Account__c\n"
                  "    fields:\n      Name: \"{customerProfile.name}\"\n      Revenue__c: \"{details.dealValue}\"\n",
                  "Opportunity");
  auto result = mapping::check_against_metadata(bad, metadata("Opportunity"), &account);
  std::string all = joined(result.errors);
  INFO(all);
  CHECK(result.errors.size() == 2);
  CHECK_THAT(all, Catch::Contains(":9: crm.account.lookup_field: Opportunity has no field 'Account__c'"));
  CHECK_THAT(all, Catch::Contains(":12: crm.account.fields.Revenue__c: Account has no field 'Revenue__c'"));
}

TEST_CASE_METHOD(DescribeFixture, "salesforce_describe: the shipped Opportunities mapping matches a standard org") {
  auto m = with_defaults(
      mapping::load_mapping(std::string(COSYNC_SOURCE_DIR) + "/config/examples/mappings/pc-sf-opportunities.yaml"));
  auto account = metadata("Account");
  auto result = mapping::check_against_metadata(m, metadata("Opportunity"), &account);
  for (const auto& e : result.errors) FAIL_CHECK(e.what());
  CHECK(result.ok());
}

TEST_CASE_METHOD(DescribeFixture, "salesforce_describe: text lengths reach the mapping, which cuts longer text it sends") {
  auto meta = metadata("Lead");
  auto length_of = [&](const std::string& name) {
    for (const auto& f : meta.fields)
      if (f.name == name) return f.max_length;
    return std::optional<std::size_t>();
  };
  CHECK(length_of("Company") == std::optional<std::size_t>(255));
  CHECK(length_of("LastName") == std::optional<std::size_t>(80));
  CHECK(length_of("Description") == std::optional<std::size_t>(32000));
  CHECK_FALSE(length_of("Status"));          // a picklist
  CHECK_FALSE(length_of("SystemModstamp"));  // length 0: not text

  auto m = load(kOkRule + "  - { name: contact, pc: customerProfile.team.lastName, crm: LastName, direction: to_crm }\n");
  CHECK_FALSE(m.fields[1].crm_max_length);
  REQUIRE(mapping::check_against_metadata(m, meta).ok());
  CHECK(m.fields[0].crm_max_length == std::optional<std::size_t>(255));
  CHECK(m.fields[1].crm_max_length == std::optional<std::size_t>(80));
  auto changes = m.crm_changes(m.fields[1], std::string(100, 'n'));
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].value == std::string(80, 'n'));
}
