// Pages that shift while the connector reads them. Partner Center lists referrals newest first;
// when a referral is updated between two page requests, the listing moves under the reader and
// the next page can repeat a referral already read, at the same eTag or at a newer one. A
// scripted server serves exactly such pages, since the fake's offset paging cannot be shifted
// at a chosen moment.
#include <catch2/catch.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/util/time.hpp"
#include "tests/unit/connector_fixture.hpp"
#include "tests/unit/referral_json.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Serves `pages` in order: page i links to page i+1 with a relative nextLink, as the API may.
struct ScriptedPages {
  std::vector<json> pages;
  fakes::HttpTestServer server{[this](const fakes::FakeRequest& r) {
    std::size_t index = r.param("$skiptoken").empty() ? 0 : std::stoul(r.param("$skiptoken"));
    json body = {{"value", index < pages.size() ? pages[index] : json::array()}};
    if (index + 1 < pages.size()) body["@odata.nextLink"] = "referrals?$skiptoken=" + std::to_string(index + 1);
    return fakes::FakeResponse::json(200, body);
  }};
};

struct ShiftFixture : testing::ConnectorFixture {
  ScriptedPages scripted;
  connectors::PartnerCenterConnector pc{client, tokens, options(), captured.log};
  connectors::ObjectSpec spec{"referrals", {}, "externalReferenceId"};

  connectors::PartnerCenterOptions options() {
    connectors::PartnerCenterOptions o;
    o.base_url = scripted.server.base_url();
    return o;
  }

  const connectors::RemoteRecord* find(const connectors::PullResult& result, const std::string& id) {
    const connectors::RemoteRecord* found = nullptr;
    for (const auto& r : result.records) {
      if (r.id != id) continue;
      CHECK(found == nullptr);  // at most once
      found = &r;
    }
    return found;
  }
};

}  // namespace

TEST_CASE_METHOD(ShiftFixture, "partner center: a referral repeated by a shifted page is kept once, at its newer eTag") {
  TimePoint t = clock.now();
  scripted.pages = {
      json::array({testing::referral_at("a", "\"a1\"", t - 1min), testing::referral_at("b", "\"b1\"", t - 2min)}),
      // b was updated between the two requests and the listing shifted: b again, newer.
      json::array({testing::referral_at("b", "\"b2\"", t), testing::referral_at("c", "\"c1\"", t - 3min)}),
      // and a repeated at the eTag already read.
      json::array({testing::referral_at("a", "\"a1\"", t - 1min)}),
  };

  auto result = run(pc.pull(spec, ""));
  INFO(testing::describe(result));
  REQUIRE(result.ok());
  CHECK(scripted.server.requests().size() == 3);  // every relative nextLink followed
  CHECK(result->records.size() == 3);
  const auto* a = find(*result, "a");
  const auto* b = find(*result, "b");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->version == "\"a1\"");
  CHECK(b->version == "\"b2\"");
  CHECK(b->fields["updatedDateTime"] == format_iso8601(t));
  CHECK(find(*result, "c"));
  // This server sends no Date header: the cursor falls back to the newest time seen, b's second read.
  CHECK(result->cursor.rfind(format_iso8601(t), 0) == 0);
}

TEST_CASE_METHOD(ShiftFixture, "partner center: an older copy of a referral read later in the same pull does not replace the newer") {
  TimePoint t = clock.now();
  scripted.pages = {
      json::array({testing::referral_at("b", "\"b2\"", t), testing::referral_at("a", "\"a1\"", t - 1min)}),
      json::array({testing::referral_at("b", "\"b1\"", t - 2min)}),
  };

  auto result = run(pc.pull(spec, ""));
  INFO(testing::describe(result));
  REQUIRE(result.ok());
  CHECK(result->records.size() == 2);
  const auto* b = find(*result, "b");
  REQUIRE(b);
  CHECK(b->version == "\"b2\"");
}

TEST_CASE_METHOD(ShiftFixture,
                 "partner center: pull_pages requests the next page while the sink works on one, an older copy not at all") {
  TimePoint t = clock.now();
  scripted.pages = {
      json::array({testing::referral_at("a", "\"a2\"", t), testing::referral_at("b", "\"b1\"", t - 2min)}),
      // a again, older: the listing shifted under the reader. Handed on, it would be written
      // after the newer copy, old values over new.
      json::array({testing::referral_at("a", "\"a1\"", t - 5min), testing::referral_at("c", "\"c1\"", t - 3min)}),
      json::array({testing::referral_at("d", "\"d1\"", t - 4min)}),
  };
  std::vector<std::string> handed;           // "id@eTag" per page, ","-joined
  std::vector<std::size_t> requests_then;    // requests the server had seen when the sink finished a page
  bool more = true;
  connectors::PageSink sink = [&](connectors::PullPage& page) -> boost::asio::awaitable<bool> {
    std::string ids;
    for (const auto& r : page.records) ids += r.id + "@" + r.version + ",";
    handed.push_back(ids);
    // The sink works for a while (a cycle writes the page's records): the next page's request
    // reaches the server meanwhile, not once the sink has returned. Up to 2 s for a slow host.
    bool last = handed.size() == scripted.pages.size();
    auto ex = co_await boost::asio::this_coro::executor;  // named first (GCC 12)
    boost::asio::steady_timer timer(ex);
    for (int i = 0; !last && i < 200 && scripted.server.requests().size() <= handed.size(); ++i) {
      timer.expires_after(10ms);
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    requests_then.push_back(scripted.server.requests().size());
    co_return more;
  };
  auto cursor = run(pc.pull_pages(spec, "", sink));
  REQUIRE(cursor.ok());
  CHECK(requests_then == std::vector<std::size_t>{2, 3, 3});
  CHECK(handed == std::vector<std::string>{"a@\"a2\",b@\"b1\",", "c@\"c1\",", "d@\"d1\","});

  // A sink that says stop: the page read ahead meanwhile is discarded, never handed over, and
  // no cursor is returned.
  scripted.server.clear_requests();
  handed.clear();
  requests_then.clear();
  more = false;
  auto stopped = run(pc.pull_pages(spec, "", sink));
  CHECK_FALSE(stopped.ok());
  CHECK(scripted.server.requests().size() == 2);
  CHECK(handed.size() == 1);
}
