// End to end: the real cosyncd binary against the fakes, through the shipped example mapping.
#include <catch2/catch.hpp>
#include <signal.h>

#include <thread>

#include "daemon/store/state_store.hpp"
#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/lead_scenarios.hpp"

using namespace cosync;
using nlohmann::json;

TEST_CASE("e2e: a new incoming lead becomes exactly one Salesforce Lead, linked both ways") {
  testing::new_lead_becomes_one_linked_crm_lead(testing::Crm::salesforce);
}

TEST_CASE("e2e: a Lead status change moves the referral through a JSON Patch with If-Match") {
  testing::crm_status_change_patches_the_referral(testing::Crm::salesforce);
}

TEST_CASE("e2e: edits on both sides flow across in one cycle") {
  testing::edits_on_both_sides_flow_across(testing::Crm::salesforce);
}

namespace {

// A new lead synced once, whose Lead a seller then deletes: its referral id and Lead id.
std::pair<std::string, std::string> synced_then_deleted_in_salesforce(testing::E2eHarness& h, const std::string& company) {
  auto id = h.add_incoming_lead(company);
  testing::check_once(h);
  auto lead_id = h.crm_id_for(id);
  REQUIRE_FALSE(lead_id.empty());
  h.delete_crm_record(id);
  return {id, lead_id};
}

}  // namespace

TEST_CASE("e2e: a config with an unknown key fails before any request, naming file, line and key") {
  testing::E2eHarness h;
  h.write_config("pol_interval: 10s\n");
  h.clear_requests();
  for (const char* command : {"check", "once"}) {
    auto run = h.cosyncd(command);
    INFO(command << ": " << run.output);
    CHECK(run.exit_status == 78);
    CHECK_THAT(run.output, Catch::Contains(h.config_path() + ":4: pol_interval: unknown key"));
  }
  CHECK(h.pc.server().requests().empty());
  CHECK(h.sf().server().requests().empty());
  CHECK(h.tokens.server().requests().empty());
}

TEST_CASE("e2e: check accepts the shipped sandbox config") {
  auto run = testing::run_command(std::string(COSYNC_BINARY_DIR) + "/cosyncd check --offline --config " COSYNC_SOURCE_DIR
                                  "/config/examples/sandbox.yaml");
  INFO(run.output);
  // The sandbox's secret file is created by scripts/sandbox.sh; without it check names it.
  if (run.exit_status != 0) CHECK_THAT(run.output, Catch::Contains("client_secret_file"));
  else CHECK_THAT(run.output, Catch::Contains("configuration OK"));
}

