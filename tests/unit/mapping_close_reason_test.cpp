// `close_reason:` of a mapping: the statusReason Partner Center gets when a CRM delete closes the
// referral (on_crm_delete: close). The contract types statusReason as a string.
#include <catch2/catch.hpp>

#include "daemon/mapping/mapping.hpp"
#include "daemon/util/yaml_reader.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;

namespace {

std::string mapping_text(const std::string& delete_lines) {
  return "name: m\n"
         "crm: { connection: sf, object: Lead, link_field: Ref__c }\n" +
         delete_lines +
         "fields:\n"
         "  - name: company\n"
         "    pc: customerProfile.name\n"
         "    crm: Company\n"
         "    direction: to_crm\n";
}

std::string error_of(const std::string& path) {
  try {
    mapping::load_mapping(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("mapping: close_reason defaults to \"Deleted in CRM\" and is read from the mapping") {
  testing::TempDir dir;
  CHECK(mapping::load_mapping(dir.write("default.yaml", mapping_text("on_crm_delete: close\n"))).close_reason ==
        "Deleted in CRM");
  auto m = mapping::load_mapping(
      dir.write("set.yaml", mapping_text("on_crm_delete: close\nclose_reason: \"Lead deleted in Salesforce\"\n")));
  CHECK(m.on_crm_delete == mapping::DeletePolicy::close);
  CHECK(m.close_reason == "Lead deleted in Salesforce");
}

TEST_CASE("mapping: a close_reason that is not one short line of text is refused with file, line and key") {
  testing::TempDir dir;
  auto not_text = dir.write("list.yaml", mapping_text("on_crm_delete: close\nclose_reason: [a, b]\n"));
  CHECK_THAT(error_of(not_text), Catch::StartsWith(not_text + ":4: close_reason: expected a single value"));
  auto empty = dir.write("empty.yaml", mapping_text("on_crm_delete: close\nclose_reason: \"\"\n"));
  CHECK_THAT(error_of(empty), Catch::StartsWith(empty + ":4: close_reason: must not be empty"));
  auto too_long =
      dir.write("long.yaml", mapping_text("on_crm_delete: close\nclose_reason: " + std::string(251, 'x') + "\n"));
  CHECK_THAT(error_of(too_long), Catch::StartsWith(too_long + ":4: close_reason: must be at most 250 bytes, got 251"));
  auto two_lines = dir.write("lines.yaml", mapping_text("on_crm_delete: close\nclose_reason: \"a\\nb\"\n"));
  CHECK_THAT(error_of(two_lines), Catch::StartsWith(two_lines + ":4: close_reason: must be one line"));
  auto unused = dir.write("unused.yaml", mapping_text("on_crm_delete: unlink\nclose_reason: gone\n"));
  CHECK_THAT(error_of(unused),
             Catch::StartsWith(unused + ":4: close_reason: is only used with on_crm_delete: close"));
}
