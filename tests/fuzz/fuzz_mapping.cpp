// A mapping file (load_mapping). A refused mapping is a ConfigError by design; anything else
// escaping the loader is a finding. An accepted mapping is then used on a referral as the fake
// Partner Center serves it (select, create fields, canonical values and writes both ways), so
// that what the loader lets through cannot crash a sync either.
#include "daemon/mapping/mapping.hpp"
#include "daemon/util/yaml_reader.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace cosync;

const nlohmann::json& referral() {
  static const nlohmann::json r = nlohmann::json::parse(R"({
    "id": "96307ce5-f98d-ebb9-945d-4c9e8e2a31c7", "eTag": "\"81551270-0000-0800-0000-8249e7e5d21c\"",
    "name": "Contoso", "type": "Independent", "direction": "Incoming", "qualification": "SalesQualified",
    "status": "New", "substatus": "Pending", "createdDateTime": "2026-12-07T07:10:20.928Z",
    "updatedDateTime": "2026-12-07T07:10:20.928Z", "expirationDateTime": "2026-12-21T07:10:20.928Z",
    "customerProfile": {"name": "Contoso", "size": "1to50employees", "address": {"country": "US"},
                        "team": [{"firstName": "Jane", "lastName": "Doe", "email": "jane@contoso.com"}]},
    "details": {"currency": "USD", "dealValue": 120000.0, "notes": "Migrating 300 VMs to Azure.",
                "requirements": {"solutions": []}},
    "consent": {"consentToShareReferralWithMicrosoftSellers": false}, "team": [],
    "_kind": "marketplace_lead", "_direction": "incoming"})");
  return r;
}

void use(const mapping::Mapping& m) {
  (void)m.selects(referral(), std::chrono::system_clock::now());
  (void)m.pc_spec();
  (void)m.crm_spec();
  (void)m.crm_fields_for_create(referral());
  for (const auto& field : m.fields) {
    if (auto canonical = m.canonical_from_pc(field, referral())) {
      (void)m.crm_changes(field, *canonical);
      (void)m.pc_changes(field, *canonical);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto file = (fuzz::scratch_dir() / "mapping.yaml").string();
  fuzz::write_file(file, fuzz::text_of(data, size));
  try {
    use(mapping::load_mapping(file));
  } catch (const ConfigError& e) {
    FUZZ_REQUIRE(*e.what() != '\0');
  }
  return 0;
}
