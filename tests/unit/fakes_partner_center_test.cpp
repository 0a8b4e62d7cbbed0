// The fake Partner Center (and the token server it trusts) behave like the real API in what the
// daemon depends on: paging, eTags, the state machine, errors and injected faults.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "daemon/util/time.hpp"
#include "tests/fakes/fake_partner_center.hpp"
#include "tests/fakes/fake_token_server.hpp"
#include "tests/fakes/test_http_client.hpp"

using namespace cosync;
using namespace cosync::fakes;
using nlohmann::json;

namespace {

TimePoint start_time() { return *parse_iso8601("2024-05-01T10:00:00.000Z"); }

struct PcFixture {
  ManualClock clock{start_time()};
  FakeTokenServer tokens{FakeTokenServerOptions{&clock, 0, 3600, {}, 1, 900}};
  FakePartnerCenter pc{[&] {
    FakePartnerCenterOptions o;
    o.clock = &clock;
    o.validate_token = tokens.validator();
    return o;
  }()};
  FakeClient client;
  std::string token;

  PcFixture() {
    tokens.add_client("app", "secret", TokenClientOptions{30 * 24 * 3600, false, {}});  // outlives clock jumps
    auto r = client.request("POST", tokens.url(), {{"Content-Type", "application/x-www-form-urlencoded"}},
                            "grant_type=client_credentials&client_id=app&client_secret=secret");
    REQUIRE(r.status == 200);
    token = r.json()["access_token"];
  }

