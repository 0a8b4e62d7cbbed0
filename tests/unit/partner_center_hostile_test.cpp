// Partner Center answers that no real service should send, and that must not crash, hang or leak
// the token: wrong JSON types, hostile ids and dates, next-page links to another host or round a
// loop, and bodies nested deep enough to overflow a recursive parser. Scripted servers serve them.
#include <catch2/catch.hpp>
#include <functional>
#include <map>

#include "daemon/util/time.hpp"
#include "tests/unit/connector_fixture.hpp"
#include "tests/unit/failure_checks.hpp"
#include "tests/unit/referral_json.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json good_referral(const std::string& id, TimePoint updated) { return testing::referral_at(id, "\"" + id + "-1\"", updated); }

// Answers every request with whatever `respond` builds; counts what it was sent.
struct Scripted {
  std::function<fakes::FakeResponse(const fakes::FakeRequest&)> respond;
  fakes::HttpTestServer server{[this](const fakes::FakeRequest& r) { return respond(r); }};
};

struct HostileFixture : testing::ConnectorFixture {
  Scripted pc_server;
  Scripted elsewhere;  // another origin: must never be asked anything
  connectors::ObjectSpec spec{"referrals", {}, "externalReferenceId"};

  connectors::PartnerCenterOptions options(std::size_t max_pages = 2000) {
    connectors::PartnerCenterOptions o;
    o.base_url = pc_server.server.base_url();
    o.max_pages = max_pages;
    return o;
  }
  HostileFixture() {
    elsewhere.respond = [](const fakes::FakeRequest&) {
      return fakes::FakeResponse::json(200, {{"value", json::array()}});
    };
  }
  // Serves `pages` by their $skiptoken (none: the first); `link(i)` is page i's nextLink, or "".
  void serve(std::vector<json> pages, std::function<std::string(std::size_t)> link) {
    pc_server.respond = [pages = std::move(pages), link = std::move(link)](const fakes::FakeRequest& r) {
      std::size_t i = r.param("$skiptoken").empty() ? 0 : std::stoul(r.param("$skiptoken"));
      json body = {{"value", i < pages.size() ? pages[i] : json::array()}};
      if (auto next = link(i); !next.empty()) body["@odata.nextLink"] = next;
      return fakes::FakeResponse::json(200, body);
    };
  }
  // Serves one page: a good referral "good" first, then `bad`; pulls it and checks that only
  // "good" came through and `bad.size()` referrals came back malformed.
  connectors::PullResult pull_good_then(const std::vector<json>& bad) {
    json page = json::array({good_referral("good", clock.now())});
    for (const auto& b : bad) page.push_back(b);
    serve({page}, [](std::size_t) { return ""; });
    connectors::PartnerCenterConnector pc{client, tokens, options(), captured.log};
    auto result = run(pc.pull(spec, ""));
    INFO(testing::describe(result));
    REQUIRE(result.ok());
    REQUIRE(result->records.size() == 1);
    CHECK(result->records[0].id == "good");
    REQUIRE(result->malformed.size() == bad.size());
    return *result;
  }
  const connectors::MalformedRecord* malformed(const connectors::PullResult& result, const std::string& id) {
    for (const auto& m : result.malformed)
      if (m.id == id) return &m;
    return nullptr;
  }
};

}  // namespace

