// The `registration:` block of an opportunity mapping: which won deals are registered, the body
// sent as `add /registrations/-` (Partner Center's DealRegistration contract), the replaces of a
// registration still in review, and the CRM fields that receive its status.
#include <catch2/catch.hpp>

#include "daemon/mapping/mapping.hpp"
#include "daemon/mapping/registration_rule.hpp"
#include "tests/unit/mapping_file.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

const std::string kRegOppHead = R"(name: opps
crm: { connection: sf, object: Opportunity, link_field: PartnerCenterReferralId__c }
fields:
  - name: deal_value
    pc: details.dealValue
    crm: Amount
    transform: number
)";

// Starts at line 7.
const std::string kRegBlock = R"(registration:
  when: { crm.Registration_Eligible__c: true }
  register_within: 21d
  warn_before: [1d, 14d, 7d]
  body:
    contract.value: Amount
    contract.currency: CurrencyIsoCode
    contract.startDateTime: Contract_Start__c
    contract.signDateTime: CloseDate
    contract.term: { value: Finite }
    solutionDetails.id: { field: Offering__c, values: { "Contoso Analytics": SOL-1 } }
    solutionDetails.value: Amount
    solutionDetails.isDeployedOnAzure: Deployed_On_Azure__c
    solutionDetails.pricingModel: { field: Pricing__c, values: { PAYG: PayAsYouGo, Other: Other } }
  status:
    registrationStatus: { crm: Registration_Status__c, values: { Approved: Registered } }
    status: Registration_Review__c
    statusReason: Registration_Reason__c
    statusHistory.approvedDateTime: Registration_Approved__c
)";

json eligible_opportunity() {
  return {{"Id", "006A"},         {"Registration_Eligible__c", true}, {"Amount", 120000},
          {"CurrencyIsoCode", "USD"}, {"Contract_Start__c", "2026-12-01"}, {"CloseDate", "2026-11-20"},
          {"Offering__c", "Contoso Analytics"}, {"Deployed_On_Azure__c", true}, {"Pricing__c", "PAYG"}};
}

}  // namespace

TEST_CASE("registration: the body is typed as the contract wants and only eligible deals are selected") {
  testing::MappingFile file;
  auto m = file.load(kRegOppHead + kRegBlock);
  REQUIRE(m.registration);
  const auto& r = *m.registration;
  CHECK(r.register_within == std::chrono::hours(21 * 24));
  REQUIRE(r.warn_before.size() == 3);
  CHECK(r.warn_before[0] == std::chrono::hours(14 * 24));  // longest first
  CHECK(r.warn_before[2] == std::chrono::hours(24));
  auto crm = eligible_opportunity();
  CHECK(r.selects(crm, {}));
  json body = r.registration(crm);
  CHECK(body == json::parse(R"({"type": "AzureIPCoSell",
    "contract": {"value": 120000, "currency": "USD", "startDateTime": "2026-12-01T00:00:00Z",
                 "signDateTime": "2026-11-20T00:00:00Z", "term": "Finite"},
    "solutionDetails": [{"id": "SOL-1", "value": 120000, "isDeployedOnAzure": true, "pricingModel": "PayAsYouGo"}]})"));
  crm["Registration_Eligible__c"] = false;
  CHECK_FALSE(r.selects(crm, {}));
  // Pulled with the opportunity: what `when` and the body read.
  auto spec = m.crm_spec();
  for (const char* f : {"Registration_Eligible__c", "Contract_Start__c", "Offering__c", "Pricing__c"})
    CHECK(std::find(spec.fields.begin(), spec.fields.end(), f) != spec.fields.end());
}

TEST_CASE("registration: defaults are 30 days and no warnings, values without a mapping are left out") {
  testing::MappingFile file;
  auto m = file.load(kRegOppHead + "registration:\n  body:\n    contract.value: Amount\n"
                     "    solutionDetails.id: { field: Offering__c, values: { A: SOL-A } }\n");
  REQUIRE(m.registration);
  CHECK(m.registration->register_within == std::chrono::hours(30 * 24));
  CHECK(m.registration->warn_before.empty());
  CHECK(m.registration->when.always_true());
  json body = m.registration->registration({{"Amount", "not a number"}, {"Offering__c", "B"}});
  CHECK(body == json{{"type", "AzureIPCoSell"}});
}