  HeaderList headers(HeaderList extra = {}) {
    HeaderList h = {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
    h.insert(h.end(), extra.begin(), extra.end());
    return h;
  }
  ClientResponse get(const std::string& path_or_url) {
    std::string url = path_or_url.starts_with("http") ? path_or_url : pc.base_url() + path_or_url;
    return client.request("GET", url, headers());
  }
  ClientResponse patch(const std::string& id, const json& ops, HeaderList extra = {}) {
    return client.request("PATCH", pc.base_url() + "/referrals/" + id, headers(std::move(extra)), ops.dump());
  }
  ClientResponse patch_status(const std::string& id, const std::string& status, const std::string& substatus) {
    auto etag = pc.referral(id)["eTag"].get<std::string>();
    return patch(id,
                 json::array({{{"op", "replace"}, {"path", "/status"}, {"value", status}},
                              {{"op", "replace"}, {"path", "/substatus"}, {"value", substatus}}}),
                 {{"If-Match", etag}});
  }
};

}  // namespace

TEST_CASE("fake PC pages by itself at 100 with @odata.nextLink, in $orderby order", "[fakes][pc]") {
  PcFixture f;
  std::vector<std::string> ids;
  for (int i = 0; i < 250; ++i) {
    ids.push_back(f.pc.add_referral({{"name", "R" + std::to_string(i)}}));
    f.clock.advance(std::chrono::seconds(1));
  }
  auto first = f.get("/referrals?$orderby=updatedDateTime%20desc");
  REQUIRE(first.status == 200);
  auto body = first.json();
  REQUIRE(body["value"].size() == 100);
  CHECK(body["value"][0]["id"] == ids[249]);
  std::string next = body["@odata.nextLink"];
  CHECK(next.starts_with(f.pc.base_url() + "/referrals?"));
  CHECK(next.find("$skiptoken=100") != std::string::npos);

  std::vector<std::string> seen;
  std::vector<std::size_t> sizes;
  for (;;) {
    sizes.push_back(body["value"].size());
    for (auto& v : body["value"]) seen.push_back(v["id"]);
    if (!body.contains("@odata.nextLink")) break;
    auto page = f.get(body["@odata.nextLink"].get<std::string>());
    REQUIRE(page.status == 200);
    body = page.json();
  }
  CHECK(sizes == std::vector<std::size_t>{100, 100, 50});  // the last page has no nextLink
  CHECK(seen == std::vector<std::string>(ids.rbegin(), ids.rend()));

  auto asc = f.get("/referrals?$orderby=updatedDateTime%20asc").json();
  CHECK(asc["value"][0]["id"] == ids[0]);
}

TEST_CASE("fake PC reads $top as the total to retrieve, not a page size", "[fakes][pc]") {
  PcFixture f;
  for (int i = 0; i < 250; ++i) f.pc.add_referral({{"name", "R"}});
  // $top=100: the first 100 and nothing more, as the API answers it.
  auto hundred = f.get("/referrals?$top=100").json();
  CHECK(hundred["value"].size() == 100);
  CHECK_FALSE(hundred.contains("@odata.nextLink"));
  // $top=150: still paged at 100, the next page carries the remaining 50.
  auto part = f.get("/referrals?$top=150").json();
  REQUIRE(part["value"].size() == 100);
  REQUIRE(part.contains("@odata.nextLink"));
  auto rest = f.get(part["@odata.nextLink"].get<std::string>()).json();
  CHECK(rest["value"].size() == 50);
  CHECK_FALSE(rest.contains("@odata.nextLink"));
  // $skip starts the listing; $top=500 is more than there is.
  auto skipped = f.get("/referrals?$skip=240&$top=500").json();
  CHECK(skipped["value"].size() == 10);
  CHECK_FALSE(skipped.contains("@odata.nextLink"));
  CHECK(f.get("/referrals?$top=-1").status == 400);
}

TEST_CASE("fake PC filters on simple eq clauses", "[fakes][pc]") {
  PcFixture f;
  for (int i = 0; i < 120; ++i) f.pc.add_referral({{"name", "R"}});
  f.pc.add_referral({{"name", "Out"}, {"direction", "Outgoing"}});
  auto outgoing = f.get("/referrals?$filter=direction%20eq%20'Outgoing'").json();
  REQUIRE(outgoing["value"].size() == 1);
  CHECK(outgoing["value"][0]["name"] == "Out");
}

TEST_CASE("fake PC checks the bearer token, content-type and answers PC errors", "[fakes][pc]") {
  PcFixture f;
  f.pc.add_referral({{"name", "A"}});
  auto no_token = f.client.request("GET", f.pc.base_url() + "/referrals", {{"Content-Type", "application/json"}});
  CHECK(no_token.status == 401);
  CHECK(no_token.json()["error"]["code"] == "Unauthorized");

  f.tokens.expire_all_access_tokens();
  CHECK(f.get("/referrals").status == 401);

  PcFixture g;
  auto no_type = g.client.request("GET", g.pc.base_url() + "/referrals", {{"Authorization", "Bearer " + g.token}});
  CHECK(no_type.status == 400);
  CHECK(no_type.json()["error"]["target"] == "content-type");

  auto missing = g.client.request("GET", g.pc.base_url() + "/referrals/nope",
                                  g.headers({{"MS-CorrelationId", "corr-1"}}));
  CHECK(missing.status == 404);
  CHECK(missing.json()["error"]["code"] == "NotFound");
  CHECK(missing.header("MS-CorrelationId") == "corr-1");
  CHECK_FALSE(missing.header("MS-RequestId").empty());
}

TEST_CASE("fake PC requires If-Match with the current eTag and changes it on every write", "[fakes][pc]") {
  PcFixture f;
  std::string id = f.pc.add_referral({{"name", "A"}});
  auto before = f.pc.referral(id);
  json ops = json::array({{{"op", "replace"}, {"path", "/details/dealValue"}, {"value", 1000}}});

  CHECK(f.patch(id, ops).status == 412);
  auto wrong = f.patch(id, ops, {{"If-Match", "\"other\""}});
  CHECK(wrong.status == 412);
  CHECK(wrong.json()["error"]["code"] == "PreconditionFailed");

  f.clock.advance(std::chrono::minutes(5));
  auto ok = f.patch(id, ops, {{"If-Match", before["eTag"].get<std::string>()}});
  CHECK(ok.status == 204);
  CHECK(ok.body.empty());
  auto after = f.pc.referral(id);
  CHECK(after["details"]["dealValue"] == 1000);
  CHECK(after["eTag"] != before["eTag"]);
  CHECK(after["updatedDateTime"] == "2024-05-01T10:05:00.000Z");

  CHECK(f.patch(id, ops, {{"If-Match", before["eTag"].get<std::string>()}}).status == 412);  // stale
  auto repr = f.patch(id, ops, {{"If-Match", after["eTag"].get<std::string>()}, {"Prefer", "return=representation"}});
  CHECK(repr.status == 200);
  CHECK(repr.json()["eTag"] == f.pc.referral(id)["eTag"]);

  // A seller's edit in PC makes the daemon's eTag stale too.
  auto etag = f.pc.referral(id)["eTag"].get<std::string>();
  f.pc.edit(id, [](json& r) { r["details"]["notes"] = "seller note"; });
  CHECK(f.patch(id, ops, {{"If-Match", etag}}).status == 412);
}

TEST_CASE("fake PC accepts only replace/add on the contract's paths, without nulls", "[fakes][pc]") {
  PcFixture f;
  std::string id = f.pc.add_referral({{"name", "A"}});
  auto etag = [&] { return HeaderList{{"If-Match", f.pc.referral(id)["eTag"].get<std::string>()}}; };
  CHECK(f.patch(id, json::array({{{"op", "remove"}, {"path", "/details/notes"}, {"value", ""}}}), etag()).status == 400);
  CHECK(f.patch(id, json::array({{{"op", "replace"}, {"path", "/name"}, {"value", "x"}}}), etag()).status == 400);
  CHECK(f.patch(id, json::array({{{"op", "replace"}, {"path", "/details/notes"}, {"value", nullptr}}}), etag()).status ==
        400);
  CHECK(f.patch(id, json::object(), etag()).status == 400);
  CHECK(f.patch(id, json::array({{{"op", "add"}, {"path", "/team/-"}, {"value", {{"email", "a@b.c"}}}}}), etag()).status ==
        204);
  CHECK(f.pc.referral(id)["team"].size() == 1);
  CHECK(f.patch(id, json::array({{{"op", "replace"}, {"path", "/externalReferenceId"}, {"value", "00Q1"}}}), etag())
            .status == 204);
  CHECK(f.pc.referral(id)["externalReferenceId"] == "00Q1");
}

TEST_CASE("fake PC enforces the status state machine", "[fakes][pc]") {
  PcFixture f;
  std::string id = f.pc.add_referral({{"name", "A"}});
  CHECK(f.patch_status(id, "Active", "Pending").status == 400);  // substatus of another status
  CHECK(f.patch_status(id, "Open", "Pending").status == 400);    // no such status
  CHECK(f.patch_status(id, "Active", "Accepted").status == 204);
  CHECK(f.patch_status(id, "New", "Received").status == 400);  // backwards
  CHECK(f.patch_status(id, "Active", "Engaged").status == 204);
  CHECK(f.patch_status(id, "Closed", "Lost").status == 204);
  auto closed = f.patch_status(id, "Closed", "Won");
  CHECK(closed.status == 400);  // terminal: no more writes
  CHECK(closed.json()["error"]["message"].get<std::string>().find("closed") != std::string::npos);

  std::string declined = f.pc.add_referral({{"name", "B"}});
  CHECK(f.patch_status(declined, "Closed", "Declined").status == 204);  // New -> Closed directly
}

TEST_CASE("fake PC holds Won for 72 hours and registers deals only when Won", "[fakes][pc]") {
  PcFixture f;
  std::string id = f.pc.add_referral({{"name", "A"}, {"status", "Active"}, {"substatus", "Accepted"}});
  json registration = json::array(
      {{{"op", "add"}, {"path", "/registrations/-"}, {"value", {{"type", "AzureIPCoSell"}, {"solutionDetails", json::array()}}}}});
  CHECK(f.patch(id, registration, {{"If-Match", f.pc.referral(id)["eTag"].get<std::string>()}}).status == 400);
  CHECK(f.patch_status(id, "Closed", "Won").status == 400);  // created less than 72 h ago
  f.clock.advance(std::chrono::hours(72));
  CHECK(f.patch_status(id, "Closed", "Won").status == 204);
  CHECK(f.patch(id, registration, {{"If-Match", f.pc.referral(id)["eTag"].get<std::string>()}}).status == 204);
  CHECK(f.pc.referral(id)["registrations"].size() == 1);
  // Still terminal for everything but the registration.
  CHECK(f.patch(id, json::array({{{"op", "replace"}, {"path", "/details/notes"}, {"value", "x"}}}),
                {{"If-Match", f.pc.referral(id)["eTag"].get<std::string>()}})
            .status == 400);
}

TEST_CASE("fake PC refuses a POST without what \"Create a referral\" marks Required, or with a value outside an enum",
          "[fakes][pc]") {
  PcFixture f;
  json good = {{"name", "Contoso deal"},
               {"type", "Shared"},
               {"customerProfile", {{"name", "Contoso"}}},
               {"consent", {{"consentToShareReferralWithMicrosoftSellers", true}}},
               {"details", json::object()},
               {"inviteContext", {{"assistanceRequestCode", "GeneralOrOther"}}}};
  auto post = [&](const json& body) {
    return f.client.request("POST", f.pc.base_url() + "/referrals", f.headers(), body.dump()).status;
  };
  for (auto required : {"type", "customerProfile", "consent", "details"}) {
    json body = good;
    body.erase(required);
    INFO(required);
    CHECK(post(body) == 400);
  }
  for (auto [path, value] : std::vector<std::pair<std::string, json>>{
           {"/type", "Private"}, {"/inviteContext/assistanceRequestCode", "PleaseHelp"},
           {"/consent/consentToContact", "yes"}, {"/customerProfile/name", ""}}) {
    json body = good;
    body[json::json_pointer(path)] = value;
    INFO(path);
    CHECK(post(body) == 400);
  }
  CHECK(post(good) == 201);
}

TEST_CASE("fake PC creates referrals with POST", "[fakes][pc]") {
  PcFixture f;
  auto created = f.client.request("POST", f.pc.base_url() + "/referrals", f.headers(),
                                  json{{"name", "Contoso | Azure | US | 006xx"},
                                       {"type", "Independent"},
                                       {"customerProfile", {{"name", "Contoso"}}},
                                       {"consent", {{"consentToShareReferralWithMicrosoftSellers", false}}},
                                       {"details", json::object()},
                                       {"externalReferenceId", "006xx"}}
                                      .dump());
  REQUIRE(created.status == 201);
  auto body = created.json();
  CHECK(body["status"] == "New");
  CHECK(body["direction"] == "Outgoing");
  CHECK_FALSE(body["eTag"].get<std::string>().empty());
  CHECK(f.pc.referral(body["id"])["externalReferenceId"] == "006xx");
  CHECK(f.pc.writes() == 1);
  CHECK(f.client.request("POST", f.pc.base_url() + "/referrals", f.headers(), R"({"customerProfile":{}})").status == 400);
  CHECK(f.client.request("POST", f.pc.base_url() + "/referrals", f.headers(), R"({"name":"x","notes":null})").status ==
        400);
}

TEST_CASE("fake PC injects 429, 503, malformed bodies and dropped connections", "[fakes][pc]") {
  PcFixture f;
  f.pc.add_referral({{"name", "A"}});
  f.pc.fail_next(1, 429, 7);
  f.pc.fail_next(1, 503);
  f.pc.serve_malformed_next(1);
  auto throttled = f.get("/referrals");
  CHECK(throttled.status == 429);
  CHECK(throttled.header("Retry-After") == "7");
  CHECK(throttled.json()["error"]["code"] == "TooManyRequests");
  CHECK(f.get("/referrals").status == 503);
  auto malformed = f.get("/referrals");
  CHECK(malformed.status == 200);
  CHECK_THROWS(malformed.json());
  CHECK(f.get("/referrals").status == 200);

  f.pc.server().drop_next_connections(1);
  auto dropped = f.get("/referrals");
  CHECK(dropped.status == 0);
  CHECK(f.get("/referrals").status == 200);
  CHECK(f.pc.server().count("GET", "/referrals") == 6);
}

TEST_CASE("HttpTestServer keeps connections alive and delays on request", "[fakes]") {
  HttpTestServer server([](const FakeRequest& r) { return FakeResponse{200, {}, r.param("x") + "|" + r.path}; });
  FakeClient client;
  auto a = client.request("GET", server.base_url() + "/a%20b?x=1%202");
  CHECK(a.body == "1 2|/a b");
  client.request("GET", server.base_url() + "/c");
  CHECK(server.connections_accepted() == 1);
  server.delay_next(1, 50);
  auto t0 = std::chrono::steady_clock::now();
  client.request("GET", server.base_url() + "/d");
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(50));
  CHECK(server.count("GET") == 3);
  CHECK(server.requests()[0].query.at("x") == "1 2");
}

