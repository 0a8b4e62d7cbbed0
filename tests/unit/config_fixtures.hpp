#pragma once
// The smallest daemon config and mapping the config tests start from, and how they read an error.
#include <cstdlib>
#include <string>

#include "daemon/cli/config.hpp"
#include "daemon/util/yaml_reader.hpp"

namespace cosync::testing {

// One Salesforce Lead mapping with one field (line 11: `crm: Company`).
inline const std::string kLeadsMapping = R"(name: leads
crm:
  connection: salesforce
  object: Lead
  link_field: Ref__c
fields:
  - name: company
    pc: customerProfile.name
    crm: Company
    direction: to_crm
)";

// Partner Center + one Salesforce connection + the mappings: `top` goes at line 2 (after
// state_dir), `pc_extra` after partner_center.base_url (line 4), `secret_line` is the Salesforce
// auth's secret (a secret from the environment, never inline, by default).
inline std::string config_text(const std::string& top = "",
                               const std::string& secret_line = "client_secret: ${COSYNC_TEST_SF_SECRET}",
                               const std::string& mappings = "  - leads.yaml\n", const std::string& pc_extra = "") {
  ::setenv("COSYNC_TEST_SF_SECRET", "s3cret", 1);
  return "state_dir: state\n" + top +
         "partner_center:\n"
         "  base_url: http://127.0.0.1:1\n" +
         pc_extra +
         "  auth:\n"
         "    token_url: http://127.0.0.1:2/token\n"
         "    client_id: pc-client\n"
         "connections:\n"
         "  salesforce:\n"
         "    type: salesforce\n"
         "    instance_url: http://127.0.0.1:3\n"
         "    auth:\n"
         "      token_url: http://127.0.0.1:2/token\n"
         "      client_id: sf-client\n"
         "      " + secret_line + "\n"
         "mappings:\n" + mappings;
}

// The ConfigError that loading `path` gives (file:line: key: message), or "" when it loads.
inline std::string config_error_of(const std::string& path) {
  try {
    app::load_config(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace cosync::testing
