// Deal registration in-process (daemon/engine/registration_*.cpp): a linked referral Closed/Won in
// Partner Center whose CRM record is eligible is registered once with the mapped values; an
// interrupted submission is linked, never added again; CRM edits are replaced while the review
// takes them, never after; the review's outcome reaches the CRM fields, then the cycle is quiet.
#include <algorithm>

#include <catch2/catch.hpp>

#include "tests/engine/engine_fixture.hpp"
#include "tests/fakes/salesforce_schema.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string kRegistrationBlock = R"(registration:
  when: { crm.Status: "Closed - Converted" }
  body:
    contract.value: AnnualRevenue
    contract.currency: { value: USD }
    contract.term: { value: Finite }
    solutionDetails.id: { field: LeadSource, values: { Partner: SOL-1 } }
    solutionDetails.value: AnnualRevenue
  status:
    registrationStatus: { crm: Registration_Status__c, values: { ReviewPending: In review, ActionRequired: Action required, Approved: Registered, Rejected: Rejected } }
    statusReason: Registration_Reason__c
    statusHistory.approvedDateTime: Registration_Approved__c
)";

struct RegistrationFixture : testing::EngineFixture {
  RegistrationFixture() : EngineFixture(testing::kEngineLeadsMapping + kRegistrationBlock) {
    auto schema = fakes::default_lead_schema();
    for (const char* f : {"Registration_Status__c", "Registration_Reason__c", "Registration_Approved__c"})
      schema.fields.insert(f);
    sf_fake.define_object("Lead", schema);
  }
  std::string referral;

  long audited(const std::string& field) {
    auto audit = store.audit(mapping.name, 500);
    return std::count_if(audit.begin(), audit.end(), [&](const AuditEntry& e) { return e.field == field; });
  }
  json lead() { return sf_fake.record("Lead", lead_of(referral)); }
  json registrations() { return pc_fake.referral(referral)["registrations"]; }
  // A referral accepted and linked, won in the CRM after the 72-hour hold: Closed/Won in Partner
  // Center after one cycle; registered by the next.
  void won() {
    referral = pc_fake.add_referral({{"status", "Active"}, {"substatus", "Accepted"}});
    cycle();
    REQUIRE_FALSE(lead_of(referral).empty());
    clock.advance(73h);
    sf_fake.edit("Lead", lead_of(referral),
                 {{"Status", "Closed - Converted"}, {"AnnualRevenue", 120000}, {"LeadSource", "Partner"}});
    cycle();
    REQUIRE(pc_fake.referral(referral)["substatus"] == "Won");
    clock.advance(2min);
  }
};

}  // namespace

TEST_CASE_METHOD(RegistrationFixture, "registration: a won eligible deal is registered once with the mapped values") {
  won();
  auto planned = testing::lines_of(plan(), "register deal");
  REQUIRE(planned.size() == 1);
  CHECK(planned[0].new_value["contract"]["value"] == 120000);
  CHECK(cycle().ok());
  auto regs = registrations();
  REQUIRE(regs.size() == 1);
  CHECK(regs[0]["type"] == "AzureIPCoSell");
  CHECK(regs[0]["contract"] == json{{"value", 120000}, {"currency", "USD"}, {"term", "Finite"}});
  CHECK(regs[0]["solutionDetails"] == json::array({{{"id", "SOL-1"}, {"value", 120000}}}));
  CHECK(regs[0]["status"] == "ReviewPending");
  CHECK(audited("registration_submitted") == 1);
  CHECK(store.pending_create(mapping.name, "registration", referral) == std::nullopt);

  // The status reaches the CRM, then nothing more is written.
  clock.advance(2min);
  CHECK(cycle().ok());
  CHECK(lead()["Registration_Status__c"] == "In review");
  int before = writes();
  clock.advance(2min);
  CHECK(cycle().ok());
  CHECK(writes() == before);
  CHECK(registrations().size() == 1);
  CHECK(testing::lines_of(plan(), "register deal").empty());
}

TEST_CASE_METHOD(RegistrationFixture, "registration: a submission whose answer was lost is linked, not added again") {
  won();
  // A crash after the PATCH: the registration landed, the pending row is still there.
  pc_fake.edit(referral, [](json& r) {
    r["registrations"] = json::array({{{"type", "AzureIPCoSell"}, {"status", "ReviewPending"}, {"contract", {{"value", 120000}}}}});
  });
  store.add_pending_create(mapping.name, "registration", referral, json::object());
  CHECK(cycle().ok());
  CHECK(registrations().size() == 1);
  CHECK(store.pending_create(mapping.name, "registration", referral) == std::nullopt);
  CHECK(audited("registration_submitted") == 1);
}