TEST_CASE("fake token server issues, rotates and expires tokens", "[fakes][token]") {
  ManualClock clock(start_time());
  FakeTokenServer tokens(FakeTokenServerOptions{&clock, 0, 600, {}, 1, 900});
  tokens.add_client("app", "secret", TokenClientOptions{120, false, {}});
  tokens.add_refresh_token("rt-1");
  FakeClient client;
  HeaderList form = {{"Content-Type", "application/x-www-form-urlencoded"}};

  auto bad = client.request("POST", tokens.url(), form, "grant_type=client_credentials&client_id=app&client_secret=no");
  CHECK(bad.status == 401);
  CHECK(bad.json()["error"] == "invalid_client");

  auto good = client.request("POST", tokens.url(), form, "grant_type=client_credentials&client_id=app&client_secret=secret");
  REQUIRE(good.status == 200);
  CHECK(good.json()["expires_in"] == 120);
  CHECK(good.json()["token_type"] == "Bearer");
  std::string at = good.json()["access_token"];
  CHECK(tokens.is_valid_access_token(at));
  clock.advance(std::chrono::seconds(121));
  CHECK_FALSE(tokens.is_valid_access_token(at));

  auto refreshed = client.request("POST", tokens.server().base_url() + "/tenant/oauth2/v2.0/token", form,
                                  "grant_type=refresh_token&refresh_token=rt-1&client_id=public");
  REQUIRE(refreshed.status == 200);
  std::string rt2 = refreshed.json()["refresh_token"];
  CHECK(rt2 != "rt-1");
  CHECK(refreshed.json()["expires_in"] == 600);
  // Entra ID does not revoke a redeemed refresh token: it stays usable until revoked or expired.
  auto reused = client.request("POST", tokens.url(), form, "grant_type=refresh_token&refresh_token=rt-1");
  CHECK(reused.status == 200);
  CHECK(tokens.latest_refresh_token() == reused.json()["refresh_token"]);
  tokens.revoke_refresh_tokens();
  auto revoked = client.request("POST", tokens.url(), form, "grant_type=refresh_token&refresh_token=rt-1");
  CHECK(revoked.status == 400);
  CHECK(revoked.json()["error"] == "invalid_grant");
  CHECK(revoked.json()["error_description"].get<std::string>().starts_with("AADSTS70000"));
  CHECK(client.request("POST", tokens.url(), form, "grant_type=refresh_token&refresh_token=" + rt2).status == 400);
  CHECK(tokens.tokens_issued() == 3);
}
