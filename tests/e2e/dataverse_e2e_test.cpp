// End to end against Dynamics 365: the real cosyncd binary, the fake Partner Center and the fake
// Dataverse, through the shipped pc-dataverse-leads mapping. The same scenarios as
// leads_sync_test.cpp, on the second CRM.
#include <catch2/catch.hpp>

#include "tests/e2e/lead_scenarios.hpp"

using namespace cosync;

TEST_CASE("dataverse e2e: a new incoming lead becomes exactly one Dataverse lead, linked both ways") {
  testing::new_lead_becomes_one_linked_crm_lead(testing::Crm::dataverse);
}

TEST_CASE("dataverse e2e: a lead status change moves the referral through a JSON Patch with If-Match") {
  testing::crm_status_change_patches_the_referral(testing::Crm::dataverse);
}

TEST_CASE("dataverse e2e: edits on both sides flow across in one cycle, the CRM write with If-Match") {
  testing::edits_on_both_sides_flow_across(testing::Crm::dataverse);
}

TEST_CASE("dataverse e2e: a lead deleted in Dynamics reaches the engine as a deletion") {
  testing::crm_delete_reaches_the_engine(testing::Crm::dataverse);
}

TEST_CASE("dataverse e2e: check accepts the shipped Dataverse sandbox config") {
  auto run = testing::run_command(std::string(COSYNC_BINARY_DIR) + "/cosyncd check --offline --config " COSYNC_SOURCE_DIR
                                  "/config/examples/sandbox-dataverse.yaml");
  INFO(run.output);
  // The sandbox's secret file is created by scripts/sandbox.sh; without it check names it.
  if (run.exit_status != 0) CHECK_THAT(run.output, Catch::Contains("client_secret_file"));
  else CHECK_THAT(run.output, Catch::Contains("configuration OK"));
}