TEST_CASE("registration: changes are the replaceable paths whose CRM value differs from the registration") {
  testing::MappingFile file;
  auto m = file.load(kRegOppHead + kRegBlock);
  const auto& r = *m.registration;
  auto crm = eligible_opportunity();
  json current = r.registration(crm);
  current["status"] = "ReviewPending";
  current["contract"]["value"] = 120000.0;  // the same value, read back as a float
  CHECK(r.changes(crm, current).empty());
  crm["Amount"] = 150000;
  crm["CurrencyIsoCode"] = "EUR";  // the contract currency takes no replace
  auto changes = r.changes(crm, current);
  CHECK(changes == std::map<std::string, json>{{"registrations.0.contract.value", 150000},
                                               {"registrations.0.solutionDetails.0.value", 150000}});
  CHECK(mapping::registration_editable(json{{"status", "ReviewPending"}}));
  CHECK(mapping::registration_editable(json{{"status", "Action required"}}));
  CHECK_FALSE(mapping::registration_editable(json{{"status", "Approved"}}));
  CHECK_FALSE(mapping::registration_editable(json{{"status", "Rejected"}}));
}

TEST_CASE("registration: status fields are to_crm mapped fields reading the first registration") {
  testing::MappingFile file;
  auto m = file.load(kRegOppHead + kRegBlock);
  const mapping::FieldRule* status = nullptr;
  const mapping::FieldRule* approved = nullptr;
  for (const auto& f : m.fields) {
    if (f.crm_field == "Registration_Status__c") status = &f;
    if (f.crm_field == "Registration_Approved__c") approved = &f;
  }
  REQUIRE(status);
  REQUIRE(approved);
  CHECK(status->direction == mapping::Direction::to_crm);
  json referral = {{"registrationStatus", "Approved"},
                   {"registrations", {{{"status", "Approved"}, {"statusHistory", {{"approvedDateTime", "2026-12-03T10:00:00Z"}}}}}}};
  auto changes = m.crm_changes(*status, *m.canonical_from_pc(*status, referral));
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].value == "Registered");
  CHECK(*m.canonical_from_pc(*approved, referral) == "2026-12-03");
}

TEST_CASE("registration: errors name the file, line and key") {
  testing::MappingFile file;
  auto error = [&](const std::string& block) { return file.error_of(kRegOppHead + block); };
  CHECK_THAT(error("registration:\n  body:\n    contract.price: Amount\n"),
             Catch::Contains("m.yaml:10") && Catch::Contains("registration.body.contract.price") &&
                 Catch::Contains("not a field of a deal registration"));
  CHECK_THAT(error("registration:\n  body:\n    contract.term: { value: Forever }\n"),
             Catch::Contains("m.yaml:10") && Catch::Contains("Perpetual Finite"));
  CHECK_THAT(error("registration:\n  body:\n    contract.value: Account.Amount\n"),
             Catch::Contains("m.yaml:10") && Catch::Contains("not a field of the opportunity itself"));
  CHECK_THAT(error("registration:\n  when: { pc.status: Closed }\n  body: { contract.value: Amount }\n"),
             Catch::Contains("m.yaml:9") && Catch::Contains("pc.status"));
  CHECK_THAT(error("registration:\n  register_within: 2h\n  body: { contract.value: Amount }\n"),
             Catch::Contains("m.yaml:9") && Catch::Contains("register_within"));
  CHECK_THAT(error("registration:\n  warn_before: [7d, 7d]\n  body: { contract.value: Amount }\n"),
             Catch::Contains("m.yaml:9") && Catch::Contains("twice"));
  CHECK_THAT(error("registration:\n  body: {}\n"), Catch::Contains("m.yaml:9") && Catch::Contains("at least one"));
  CHECK_THAT(error("registration:\n  body: { contract.value: Amount }\n  status: { contract.value: X__c }\n"),
             Catch::Contains("m.yaml:10") && Catch::Contains("not a registration status"));
  CHECK_THAT(error("registration:\n  body: { contract.value: Amount }\n  status: { statusReason: Amount }\n"),
             Catch::Contains("m.yaml:10") && Catch::Contains("already mapped"));
  CHECK_THAT(error("registration:\n  body: { contract.value: Amount }\n  extra: 1\n"),
             Catch::Contains("m.yaml:10") && Catch::Contains("extra"));
}
