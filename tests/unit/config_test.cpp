#include <catch2/catch.hpp>
#include <cstdlib>

#include "daemon/cli/config.hpp"
#include "daemon/util/yaml_reader.hpp"
#include "tests/unit/config_fixtures.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;

namespace {

using testing::config_text;
const std::string& kMapping = testing::kLeadsMapping;

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  return text.replace(text.find(from), from.size(), to);
}

std::string error_of(const std::string& path) { return testing::config_error_of(path); }

}  // namespace

TEST_CASE("config: a valid file loads with its mapping, paths relative to the file") {
  testing::TempDir dir;
  dir.write("leads.yaml", kMapping);
  auto config = app::load_config(dir.write("cosync.yaml", config_text("poll_interval: 2m\n")));
  CHECK(config.poll_interval == std::chrono::minutes(2));
  CHECK(config.state_dir == dir.file("state"));
  CHECK(config.partner_center.auth.refresh_token_file == dir.file("state") + "/pc_refresh_token");
  REQUIRE(config.mappings.size() == 1);
  CHECK(config.mappings[0].name == "leads");
  CHECK(config.salesforce.at("salesforce").auth.client_secret == "s3cret");
}

TEST_CASE("config: relative paths resolve against the config file's directory, not the working directory") {
  testing::TempDir dir;
  dir.write("etc/leads.yaml", kMapping);
  dir.write("etc/cosync.yaml", config_text());
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  auto config = app::load_config("etc/cosync.yaml");
  std::filesystem::current_path(cwd);
  CHECK(config.state_dir == dir.file("etc/state"));
  CHECK(config.partner_center.auth.refresh_token_file == dir.file("etc/state/pc_refresh_token"));
}

TEST_CASE("config: an unknown key is rejected with file, line and key") {
  testing::TempDir dir;
  dir.write("leads.yaml", kMapping);
  auto path = dir.write("cosync.yaml", config_text("pol_interval: 10s\n"));
  auto message = error_of(path);
  CHECK_THAT(message, Catch::StartsWith(path + ":2: pol_interval: unknown key"));
}

TEST_CASE("config: a nested unknown key names its full path") {
  testing::TempDir dir;
  dir.write("leads.yaml", kMapping);
  auto path = dir.write("cosync.yaml", config_text("log:\n  level: info\n  colour: yes\n"));
  CHECK_THAT(error_of(path), Catch::StartsWith(path + ":4: log.colour: unknown key"));
}

TEST_CASE("config: missing keys and wrong types are named") {
  testing::TempDir dir;
  dir.write("leads.yaml", kMapping);
  auto no_secret = dir.write("a.yaml", config_text("", "max_token_age: 1h"));
  CHECK_THAT(error_of(no_secret), Catch::Contains("connections.salesforce.auth.client_secret: missing key"));
  auto bad_duration = dir.write("b.yaml", config_text("poll_interval: soon\n"));
  CHECK_THAT(error_of(bad_duration), Catch::StartsWith(bad_duration + ":2: poll_interval: expected a duration"));
  auto bad_level = dir.write("c.yaml", config_text("log: { level: loud }\n"));
  CHECK_THAT(error_of(bad_level), Catch::Contains("log.level: expected trace"));
}

TEST_CASE("config: secrets come from ${ENV} or a *_file, and an unset variable is an error") {
  testing::TempDir dir;
  dir.write("leads.yaml", kMapping);
  ::setenv("COSYNC_TEST_SECRET", "from-env", 1);
  auto from_env = app::load_config(dir.write("a.yaml", config_text("", "client_secret: ${COSYNC_TEST_SECRET}")));
  CHECK(from_env.salesforce.at("salesforce").auth.client_secret == "from-env");

  dir.write_secret("secret.txt", "from-file\n");
  auto from_file = app::load_config(dir.write("b.yaml", config_text("", "client_secret_file: " + dir.file("secret.txt"))));
  CHECK(from_file.salesforce.at("salesforce").auth.client_secret == "from-file");

  auto unset = dir.write("c.yaml", config_text("", "client_secret: ${COSYNC_TEST_UNSET_VARIABLE}"));
  auto message = error_of(unset);
  CHECK_THAT(message, Catch::Contains("COSYNC_TEST_UNSET_VARIABLE is not set"));
}

