// Lead lifecycle policies with the real cosyncd, on both CRMs (issue "Lead lifecycle rules"):
// `accept: auto` accepts a new lead in the cycle that creates its CRM record, which shows the
// accepted status, and the next cycle is quiet; a `when` policy accepts one lead and declines
// another with its reason (statusReason); a seller's decline by hand carries the CRM's decline
// reason. The decline PATCH also goes through Prism with Microsoft's contract. The expiry watch
// warns 7, 2 and 1 days before a New lead expires, once each across restarts (each `cosyncd once`
// is one), and Partner Center's expiry reaches the CRM; an accepted lead with its 3 touches and 8
// weeks without progress is warned about, then closed as Lost on both sides with the reason,
// while one whose status moved stays open.
#include <algorithm>
#include <chrono>
#include <fstream>

#include <catch2/catch.hpp>

#include "daemon/store/state_store.hpp"
#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/prism.hpp"
#include "tests/fakes/salesforce_schema.hpp"

using namespace cosync;
using nlohmann::json;
using testing::Crm;

namespace {

constexpr const char* kDeclineReason = "Below our minimum deal size";

void append_to_mapping(testing::E2eHarness& h, const std::string& text) {
  std::ofstream(h.mapping_path(), std::ios::app) << "\n" << text;
}

// The CRM status each outcome maps to in the shipped leads mapping, plus Closed/Declined (added
// by declinable()).
struct Statuses {
  std::string field;
  json accepted;
  json declined;
};

Statuses statuses(Crm crm) {
  if (crm == Crm::salesforce) return {"Status", "Working - Contacted", "Closed - Declined"};
  return {"statuscode", 2, 7};  // Contacted; Canceled (Disqualified)
}

// The mapping learns a CRM status for a declined referral; on Salesforce also a decline-reason
// field that sellers fill in when they decline by hand (mapped to statusReason).
void declinable(testing::E2eHarness& h) {
  if (h.crm() == Crm::dataverse) {
    h.edit_mapping("      - { pc: [Closed, Lost], crm: \"4\" }",
                   "      - { pc: [Closed, Declined], crm: \"7\" }\n      - { pc: [Closed, Lost], crm: \"4\" }");
    return;
  }
  auto schema = fakes::default_lead_schema();
  schema.picklists["Status"].insert("Closed - Declined");
  schema.fields.insert("Decline_Reason__c");
  h.sf().define_object("Lead", schema);
  h.edit_mapping("      - { pc: [Closed, Lost], crm: \"Closed - Not Converted\" }",
                 "      - { pc: [Closed, Lost], crm: \"Closed - Not Converted\" }\n"
                 "      - { pc: [Closed, Declined], crm: \"Closed - Declined\" }\n"
                 "  - name: decline_reason\n    pc: statusReason\n    crm: Decline_Reason__c\n"
                 "    direction: to_pc\n    owner: crm");
}

void accept_auto_in_the_creating_cycle(Crm crm) {
  testing::E2eHarness h(crm);
  append_to_mapping(h, "accept: auto\n");
  auto id = h.add_incoming_lead("Contoso");
  auto run = testing::check_once(h);
  INFO(run.output);
  CHECK_THAT(run.output, Catch::Contains("created=1"));
  testing::check_referral_status(h, id, "Active", "Accepted");
  auto record = h.crm_record_for(id);
  REQUIRE(record.is_object());
  CHECK(record[statuses(crm).field] == statuses(crm).accepted);
  CHECK(h.pc.referral(id)["externalReferenceId"] == record[h.mapped().id_field]);
  // Audited as the policy's write.
  StateStore store(h.dir.file("state/state.db"));
  bool audited = false;
  for (const auto& a : store.audit(crm == Crm::salesforce ? "pc-sf-leads" : "pc-dataverse-leads", 20))
    audited = audited || (a.field == "status" && a.detail == "rule lead_policy: accept: auto");
  CHECK(audited);

  testing::check_quiet_cycle(h);  // no echo of the accepted status
  testing::check_referral_status(h, id, "Active", "Accepted");
}

void when_policy_accepts_one_and_declines_another(Crm crm) {
  testing::E2eHarness h(crm);
  declinable(h);
  append_to_mapping(h,
                    "accept:\n  when: { pc.details.dealValue: {\">=\": 10000} }\n"
                    "decline:\n  when: { pc.details.dealValue: {\"<\": 1000} }\n  reason: " +
                        std::string(kDeclineReason) + "\n");
  auto big = h.add_incoming_lead("Contoso", 50000);
  auto small = h.add_incoming_lead("Fabrikam", 500);
  auto middle = h.add_incoming_lead("Northwind", 5000);  // neither: left to the sellers

  auto plan = h.cosyncd("plan", "--json");
  INFO(plan.output);
  REQUIRE(plan.exit_status == 0);
  bool plans_decline = false;
  for (const auto& c : json::parse(plan.output.substr(plan.output.find('['))))
    plans_decline = plans_decline || (c["referral"] == small && c["field"] == "statusReason" && c["new"] == kDeclineReason);
  CHECK(plans_decline);
  CHECK(h.write_calls() == 0);

  auto run = testing::check_once(h);
  INFO(run.output);
  testing::check_referral_status(h, big, "Active", "Accepted");
  auto declined = testing::check_referral_status(h, small, "Closed", "Declined");
  CHECK(declined["statusReason"] == kDeclineReason);
  testing::check_referral_status(h, middle, "New", "Pending");
  CHECK(h.crm_record_for(big)[statuses(crm).field] == statuses(crm).accepted);
  CHECK(h.crm_record_for(small)[statuses(crm).field] == statuses(crm).declined);
  if (crm == Crm::salesforce) CHECK(h.crm_record_for(small)["Decline_Reason__c"] == kDeclineReason);

  testing::check_quiet_cycle(h);
}

std::string mapping_name(Crm crm) { return crm == Crm::salesforce ? "pc-sf-leads" : "pc-dataverse-leads"; }

// How many `key` events (journaled as audit rows) cosyncd said for the referral `id`.
long events(testing::E2eHarness& h, const std::string& id, const std::string& key) {
  StateStore store(h.dir.file("state/state.db"));
  auto audit = store.audit(mapping_name(h.crm()), 1000);
  return std::count_if(audit.begin(), audit.end(), [&](const AuditEntry& e) { return e.field == key && e.pc_id == id; });
}

// Both CRMs' Lost status, and a status the sellers move an accepted lead to when it progresses.
json lost_status(Crm crm) { return crm == Crm::salesforce ? json("Closed - Not Converted") : json(4); }

void expiry_warnings_once_each_and_the_expiry_reaches_the_crm(Crm crm) {
  testing::E2eHarness h(crm);
  // Partner Center's expiry has a CRM status: the shipped mapping leaves it open.
  if (crm == Crm::salesforce)
    h.edit_mapping("      - { pc: [Closed, Lost], crm: \"Closed - Not Converted\" }",
                   "      - { pc: [Closed, Lost], crm: \"Closed - Not Converted\" }\n"
                   "      - { pc: [Closed, Expired], crm: \"Closed - Not Converted\", direction: to_crm }");
  else
    h.edit_mapping("      - { pc: [Closed, Lost], crm: \"4\" }",
                   "      - { pc: [Closed, Lost], crm: \"4\" }\n      - { pc: [Closed, Expired], crm: \"4\", direction: to_crm }");
  append_to_mapping(h, "expiry:\n  warn_before: [7d, 2d, 1d]\n");
  auto id = h.add_incoming_lead("Contoso");  // expires 14 days after now on Partner Center's clock
  testing::check_once(h);
  CHECK(events(h, id, "expiry_warning") == 0);
  const std::pair<std::chrono::hours, long> steps[] = {
      {std::chrono::hours(6 * 24), 0},  // 8 days left
      {std::chrono::hours(24 + 1), 1},  // 7 days less an hour: the 7-day warning
      {std::chrono::hours(1), 1},       // not again (each run is a restart)
      {std::chrono::hours(5 * 24), 2},  // 2 days left
      {std::chrono::hours(24), 3},      // 1 day left
      {std::chrono::hours(2), 3}};
  for (const auto& [shift, expected] : steps) {
    h.pc.shift_clock(shift);
    auto run = testing::check_once(h);
    INFO(run.output);
    CHECK(events(h, id, "expiry_warning") == expected);
  }
  CHECK(h.pc.referral(id)["status"] == "New");
  auto report = h.cosyncd("report expiring", "--format csv");
  INFO(report.output);
  CHECK_THAT(report.output, Catch::Contains(id) && Catch::Contains("1d,2d,7d"));

  h.pc.shift_clock(std::chrono::hours(24));  // Partner Center expires it: Closed/Expired
  auto run = testing::check_once(h);
  INFO(run.output);
  testing::check_referral_status(h, id, "Closed", "Expired");
  CHECK(h.crm_record_for(id)[statuses(crm).field] == lost_status(crm));
  CHECK(events(h, id, "expiry_warning") == 3);
  testing::check_quiet_cycle(h);
}

// The CRM's touch counter and an open status the sellers move a lead to when it progresses.
struct StaleSetup {
  std::string touch_field;
  json progressed;
};

StaleSetup staleable(testing::E2eHarness& h) {
  if (h.crm() == Crm::dataverse) {
    h.dv().add_column("leads", "cosync_touches", "Integer");
    h.dv().add_status_reason("leads", 100000001, "Working", 0);  // Open
    h.edit_mapping("      - { pc: [Closed, Lost], crm: \"4\" }",
                   "      - { pc: [Closed, Lost], crm: \"4\" }\n"
                   "      - { pc: [Active, Accepted], crm: \"100000001\", direction: to_pc }");
    return {"cosync_touches", 100000001};
  }
  auto schema = fakes::default_lead_schema();
  schema.picklists["Status"].insert("Working - Qualifying");
  schema.fields.insert("Touches__c");
  h.sf().define_object("Lead", schema);
  h.edit_mapping("      - { pc: [Closed, Lost], crm: \"Closed - Not Converted\" }",
                 "      - { pc: [Closed, Lost], crm: \"Closed - Not Converted\" }\n"
                 "      - { pc: [Active, Accepted], crm: \"Working - Qualifying\", direction: to_pc }");
  return {"Touches__c", "Working - Qualifying"};
}

constexpr const char* kStaleReason = "No response after three contacts";

void stale_lead_closes_as_lost_after_its_warning(Crm crm) {
  testing::E2eHarness h(crm);
  auto setup = staleable(h);
  append_to_mapping(h, "accept: auto\nstale:\n  after: 8w\n  touches: 3\n  reason: " + std::string(kStaleReason) +
                           "\n  warn_before: 7d\n  progress: field:" + setup.touch_field + "\n");
  auto stale = h.add_incoming_lead("Contoso");
  auto moving = h.add_incoming_lead("Fabrikam");
  testing::check_once(h);  // created and accepted: the watch starts
  testing::check_referral_status(h, stale, "Active", "Accepted");
  h.edit_crm_record(stale, {{setup.touch_field, 3}});
  h.edit_crm_record(moving, {{setup.touch_field, 3}});
  testing::check_once(h);

  h.pc.shift_clock(std::chrono::hours(6 * 7 * 24));
  h.edit_crm_record(moving, {{statuses(crm).field, setup.progressed}});  // progress: its clock restarts
  testing::check_once(h);
  h.pc.shift_clock(std::chrono::hours(7 * 24 + 1));  // 7 weeks and an hour: warned
  auto warned = testing::check_once(h);
  INFO(warned.output);
  CHECK(events(h, stale, "stale_warning") == 1);
  CHECK(events(h, moving, "stale_warning") == 0);
  testing::check_referral_status(h, stale, "Active", "Accepted");
  auto report = h.cosyncd("report stale", "--format csv");
  INFO(report.output);
  CHECK_THAT(report.output, Catch::Contains(stale) && Catch::Contains("closes as Lost"));

  // `plan` says what would close and why, and writes nothing.
  h.pc.shift_clock(std::chrono::hours(7 * 24 + 1));
  h.clear_requests();
  auto plan = h.cosyncd("plan");
  INFO(plan.output);
  CHECK_THAT(plan.output, Catch::Contains(kStaleReason) && Catch::Contains("stale lead"));
  CHECK(h.write_calls() == 0);

  auto run = testing::check_once(h);
  INFO(run.output);
  auto closed = testing::check_referral_status(h, stale, "Closed", "Lost");
  CHECK(closed["statusReason"] == kStaleReason);
  CHECK(h.crm_record_for(stale)[statuses(crm).field] == lost_status(crm));
  CHECK(events(h, stale, "stale_warning") == 1);
  CHECK(events(h, stale, "stale_closed") == 1);
  testing::check_referral_status(h, moving, "Active", "Accepted");  // its status moved 2 weeks ago
  CHECK(h.crm_record_for(moving)[statuses(crm).field] == setup.progressed);
  testing::check_quiet_cycle(h);
}

// `assign:` by the customer's country: a German lead goes to the DACH queue (Salesforce: a lead
// queue's Group id in OwnerId; Dataverse: a team bound to ownerid), the others to the default.
void lead_routed_by_country(Crm crm) {
  testing::E2eHarness h(crm);
  std::string field = "OwnerId", dach = "00G5g000000DachAAA", rest = "005000000000002AAA";
  if (crm == Crm::dataverse) {
    field = "ownerid@odata.bind";
    dach = h.dv().insert("teams", {{"name", "DACH sales"}});
    rest = h.dv().insert("teams", {{"name", "Inside sales"}});
  }
  auto owner_value = [&](const std::string& id) { return crm == Crm::dataverse ? "/teams(" + id + ")" : id; };
  append_to_mapping(h, "assign:\n  field: " + field +
                           "\n  rules:\n    - when: { pc.customerProfile.address.country: [DE, AT, CH] }\n      owner: \"" +
                           owner_value(dach) + "\"\n    - owner: \"" + owner_value(rest) + "\"\n");
  auto german = h.add_incoming_lead("Contoso GmbH");
  h.pc.edit(german, [](json& r) { r["customerProfile"]["address"]["country"] = "DE"; });
  auto american = h.add_incoming_lead("Fabrikam");
  auto plan = h.cosyncd("plan");
  INFO(plan.output);
  CHECK_THAT(plan.output, Catch::Contains(owner_value(dach)));
  auto run = testing::check_once(h);
  INFO(run.output);
  const std::string read_back = crm == Crm::dataverse ? "_ownerid_value" : "OwnerId";
  CHECK(h.crm_record_for(german)[read_back] == dach);
  CHECK(h.crm_record_for(american)[read_back] == rest);
  testing::check_quiet_cycle(h);
}

}  // namespace