TEST_CASE_METHOD(HostileFixture, "partner center: nulls and wrong types in a referral never throw: the bad ones come back malformed with their reason") {
  TimePoint t = clock.now();
  json null_substatus = good_referral("null-substatus", t);
  null_substatus["substatus"] = nullptr;
  null_substatus["customerProfile"] = 42;  // not an object: kept as it came, read as absent
  json numeric_status = good_referral("numeric-status", t - 1s);
  numeric_status["status"] = 7;
  json object_etag = good_referral("object-etag", t - 2s);
  object_etag["eTag"] = {{"not", "a string"}};
  json null_updated = good_referral("null-updated", t - 3s);
  null_updated["updatedDateTime"] = nullptr;
  json numeric_created = good_referral("numeric-created", t - 4s);
  numeric_created["createdDateTime"] = 20240501;
  json no_id = good_referral("x", t - 5s);
  no_id["id"] = json::array({1, 2});
  serve({json::array({good_referral("good-1", t), null_substatus, numeric_status, object_etag, null_updated,
                      numeric_created, no_id, json("a string, not a referral"), good_referral("good-2", t - 6s)})},
        [](std::size_t) { return ""; });
  connectors::PartnerCenterConnector pc{client, tokens, options(), captured.log};

  auto result = run(pc.pull(spec, ""));
  INFO(testing::describe(result));
  REQUIRE(result.ok());
  std::vector<std::string> ids;
  for (const auto& r : result->records) ids.push_back(r.id);
  CHECK(ids == std::vector<std::string>{"good-1", "null-substatus", "good-2"});
  REQUIRE(result->malformed.size() == 6);
  auto reason = [&](const std::string& id) { return malformed(*result, id) ? malformed(*result, id)->reason : "(none)"; };
  CHECK_THAT(reason("numeric-status"), Catch::Contains("no status"));
  CHECK_THAT(reason("object-etag"), Catch::Contains("no eTag"));
  CHECK_THAT(reason("null-updated"), Catch::Contains("no valid updatedDateTime"));
  CHECK_THAT(reason("numeric-created"), Catch::Contains("no valid createdDateTime"));
  CHECK_THAT(reason(""), Catch::Contains("without an id") || Catch::Contains("not a JSON object"));

  // What reads such a referral later (patch refusal, deal registration) does not throw either.
  const auto& kept = result->records[1].fields;
  CHECK_FALSE(connectors::referral_contract_refusal(kept, {{"status", "Active"}, {"substatus", "Accepted"}}).has_value());
  connectors::RemoteRecord odd = result->records[1];
  odd.fields["status"] = json::array();
  odd.fields["registrations"] = "none";
  auto registration = run(pc.add_deal_registration(odd, {{"type", "AzureIPCoSell"}}));
  CHECK_FALSE(registration.ok());
  auto registration_update = run(pc.update_deal_registration(odd, {{"registrations.0.contract.value", 1}}));
  CHECK_FALSE(registration_update.ok());
}

TEST_CASE_METHOD(HostileFixture, "partner center: a referral id with control characters is malformed, reported printable") {
  TimePoint t = clock.now();
  json newline = good_referral("x", t - 1s);
  newline["id"] = "abc\ndef";
  json nul = good_referral("x", t - 2s);
  nul["id"] = std::string("abc\0def", 7);
  auto result = pull_good_then({newline, nul});
  for (const auto& m : result.malformed) {
    CHECK_THAT(m.reason, Catch::Contains("contains a control character"));
    for (char c : m.id + m.reason) CHECK(static_cast<unsigned char>(c) >= 0x20);  // one printable line
  }
  CHECK(malformed(result, "\"abc\\ndef\""));
  CHECK(malformed(result, "\"abc\\u0000def\""));
}

TEST_CASE_METHOD(HostileFixture, "partner center: a referral dated beyond what a time point holds is malformed, not undefined behaviour") {
  TimePoint t = clock.now();
  json far = good_referral("year-9999", t - 1s);
  far["updatedDateTime"] = "9999-12-31T23:59:59Z";
  json past_2262 = good_referral("year-2263", t - 2s);
  past_2262["updatedDateTime"] = "2263-01-01T00:00:00Z";
  json created = good_referral("created-9999", t - 3s);
  created["createdDateTime"] = "9999-01-01T00:00:00.0000000Z";
  json absurd = good_referral("absurd", t - 4s);
  absurd["updatedDateTime"] = "0000-00-00T99:99:99Z";
  auto result = pull_good_then({far, past_2262, created, absurd});
  CHECK_THAT(malformed(result, "year-9999")->reason, Catch::Contains("no valid updatedDateTime") && Catch::Contains("9999"));
  CHECK_THAT(malformed(result, "year-2263")->reason, Catch::Contains("no valid updatedDateTime"));
  CHECK_THAT(malformed(result, "created-9999")->reason, Catch::Contains("no valid createdDateTime"));
  CHECK_THAT(malformed(result, "absurd")->reason, Catch::Contains("no valid updatedDateTime"));
}

