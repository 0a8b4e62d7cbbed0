// Pages that shift while the connector reads them. Partner Center lists referrals newest first;
// when a referral is updated between two page requests, the listing moves under the reader and
// the next page can repeat a referral already read, at the same eTag or at a newer one. A
// scripted server serves exactly such pages, since the fake's offset paging cannot be shifted
// at a chosen moment.
#include <catch2/catch.hpp>

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
