// End to end against Dynamics 365: the real cosyncd binary, the fake Partner Center and the fake
// Dataverse, through the shipped pc-dataverse-leads mapping. The same scenarios as
// leads_sync_test.cpp, on the second CRM.
#include <catch2/catch.hpp>

#include "tests/e2e/dataverse_harness.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

const json* find_lead_for(const std::vector<json>& leads, const std::string& referral_id) {
  for (const auto& l : leads)
    if (l.value("cosync_referralid", "") == referral_id) return &l;
  return nullptr;
}

std::vector<fakes::FakeRequest> requests_of(fakes::HttpTestServer& server, const std::string& method) {
  std::vector<fakes::FakeRequest> out;
  for (auto& r : server.requests())
    if (r.method == method) out.push_back(r);
  return out;
}

}  // namespace

TEST_CASE("dataverse e2e: a new incoming lead becomes exactly one Dataverse lead, linked both ways") {
  testing::DataverseHarness h;
  auto id = h.add_incoming_lead("Contoso");
  auto outgoing = h.pc.add_referral({{"direction", "Outgoing"}, {"customerProfile", {{"name", "Not ours"}}}});

  auto run = h.cosyncd("once");
  INFO(run.output);
  REQUIRE(run.exit_status == 0);

  auto leads = h.leads();
  REQUIRE(leads.size() == 1);
  const auto& lead = leads[0];
  CHECK(lead["lastname"] == "[MSFT] Contoso");
  CHECK(lead["subject"] == "Microsoft referral: Contoso");
  CHECK(lead["companyname"] == "Contoso");
  CHECK(lead["address1_country"] == "US");
  CHECK(lead["revenue"] == 25000);
  CHECK(lead["statuscode"] == 1);
  CHECK(lead["statecode"] == 0);
  CHECK(lead["cosync_referralid"] == id);
  CHECK(h.pc.referral(id)["externalReferenceId"] == lead["leadid"]);
  CHECK_FALSE(h.pc.referral(outgoing).contains("externalReferenceId"));
  // Created by an upsert on the alternate key, inside a $batch change set.
  auto batches = requests_of(h.dv.server(), "POST");
  REQUIRE(batches.size() == 1);
  CHECK(batches[0].path == "/api/data/v9.2/$batch");
  CHECK_THAT(batches[0].body, Catch::Contains("PATCH " + h.dv.base_url() + "/api/data/v9.2/leads(cosync_referralid='" +
                                              id + "')"));
  CHECK_THAT(run.output, Catch::Contains("cycle mapping=pc-dataverse-leads result=ok"));
  CHECK_THAT(run.output, Catch::Contains("created=1"));

  SECTION("running again creates nothing and writes nothing") {
    h.clear_requests();
    auto again = h.cosyncd("once");
    INFO(again.output);
    CHECK(again.exit_status == 0);
    CHECK(h.leads().size() == 1);
    CHECK(h.write_calls() == 0);
    // The stored delta link is followed: one GET on the leads set, with $deltatoken (besides
    // the table definition, read once per run).
    std::vector<fakes::FakeRequest> gets;
    for (auto& g : requests_of(h.dv.server(), "GET"))
      if (g.path == "/api/data/v9.2/leads") gets.push_back(g);
    REQUIRE(gets.size() == 1);
    CHECK_FALSE(gets[0].param("$deltatoken").empty());
  }
}

