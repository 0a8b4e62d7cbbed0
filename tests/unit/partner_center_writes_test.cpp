// Partner Center connector against the fake over HTTP: writes (Prefer: return=representation,
// create found again by externalReferenceId, deal registration), PC error bodies and statuses,
// request ids, the lossless model with its classification, full sweeps and the 14-day expiry.
#include <catch2/catch.hpp>
#include <set>

#include "daemon/util/time.hpp"
#include "tests/unit/connector_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct PcWrites : testing::ConnectorFixture {
  connectors::PartnerCenterOptions options() {
    connectors::PartnerCenterOptions o;
    o.base_url = pc_fake.base_url();
    o.overlap = 300s;
    o.clock = &clock;
    return o;
  }
  connectors::PartnerCenterConnector pc{client, tokens, options(), captured.log};
  connectors::ObjectSpec spec{"referrals", {}, "externalReferenceId"};

  std::vector<fakes::FakeRequest> requests(const std::string& method) {
    std::vector<fakes::FakeRequest> out;
    for (auto& r : pc_fake.server().requests())
      if (r.method == method) out.push_back(r);
    return out;
  }
};

}  // namespace

TEST_CASE_METHOD(PcWrites, "partner center: a patch asks for the representation and needs no re-read") {
  auto id = pc_fake.add_referral({});
  auto current = run(pc.get(spec, id));
  REQUIRE(current.ok());
  pc_fake.server().clear_requests();
  auto updated = run(pc.update(spec, *current, {{"details.notes", "x"}, {"team", json::array()}}));
  INFO(testing::describe(updated));
  REQUIRE(updated.ok());
  CHECK(updated->version == pc_fake.referral(id)["eTag"]);
  auto patches = requests("PATCH");
  REQUIRE(patches.size() == 1);
  CHECK(patches[0].header("Prefer") == "return=representation");
  CHECK(patches[0].header("If-Match") == current->version);
  CHECK(requests("GET").empty());  // the new eTag came with the 200
}

TEST_CASE_METHOD(PcWrites, "partner center: upsert creates a referral once and finds it by externalReferenceId after") {
  pc_fake.add_referral({{"externalReferenceId", "other"}});
  std::vector<connectors::FieldChange> fields = {{"name", "Contoso | Azure | EMEA | 006X"},
                                                 {"customerProfile.name", "Contoso"},
                                                 {"consent.consentToShareReferralWithMicrosoftSellers", false},
                                                 {"details.dealValue", 1000},
                                                 {"details.notes", json()},
                                                 {"_kind", "co_sell_opportunity"}};
  auto created = run(pc.upsert(spec, "006X", fields));
  INFO(testing::describe(created));
  REQUIRE(created.ok());
  CHECK(created->fields["externalReferenceId"] == "006X");
  auto posts = requests("POST");
  REQUIRE(posts.size() == 1);
  auto body = json::parse(posts[0].body);
  CHECK(body["externalReferenceId"] == "006X");
  CHECK_FALSE(body["details"].contains("notes"));  // nulls are never sent
  CHECK_FALSE(body.contains("_kind"));            // computed fields are never sent
  auto lookups = requests("GET");
  REQUIRE_FALSE(lookups.empty());
  CHECK(lookups[0].param("$filter") == "externalReferenceId eq '006X'");

  SECTION("a retry or a restart links the existing referral instead of creating another") {
    connectors::PartnerCenterConnector restarted{client, tokens, options(), captured.log};
    pc_fake.server().clear_requests();
    auto again = run(restarted.upsert(spec, "006X", fields));
    INFO(testing::describe(again));
    REQUIRE(again.ok());
    CHECK(again->id == created->id);
    CHECK(requests("POST").empty());
    CHECK(requests("PATCH").empty());  // nothing changed
    auto changed = fields;
    for (auto& f : changed)
      if (f.path == "details.dealValue") f.value = 2000;
    auto updated = run(restarted.upsert(spec, "006X", changed));
    REQUIRE(updated.ok());
    CHECK(requests("POST").empty());
    CHECK(pc_fake.referral(created->id)["details"]["dealValue"] == 2000);
  }
}