TEST_CASE_METHOD(RegistrationFixture, "registration: CRM edits are replaced while in review, never after approval") {
  won();
  cycle();
  REQUIRE(registrations().size() == 1);
  pc_fake.review_registration(referral, "ActionRequired", "Contract value does not match the invoice");
  clock.advance(2min);
  cycle();
  CHECK(lead()["Registration_Status__c"] == "Action required");
  CHECK(lead()["Registration_Reason__c"] == "Contract value does not match the invoice");
  CHECK(audited("registration_status_changed") >= 1);

  sf_fake.edit("Lead", lead_of(referral), {{"AnnualRevenue", 95000}});
  clock.advance(2min);
  CHECK(cycle().ok());
  CHECK(registrations()[0]["contract"]["value"] == 95000);
  CHECK(registrations()[0]["solutionDetails"][0]["value"] == 95000);

  pc_fake.review_registration(referral, "Approved");
  clock.advance(2min);
  CHECK(cycle().ok());  // the approval reaches the CRM within one cycle
  CHECK(lead()["Registration_Status__c"] == "Registered");
  CHECK(lead()["Registration_Approved__c"] == pc_fake.referral(referral)["registrations"][0]["statusHistory"]["approvedDateTime"].get<std::string>().substr(0, 10));

  sf_fake.edit("Lead", lead_of(referral), {{"AnnualRevenue", 99000}});
  clock.advance(2min);
  int pc_writes = pc_fake.writes();
  CHECK(cycle().ok());
  CHECK(pc_fake.writes() == pc_writes);  // approved: never changed again
  CHECK(registrations()[0]["contract"]["value"] == 95000);
  int before = writes();
  clock.advance(2min);
  CHECK(cycle().ok());
  CHECK(writes() == before);
}

TEST_CASE_METHOD(RegistrationFixture, "registration: an ineligible deal and an open referral are not registered") {
  referral = pc_fake.add_referral({{"status", "Active"}, {"substatus", "Accepted"}});
  cycle();
  sf_fake.edit("Lead", lead_of(referral), {{"AnnualRevenue", 120000}});
  clock.advance(2min);
  CHECK(cycle().ok());
  CHECK(registrations().is_null());
  CHECK(testing::lines_of(plan(), "register deal").empty());
}

TEST_CASE_METHOD(RegistrationFixture, "registration: a refused write to the closed referral does not hold back the registration's replace") {
  won();
  cycle();
  REQUIRE(registrations().size() == 1);
  // Notes flow to Partner Center, which takes no write to a closed referral: quarantined. The
  // registration still takes the new contract value.
  sf_fake.edit("Lead", lead_of(referral), {{"Description", "signed"}, {"AnnualRevenue", 130000}});
  clock.advance(2min);
  cycle();
  CHECK(registrations()[0]["contract"]["value"] == 130000);
  CHECK(registrations().size() == 1);
}

TEST_CASE_METHOD(RegistrationFixture, "registration: one Partner Center refuses stays quarantined with its reason until it is taken") {
  pc_fake.refuse_registrations("contract.value is required");
  won();
  cycle();  // not ok(): the refused registration is a quarantined record
  CHECK(registrations().empty());
  auto quarantined = [&] {
    auto all = store.quarantined();
    return std::count_if(all.begin(), all.end(), [&](const QuarantineEntry& q) {
      return q.record_id == referral && q.reason.find("contract.value is required") != std::string::npos;
    });
  };
  // Kept after the cycle that refused it (the pair's other writes were saved, not the refusal forgotten).
  CHECK(quarantined() == 1);
  CHECK(store.pending_create(mapping.name, "registration", referral) == std::nullopt);

  // Fixed on Microsoft's side: the quarantine's backoff brings the pair back and it is registered once.
  pc_fake.refuse_registrations(std::nullopt);
  clock.advance(24h);
  CHECK(cycle().ok());
  CHECK(registrations().size() == 1);
  CHECK(quarantined() == 0);
  CHECK(audited("registration_submitted") == 1);
}

TEST_CASE_METHOD(RegistrationFixture, "registration: Microsoft's approval is an event also in a cycle whose write to the closed referral is refused") {
  won();
  cycle();
  REQUIRE(registrations().size() == 1);
  clock.advance(2min);
  cycle();  // the review status reaches the CRM
  auto status_events = [&] {
    auto events = store.events();
    return std::count_if(events.begin(), events.end(), [&](const auto& e) {
      return e.pc_id == referral && e.event == "registration_status_changed";
    });
  };
  auto before = status_events();
  // In the same cycle: Microsoft approves, and a seller's note (a write Partner Center refuses on
  // a closed referral, quarantined) -- the approval still reaches the CRM and its event is written.
  REQUIRE(pc_fake.review_registration(referral, "Approved"));
  sf_fake.edit("Lead", lead_of(referral), {{"Description", "signed"}});
  clock.advance(2min);
  cycle();
  CHECK(lead()["Registration_Status__c"] == "Registered");
  CHECK(status_events() == before + 1);
}
