// Sforce-Query-Options: batchSize=N on every query, so an org with wide records can ask for
// smaller pages; the fake pages by it, as Salesforce does.
#include <catch2/catch.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tests/unit/connector_fixture.hpp"

using namespace cosync;

namespace {

struct QueryOptionsFixture : testing::ConnectorFixture {
  connectors::ObjectSpec spec{"Lead", {"Company"}, "PartnerCenterReferralId__c"};

  connectors::SalesforceOptions options(int batch_size) {
    auto o = sf_options();
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
  // Pulls 450 Leads through a connector asking for `batch_size` a page; the query requests sent.
  std::vector<fakes::FakeRequest> pull_450(int batch_size) {
    add_leads(450);
    connectors::SalesforceConnector sf{client, tokens, options(batch_size), captured.log};
    auto pulled = run(sf.pull(spec, ""));
    REQUIRE(pulled.ok());
    CHECK(pulled->records.size() == 450);
    return queries();
  }
};

}  // namespace

TEST_CASE_METHOD(QueryOptionsFixture, "salesforce_query_options: the configured batch size is sent and pages the pull") {
  auto sent = pull_450(200);
  REQUIRE(sent.size() == 3);  // 200 + 200 + 50
  for (const auto& q : sent) CHECK(q.header("Sforce-Query-Options") == "batchSize=200");
}

TEST_CASE_METHOD(QueryOptionsFixture, "salesforce_query_options: the default asks for 2000 a page") {
  auto sent = pull_450(2000);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].header("Sforce-Query-Options") == "batchSize=2000");
}

TEST_CASE_METHOD(QueryOptionsFixture, "salesforce_query_options: fewer records a page than asked still pages correctly") {
  sf_fake.set_batch_size(100);  // Salesforce may answer with fewer than the batchSize asked for
  CHECK(pull_450(2000).size() == 5);
}

TEST_CASE_METHOD(QueryOptionsFixture,
                 "salesforce_query_options: the next page is requested while the sink works on one, discarded on a stop") {
  add_leads(450);
  connectors::SalesforceConnector sf{client, tokens, options(200), captured.log};
  std::vector<std::size_t> handed;          // records per page handed over
  std::vector<std::size_t> queries_then;    // queries the fake had seen when the sink finished a page
  bool more = true;
  connectors::PageSink sink = [&](connectors::PullPage& page) -> boost::asio::awaitable<bool> {
    handed.push_back(page.records.size());
    // The sink works for a while (a cycle writes the page's records): the next page's query
    // reaches Salesforce meanwhile. Up to 2 s for a slow host; the last page has no next.
    bool last = handed.size() == 3;
    auto ex = co_await boost::asio::this_coro::executor;  // named first (GCC 12)
    boost::asio::steady_timer timer(ex);
    for (int i = 0; !last && i < 200 && queries().size() <= handed.size(); ++i) {
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    queries_then.push_back(queries().size());
    co_return more;
  };
  auto cursor = run(sf.pull_pages(spec, "", sink));
  REQUIRE(cursor.ok());
  CHECK(handed == std::vector<std::size_t>{200, 200, 50});
  CHECK(queries_then == std::vector<std::size_t>{2, 3, 3});

  // A stop: the page read ahead is discarded, never handed over.
  sf_fake.server().clear_requests();
  handed.clear();
  queries_then.clear();
  more = false;
  auto stopped = run(sf.pull_pages(spec, "", sink));
  CHECK_FALSE(stopped.ok());
  CHECK(queries().size() == 2);
  CHECK(handed == std::vector<std::size_t>{200});
}