TEST_CASE_METHOD(HostileFixture, "partner center: a nextLink to another host is not followed and fails the pull") {
  TimePoint t = clock.now();
  std::string evil = elsewhere.server.base_url() + "/referrals?$skiptoken=1";
  serve({json::array({good_referral("a", t)}), json::array({good_referral("b", t - 1s)})},
        [evil](std::size_t i) { return i == 0 ? evil : ""; });
  connectors::PartnerCenterConnector pc{client, tokens, options(), captured.log};

  auto result = run(pc.pull(spec, "2024-01-01T00:00:00.000Z"));
  testing::check_fails_with(result, "@odata.nextLink not followed");
  CHECK_THAT(result.failure().message, Catch::Contains("another host"));
  CHECK(elsewhere.server.requests().empty());  // no request, so no Authorization header, reached it
  CHECK(pc_server.server.requests().size() == 1);

  SECTION("nor by the lookup of a referral by externalReferenceId") {
    pc_server.server.clear_requests();
    auto found = run(pc.find_by_external_id("00Q1"));
    testing::check_fails_with(found, "another host");
    CHECK(elsewhere.server.requests().empty());
  }
}

TEST_CASE_METHOD(HostileFixture, "partner center: a page that links to itself, or pages without end, stop the pull") {
  TimePoint t = clock.now();
  connectors::PartnerCenterConnector pc{client, tokens, options(5), captured.log};

  SECTION("a page linking to itself") {
    std::string self = pc_server.server.base_url() + "/referrals?$skiptoken=1";
    serve({json::array({good_referral("a", t)}), json::array({good_referral("b", t - 1s)})},
          [self](std::size_t) { return self; });
    auto result = run(pc.pull(spec, ""));
    testing::check_fails_with(result, "repeats a page");
    CHECK(pc_server.server.requests().size() == 2);
  }
  SECTION("a new page every time, past the bound") {
    pc_server.respond = [&](const fakes::FakeRequest& r) {
      std::size_t i = r.param("$skiptoken").empty() ? 0 : std::stoul(r.param("$skiptoken"));
      json body = {{"value", json::array({good_referral("r" + std::to_string(i), t - std::chrono::seconds(i))})},
                   {"@odata.nextLink", "referrals?$skiptoken=" + std::to_string(i + 1)}};
      return fakes::FakeResponse::json(200, body);
    };
    auto result = run(pc.pull(spec, ""));
    testing::check_fails_with(result, "more than 5 pages");
    CHECK(pc_server.server.requests().size() == 5);
  }
  SECTION("a nextLink that is not a string") {
    pc_server.respond = [&](const fakes::FakeRequest&) {
      return fakes::FakeResponse::json(200, {{"value", json::array({good_referral("a", t)})}, {"@odata.nextLink", 12}});
    };
    auto result = run(pc.pull(spec, ""));
    testing::check_fails_with(result, "not a string");
  }
}

TEST_CASE_METHOD(HostileFixture, "partner center: a page nested 70,000 deep is a clear failure, not a stack overflow") {
  std::string deep = "{\"value\":[" + std::string(70000, '[') + std::string(70000, ']') + "]}";
  pc_server.respond = [&](const fakes::FakeRequest&) {
    return fakes::FakeResponse{200, {{"Content-Type", "application/json"}}, deep};
  };
  connectors::PartnerCenterConnector pc{client, tokens, options(), captured.log};

  auto pulled = run(pc.pull(spec, ""));
  testing::check_fails_with(pulled, "nested deeper than 64");
  auto one = run(pc.get(spec, "r1"));
  testing::check_fails_with(one, "malformed referral");
  auto found = run(pc.find_by_external_id("00Q1"));
  CHECK_FALSE(found.ok());
}
