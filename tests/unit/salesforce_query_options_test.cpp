// Sforce-Query-Options: batchSize=N on every query, so an org with wide records can ask for
// smaller pages; the fake pages by it, as Salesforce does.
#include <catch2/catch.hpp>

#include "tests/unit/connector_fixture.hpp"

using namespace cosync;

namespace {

struct QueryOptionsFixture : testing::ConnectorFixture {
  connectors::ObjectSpec spec{"Lead", {"Company"}, "PartnerCenterReferralId__c"};

  connectors::SalesforceOptions options(int batch_size) {
    connectors::SalesforceOptions o;
    o.instance_url = sf_fake.base_url();
    o.clock = &clock;
    o.query_batch_size = batch_size;
    return o;
  }
  void add_leads(int n) {
    for (int i = 0; i < n; ++i)
      sf_fake.insert("Lead", {{"LastName", "L"}, {"Company", "C" + std::to_string(i)},
                              {"PartnerCenterReferralId__c", "ref-" + std::to_string(i)}});
  }
  std::vector<fakes::FakeRequest> queries() {
    std::vector<fakes::FakeRequest> out;
    for (const auto& r : sf_fake.server().requests())
      if (r.path.find("/query") != std::string::npos) out.push_back(r);
    return out;
  }
};

}  // namespace

TEST_CASE_METHOD(QueryOptionsFixture, "salesforce_query_options: the configured batch size is sent and pages the pull") {
  add_leads(450);
  connectors::SalesforceConnector sf{client, tokens, options(200), captured.log};
  auto pulled = run(sf.pull(spec, ""));
  REQUIRE(pulled.ok());
  CHECK(pulled->records.size() == 450);
  auto sent = queries();
  REQUIRE(sent.size() == 3);  // 200 + 200 + 50
  for (const auto& q : sent) CHECK(q.header("Sforce-Query-Options") == "batchSize=200");
}

TEST_CASE_METHOD(QueryOptionsFixture, "salesforce_query_options: the default asks for 2000 a page") {
  add_leads(450);
  connectors::SalesforceConnector sf{client, tokens, options(2000), captured.log};
  auto pulled = run(sf.pull(spec, ""));
  REQUIRE(pulled.ok());
  CHECK(pulled->records.size() == 450);
  auto sent = queries();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].header("Sforce-Query-Options") == "batchSize=2000");
}

TEST_CASE_METHOD(QueryOptionsFixture, "salesforce_query_options: fewer records a page than asked still pages correctly") {
  add_leads(450);
  sf_fake.set_batch_size(100);  // Salesforce may answer with fewer than the batchSize asked for
  connectors::SalesforceConnector sf{client, tokens, options(2000), captured.log};
  auto pulled = run(sf.pull(spec, ""));
  REQUIRE(pulled.ok());
  CHECK(pulled->records.size() == 450);
  CHECK(queries().size() == 5);
}