TEST_CASE("e2e lead routing: a Salesforce lead is assigned to the queue its country maps to", "[e2e]") {
  lead_routed_by_country(Crm::salesforce);
}

TEST_CASE("e2e lead routing: a Dataverse lead is assigned to the team its country maps to", "[e2e]") {
  lead_routed_by_country(Crm::dataverse);
}

TEST_CASE("e2e lead routing: a Dataverse lead is created in the Microsoft campaign through its campaignid lookup", "[e2e]") {
  testing::E2eHarness h(Crm::dataverse);
  auto campaign = h.dv().insert("campaigns", {{"name", "Microsoft referrals FY27"}});
  h.edit_mapping("create:\n", "create:\n  \"campaignid@odata.bind\": \"/campaigns(" + campaign + ")\"\n");
  auto check = h.cosyncd("check");
  INFO(check.output);
  CHECK(check.exit_status == 0);  // the lookup is known to the table definition
  auto id = h.add_incoming_lead("Contoso");
  auto run = testing::check_once(h);
  INFO(run.output);
  CHECK(h.crm_record_for(id)["_campaignid_value"] == campaign);
  testing::check_quiet_cycle(h);
}

TEST_CASE("e2e lead routing: a Salesforce lead joins the Microsoft campaign through one CampaignMember", "[e2e]") {
  testing::E2eHarness h(Crm::salesforce);
  const std::string campaign = "701000000000042AAA";
  append_to_mapping(h, "campaign: " + campaign + "\n");
  auto check = h.cosyncd("check");
  INFO(check.output);
  CHECK(check.exit_status == 0);
  auto id = h.add_incoming_lead("Contoso");
  auto run = testing::check_once(h);
  INFO(run.output);
  const std::string lead = h.crm_record_for(id).value("Id", "");
  auto members = h.sf().records("CampaignMember");
  REQUIRE(members.size() == 1);
  CHECK(members[0]["LeadId"] == lead);
  CHECK(members[0]["CampaignId"] == campaign);
  testing::check_quiet_cycle(h);
  CHECK(h.sf().records("CampaignMember").size() == 1);
}

