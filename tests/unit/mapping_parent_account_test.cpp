// crm.account as a typed part of a create request (connectors::ParentMatch), the Salesforce
// defaults coming from the connector's capabilities at config load, and what that refuses.
#include <catch2/catch.hpp>

#include "daemon/cli/config.hpp"
#include "tests/unit/config_fixtures.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

// An Opportunity mapping with crm.account (`account` is the block's body, at line 7) and the
// lines `extra` after `fields:` (line 8 onwards: `extra` first, then the Amount field).
std::string opportunities(const std::string& account, const std::string& top = "", const std::string& extra = "") {
  return "name: opps\n"
         "crm:\n"
         "  connection: salesforce\n"
         "  object: Opportunity\n"
         "  link_field: Ref__c\n"
         "  account:\n" +
         account + top + "fields:\n" + extra + "  - { name: amount, pc: details.dealValue, crm: Amount }\n";
}
const std::string kByName = "    match: name\n    from: customerProfile.name\n";

const json kReferral = {{"id", "ref-1"},
                        {"customerProfile", {{"name", "Contoso"}, {"address", {{"country", "US"}}}}},
                        {"details", {{"dealValue", 5}}}};

// The mapping as load_config leaves it: the connector's defaults filled in.
mapping::Mapping loaded(testing::TempDir& dir, const std::string& mapping_text) {
  dir.write("opps.yaml", mapping_text);
  auto c = app::load_config(dir.write("c.yaml", testing::config_text("", "client_secret: ${COSYNC_TEST_SF_SECRET}",
                                                                     "  - opps.yaml\n")));
  REQUIRE(c.mappings.size() == 1);
  return c.mappings[0];
}

std::string load_error(testing::TempDir& dir, const std::string& mapping_text) {
  dir.write("opps.yaml", mapping_text);
  return testing::config_error_of(
      dir.write("c.yaml", testing::config_text("", "client_secret: ${COSYNC_TEST_SF_SECRET}", "  - opps.yaml\n")));
}

}  // namespace

TEST_CASE("mapping_parent_account: a create request carries its fields, the referral id and the parent to find") {
  testing::TempDir dir;
  auto m = mapping::load_mapping(
      dir.write("m.yaml", opportunities(kByName + "    fields: { BillingCountry: \"{customerProfile.address.country}\" }\n",
                                        "create: { Name: \"[MSFT] {customerProfile.name}\" }\n")));
  auto request = m.crm_create_request(kReferral);
  CHECK(request.external_id == "ref-1");
  REQUIRE(request.fields.size() == 2);
  CHECK(request.fields[0].path == "Amount");
  CHECK(request.fields[1].path == "Name");
  CHECK(request.fields[1].value == "[MSFT] Contoso");
  REQUIRE(request.parent);
  CHECK(request.parent->value == "Contoso");
  REQUIRE(request.parent->create);
  REQUIRE(request.parent->create->size() == 1);
  CHECK(request.parent->create->front().path == "BillingCountry");
  CHECK(request.parent->create->front().value == "US");
  // The plain fields are the request's fields: nothing stands in for the lookup any more.
  CHECK(m.crm_fields_for_create(kReferral).size() == request.fields.size());

  SECTION("create: false lets no parent be created") {
    auto strict = mapping::load_mapping(dir.write("s.yaml", opportunities(kByName + "    create: false\n")));
    auto r = strict.crm_create_request(kReferral);
    REQUIRE(r.parent);
    CHECK_FALSE(r.parent->create);
  }
  SECTION("a referral without the match value asks for an empty one, which the connector rejects") {
    auto r = m.crm_create_request(json{{"id", "ref-2"}, {"details", {{"dealValue", 5}}}});
    REQUIRE(r.parent);
    CHECK(r.parent->value.empty());
  }
  SECTION("without crm.account a create has no parent") {
    auto plain = mapping::load_mapping(dir.write("p.yaml", testing::kLeadsMapping));
    CHECK_FALSE(plain.crm_create_request(kReferral).parent);
  }
}

