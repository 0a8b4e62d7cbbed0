// The close a CRM delete triggers (on_crm_delete: close) goes through Prism with Microsoft's
// published contract, so status, substatus and statusReason are checked against it, not only
// against the fake. Skipped (and reported so) where the specs or Prism are missing.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/prism.hpp"

using namespace cosync;

TEST_CASE("partner center contract: closing a referral after a CRM delete sends a valid statusReason",
          "[contract][e2e]") {
  if (testing::skipped_without_contract_check()) return;
  unsigned short port = testing::free_loopback_port();
  testing::E2eHarness h(testing::Crm::salesforce, "", "http://127.0.0.1:" + std::to_string(port));
  testing::PrismProxy prism(testing::partner_center_contract_path(), h.pc.base_url(), port, h.dir.file("prism.log"));
  INFO(prism.output());
  REQUIRE(prism.ready());
  h.edit_mapping("on_crm_delete: unlink", "on_crm_delete: close");
  auto id = h.add_incoming_lead("Fabrikam");
  testing::check_once(h);
  h.sf().edit("Lead", h.crm_records().at(0)["Id"].get<std::string>(), {{"IsDeleted", true}});

  h.pc.server().clear_requests();
  auto run = testing::check_once(h);
  INFO(run.output);
  CHECK(run.output.find("answered 422") == std::string::npos);
  CHECK(h.pc.server().count("PATCH") == 1);  // Prism let it through to the fake
  CHECK(h.pc.referral(id)["statusReason"] == "Deleted in CRM");
}
