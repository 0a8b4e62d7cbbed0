// Contract check: every Partner Center operation cosync uses goes through Prism (proxy mode,
// --errors) in front of the fake, validated against Microsoft's published Swagger
// (../shared/specs/partner-center-referrals.contract.swagger.json). A request the contract
// rejects comes back 422 from Prism and fails the test. Without the specs or Prism the tests
// report themselves skipped (CTest shows them as skipped through SKIP_REGULAR_EXPRESSION).
#include <catch2/catch.hpp>

#include <iostream>

#include "daemon/util/time.hpp"
#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/prism.hpp"
#include "tests/unit/connector_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

void report_skipped(const std::string& why) {
  std::string line = "COSYNC-TEST-SKIPPED: Partner Center contract check skipped: " + why;
  WARN(line);
  std::cout << line << std::endl;
}

template <class T>
void expect_accepted(const std::string& operation, const Expected<T>& result, int& checked) {
  INFO(operation << ": " << testing::describe(result));
  if (!result.ok()) CHECK(result.failure().http_status != 422);  // 422: the contract rejected the request
  CHECK(result.ok());
  ++checked;
}

}  // namespace

TEST_CASE("partner center contract: every connector operation passes Prism validation", "[contract]") {
  if (auto why = testing::contract_check_unavailable(); !why.empty()) return report_skipped(why);

  ManualClock clock{std::chrono::system_clock::now()};
  fakes::FakeTokenServer token_server{testing::fake_options<fakes::FakeTokenServerOptions>(clock)};
  token_server.add_client("id", "secret");
  unsigned short port = testing::free_loopback_port();
  auto pc_options = testing::fake_options<fakes::FakePartnerCenterOptions>(clock, token_server.validator());
  pc_options.public_base_url = "http://127.0.0.1:" + std::to_string(port);  // nextLinks lead through Prism
  pc_options.page_size = 2;  // several pages, so that nextLinks are followed through Prism
  fakes::FakePartnerCenter pc_fake{pc_options};
  testing::TempDir dir;
  testing::PrismProxy prism(testing::partner_center_contract_path(), pc_fake.base_url(), port, dir.file("prism.log"));
  INFO(prism.output());
  REQUIRE(prism.ready());
  std::cout << "contract: Prism ready in " << prism.startup_time().count() << " ms" << std::endl;

  boost::asio::io_context io;
  auto captured = make_capturing_logger();
  http::HttpClient client{io.get_executor(), testing::fast_http_options(), captured.log};
  auth::ClientCredentialsProvider tokens{client, {token_server.url(), "id", "secret", "", std::chrono::hours(1)},
                                         clock, captured.log, "test"};
  connectors::PartnerCenterOptions options;
  options.base_url = prism.url();
  connectors::PartnerCenterConnector pc{client, tokens, options, captured.log};
  connectors::ObjectSpec spec{"referrals", {}, "externalReferenceId"};
  auto run = [&](auto task) { return testing::run_async(io, std::move(task)); };

  std::vector<std::string> incoming;
  for (int i = 0; i < 4; ++i) {
    incoming.push_back(pc_fake.add_referral({{"customerProfile", {{"name", "Customer " + std::to_string(i)}}}}));
    clock.advance(1s);
  }
  auto won = pc_fake.add_referral({{"status", "Closed"}, {"substatus", "Won"}, {"type", "Shared"},
                                   {"direction", "Outgoing"}, {"customerProfile", {{"name", "Won deal"}}}});
  clock.advance(1s);
  int checked = 0;

  // list, every page
  auto all = run(pc.pull(spec, ""));
  expect_accepted("GET /referrals (paged)", all, checked);
  REQUIRE(all.ok());
  CHECK(all->records.size() == 5);
  CHECK(pc_fake.server().count("GET") >= 3);

  // get one
  auto one = run(pc.get(spec, incoming[0]));
  expect_accepted("GET /referrals/{id}", one, checked);
  REQUIRE(one.ok());

  // patch: accept, with notes and value
  auto accepted = run(pc.update(spec, *one, {{"status", "Active"}, {"substatus", "Accepted"},
                                            {"details.notes", "accepted by cosync"}, {"details.dealValue", 1200.5},
                                            {"externalReferenceId", "00Q000000000001"}}));
  expect_accepted("PATCH /referrals/{id}", accepted, checked);

  // create for co-sell sharing, then the same create again: found by externalReferenceId
  std::vector<connectors::FieldChange> share = {
      {"name", "Contoso | Azure migration | EMEA | 006000000000042"},
      {"type", "Shared"},
      {"qualification", "SalesQualified"},
      {"customerProfile.name", "Contoso"},
      {"customerProfile.address.country", "DE"},
      {"customerProfile.size", "51to250employees"},
      {"consent.consentToShareReferralWithMicrosoftSellers", true},
      {"details.dealValue", 50000},
      {"details.currency", "EUR"},
      {"details.notes", "Customer consented to share with Microsoft"},
      {"details.closingDateTime", format_iso8601(clock.now() + std::chrono::days(60))},
      {"inviteContext.notes", "Help with the architecture"},
      {"inviteContext.assistanceRequestCode", "CustomerTechnicalArchitecture"},
      {"statusReason", json()},  // nulls are dropped, never sent
  };
  auto created = run(pc.upsert(spec, "006000000000042", share));
  expect_accepted("POST /referrals", created, checked);
  auto again = run(pc.upsert(spec, "006000000000042", share));
  expect_accepted("GET /referrals?$filter=externalReferenceId eq ...", again, checked);
  CHECK(pc_fake.server().count("POST") == 1);
  if (created.ok() && again.ok()) CHECK(again->id == created->id);

  // deal registration: add, then replace
  auto won_record = run(pc.get(spec, won));
  REQUIRE(won_record.ok());
  json registration = {{"type", "AzureIPCoSell"},
                       {"contract",
                        {{"currency", "USD"},
                         {"value", 48000},
                         {"term", "Finite"},
                         {"signDateTime", format_iso8601(clock.now())},
                         {"startDateTime", format_iso8601(clock.now())},
                         {"endDateTime", format_iso8601(clock.now() + std::chrono::days(365))}}},
                       {"solutionDetails",
                        json::array({{{"id", "solution-1"},
                                      {"currency", "USD"},
                                      {"value", 48000},
                                      {"isDeployedOnAzure", true},
                                      {"primaryDeploymentOn", "Customer"},
                                      {"pricingModel", "PayAsYouGo"}}})}};
  auto registered = run(pc.add_deal_registration(*won_record, registration));
  expect_accepted("PATCH add /registrations/-", registered, checked);
  REQUIRE(registered.ok());
  auto revised = run(pc.update_deal_registration(
      *registered, {{"registrations.0.contract.value", 52000}, {"registrations.0.solutionDetails.0.value", 52000}}));
  expect_accepted("PATCH replace /registrations/0/...", revised, checked);

  // incremental list from the cursor
  auto changed = run(pc.pull(spec, all->cursor));
  expect_accepted("GET /referrals (incremental)", changed, checked);

  // Every request reached the fake (Prism forwarded it), none was answered 422.
  CHECK(captured.text->find("answered 422") == std::string::npos);
  std::cout << "contract: " << checked << " Partner Center operations checked by Prism, "
            << pc_fake.server().requests().size() << " requests forwarded" << std::endl;

  SECTION("a request the contract forbids is answered 422 and never reaches Partner Center") {
    pc_fake.server().clear_requests();
    auto token = run(tokens.access_token());
    REQUIRE(token.ok());
    auto current = pc_fake.referral(incoming[1]);
    http::Request bad{http::Method::patch,
                      prism.url() + "/referrals/" + incoming[1],
                      {{"Authorization", "Bearer " + *token},
                       {"Content-Type", "application/json"},
                       {"If-Match", current["eTag"].get<std::string>()}},
                      R"([{"op":"replace","path":"/customerProfile/name","value":"Renamed"}])",
                      {},
                      {}};
    auto res = run(client.send(std::move(bad)));
    REQUIRE(res.ok());
    CHECK(res->status == 422);
    CHECK(pc_fake.server().count("PATCH") == 0);
  }
}

