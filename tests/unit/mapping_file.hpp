#pragma once
// A mapping file written to a temporary directory and loaded as the daemon loads it, for the
// mapping tests that check what a file means or which ConfigError (file:line: key: message) it gives.
#include <string>

#include "daemon/mapping/mapping.hpp"
#include "daemon/util/yaml_reader.hpp"
#include "tests/unit/test_files.hpp"

namespace cosync::testing {

// The head of a Salesforce Lead mapping (lines 1-5) and one field to end it with.
inline const std::string kHead = "name: leads\ncrm:\n  connection: salesforce\n  object: Lead\n  link_field: Ref__c\n";
inline const std::string kField =
    "fields:\n  - name: company\n    pc: customerProfile.name\n    crm: Company\n    direction: to_crm\n";

struct MappingFile {
  TempDir dir;
  std::string path = dir.file("m.yaml");

  mapping::Mapping load(const std::string& text) {
    dir.write("m.yaml", text);
    return mapping::load_mapping(path);
  }
  // The ConfigError's text, or "" when the file loads.
  std::string error_of(const std::string& text) {
    try {
      load(text);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
};

}  // namespace cosync::testing