TEST_CASE("dataverse e2e: a lead status change moves the referral through a JSON Patch with If-Match") {
  testing::DataverseHarness h;
  auto id = h.add_incoming_lead("Fabrikam");
  REQUIRE(h.cosyncd("once").exit_status == 0);
  auto leads = h.leads();
  auto lead = find_lead_for(leads, id);
  REQUIRE(lead);
  int writes_after_create = h.dv.writes();

  h.dv.edit("leads", (*lead)["leadid"], {{"statuscode", 2}});  // Contacted
  std::string etag_before = h.pc.referral(id)["eTag"];
  h.clear_requests();
  auto run = h.cosyncd("once");
  INFO(run.output);
  REQUIRE(run.exit_status == 0);

  auto referral = h.pc.referral(id);
  CHECK(referral["status"] == "Active");
  CHECK(referral["substatus"] == "Accepted");
  auto patches = requests_of(h.pc.server(), "PATCH");
  REQUIRE(patches.size() == 1);
  CHECK(patches[0].path == "/referrals/" + id);
  CHECK(patches[0].header("If-Match") == etag_before);
  CHECK(json::parse(patches[0].body) == json::parse(R"([{"op":"replace","path":"/status","value":"Active"},
                                                       {"op":"replace","path":"/substatus","value":"Accepted"}])"));
  CHECK(h.dv.writes() == writes_after_create);  // nothing echoed back to Dataverse

  SECTION("and the next cycle is quiet") {
    h.clear_requests();
    REQUIRE(h.cosyncd("once").exit_status == 0);
    CHECK(h.write_calls() == 0);
  }
}

TEST_CASE("dataverse e2e: edits on both sides flow across in one cycle, the CRM write with If-Match") {
  testing::DataverseHarness h;
  auto id = h.add_incoming_lead("Northwind", 1000);
  REQUIRE(h.cosyncd("once").exit_status == 0);
  auto leads = h.leads();
  REQUIRE(find_lead_for(leads, id));
  auto lead_id = (*find_lead_for(leads, id))["leadid"].get<std::string>();

  h.pc.edit(id, [](json& r) { r["details"]["dealValue"] = 5000; });
  h.dv.edit("leads", lead_id, {{"statuscode", 2}, {"description", "called the customer"}});
  auto etag = "W/\"" + std::to_string(h.dv.row("leads", lead_id)["versionnumber"].get<long>()) + "\"";
  h.clear_requests();
  auto run = h.cosyncd("once");
  INFO(run.output);
  CHECK(run.exit_status == 0);
  CHECK(h.dv.row("leads", lead_id)["revenue"] == 5000);
  auto referral = h.pc.referral(id);
  CHECK(referral["status"] == "Active");
  CHECK(referral["details"]["notes"] == "called the customer");
  auto batches = requests_of(h.dv.server(), "POST");
  REQUIRE(batches.size() == 1);
  CHECK_THAT(batches[0].body, Catch::Contains("If-Match: " + etag));
  CHECK_THAT(batches[0].body, Catch::Contains(R"({"revenue":5000})"));

  h.clear_requests();
  REQUIRE(h.cosyncd("once").exit_status == 0);
  CHECK(h.write_calls() == 0);
}

TEST_CASE("dataverse e2e: a lead deleted in Dynamics reaches the engine as a deletion") {
  testing::DataverseHarness h;
  auto id = h.add_incoming_lead("Adatum");
  REQUIRE(h.cosyncd("once").exit_status == 0);
  auto leads = h.leads();
  REQUIRE(find_lead_for(leads, id));
  auto lead_id = (*find_lead_for(leads, id))["leadid"].get<std::string>();
  h.dv.remove("leads", lead_id);
  h.clear_requests();
  auto run = h.cosyncd("once");
  INFO(run.output);
  CHECK(run.exit_status == 0);
  CHECK_THAT(run.output, Catch::Contains("leads " + lead_id + " was deleted in dataverse (linked to referral " + id + ")"));
  CHECK(h.write_calls() == 0);
}

TEST_CASE("dataverse e2e: check accepts the shipped Dataverse sandbox config") {
  auto run = testing::run_command(std::string(COSYNC_BINARY_DIR) + "/cosyncd check --offline --config " COSYNC_SOURCE_DIR
                                  "/config/examples/sandbox-dataverse.yaml");
  INFO(run.output);
  // The sandbox's secret file is created by scripts/sandbox.sh; without it check names it.
  if (run.exit_status != 0) CHECK_THAT(run.output, Catch::Contains("client_secret_file"));
  else CHECK_THAT(run.output, Catch::Contains("configuration OK"));
}
