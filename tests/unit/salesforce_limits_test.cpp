// Salesforce API limits: Sforce-Limit-Info read on every response, non-essential calls stopped
// at a share of the daily allowance, and a pause (without hammering) after REQUEST_LIMIT_EXCEEDED.
#include <catch2/catch.hpp>

#include "tests/unit/connector_fixture.hpp"
#include "tests/unit/failure_checks.hpp"

using namespace cosync;
using namespace std::chrono_literals;

namespace {

struct LimitsFixture : testing::ConnectorFixture {
  fakes::FakeSalesforce small_org{small_options()};
  connectors::SalesforceConnector sf{client, tokens, options(), captured.log};
  connectors::ObjectSpec spec{"Lead", {"Company"}, "PartnerCenterReferralId__c"};

  fakes::FakeSalesforceOptions small_options() {
    auto o = testing::fake_options<fakes::FakeSalesforceOptions>(clock, token_server.validator());
    o.daily_api_limit = 10;  // 80 % of it is 8 requests
    return o;
  }
  connectors::SalesforceOptions options() {
    connectors::SalesforceOptions o;
    o.instance_url = small_org.base_url();
    o.clock = &clock;
    o.limit_pause = std::chrono::minutes(15);
    return o;
  }
  std::size_t requests() { return small_org.server().requests().size(); }
};

}  // namespace

TEST_CASE("salesforce_limits: Sforce-Limit-Info is parsed as the docs show it") {
  auto u = connectors::parse_limit_info("api-usage=18/5000");
  REQUIRE(u);
  CHECK(u->used == 18);
  CHECK(u->limit == 5000);
  auto both = connectors::parse_limit_info("per-app-api-usage=17/250(appName=sample-connected-app); api-usage=25/5000");
  REQUIRE(both);
  CHECK(both->used == 25);
  CHECK(both->limit == 5000);
  auto first = connectors::parse_limit_info("api-usage=25/5000; per-app-api-usage=17/250(appName=x)");
  REQUIRE(first);
  CHECK(first->used == 25);
  CHECK_FALSE(connectors::parse_limit_info(""));
  CHECK_FALSE(connectors::parse_limit_info("api-usage=12"));
  CHECK_FALSE(connectors::parse_limit_info("api-usage=a/b"));
}

TEST_CASE_METHOD(LimitsFixture, "salesforce_limits: usage is exposed and pulls stop at 80 % while writes go on") {
  auto id = small_org.insert("Lead", {{"LastName", "L"}, {"Company", "C"}, {"PartnerCenterReferralId__c", "ref-1"}});
  CHECK(sf.api_usage().empty());
  auto first = run(sf.pull(spec, ""));
  REQUIRE(first.ok());
  CHECK(sf.api_usage() == "1/10");
  for (int i = 0; i < 6; ++i) REQUIRE(run(sf.pull(spec, "")).ok());
  CHECK(sf.api_usage() == "7/10");
  REQUIRE(run(sf.pull(spec, "")).ok());  // the 8th request: 80 % reached
  CHECK(sf.api_usage() == "8/10");
  CHECK_THAT(*captured.text, Catch::Contains("api-usage=8/10 reached 80%"));

  auto before = requests();
  auto stopped = run(sf.pull(spec, ""));
  REQUIRE_FALSE(stopped.ok());
  CHECK(stopped.failure().kind == FailureKind::transient);
  CHECK_THAT(stopped.failure().message, Catch::Contains("non-essential calls stopped"));
  CHECK(requests() == before);  // nothing sent

  // Writes of work already pulled are essential and still go out.
  std::vector<connectors::UpdateRequest> updates(1);
  updates[0].current = first->records.at(0);
  updates[0].changes = {{"Company", "Written anyway"}};
  auto written = run(sf.update_many(spec, updates));
  REQUIRE(written.size() == 1);
  INFO(testing::describe(written[0]));
  CHECK(written[0].ok());
  CHECK(small_org.record("Lead", id)["Company"] == "Written anyway");

  // After the pause one probe goes through (and learns the usage again), then it stops again.
  clock.advance(16min);
  before = requests();
  run(sf.pull(spec, ""));
  CHECK(requests() == before + 1);
  run(sf.pull(spec, ""));
  CHECK(requests() == before + 1);
}

TEST_CASE_METHOD(LimitsFixture, "salesforce_limits: REQUEST_LIMIT_EXCEEDED pauses the connection with one log line") {
  small_org.insert("Lead", {{"LastName", "L"}, {"Company", "C"}, {"PartnerCenterReferralId__c", "ref-1"}});
  small_org.fail_next(1, 403);  // the fake answers [{"errorCode":"REQUEST_LIMIT_EXCEEDED",...}]
  auto res = run(sf.pull(spec, ""));
  REQUIRE_FALSE(res.ok());
  CHECK(res.failure().kind == FailureKind::transient);  // retried next cycle, not quarantined
  CHECK_THAT(res.failure().message, Catch::Contains("REQUEST_LIMIT_EXCEEDED"));
  auto sent = requests();
  for (int i = 0; i < 5; ++i) {
    auto again = run(sf.pull(spec, ""));
    testing::check_fails_with(again, "paused until");
    auto get = run(sf.get(spec, "00Q000000000000AAA"));
    REQUIRE_FALSE(get.ok());
  }
  CHECK(requests() == sent);  // no hammering
  std::string log = *captured.text;
  std::size_t lines = 0;
  for (auto at = log.find("REQUEST_LIMIT_EXCEEDED (api-usage"); at != std::string::npos;
       at = log.find("REQUEST_LIMIT_EXCEEDED (api-usage", at + 1))
    ++lines;
  CHECK(lines == 1);

  clock.advance(16min);
  auto recovered = run(sf.pull(spec, ""));
  INFO(testing::describe(recovered));
  CHECK(recovered.ok());
}