TEST_CASE_METHOD(PcWrites, "partner center: deal registration is added then replaced on a Won referral") {
  auto won = pc_fake.add_referral({{"status", "Closed"}, {"substatus", "Won"}});
  auto open = pc_fake.add_referral({{"status", "Active"}, {"substatus", "Engaged"}});
  auto won_record = run(pc.get(spec, won));
  auto open_record = run(pc.get(spec, open));
  REQUIRE(won_record.ok());
  REQUIRE(open_record.ok());
  json registration = {{"contract", {{"value", 100}, {"currency", "USD"}, {"term", "Finite"}}},
                       {"solutionDetails", json::array({{{"id", "s1"}, {"value", 100}, {"currency", "USD"}}})}};
  pc_fake.server().clear_requests();

  auto refused = run(pc.add_deal_registration(*open_record, registration));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.failure().kind == FailureKind::rejected);
  CHECK(requests("PATCH").empty());

  auto added = run(pc.add_deal_registration(*won_record, registration));
  INFO(testing::describe(added));
  REQUIRE(added.ok());
  auto revised = run(pc.update_deal_registration(*added, {{"registrations.0.contract.value", 150}}));
  INFO(testing::describe(revised));
  REQUIRE(revised.ok());
  auto bad = run(pc.update_deal_registration(*revised, {{"registrations.0.status", "Approved"}}));
  CHECK_FALSE(bad.ok());

  auto patches = requests("PATCH");
  REQUIRE(patches.size() == 2);
  auto add = json::parse(patches[0].body);
  CHECK(add[0]["op"] == "add");
  CHECK(add[0]["path"] == "/registrations/-");
  CHECK(add[0]["value"]["type"] == "AzureIPCoSell");
  CHECK(patches[0].header("If-Match") == won_record->version);
  CHECK(json::parse(patches[1].body) ==
        json::parse(R"([{"op":"replace","path":"/registrations/0/contract/value","value":150}])"));
  CHECK(patches[1].header("If-Match") == added->version);
  CHECK(pc_fake.referral(won)["registrations"][0]["contract"]["value"] == 150);
}

TEST_CASE_METHOD(PcWrites, "partner center: error bodies and statuses map to what the engine does") {
  auto id = pc_fake.add_referral({});
  auto current = run(pc.get(spec, id));
  REQUIRE(current.ok());
  std::vector<connectors::FieldChange> change = {{"details.notes", "n"}};

  SECTION("400 is rejected with PC's message and target") {
    pc_fake.fail_next(1, 400, std::nullopt,
                      R"({"error":{"code":"BadRequest","message":"Deal value too large","target":"details.dealValue",)"
                      R"("innerError":{"code":"X","message":"limit 1e9"}}})");
    auto r = run(pc.update(spec, *current, change));
    REQUIRE_FALSE(r.ok());
    CHECK(r.failure().kind == FailureKind::rejected);
    CHECK_THAT(r.failure().message, Catch::Contains("Deal value too large") && Catch::Contains("details.dealValue") &&
                                        Catch::Contains("limit 1e9"));
    CHECK_FALSE(r.failure().request_id.empty());
    CHECK_THAT(*captured.text, Catch::Contains("request_id=" + r.failure().request_id));
  }
  SECTION("401 after one refresh fails clearly") {
    pc_fake.fail_next(2, 401);
    int issued = token_server.tokens_issued();
    auto r = run(pc.get(spec, id));
    REQUIRE_FALSE(r.ok());
    CHECK(r.failure().kind == FailureKind::auth);
    CHECK_THAT(r.failure().message, Catch::Contains("cosyncd login partner-center"));
    CHECK(token_server.tokens_issued() == issued + 1);  // refreshed once, not more
  }
  SECTION("403 names the Referrals Admin role") {
    pc_fake.fail_next(1, 403);
    auto r = run(pc.update(spec, *current, change));
    REQUIRE_FALSE(r.ok());
    CHECK(r.failure().kind == FailureKind::auth);
    CHECK_THAT(r.failure().message, Catch::Contains("Referrals Admin"));
  }
  SECTION("404 is not_found, 409 and 412 are conflicts") {
    auto gone = run(pc.get(spec, "no-such-referral"));
    REQUIRE_FALSE(gone.ok());
    CHECK(gone.failure().kind == FailureKind::not_found);
    pc_fake.fail_next(1, 409);
    auto c = run(pc.update(spec, *current, change));
    REQUIRE_FALSE(c.ok());
    CHECK(c.failure().kind == FailureKind::conflict);
    pc_fake.edit(id, [](json& r) { r["details"]["notes"] = "seller"; });
    auto stale = run(pc.update(spec, *current, change));
    REQUIRE_FALSE(stale.ok());
    CHECK(stale.failure().kind == FailureKind::conflict);
  }
  SECTION("429 and 503 are waited out, one write keeps its MS-RequestId across retries") {
    pc_fake.fail_next(1, 429, 0);
    pc_fake.fail_next(1, 503, 0);
    pc_fake.server().clear_requests();
    auto r = run(pc.update(spec, *current, change));
    INFO(testing::describe(r));
    REQUIRE(r.ok());
    auto patches = requests("PATCH");
    REQUIRE(patches.size() == 3);
    std::set<std::string> request_ids, correlation_ids;
    for (auto& p : patches) {
      request_ids.insert(p.header("MS-RequestId"));
      correlation_ids.insert(p.header("MS-CorrelationId"));
    }
    CHECK(request_ids.size() == 1);
    CHECK_FALSE(request_ids.begin()->empty());
    auto again = run(pc.update(spec, *r, {{"details.notes", "m"}}));
    REQUIRE(again.ok());
    auto next = requests("PATCH").back();
    CHECK(next.header("MS-RequestId") != *request_ids.begin());      // a new write, a new id
    CHECK(next.header("MS-CorrelationId") != *correlation_ids.begin());  // fresh per call
  }
}

