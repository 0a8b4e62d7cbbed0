#include "tests/e2e/lead_scenarios.hpp"

#include <catch2/catch.hpp>

#include "daemon/store/state_store.hpp"
#include "tests/e2e/e2e_checks.hpp"

namespace cosync::testing {

using nlohmann::json;

namespace {

// The leads mapping's names on one CRM.
struct LeadMapping {
  std::string name;         // the mapping's name, as the cycle log line gives it
  json created;             // fields of the lead created for "Contoso", 25000
  json contacted;           // the CRM edit that means Active/Accepted in Partner Center
  std::string deal_value;   // the field mapped to details.dealValue
  std::string description;  // the field mapped to details.notes
};

LeadMapping lead_mapping(Crm crm) {
  if (crm == Crm::salesforce)
    return {"pc-sf-leads",
            {{"LastName", "[MSFT] Contoso"}, {"Company", "Contoso"}, {"Status", "Open - Not Contacted"}},
            {{"Status", "Working - Contacted"}},
            "AnnualRevenue",
            "Description"};
  return {"pc-dataverse-leads",
          {{"lastname", "[MSFT] Contoso"},
           {"subject", "Microsoft referral: Contoso"},
           {"companyname", "Contoso"},
           {"address1_country", "US"},
           {"revenue", 25000},
           {"statuscode", 1},
           {"statecode", 0}},
          {{"statuscode", 2}},  // Contacted
          "revenue",
          "description"};
}

// Dataverse creates by an upsert on the alternate key, inside a $batch change set.
void check_dataverse_upsert(E2eHarness& h, const std::string& referral_id) {
  auto batches = h.dv().server().requests("POST");
  REQUIRE(batches.size() == 1);
  CHECK(batches[0].path == "/api/data/v9.2/$batch");
  CHECK_THAT(batches[0].body, Catch::Contains("PATCH " + h.dv().base_url() + "/api/data/v9.2/leads(cosync_referralid='" +
                                              referral_id + "')"));
}

// The stored delta link is followed: one GET on the leads set, with $deltatoken (besides the
// table definition, read once per run).
void check_dataverse_delta_pull(E2eHarness& h) {
  auto gets = h.dv().server().requests("GET");
  std::erase_if(gets, [](const auto& g) { return g.path != "/api/data/v9.2/leads"; });
  REQUIRE(gets.size() == 1);
  CHECK_FALSE(gets[0].param("$deltatoken").empty());
}

// The audit trail has the status change with both values, its origin and why.
void check_status_audit(E2eHarness& h, const std::string& mapping, const std::string& referral_id) {
  StateStore store(h.dir.file("state/state.db"));
  auto audit = store.audit(mapping, 10);
  // The acceptance is also an event (README "Notifications"), audited after the change.
  std::erase_if(audit, [](const AuditEntry& a) { return a.kind == "event"; });
  REQUIRE_FALSE(audit.empty());
  CHECK(audit[0].field == "status");
  CHECK(audit[0].pc_id == referral_id);
  CHECK(audit[0].crm_id == h.crm_id_for(referral_id));
  CHECK(audit[0].old_value == json{"New", "Pending"});
  CHECK(audit[0].new_value == json{"Active", "Accepted"});
  CHECK(audit[0].origin == "crm");
  CHECK(audit[0].detail == "changed in the CRM");
  CHECK(audit.back().kind == "create");
}

}  // namespace

void new_lead_becomes_one_linked_crm_lead(Crm crm) {
  E2eHarness h(crm);
  const auto names = lead_mapping(crm);
  auto id = h.add_incoming_lead("Contoso");
  auto outgoing = h.pc.add_referral({{"direction", "Outgoing"}, {"customerProfile", {{"name", "Not ours"}}}});

  auto run = check_once(h);
  INFO(run.output);

  auto leads = h.crm_records();
  REQUIRE(leads.size() == 1);
  const auto& lead = leads[0];
  for (const auto& [field, value] : names.created.items()) {
    INFO(field);
    CHECK(lead[field] == value);
  }
  CHECK(lead[h.mapped().link_field] == id);
  CHECK(h.pc.referral(id)["externalReferenceId"] == lead[h.mapped().id_field]);
  CHECK_FALSE(h.pc.referral(outgoing).contains("externalReferenceId"));
  if (crm == Crm::dataverse) check_dataverse_upsert(h, id);
  CHECK_THAT(run.output, Catch::Contains("cycle mapping=" + names.name + " result=ok"));
  CHECK_THAT(run.output, Catch::Contains("created=1"));

  SECTION("running again creates nothing and writes nothing") {
    check_quiet_cycle(h);
    CHECK(h.crm_records().size() == 1);
    if (crm == Crm::dataverse) check_dataverse_delta_pull(h);
  }
}

void crm_status_change_patches_the_referral(Crm crm) {
  E2eHarness h(crm);
  const auto names = lead_mapping(crm);
  auto id = h.add_incoming_lead("Fabrikam");
  check_once(h);
  REQUIRE(h.crm_record_for(id).is_object());
  int writes_after_create = h.crm_records_written();

  h.edit_crm_record(id, names.contacted);
  std::string etag_before = h.pc.referral(id)["eTag"];
  h.clear_requests();
  auto run = check_once(h);
  INFO(run.output);

  auto referral = check_referral_status(h, id, "Active", "Accepted");
  auto patches = h.pc.server().requests("PATCH");
  REQUIRE(patches.size() == 1);
  CHECK(patches[0].path == "/referrals/" + id);
  CHECK(patches[0].header("If-Match") == etag_before);
  CHECK(patches[0].header("Content-Type") == "application/json");
  CHECK(json::parse(patches[0].body) == json::parse(R"([{"op":"replace","path":"/status","value":"Active"},
                                                       {"op":"replace","path":"/substatus","value":"Accepted"}])"));
  CHECK(h.crm_records_written() == writes_after_create);  // nothing echoed back to the CRM
  if (crm == Crm::salesforce) CHECK(h.sf().writes() == 1);  // only the create of the first run
  check_status_audit(h, names.name, id);

  SECTION("and the next cycle is quiet") { check_quiet_cycle(h); }
}

void edits_on_both_sides_flow_across(Crm crm) {
  E2eHarness h(crm);
  const auto names = lead_mapping(crm);
  auto id = h.add_incoming_lead("Northwind", 1000);
  check_once(h);
  REQUIRE(h.crm_record_for(id).is_object());

  h.pc.edit(id, [](json& r) { r["details"]["dealValue"] = 5000; });
  auto seller_edit = names.contacted;
  seller_edit[names.description] = "called the customer";
  h.edit_crm_record(id, seller_edit);
  std::string etag;  // Dataverse: the row version the update must match
  if (crm == Crm::dataverse) etag = "W/\"" + std::to_string(h.crm_record_for(id)["versionnumber"].get<long>()) + "\"";
  h.clear_requests();
  auto run = check_once(h);
  INFO(run.output);
  CHECK(h.crm_record_for(id)[names.deal_value] == 5000);
  auto referral = h.pc.referral(id);
  CHECK(referral["status"] == "Active");
  CHECK(referral["details"]["notes"] == "called the customer");
  if (crm == Crm::dataverse) {  // the CRM write with If-Match, in a $batch
    auto batches = h.dv().server().requests("POST");
    REQUIRE(batches.size() == 1);
    CHECK_THAT(batches[0].body, Catch::Contains("If-Match: " + etag));
    CHECK_THAT(batches[0].body, Catch::Contains(R"({"revenue":5000})"));
  }

  check_quiet_cycle(h);
}

void crm_delete_reaches_the_engine(Crm crm) {
  E2eHarness h(crm);
  auto id = h.add_incoming_lead("Adatum");
  check_once(h);
  REQUIRE(h.crm_records().size() == 1);
  auto lead_id = h.crm_id_for(id);
  REQUIRE_FALSE(lead_id.empty());
  h.delete_crm_record(id);
  h.clear_requests();
  auto run = check_once(h);
  INFO(run.output);
  CHECK_THAT(run.output, Catch::Contains(h.mapped().object + " " + lead_id + " was deleted in " + crm_name(crm) +
                                         " (linked to referral " + id + ")"));
  if (crm == Crm::salesforce)  // deleted records come from queryAll, not query
    CHECK(h.sf().server().count("GET", h.sf().data_path() + "/queryAll") >= 1);
  else
    CHECK(h.write_calls() == 0);
}

}  // namespace cosync::testing
