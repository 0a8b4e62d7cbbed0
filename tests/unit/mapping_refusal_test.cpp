// Mapping files that used to load and then misbehaved (issue 17, item 10): ambiguous value maps,
// template and selector paths no referral has, and CRM names that would be pasted into SOQL or
// OData URLs. Each is a ConfigError naming the mapping file, the line and the key.
#include <catch2/catch.hpp>

#include "daemon/mapping/mapping.hpp"
#include "tests/unit/mapping_file.hpp"

using namespace cosync;
using testing::kField;
using testing::kHead;
using testing::MappingFile;

namespace {

std::string status_rule(const std::string& direction, const std::string& values) {
  return "  - name: status\n    pc: [status, substatus]\n    crm: Status\n    direction: " + direction +
         "\n    values:\n" + values;
}

}  // namespace

TEST_CASE("mapping refusal: a value map that is ambiguous in a direction the field flows is refused") {
  MappingFile m;
  const std::string twice_crm = "      - { pc: [New, Pending], crm: Open }\n"
                                "      - { pc: [New, Received], crm: Open }\n";
  // Read back from the CRM, "Open" could be either pair: the referral's substatus would be overwritten.
  CHECK_THAT(m.error_of(kHead + kField + status_rule("both", twice_crm)),
             Catch::StartsWith(m.path + ":17: fields[1].values[1].crm: \"Open\" is mapped twice (also in values[0])"));
  CHECK_THAT(m.error_of(kHead + kField + status_rule("to_pc", twice_crm)), Catch::Contains("values[1].crm"));
  CHECK(m.error_of(kHead + kField + status_rule("to_crm", twice_crm)).empty());  // many to one is fine one way

  const std::string twice_pc = "      - { pc: [New, Pending], crm: Open }\n"
                               "      - { pc: [New, Pending], crm: Working }\n";
  CHECK_THAT(m.error_of(kHead + kField + status_rule("both", twice_pc)),
             Catch::StartsWith(m.path + ":17: fields[1].values[1].pc: [\"New\",\"Pending\"] is mapped twice"));
  CHECK_THAT(m.error_of(kHead + kField + status_rule("to_crm", twice_pc)), Catch::Contains("values[1].pc"));
  CHECK(m.error_of(kHead + kField + status_rule("to_pc", twice_pc)).empty());
}

TEST_CASE("mapping refusal: every value-map entry keeps its own line") {
  MappingFile m;
  m.error_of(kHead + kField + status_rule("both", "      - { pc: [New, Pending], crm: Open }\n"
                                                  "      - pc: [Active, Accepted]\n"
                                                  "        crm: Working\n"));
  auto loaded = mapping::load_mapping(m.path);
  REQUIRE(loaded.fields.size() == 2);
  REQUIRE(loaded.fields[1].values.size() == 2);
  CHECK(loaded.fields[1].line == 11);
  CHECK(loaded.fields[1].values[0].line == 16);
  CHECK(loaded.fields[1].values[1].line == 18);  // its crm:
}

TEST_CASE("mapping refusal: templates must close every { and name referral paths") {
  MappingFile m;
  CHECK_THAT(m.error_of(kHead + "create:\n  LastName: \"[MSFT] {customerProfile.name\"\n" + kField),
             Catch::StartsWith(m.path + ":7: create.LastName: unclosed '{' at position 8"));
  CHECK_THAT(m.error_of(kHead + "create:\n  LastName: \"{customerProfile.nmae}\"\n" + kField),
             Catch::StartsWith(m.path + ":7: create.LastName: {customerProfile.nmae} is not a field of a Partner Center referral"));
  CHECK_THAT(m.error_of(kHead + "create:\n  CloseDate: \"{details.closingDate|date}\"\n" + kField),
             Catch::Contains("{details.closingDate} is not a field"));
  CHECK(m.error_of(kHead + "create:\n  LastName: \"[MSFT] {customerProfile.name}\"\n"
                   "  CloseDate: \"{details.closingDateTime|date}\"\n  LeadSource: Partner Center\n" + kField)
            .empty());
  std::string account = "name: opps\ncrm:\n  connection: salesforce\n  object: Opportunity\n  link_field: Ref__c\n"
                        "  account:\n    match: name\n    from: customerProfile.name\n    fields:\n"
                        "      Name: \"{customerProfile.name\"\n" + kField;
  CHECK_THAT(m.error_of(account), Catch::StartsWith(m.path + ":10: crm.account.fields.Name: unclosed '{'"));
}

TEST_CASE("mapping refusal: select, pc and account paths must be fields of a referral") {
  MappingFile m;
  CHECK_THAT(m.error_of(kHead + "select:\n  stauts: [New]\n" + kField),
             Catch::StartsWith(m.path + ":7: select.stauts: 'stauts' is not a field of a Partner Center referral"));
  CHECK(m.error_of(kHead + "select:\n  status: [New]\n  customerProfile.address.country: US\n" + kField).empty());
  CHECK_THAT(m.error_of(kHead + "fields:\n  - name: company\n    pc: customerProfile.nam\n    crm: Company\n    direction: to_crm\n"),
             Catch::StartsWith(m.path + ":8: fields[0].pc: 'customerProfile.nam' is not a field"));
  std::string account = "name: opps\ncrm:\n  connection: salesforce\n  object: Opportunity\n  link_field: Ref__c\n"
                        "  account:\n    match: name\n    from: customer.name\n" + kField;
  CHECK_THAT(m.error_of(account), Catch::StartsWith(m.path + ":8: crm.account.from: 'customer.name' is not a field"));
}

TEST_CASE("mapping refusal: CRM object and field names must be identifiers (they reach SOQL and OData URLs)") {
  MappingFile m;
  CHECK_THAT(m.error_of("name: leads\ncrm:\n  connection: salesforce\n  object: Lead WHERE Id != null\n  link_field: Ref__c\n" + kField),
             Catch::StartsWith(m.path + ":4: crm.object: 'Lead WHERE Id != null' is not a CRM object or field name"));
  CHECK_THAT(m.error_of("name: leads\ncrm:\n  connection: salesforce\n  object: Lead\n  link_field: Ref__c,Name\n" + kField),
             Catch::StartsWith(m.path + ":5: crm.link_field: 'Ref__c,Name' is not"));
  CHECK_THAT(m.error_of(kHead + "fields:\n  - name: company\n    pc: customerProfile.name\n    crm: Company)/x\n    direction: to_crm\n"),
             Catch::StartsWith(m.path + ":9: fields[0].crm: 'Company)/x' is not"));
  CHECK_THAT(m.error_of(kHead + "create:\n  \"Last Name\": x\n" + kField), Catch::StartsWith(m.path + ":7: create.Last Name: 'Last Name' is not a CRM field name"));
  std::string account = "name: opps\ncrm:\n  connection: salesforce\n  object: Opportunity\n  link_field: Ref__c\n"
                        "  account:\n    match: name\n    from: customerProfile.name\n    object: Account'\n" + kField;
  CHECK_THAT(m.error_of(account), Catch::StartsWith(m.path + ":9: crm.account.object: 'Account'' is not"));
  CHECK(m.error_of("name: leads\ncrm:\n  connection: dynamics\n  object: leads\n  link_field: cosync_referralid\n" + kField).empty());
}