TEST_CASE_METHOD(PcWrites, "partner center: every field is kept as Partner Center sent it") {
  json extra = {{"registrationStatus", "Pending"},
                {"trackingInfo", {{"microsoftMsxId", "7-ABC"}}},
                {"salesStage", "Develop"},
                {"inviteContext", {{"invitedBy", {{"organizationId", "ms"}}}, {"notes", "n"}}},
                {"consent", {{"consentToShareReferralWithMicrosoftSellers", true}, {"consentToContact", true}}},
                {"registrations", json::array({{{"id", "r1"}, {"status", "Approved"}}})},
                {"aFieldPcAddsNextYear", {{"nested", json::array({1, 2})}}}};
  auto id = pc_fake.add_referral(extra);
  auto pulled = run(pc.pull(spec, ""));
  REQUIRE(pulled.ok());
  REQUIRE(pulled->records.size() == 1);
  auto fields = pulled->records[0].fields;
  auto stored = pc_fake.referral(id);
  for (auto& [k, v] : stored.items()) CHECK(fields[k] == v);
  CHECK(fields.size() == stored.size());  // the class is the planner's (daemon/rules), not the connector's
  // A write sends only the changed path: the rest stays as PC has it.
  auto updated = run(pc.update(spec, pulled->records[0], {{"details.notes", "x"}}));
  REQUIRE(updated.ok());
  CHECK(pc_fake.referral(id)["aFieldPcAddsNextYear"] == extra["aFieldPcAddsNextYear"]);
  CHECK(pc_fake.referral(id)["trackingInfo"] == extra["trackingInfo"]);
}

TEST_CASE_METHOD(PcWrites, "partner center: a periodic full sweep catches what an incremental pull missed") {
  connectors::PartnerCenterOptions o = options();
  o.full_sweep = 1h;
  connectors::PartnerCenterConnector sweeping{client, tokens, o, captured.log};
  pc_fake.add_referral({});
  auto first = run(sweeping.pull(spec, ""));
  REQUIRE(first.ok());
  CHECK_THAT(first->cursor, Catch::Contains(" sweep="));
  clock.advance(10min);
  // A change PC reports with an old updatedDateTime: invisible to an incremental pull.
  auto missed = pc_fake.add_referral({{"updatedDateTime", format_iso8601(clock.now() - 2h)}});
  auto incremental = run(sweeping.pull(spec, first->cursor));
  REQUIRE(incremental.ok());
  for (auto& r : incremental->records) CHECK(r.id != missed);
  clock.advance(55min);
  auto swept = run(sweeping.pull(spec, incremental->cursor));
  REQUIRE(swept.ok());
  bool found = false;
  for (auto& r : swept->records) found = found || r.id == missed;
  CHECK(found);
  CHECK_THAT(swept->cursor, Catch::Contains(" sweep=" + format_iso8601(clock.now())));
}

TEST_CASE_METHOD(PcWrites, "partner center: an unanswered New referral expires after 14 days on the fake's clock") {
  auto unanswered = pc_fake.add_referral({{"status", "New"}, {"substatus", "Pending"}});
  auto accepted = pc_fake.add_referral({{"status", "Active"}, {"substatus", "Accepted"}});
  auto ours = pc_fake.add_referral({{"direction", "Outgoing"}});
  clock.advance(std::chrono::days(14) - 1min);
  auto before = run(pc.get(spec, unanswered));
  REQUIRE(before.ok());
  CHECK(before->fields["status"] == "New");
  clock.advance(2min);
  auto after = run(pc.get(spec, unanswered));
  REQUIRE(after.ok());
  CHECK(after->fields["status"] == "Closed");
  CHECK(after->fields["substatus"] == "Expired");
  CHECK(after->version != before->version);
  CHECK(pc_fake.referral(accepted)["status"] == "Active");
  CHECK(pc_fake.referral(ours)["status"] == "New");
  auto late = run(pc.update(spec, *before, {{"status", "Active"}, {"substatus", "Accepted"}}));
  REQUIRE_FALSE(late.ok());
  CHECK(late.failure().kind == FailureKind::conflict);  // the eTag moved with the expiry
}