TEST_CASE("partner center contract: cosyncd once through Prism sends only valid requests", "[contract][e2e]") {
  if (auto why = testing::contract_check_unavailable(); !why.empty()) return report_skipped(why);

  unsigned short port = testing::free_loopback_port();
  testing::E2eHarness h(testing::Crm::salesforce, "", "http://127.0.0.1:" + std::to_string(port));
  testing::PrismProxy prism(testing::partner_center_contract_path(), h.pc.base_url(), port, h.dir.file("prism.log"));
  INFO(prism.output());
  REQUIRE(prism.ready());

  auto first = h.add_incoming_lead("Contoso");
  h.add_incoming_lead("Fabrikam");
  auto run = testing::check_once(h);
  INFO(run.output);
  CHECK(h.crm_records().size() == 2);
  CHECK(run.output.find("answered 422") == std::string::npos);
  CHECK(h.pc.server().count("PATCH") == 2);  // externalReferenceId on each referral, through Prism

  auto leads = h.crm_records();
  for (const auto& lead : leads)
    if (lead.value("PartnerCenterReferralId__c", "") == first)
      h.sf().edit("Lead", lead["Id"], {{"Status", "Working - Contacted"}});
  auto second = testing::check_once(h);
  INFO(second.output);
  CHECK(second.output.find("answered 422") == std::string::npos);
  CHECK(h.pc.referral(first)["status"] == "Active");
}