TEST_CASE("mapping_parent_account: load_config fills the Salesforce connector's defaults") {
  testing::TempDir dir;
  auto m = loaded(dir, opportunities(kByName));
  REQUIRE(m.account);
  CHECK(m.account->lookup_field == "AccountId");
  CHECK(m.account->object == "Account");
  CHECK(m.account->match_field() == "Name");
  auto spec = m.crm_spec();
  REQUIRE(spec.parent);
  CHECK(spec.parent->field == "AccountId");
  CHECK(spec.parent->object == "Account");
  CHECK(spec.parent->match_field == "Name");
  CHECK_FALSE(spec.parent->match_domain);

  SECTION("plan lists the lookup as one readable line") {
    auto preview = m.crm_create_preview(m.crm_create_request(kReferral));
    REQUIRE(preview.size() == 2);
    CHECK(preview[1].path == "AccountId");
    CHECK(preview[1].value == "match Name = 'Contoso' (create if none)");
    auto by_site = loaded(dir, opportunities("    match: website\n    from: customerProfile.name\n    create: false\n"));
    CHECK(by_site.crm_create_preview(by_site.crm_create_request(kReferral))[1].value == "match Website domain of 'Contoso' (must exist)");
  }
  SECTION("the file's lookup_field and object override them") {
    auto custom = loaded(dir, opportunities(kByName + "    lookup_field: Customer__c\n    object: Customer__c\n"));
    CHECK(custom.crm_spec().parent->field == "Customer__c");
    CHECK(custom.crm_spec().parent->object == "Customer__c");
    CHECK(custom.crm_spec().parent->match_field == "Name");
  }
  SECTION("the shipped Opportunities mapping looks up Account by Name") {
    auto shipped = mapping::load_mapping(std::string(COSYNC_SOURCE_DIR) +
                                         "/config/examples/mappings/pc-sf-opportunities.yaml");
    mapping::apply_parent_defaults(shipped, *connectors::SalesforceConnector::supported().parent_lookup);
    auto parent = shipped.crm_spec().parent;
    REQUIRE(parent);
    CHECK(parent->field == "AccountId");
    CHECK(parent->object == "Account");
    CHECK(parent->match_field == "Name");
  }
}

TEST_CASE("mapping_parent_account: what also writes the default lookup field is refused, naming file, line and key") {
  testing::TempDir dir;
  CHECK_THAT(load_error(dir, opportunities(kByName, "create: { AccountId: x }\n")),
             Catch::Contains("opps.yaml:9: create.AccountId: crm.account sets AccountId on a create"));
  CHECK_THAT(load_error(dir, opportunities(kByName, "", "  - { name: acc, pc: customerProfile.name, crm: AccountId, direction: to_crm }\n")),
             Catch::Contains("opps.yaml:10: fields[0].crm: the account lookup field AccountId (crm.account) cannot also be a mapped field"));
  CHECK_THAT(load_error(dir, opportunities(kByName + "    lookup_field: Customer__c\n", "",
                                            "  - { name: c, pc: customerProfile.name, crm: Customer__c, direction: to_crm }\n")),
             Catch::Contains("opps.yaml:11: fields[0].crm: the account lookup field Customer__c "
                             "(crm.account.lookup_field) cannot also be a mapped field"));
  // With an override the default is free to be mapped.
  CHECK(load_error(dir, opportunities(kByName + "    lookup_field: Customer__c\n", "",
                                      "  - { name: acc, pc: customerProfile.name, crm: AccountId, direction: to_crm }\n"))
            .empty());
}

TEST_CASE("mapping_parent_account: capabilities say which connectors look up parents") {
  CHECK(connectors::SalesforceConnector::supported().parent_lookup);
  CHECK(connectors::SalesforceConnector::supported().describe_metadata);
  REQUIRE(connectors::DataverseConnector::supported().parent_lookup);  // parentaccountid -> accounts (issue 12)
  CHECK(connectors::DataverseConnector::supported().parent_lookup->field == "parentaccountid");
  CHECK(connectors::DataverseConnector::supported().describe_metadata);
}