TEST_CASE("config: errors in a mapping file name the mapping file") {
  testing::TempDir dir;
  auto mapping = dir.write("leads.yaml", std::string(kMapping) + "    owner: everyone\n");
  CHECK_THAT(error_of(dir.write("cosync.yaml", config_text())),
             Catch::StartsWith(mapping + ":11: fields[0].owner: expected pc, crm or newest"));

  dir.write("leads.yaml", std::string(kMapping) + "    colour: red\n");
  CHECK_THAT(error_of(dir.write("cosync.yaml", config_text())), Catch::Contains(":11: fields[0].colour: unknown key"));

  auto wrong_connection = dir.write("leads.yaml", replaced(kMapping, "connection: salesforce", "connection: dynamics"));
  CHECK_THAT(error_of(dir.write("cosync.yaml", config_text())),
             Catch::StartsWith(wrong_connection + ":3: crm.connection: no connection named 'dynamics'"));
}

TEST_CASE("mapping: writes to a path Partner Center does not accept are refused") {
  testing::TempDir dir;
  auto path = dir.write("m.yaml", R"(name: m
crm: { connection: sf, object: Lead, link_field: Ref__c }
fields:
  - name: company
    pc: customerProfile.name
    crm: Company
)");
  try {
    mapping::load_mapping(path);
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("Partner Center does not accept writes to customerProfile.name"));
  }
}

TEST_CASE("mapping: a value map needs one value per pc path") {
  testing::TempDir dir;
  auto path = dir.write("m.yaml", R"(name: m
crm: { connection: sf, object: Lead, link_field: Ref__c }
fields:
  - name: status
    pc: [status, substatus]
    crm: Status
    values:
      - { pc: New, crm: Open }
)");
  try {
    mapping::load_mapping(path);
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::StartsWith(path + ":8: fields[0].values[0].pc: expected 2 value(s)"));
  }
}

