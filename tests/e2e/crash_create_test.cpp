// End to end: cosyncd killed while its create is in flight. The Lead is created all the same, the
// link is not; the next run must link it knowing the values it sent as its own. Without them the
// pair had no shadow, the first-sync rule let the field's owner (crm) decide, and a seller's edit
// in Partner Center made in between was overwritten by the value cosync had created the Lead with.
#include <catch2/catch.hpp>
#include <signal.h>

#include <thread>

#include "daemon/store/state_store.hpp"
#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

// Runs cosyncd with every answer of `server` 800 ms late and SIGKILLs it as soon as its first
// PATCH reaches `server`: the fake still carries that PATCH out, the daemon never learns it.
void kill_during_first_patch(testing::E2eHarness& h, fakes::HttpTestServer& server) {
  server.delay_next(100, 800);
  auto daemon = h.start_daemon();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (server.count("PATCH") == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(server.count("PATCH") == 1);
  daemon->signal(SIGKILL);
  daemon->wait_exit(std::chrono::seconds(5));
  server.delay_next(0, 0);
}

}  // namespace

TEST_CASE("e2e: a create whose link a SIGKILL lost is linked with its sent values as the shadow") {
  testing::E2eHarness h;  // notes: owner crm
  auto id = h.add_incoming_lead("Contoso", 1000);
  kill_during_first_patch(h, h.sf().server());  // the create (upsert) is on its way
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (h.crm_records().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(h.crm_records().size() == 1);  // the fake created it after the daemon died
  auto lead = h.crm_records()[0]["Id"].get<std::string>();
  {
    StateStore store(h.dir.file("state/state.db"));
    REQUIRE_FALSE(store.link_by_pc("pc-sf-leads", id));
  }

  // A seller edits the referral before the next run: only Partner Center changed the fields.
  h.pc.edit(id, [](json& r) {
    r["details"]["notes"] = "customer wants a demo";
    r["details"]["dealValue"] = 5000;
  });
  auto run = testing::check_once(h);
  INFO(run.output);
  CHECK_THAT(run.output, Catch::Contains("linked existing Lead " + lead));
  CHECK(h.crm_records().size() == 1);
  CHECK(h.sf().record("Lead", lead)["Description"] == "customer wants a demo");
  CHECK(h.sf().record("Lead", lead)["AnnualRevenue"] == 5000);
  CHECK(h.pc.referral(id)["details"]["notes"] == "customer wants a demo");
  CHECK(h.pc.referral(id)["externalReferenceId"] == lead);
}

TEST_CASE("e2e: a create whose merge a SIGKILL cut short keeps the created values as the shadow") {
  testing::E2eHarness h;  // notes: owner crm
  auto id = h.add_incoming_lead("Fabrikam", 1000);
  // The Lead is created and linked; the kill comes while the referral's link field is patched,
  // before the cycle commits the pair's merge.
  kill_during_first_patch(h, h.pc.server());
  REQUIRE(h.crm_records().size() == 1);
  auto lead = h.crm_records()[0]["Id"].get<std::string>();
  {
    StateStore store(h.dir.file("state/state.db"));
    REQUIRE(store.link_by_pc("pc-sf-leads", id));
  }

  h.pc.edit(id, [](json& r) { r["details"]["notes"] = "customer wants a demo"; });
  auto run = testing::check_once(h);
  INFO(run.output);
  CHECK(h.sf().record("Lead", lead)["Description"] == "customer wants a demo");
  CHECK(h.pc.referral(id)["details"]["notes"] == "customer wants a demo");
}
