// End to end: a 404 for a linked record orphans the link instead of quarantining it. The pair
// keeps its last values, gets no more writes, and a referral that reappears is not paired again.
#include <catch2/catch.hpp>

#include "daemon/store/state_store.hpp"
#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

// The one link of the harness's mapping, after the checks every orphaning must pass.
void check_orphaned(testing::E2eHarness& h, const std::string& referral, const std::string& lead,
                    const testing::CommandResult& run) {
  INFO(run.output);
  CHECK(run.exit_status == 0);  // nothing to retry: the pair is settled as orphaned
  CHECK_THAT(run.output, Catch::Contains("referral=" + referral + " Lead=" + lead + " link orphaned"));
  CHECK_THAT(run.output, Catch::Contains("orphaned=1"));
  CHECK(json::parse(h.cosyncd("quarantine list", "--json").output).empty());

  StateStore store(h.dir.file("state/state.db"));
  auto link = store.link_by_pc("pc-sf-leads", referral);
  REQUIRE(link);
  CHECK(link->orphaned());
  CHECK(link->crm_id == lead);
  CHECK(link->shadow.contains("deal_value"));  // the last known values are kept
  auto audit = store.audit("pc-sf-leads", 1).at(0);
  CHECK(audit.kind == "orphan");
  CHECK(audit.pc_id == referral);
  CHECK(audit.crm_id == lead);

  auto status = json::parse(h.cosyncd("status", "--json").output);
  CHECK(status["mappings"][0]["orphaned"] == 1);
  CHECK_THAT(h.cosyncd("status").output, Catch::Contains("ORPHANED"));

  // Neither side is written for the pair any more, whatever changes on either side.
  h.sf().edit("Lead", lead, {{"Description", "edited after the orphaning"}});
  if (!h.pc.referral(referral).is_null()) h.pc.edit(referral, [](json& r) { r["details"]["notes"] = "too"; });
  testing::check_quiet_cycle(h);
}

}  // namespace

TEST_CASE("e2e: a referral Partner Center no longer has (404 on get) orphans its link, and its return is not paired again") {
  testing::E2eHarness h;
  auto id = h.add_incoming_lead("Contoso");
  testing::check_once(h);
  auto lead = h.crm_records().at(0)["Id"].get<std::string>();

  auto removed = h.pc.referral(id);
  h.pc.remove(id);
  h.sf().edit("Lead", lead, {{"Description", "called them"}});  // a write to PC is due: the get answers 404
  check_orphaned(h, id, lead, h.cosyncd("once"));

  // The referral comes back (without its link field): still no second Lead, no write.
  removed.erase("externalReferenceId");
  h.pc.add_referral(removed);
  testing::check_quiet_cycle(h);
  CHECK(h.crm_records().size() == 1);
}

TEST_CASE("e2e: a referral deleted between cosync's read and its patch (404 on patch) orphans its link") {
  testing::E2eHarness h;
  auto id = h.add_incoming_lead("Fabrikam", 1000);
  testing::check_once(h);
  auto lead = h.crm_records().at(0)["Id"].get<std::string>();

  h.pc.edit(id, [](json& r) { r["details"]["dealValue"] = 2000; });  // pulled this cycle
  h.sf().edit("Lead", lead, {{"Description", "called them"}});          // so a patch follows
  h.pc.interfere_before_next_write(id, nullptr);                      // and finds the referral gone
  check_orphaned(h, id, lead, h.cosyncd("once"));
}

TEST_CASE("e2e: a Lead the CRM no longer has (404 on update) orphans its link") {
  testing::E2eHarness h;
  h.edit_mapping("on_crm_delete: unlink", "on_crm_delete: ignore");  // the delete itself is not acted on
  auto id = h.add_incoming_lead("Northwind", 1000);
  testing::check_once(h);
  auto lead = h.crm_records().at(0)["Id"].get<std::string>();

  h.sf().edit("Lead", lead, {{"IsDeleted", true}});
  h.pc.edit(id, [](json& r) { r["details"]["dealValue"] = 2000; });  // an update of the Lead is due
  check_orphaned(h, id, lead, h.cosyncd("once"));
}