TEST_CASE("e2e expiry watch: Salesforce leads are warned 7, 2 and 1 days before expiry once each, and the expiry reaches the Lead", "[e2e]") {
  expiry_warnings_once_each_and_the_expiry_reaches_the_crm(Crm::salesforce);
}

TEST_CASE("e2e expiry watch: Dataverse leads are warned 7, 2 and 1 days before expiry once each, and the expiry reaches the lead", "[e2e]") {
  expiry_warnings_once_each_and_the_expiry_reaches_the_crm(Crm::dataverse);
}

TEST_CASE("e2e stale close: a Salesforce lead with 3 touches and 8 weeks without progress closes as Lost after its warning", "[e2e]") {
  stale_lead_closes_as_lost_after_its_warning(Crm::salesforce);
}

TEST_CASE("e2e stale close: a Dataverse lead with 3 touches and 8 weeks without progress closes as Lost after its warning", "[e2e]") {
  stale_lead_closes_as_lost_after_its_warning(Crm::dataverse);
}

TEST_CASE("e2e lead policy: accept auto accepts a new Salesforce Lead in the cycle that creates it", "[e2e]") {
  accept_auto_in_the_creating_cycle(Crm::salesforce);
}

TEST_CASE("e2e lead policy: accept auto accepts a new Dataverse lead in the cycle that creates it", "[e2e]") {
  accept_auto_in_the_creating_cycle(Crm::dataverse);
}

