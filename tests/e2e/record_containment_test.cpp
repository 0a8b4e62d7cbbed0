// A seller retypes the referral id on a linked Lead to another referral's id. The link table pairs
// them, so the field is restored; the other referral's create (an upsert on that same field) waits
// a cycle instead of landing on the retyped Lead (DESIGN invariants 1 and 2). Before, the upsert
// overwrote the Lead and the link could not be stored. (A record whose handling throws is
// quarantined while the others sync: tests/engine/pairing_test.cpp.)
#include <catch2/catch.hpp>

#include "daemon/store/state_store.hpp"
#include "tests/e2e/e2e_harness.hpp"

using namespace cosync;

TEST_CASE("e2e: a referral id retyped on a linked Lead is restored, and nothing is written over it") {
  testing::E2eHarness h;
  auto contoso = h.add_incoming_lead("Contoso");
  REQUIRE(h.cosyncd("once").exit_status == 0);
  auto contoso_lead = h.crm_records().at(0)["Id"].get<std::string>();

  auto fabrikam = h.add_incoming_lead("Fabrikam");
  auto northwind = h.add_incoming_lead("Northwind");
  h.sf().edit("Lead", contoso_lead, {{"PartnerCenterReferralId__c", fabrikam}});

  auto run = h.cosyncd("once");
  INFO(run.output);
  CHECK(run.exit_status == 1);  // Fabrikam waits for the next cycle: not done, so not 0
  CHECK_THAT(run.output, Catch::Contains("was changed to " + fabrikam + ": restored"));
  auto lead = h.sf().record("Lead", contoso_lead);
  CHECK(lead["PartnerCenterReferralId__c"] == contoso);
  CHECK(lead["Company"] == "Contoso");
  {
    StateStore store(h.dir.file("state/state.db"));
    CHECK_FALSE(store.link_by_pc("pc-sf-leads", fabrikam));
    CHECK_FALSE(store.is_quarantined("pc-sf-leads", "pc", fabrikam));
    // The rest of the cycle went on: the other new referral has its Lead, linked both ways.
    auto link = store.link_by_pc("pc-sf-leads", northwind);
    REQUIRE(link);
    CHECK(h.pc.referral(northwind)["externalReferenceId"] == link->crm_id);
  }

  run = h.cosyncd("once");
  INFO(run.output);
  CHECK(run.exit_status == 0);
  StateStore store(h.dir.file("state/state.db"));
  auto link = store.link_by_pc("pc-sf-leads", fabrikam);
  REQUIRE(link);
  CHECK(link->crm_id != contoso_lead);
  CHECK(h.sf().record("Lead", link->crm_id)["Company"] == "Fabrikam");
  CHECK(h.sf().record("Lead", contoso_lead)["Company"] == "Contoso");
  CHECK(store.link_by_pc("pc-sf-leads", contoso)->crm_id == contoso_lead);
}