TEST_CASE("mapping: templates, selection and create fields") {
  testing::TempDir dir;
  auto m = mapping::load_mapping(dir.write("m.yaml", R"(name: m
crm: { connection: sf, object: Lead, link_field: Ref__c }
select: { type: Independent, status: [New, Active] }
create: { LastName: "[MSFT] {customerProfile.name}" }
fields:
  - { name: company, pc: customerProfile.name, crm: Company, direction: to_crm }
)"));
  nlohmann::json referral = {{"type", "Independent"}, {"status", "New"}, {"customerProfile", {{"name", "Contoso"}}}};
  CHECK(m.selects(referral, std::chrono::system_clock::now()));
  referral["status"] = "Closed";
  CHECK_FALSE(m.selects(referral, std::chrono::system_clock::now()));
  auto fields = m.crm_fields_for_create(referral);
  REQUIRE(fields.size() == 2);
  CHECK(fields[0].path == "Company");
  CHECK(fields[1].path == "LastName");
  CHECK(fields[1].value == "[MSFT] Contoso");
}

TEST_CASE("mapping: a template can keep the date of a timestamp") {
  nlohmann::json referral = {{"details", {{"closingDateTime", "2026-12-31T00:00:00Z"}}}};
  CHECK(mapping::render_template("{details.closingDateTime|date}", referral) == "2026-12-31");
  CHECK(mapping::render_template("{details.closingDateTime}", referral) == "2026-12-31T00:00:00Z");
}

TEST_CASE("config: query_batch_size is Salesforce's 200 to 2000") {
  testing::TempDir dir;
  dir.write("leads.yaml", kMapping);
  auto with = [&](const std::string& value) {
    return dir.write("c.yaml", replaced(config_text(), "    type: salesforce\n",
                                        "    type: salesforce\n    query_batch_size: " + value + "\n"));
  };
  CHECK(app::load_config(with("500")).salesforce.at("salesforce").api.query_batch_size == 500);
  CHECK(app::load_config(dir.write("d.yaml", config_text())).salesforce.at("salesforce").api.query_batch_size == 2000);
  CHECK_THAT(error_of(with("100")), Catch::Contains("c.yaml:10: connections.salesforce.query_batch_size"));
  CHECK_THAT(error_of(with("5000")), Catch::Contains("query_batch_size"));
}

TEST_CASE("config: http.max_body_mib raises the response body cap, within 1 to 256 MiB") {
  testing::TempDir dir;
  dir.write("leads.yaml", kMapping);
  CHECK(app::load_config(dir.write("d.yaml", config_text())).http.max_body_bytes == 16u << 20);
  CHECK(app::load_config(dir.write("c.yaml", config_text("http:\n  max_body_mib: 64\n"))).http.max_body_bytes == 64u << 20);
  CHECK_THAT(error_of(dir.write("e.yaml", config_text("http:\n  max_body_mib: 0\n"))),
             Catch::Contains("e.yaml:3: http.max_body_mib"));
  CHECK_THAT(error_of(dir.write("f.yaml", config_text("http:\n  max_body_mib: 100000\n"))),
             Catch::Contains("f.yaml:3: http.max_body_mib"));
}

TEST_CASE("mapping: crm.account becomes the parent lookup of the CRM spec and of each create") {
  testing::TempDir dir;
  auto m = mapping::load_mapping(dir.write("m.yaml", R"(name: m
crm:
  connection: sf
  object: Opportunity
  link_field: Ref__c
  account:
    match: website
    from: customerProfile.team.email
    fields:
      Name: "{customerProfile.name}"
      BillingCountry: "{customerProfile.address.country}"
fields:
  - { name: amount, pc: details.dealValue, crm: Amount }
)"));
  REQUIRE(m.account);
  auto spec = m.crm_spec();
  REQUIRE(spec.parent);
  CHECK(spec.parent->field.empty());  // the connector's default unless the file names one
  CHECK(spec.parent->object.empty());
  CHECK(spec.parent->match_domain);
  nlohmann::json referral = {
      {"customerProfile",
       {{"name", "Contoso"},
        {"address", {{"country", "US"}}},
        {"team", {{{"firstName", "A"}}, {{"email", "jane@contoso.com"}}}}}},
      {"details", {{"dealValue", 5}}}};
  auto request = m.crm_create_request(referral);
  REQUIRE(request.parent);
  CHECK(request.parent->value == "jane@contoso.com");  // the first team member with an e-mail
  REQUIRE(request.parent->create);
  REQUIRE(request.parent->create->size() == 2);
  CHECK(request.parent->create->at(0).path == "BillingCountry");
  CHECK(request.parent->create->at(0).value == "US");
  CHECK(request.parent->create->at(1).path == "Name");
  CHECK(request.parent->create->at(1).value == "Contoso");
  for (const auto& f : request.fields) CHECK(f.path == "Amount");  // no pseudo field for the lookup
}

TEST_CASE("mapping: crm.account mistakes are named") {
  testing::TempDir dir;
  auto error_in = [&](const std::string& account) {
    try {
      mapping::load_mapping(dir.write("m.yaml", "name: m\ncrm:\n  connection: sf\n  object: Opportunity\n"
                                                "  link_field: Ref__c\n  account:\n" + account +
                                                "fields:\n  - { name: amount, pc: details.dealValue, crm: Amount }\n"));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK_THAT(error_in("    match: domain\n    from: customerProfile.name\n"),
             Catch::Contains("m.yaml:7: crm.account.match: expected name or website"));
  CHECK_THAT(error_in("    match: name\n"), Catch::Contains("crm.account.from"));
  CHECK_THAT(error_in("    match: name\n    from: customerProfile.name\n    create: false\n    fields: { Name: x }\n"),
             Catch::Contains("need create: true"));
  CHECK(error_in("    match: name\n    from: customerProfile.name\n    create: false\n").empty());
}

TEST_CASE("config: crm.account on a Dataverse connection takes the Dataverse account names") {
  testing::TempDir dir;
  dir.write("leads.yaml", std::string(kMapping).replace(std::string(kMapping).find("  object: Lead\n"), 15,
                                                         "  object: Lead\n  account: { match: name, from: customerProfile.name }\n"));
  auto text = replaced(config_text(), "    type: salesforce\n    instance_url: http://127.0.0.1:3\n",
                       "    type: dataverse\n    url: https://org.crm.dynamics.com\n");
  text = replaced(text, "      token_url: http://127.0.0.1:2/token\n      client_id: sf-client",
                  "      token_url: http://127.0.0.1:2/token\n      client_id: dv-client");
  auto config = app::load_config(dir.write("c.yaml", text));
  REQUIRE(config.mappings.size() == 1);
  REQUIRE(config.mappings[0].account);
  CHECK(config.mappings[0].account->lookup_field == "parentaccountid");
  CHECK(config.mappings[0].account->object == "accounts");
  CHECK(config.mappings[0].account->match_field() == "name");
}