TEST_CASE("e2e lead policy: a when policy accepts one Salesforce lead and declines another with its reason", "[e2e]") {
  when_policy_accepts_one_and_declines_another(Crm::salesforce);
}

TEST_CASE("e2e lead policy: a when policy accepts one Dataverse lead and declines another with its reason", "[e2e]") {
  when_policy_accepts_one_and_declines_another(Crm::dataverse);
}

TEST_CASE("e2e lead policy: a seller's decline by hand sends the Lead's decline reason as statusReason", "[e2e]") {
  testing::E2eHarness h(Crm::salesforce);
  declinable(h);
  auto id = h.add_incoming_lead("Adatum");
  testing::check_once(h);
  h.edit_crm_record(id, {{"Status", "Closed - Declined"}, {"Decline_Reason__c", "No capacity this quarter"}});
  auto run = testing::check_once(h);
  INFO(run.output);
  auto referral = testing::check_referral_status(h, id, "Closed", "Declined");
  CHECK(referral["statusReason"] == "No capacity this quarter");
  testing::check_quiet_cycle(h);
}

TEST_CASE("partner center contract: a policy's decline sends a valid status, substatus and statusReason",
          "[contract][e2e]") {
  if (testing::skipped_without_contract_check()) return;
  unsigned short port = testing::free_loopback_port();
  testing::E2eHarness h(Crm::salesforce, "", "http://127.0.0.1:" + std::to_string(port));
  testing::PrismProxy prism(testing::partner_center_contract_path(), h.pc.base_url(), port, h.dir.file("prism.log"));
  INFO(prism.output());
  REQUIRE(prism.ready());
  declinable(h);
  append_to_mapping(h, "accept: auto\ndecline:\n  when: { pc.details.dealValue: {\"<\": 1000} }\n  reason: " +
                           std::string(kDeclineReason) + "\n");
  auto declined = h.add_incoming_lead("Fabrikam", 500);
  auto accepted = h.add_incoming_lead("Contoso", 50000);
  auto run = testing::check_once(h);
  INFO(run.output);
  CHECK(run.output.find("answered 422") == std::string::npos);
  CHECK(h.pc.server().count("PATCH") == 2);  // Prism let both through to the fake
  CHECK(h.pc.referral(declined)["statusReason"] == kDeclineReason);
  CHECK(h.pc.referral(accepted)["status"] == "Active");
}
