// A `type: dataverse` connection in the daemon's config, and a mapping naming it.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "daemon/cli/config.hpp"
#include "daemon/util/yaml_reader.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;

namespace {

const char* kMapping = R"(name: dv-leads
crm:
  connection: dynamics
  object: leads
  link_field: cosync_referralid
fields:
  - name: company
    pc: customerProfile.name
    crm: companyname
    direction: to_crm
)";

std::string config_text(const std::string& connection) {
  ::setenv("COSYNC_TEST_DV_SECRET", "s3cret", 1);
  return "state_dir: state\n"
         "partner_center:\n"
         "  base_url: http://127.0.0.1:1\n"
         "  auth:\n"
         "    token_url: http://127.0.0.1:2/token\n"
         "    client_id: pc-client\n"
         "connections:\n"
         "  dynamics:\n"
         "    type: dataverse\n" +
         connection +
         "mappings:\n"
         "  - leads.yaml\n";
}

// A connection signing in through its tenant with the secret file dv_secret.
const char* kTenantConnection =
    "    url: https://contoso.crm.dynamics.com/\n"
    "    auth:\n"
    "      tenant: 11111111-2222-3333-4444-555555555555\n"
    "      client_id: dv-client\n"
    "      client_secret_file: dv_secret\n";

std::string error_of(const std::string& path) {
  try {
    app::load_config(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("dataverse config: a connection with a tenant gets Entra ID's token URL and the org's scope") {
  testing::TempDir dir;
  dir.write("leads.yaml", kMapping);
  dir.write_secret("dv_secret", "s3cret\n");
  auto path = dir.write("cosync.yaml", config_text(kTenantConnection));
  auto c = app::load_config(path);
  REQUIRE(c.dataverse.count("dynamics") == 1);
  const auto& dv = c.dataverse.at("dynamics");
  CHECK(dv.api.url == "https://contoso.crm.dynamics.com");
  CHECK(dv.api.api_version == "9.2");
  CHECK(dv.api.batch_size == 100);
  CHECK(dv.max_concurrency == 4);
  CHECK(dv.auth.token_url ==
        "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token");
  CHECK(dv.auth.scope == "https://contoso.crm.dynamics.com/.default");
  CHECK(dv.auth.client_secret == "s3cret");
  REQUIRE(c.mappings.size() == 1);
  CHECK(c.mappings[0].crm_connection == "dynamics");
  CHECK(c.mappings[0].crm_object == "leads");
}

TEST_CASE("dataverse config: batch size, concurrency and API version are read and bounded") {
  testing::TempDir dir;
  dir.write("leads.yaml", kMapping);
  auto path = dir.write("cosync.yaml", config_text("    url: https://contoso.crm.dynamics.com\n"
                                                   "    api_version: v9.1\n"
                                                   "    batch_size: 250\n"
                                                   "    max_concurrency: 8\n"
                                                   "    auth:\n"
                                                   "      token_url: http://127.0.0.1:2/token\n"
                                                   "      client_id: dv-client\n"
                                                   "      client_secret: ${COSYNC_TEST_DV_SECRET}\n"));
  auto c = app::load_config(path);
  const auto& dv = c.dataverse.at("dynamics");
  CHECK(dv.api.api_version == "9.1");
  CHECK(dv.api.batch_size == 250);
  CHECK(dv.max_concurrency == 8);
  CHECK(dv.auth.token_url == "http://127.0.0.1:2/token");

  auto too_big = dir.write("big.yaml", config_text("    url: https://contoso.crm.dynamics.com\n"
                                                   "    batch_size: 5000\n"
                                                   "    auth:\n"
                                                   "      token_url: http://127.0.0.1:2/token\n"
                                                   "      client_id: dv-client\n"
                                                   "      client_secret: ${COSYNC_TEST_DV_SECRET}\n"));
  CHECK_THAT(error_of(too_big), Catch::Contains("batch_size"));
}

TEST_CASE("dataverse config: neither tenant nor token_url is an error naming the key") {
  testing::TempDir dir;
  dir.write("leads.yaml", kMapping);
  auto path = dir.write("cosync.yaml", config_text("    url: https://contoso.crm.dynamics.com\n"
                                                   "    auth:\n"
                                                   "      client_id: dv-client\n"
                                                   "      client_secret: ${COSYNC_TEST_DV_SECRET}\n"));
  CHECK_THAT(error_of(path), Catch::Contains("tenant"));
}

TEST_CASE("dataverse config: a stale watch that counts activities is refused, naming the progress line") {
  testing::TempDir dir;
  dir.write("leads.yaml", std::string(kMapping) +
                              "  - name: status\n    pc: [status, substatus]\n    crm: statuscode\n    owner: crm\n"
                              "    values:\n      - { pc: [Active, Accepted], crm: 1 }\n"
                              "      - { pc: [Closed, Lost], crm: 5 }\n"
                              "stale:\n  after: 8w\n  reason: No answer\n  progress: activities\n");
  dir.write_secret("dv_secret", "s3cret\n");
  auto path = dir.write("cosync.yaml", config_text(kTenantConnection));
  CHECK_THAT(error_of(path), Catch::Contains("leads.yaml:21: stale.progress: connection 'dynamics' is of type "
                                             "dataverse, whose connector does not count activities yet"));
}
