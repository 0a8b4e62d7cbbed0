// The engine's last resort per record: a record whose processing throws is quarantined with the
// reason, and the cycle goes on with the others (issue 17 item 1). Under systemd's
// Restart=on-failure an abort would repeat on every cycle and nothing would sync again.
#include <catch2/catch.hpp>

#include "daemon/store/state_store.hpp"
#include "tests/e2e/e2e_harness.hpp"

using namespace cosync;

TEST_CASE("e2e: a record whose processing throws is quarantined with the reason, and the others sync") {
  testing::E2eHarness h;
  auto contoso = h.add_incoming_lead("Contoso");
  REQUIRE(h.cosyncd("once").exit_status == 0);
  auto contoso_lead = h.crm_records().at(0)["Id"].get<std::string>();

  // A seller retypes the referral id on Contoso's Lead: it names a new referral now. The create
  // of that referral is an upsert on the same field, which Salesforce answers with Contoso's
  // Lead, linked to Contoso's referral already: the link cannot be stored (UNIQUE constraint).
  auto fabrikam = h.add_incoming_lead("Fabrikam");
  auto northwind = h.add_incoming_lead("Northwind");
  h.sf().edit("Lead", contoso_lead, {{"PartnerCenterReferralId__c", fabrikam}});

  auto run = h.cosyncd("once");
  INFO(run.output);
  CHECK(run.exit_status == 3);  // something was quarantined; the cycle was not aborted (1)
  CHECK_THAT(run.output, Catch::Contains("record=" + fabrikam + " could not be processed"));
  StateStore store(h.dir.file("state/state.db"));
  REQUIRE(store.is_quarantined("pc-sf-leads", "pc", fabrikam));
  for (const auto& q : store.quarantined())
    if (q.record_id == fabrikam) CHECK_THAT(q.reason, Catch::Contains("UNIQUE constraint failed"));
  CHECK_FALSE(store.link_by_pc("pc-sf-leads", fabrikam));
  // The rest of the cycle went on: the other new referral has its Lead, linked both ways.
  auto link = store.link_by_pc("pc-sf-leads", northwind);
  REQUIRE(link);
  CHECK(h.pc.referral(northwind)["externalReferenceId"] == link->crm_id);
  CHECK(store.link_by_pc("pc-sf-leads", contoso)->crm_id == contoso_lead);
}