TEST_CASE("e2e: cosyncd run syncs every poll interval and stops cleanly on SIGTERM") {
  testing::E2eHarness h;
  h.write_config("poll_interval: 1s\n");
  auto first = h.add_incoming_lead("Adatum");
  auto daemon = h.start_daemon();
  REQUIRE(daemon->wait_for_output("created=1", std::chrono::seconds(20)));
  // A lead arriving while the daemon runs is picked up by a later cycle.
  auto second = h.add_incoming_lead("Litware");
  bool synced = false;
  // Synced means linked both ways: the Lead, then the referral's externalReferenceId. A SIGTERM
  // between the two stops the cycle there and the next run, whose cursor did not move, writes it.
  for (int i = 0; i < 100 && !synced; ++i) {
    synced = h.crm_records().size() == 2 && h.pc.referral(second).contains("externalReferenceId");
    if (!synced) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(synced);
  daemon->signal(SIGTERM);
  auto status = daemon->wait_exit(std::chrono::seconds(10));
  INFO(daemon->output());
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK_THAT(daemon->output(), Catch::Contains("cosyncd stopped"));
  CHECK(h.pc.referral(first).contains("externalReferenceId"));
  CHECK(h.pc.referral(second).contains("externalReferenceId"));
}

TEST_CASE("e2e: a malformed referral is quarantined while the rest keeps syncing") {
  testing::E2eHarness h;
  auto good = h.add_incoming_lead("Good Corp");
  auto bad = h.pc.add_referral({{"eTag", nullptr}, {"customerProfile", {{"name", "Broken Corp"}}}});
  auto run = h.cosyncd("once");
  INFO(run.output);
  CHECK(run.exit_status == 3);
  CHECK(h.crm_records().size() == 1);
  CHECK(h.pc.referral(good).contains("externalReferenceId"));
  CHECK_THAT(run.output, Catch::Contains("record=" + bad + " quarantined (attempt 1"));
  CHECK_THAT(run.output, Catch::Contains("malformed: referral " + bad + " has no eTag"));

  SECTION("quarantine list shows it, and drop forgets it") {
    auto list = h.cosyncd("quarantine list", "--json");
    INFO(list.output);
    REQUIRE(list.exit_status == 0);
    auto entries = json::parse(list.output);
    REQUIRE(entries.size() == 1);
    CHECK(entries[0]["record_id"] == bad);
    CHECK(entries[0]["attempts"] == 1);
    CHECK(entries[0]["next_retry"].get<std::string>() > "2000");
    auto id = std::to_string(entries[0]["id"].get<long long>());
    CHECK(h.cosyncd("quarantine drop " + id).exit_status == 0);
    CHECK(json::parse(h.cosyncd("quarantine list", "--json").output).empty());
    CHECK(h.cosyncd("quarantine drop " + id).exit_status == 1);
  }
  SECTION("a fixed record leaves quarantine on retry") {
    h.pc.edit(bad, [](json& r) { r["eTag"] = "\"fixed\""; });
    auto list = json::parse(h.cosyncd("quarantine list", "--json").output);
    auto id = std::to_string(list[0]["id"].get<long long>());
    REQUIRE(h.cosyncd("quarantine retry " + id).exit_status == 0);
    auto again = testing::check_once(h);
    INFO(again.output);
    CHECK(h.crm_records().size() == 2);
    CHECK(json::parse(h.cosyncd("quarantine list", "--json").output).empty());
  }
  CHECK_THAT(run.output, Catch::Contains("quarantined=1"));
}

TEST_CASE("e2e: a value the CRM rejects quarantines that record only") {
  testing::E2eHarness h;
  auto id = h.add_incoming_lead("Tailspin");
  auto other = h.add_incoming_lead("Wingtip");
  testing::check_once(h);
  auto leads = h.crm_records();
  // A value the org lists for the picklist (so the mapping passes the metadata check) but these
  // records' record type does not allow: Salesforce rejects the write.
  h.sf().define_object("Lead", [] {
    auto schema = fakes::default_lead_schema();
    schema.not_for_record_type["Status"] = {"Working - Contacted"};
    return schema;
  }());
  h.pc.edit(id, [](json& r) {
    r["status"] = "Active";
    r["substatus"] = "Accepted";
  });
  h.pc.edit(other, [](json& r) { r["details"]["dealValue"] = 777; });
  auto run = h.cosyncd("once");
  INFO(run.output);
  CHECK(run.exit_status == 3);
  CHECK_THAT(run.output, Catch::Contains("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"));
  for (const auto& l : h.crm_records())
    if (l["PartnerCenterReferralId__c"] == other) CHECK(l["AnnualRevenue"] == 777);
}

TEST_CASE("e2e: a transient outage leaves the cursor in place and the next run catches up") {
  testing::E2eHarness h;
  h.add_incoming_lead("Proseware");
  // On Partner Center: Salesforce's first request is now the start-up describe, which would stop
  // the mapping before any pull. As many 503s as the retries of one request (max_attempts: 3).
  h.pc.fail_next(3, 503);
  auto run = h.cosyncd("once");
  INFO(run.output);
  CHECK(run.exit_status == 1);
  CHECK_THAT(run.output, Catch::Contains("503"));
  CHECK(h.crm_records().empty());

  auto again = testing::check_once(h);
  INFO(again.output);
  CHECK(h.crm_records().size() == 1);
}

TEST_CASE("e2e: 429 with Retry-After from Salesforce is waited out within the cycle") {
  testing::E2eHarness h;
  h.add_incoming_lead("Lucerne");
  h.sf().fail_next(1, 429, 1);
  auto run = testing::check_once(h);
  INFO(run.output);
  CHECK(h.crm_records().size() == 1);
  CHECK_THAT(run.output, Catch::Contains("429"));
}

TEST_CASE("e2e: plan shows what would change and writes nothing, status summarises the state") {
  testing::E2eHarness h;
  auto id = h.add_incoming_lead("Contoso");
  testing::check_once(h);
  h.edit_crm_record(id, {{"Status", "Working - Contacted"}});
  auto other = h.add_incoming_lead("Fabrikam");
  h.clear_requests();

  auto plan = h.cosyncd("plan", "--json");
  INFO(plan.output);
  REQUIRE(plan.exit_status == 0);
  CHECK(h.write_calls() == 0);
  auto changes = json::parse(plan.output.substr(plan.output.find('[')));
  bool status_change = false, create = false;
  for (const auto& c : changes) {
    if (c["referral"] == id && c["field"] == "status") {
      status_change = true;
      CHECK(c["action"] == "update Partner Center");
      CHECK(c["old"] == json{"New", "Pending"});
      CHECK(c["new"] == json{"Active", "Accepted"});
      CHECK(c["why"] == "changed in the CRM");
    }
    if (c["referral"] == other && c["action"] == "create in CRM" && c["field"] == "LastName") {
      create = true;
      CHECK(c["new"] == "[MSFT] Fabrikam");
    }
  }
  CHECK(status_change);
  CHECK(create);
  CHECK(h.pc.referral(id)["status"] == "New");

  auto table = h.cosyncd("plan");
  CHECK_THAT(table.output, Catch::Contains("update Partner Center"));
  CHECK(h.write_calls() == 0);

  auto status = h.cosyncd("status", "--json");
  INFO(status.output);
  REQUIRE(status.exit_status == 0);
  auto s = json::parse(status.output);
  CHECK(s["mappings"][0]["links"] == 1);
  CHECK(s["mappings"][0]["last_cycle"]["result"] == "ok");
  CHECK(s["mappings"][0]["quarantined"] == 0);
}

TEST_CASE("e2e: a Lead that already holds the referral id is linked, not written over") {
  // What a crash between the create and the local commit leaves behind, or what a seller made by hand.
  testing::E2eHarness h;
  auto id = h.add_incoming_lead("Contoso", 5000);
  auto existing = h.sf().insert("Lead", {{"LastName", "Seller's own"},
                                       {"Company", "Contoso"},
                                       {"Status", "Working - Contacted"},
                                       {"Description", "already talking to them"},
                                       {"PartnerCenterReferralId__c", id}});
  auto run = testing::check_once(h);
  INFO(run.output);
  REQUIRE(h.crm_records().size() == 1);
  auto lead = h.sf().record("Lead", existing);
  CHECK(lead["LastName"] == "Seller's own");
  CHECK(lead["Status"] == "Working - Contacted");
  CHECK(lead["Description"] == "already talking to them");  // notes: owner crm
  CHECK(lead["AnnualRevenue"] == 5000);                       // deal value: CRM had none
  auto referral = h.pc.referral(id);
  CHECK(referral["externalReferenceId"] == existing);
  CHECK(referral["status"] == "Active");
  CHECK(referral["details"]["notes"] == "already talking to them");
  CHECK_THAT(run.output, Catch::Contains("linked existing Lead " + existing));
}

TEST_CASE("e2e: a Lead deleted in Salesforce unlinks the pair, and the referral is not recreated") {
  testing::E2eHarness h;  // the example mapping says on_crm_delete: unlink
  auto [id, lead_id] = synced_then_deleted_in_salesforce(h, "Contoso");
  h.pc.edit(id, [](json& r) { r["details"]["notes"] = "edited after the delete"; });

  auto run = testing::check_once(h);
  INFO(run.output);
  CHECK_THAT(run.output, Catch::Contains("referral=" + id + " unlinked after Lead " + lead_id + " was deleted"));
  CHECK(h.crm_records().size() == 1);  // no second Lead for the same referral
  CHECK(h.pc.referral(id)["status"] == "New");
  StateStore store(h.dir.file("state/state.db"));
  CHECK_FALSE(store.link_by_pc("pc-sf-leads", id));
  CHECK(store.is_tombstoned("pc-sf-leads", id));
  CHECK(store.audit("pc-sf-leads", 1).at(0).kind == "unlink");

  testing::check_quiet_cycle(h);
}

TEST_CASE("e2e: with on_crm_delete close, a deleted Lead closes its referral as Lost") {
  testing::E2eHarness h;
  h.edit_mapping("on_crm_delete: unlink", "on_crm_delete: close");
  auto id = synced_then_deleted_in_salesforce(h, "Fabrikam").first;

  auto plan = h.cosyncd("plan");
  CHECK_THAT(plan.output, Catch::Contains("close referral as Lost"));
  CHECK(h.pc.referral(id)["status"] == "New");

  h.clear_requests();
  auto run = testing::check_once(h);
  INFO(run.output);
  auto referral = testing::check_referral_status(h, id, "Closed", "Lost");
  CHECK(referral["statusReason"] == "Deleted in CRM");  // Partner Center shows why it was lost
  // One patch carries the three together (Partner Center's JSON Patch, statusReason a string).
  std::vector<json> patches;
  for (const auto& r : h.pc.server().requests())
    if (r.method == "PATCH") patches.push_back(json::parse(r.body));
  REQUIRE(patches.size() == 1);
  auto patched = [&](const std::string& path) {
    for (const auto& op : patches[0])
      if (op["path"] == path) return op["value"];
    return json();
  };
  CHECK(patched("/status") == "Closed");
  CHECK(patched("/substatus") == "Lost");
  CHECK(patched("/statusReason") == "Deleted in CRM");
  CHECK(h.crm_records().size() == 1);
  testing::check_quiet_cycle(h);
}

TEST_CASE("e2e: a mapping's close_reason is the statusReason of a referral closed by a CRM delete") {
  testing::E2eHarness h;
  h.edit_mapping("on_crm_delete: unlink", "on_crm_delete: close\nclose_reason: \"Lead deleted in Salesforce\"");
  auto id = synced_then_deleted_in_salesforce(h, "Fabrikam").first;

  auto run = testing::check_once(h);
  INFO(run.output);
  auto referral = testing::check_referral_status(h, id, "Closed", "Lost");
  CHECK(referral["statusReason"] == "Lead deleted in Salesforce");
}

TEST_CASE("e2e: a write that landed before a crash is known as cosync's own, not as an edit") {
  testing::E2eHarness h;
  auto id = h.add_incoming_lead("Contoso", 1000);
  testing::check_once(h);
  auto lead_id = h.crm_records().at(0)["Id"].get<std::string>();
  // The state a SIGKILL leaves between cosync's Salesforce write (76000) and its commit: the
  // shadow still says 1000, the intent says 76000 went to the CRM.
  {
    StateStore store(h.dir.file("state/state.db"));
    auto link = *store.link_by_pc("pc-sf-leads", id);
    link.pending = {{"deal_value", {{"side", "crm"}, {"value", 76000}}}};
    store.save_link(link);
  }
  h.pc.edit(id, [](json& r) { r["details"]["dealValue"] = 76000; });
  h.sf().edit("Lead", lead_id, {{"AnnualRevenue", 76000}});
  // Then a seller changes the value in Partner Center, and later edits something else on the Lead.
  h.pc.edit(id, [](json& r) { r["details"]["dealValue"] = 25000; });
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  h.sf().edit("Lead", lead_id, {{"Description", "called"}});

  auto run = testing::check_once(h);
  INFO(run.output);
  // deal_value is owner: newest and the Lead changed last, but 76000 was cosync's own write:
  // only Partner Center really changed the field, so its 25000 wins.
  CHECK(h.sf().record("Lead", lead_id)["AnnualRevenue"] == 25000);
  CHECK(h.pc.referral(id)["details"]["dealValue"] == 25000);
}
