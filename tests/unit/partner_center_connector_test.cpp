#include <catch2/catch.hpp>
#include <set>

#include "daemon/util/time.hpp"
#include "tests/unit/connector_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

connectors::PartnerCenterOptions pc_options(std::string base_url) {
  connectors::PartnerCenterOptions o;
  o.base_url = std::move(base_url);
  o.overlap = 300s;
  return o;
}

struct PcFixture : testing::ConnectorFixture {
  connectors::PartnerCenterConnector pc{client, tokens, pc_options(pc_fake.base_url()), captured.log};
  connectors::ObjectSpec spec{"referrals", {}, "externalReferenceId"};
};

}  // namespace

TEST_CASE_METHOD(PcFixture, "partner center: a full pull follows every $skiptoken page") {
  for (int i = 0; i < 230; ++i) {
    pc_fake.add_referral({{"customerProfile", {{"name", "Customer " + std::to_string(i)}}}});
    clock.advance(1s);
  }
  auto result = run(pc.pull(spec, ""));
  INFO(testing::describe(result));
  REQUIRE(result.ok());
  CHECK(result->records.size() == 230);
  std::set<std::string> ids;
  for (const auto& r : result->records) ids.insert(r.id);
  CHECK(ids.size() == 230);
  // The cursor is Partner Center's clock when it served the first page (its Date, to the second).
  CHECK(result->cursor == format_iso8601(std::chrono::floor<std::chrono::seconds>(clock.now())));

  auto gets = pc_fake.server().requests();
  REQUIRE(gets.size() == 3);
  CHECK(gets[0].param("$orderby") == "updatedDateTime desc");
  CHECK_FALSE(gets[0].query.contains("$top"));  // $top is the total: sending it would cut the listing
  CHECK(gets[1].has("Authorization"));
  CHECK_FALSE(gets[1].param("$skiptoken").empty());
  std::set<std::string> correlation_ids;
  for (const auto& g : gets) {
    CHECK(g.header("Content-Type") == "application/json");
    correlation_ids.insert(g.header("MS-CorrelationId"));
  }
  CHECK(correlation_ids.size() == 3);  // a fresh one per call
}

TEST_CASE_METHOD(PcFixture, "partner center: an incremental pull stops past the cursor minus the overlap") {
  for (int i = 0; i < 150; ++i) {
    pc_fake.add_referral({});
    clock.advance(1min);
  }
  auto all = run(pc.pull(spec, ""));
  INFO(testing::describe(all));
  REQUIRE(all.ok());
  clock.advance(1h);
  auto changed = pc_fake.add_referral({});
  pc_fake.server().clear_requests();

  auto result = run(pc.pull(spec, all->cursor));
  INFO(testing::describe(result));
  REQUIRE(result.ok());
  // The new referral plus the ones inside the 5-minute overlap before the first pull's time (the
  // last one was added a minute before it), from one page only.
  CHECK(result->records.front().id == changed);
  CHECK(result->records.size() == 1 + 5);
  CHECK(pc_fake.server().requests().size() == 1);
  CHECK(result->cursor > all->cursor);
}

TEST_CASE_METHOD(PcFixture, "partner center: an incremental pull reads every changed referral across pages, not the first 100") {
  for (int i = 0; i < 10; ++i) pc_fake.add_referral({});  // an hour older than the rest
  clock.advance(1h);
  std::vector<std::string> ids;
  for (int i = 0; i < 250; ++i) {
    ids.push_back(pc_fake.add_referral({}));
    clock.advance(1s);
  }
  auto all = run(pc.pull(spec, ""));
  REQUIRE(all.ok());
  REQUIRE(all->records.size() == 260);
  clock.advance(1h);
  // 250 changed since the cursor: three pages of the service's 100.
  std::set<std::string> changed;
  for (const auto& id : ids) {
    pc_fake.edit(id, [](json& r) { r["details"]["notes"] = "edited"; });
    changed.insert(id);
    clock.advance(1s);
  }
  pc_fake.server().clear_requests();

  auto result = run(pc.pull(spec, all->cursor));
  INFO(testing::describe(result));
  REQUIRE(result.ok());
  std::set<std::string> read;
  for (const auto& r : result->records) read.insert(r.id);
  for (const auto& id : changed) CHECK(read.contains(id));
  CHECK(read.size() == 250);  // the 10 unchanged ones are older than the cursor minus the overlap
  auto gets = pc_fake.server().requests();
  REQUIRE(gets.size() == 3);
  for (const auto& g : gets) CHECK_FALSE(g.query.contains("$top"));
  // The cursor is Partner Center's clock when it served the first page (its Date, to the second).
  CHECK(result->cursor == format_iso8601(std::chrono::floor<std::chrono::seconds>(clock.now())));
}

TEST_CASE_METHOD(PcFixture, "partner center: a full sweep with the cursor set reads every referral across pages") {
  connectors::PartnerCenterOptions o = pc_options(pc_fake.base_url());
  o.full_sweep = 1h;
  o.clock = &clock;
  connectors::PartnerCenterConnector sweeping{client, tokens, o, captured.log};
  for (int i = 0; i < 250; ++i) {
    pc_fake.add_referral({});
    clock.advance(1s);
  }
  auto first = run(sweeping.pull(spec, ""));
  REQUIRE(first.ok());
  REQUIRE(first->records.size() == 250);
  // Changes an incremental pull cannot see (reported with an old updatedDateTime), more than a page.
  clock.advance(2h);
  for (int i = 0; i < 150; ++i) pc_fake.add_referral({{"updatedDateTime", format_iso8601(clock.now() - 3h)}});
  pc_fake.server().clear_requests();

  auto swept = run(sweeping.pull(spec, first->cursor));
  INFO(testing::describe(swept));
  REQUIRE(swept.ok());
  CHECK(swept->records.size() == 400);
  CHECK_THAT(swept->cursor, Catch::Contains(" sweep=" + format_iso8601(clock.now())));
  auto gets = pc_fake.server().requests();
  CHECK(gets.size() == 4);
  for (const auto& g : gets) CHECK_FALSE(g.query.contains("$top"));
}

TEST_CASE_METHOD(PcFixture, "partner center: updates are JSON Patch with the eTag verbatim in If-Match") {
  auto id = pc_fake.add_referral({{"status", "New"}, {"substatus", "Pending"}});
  auto current = run(pc.get(spec, id));
  INFO(testing::describe(current));
  REQUIRE(current.ok());
  auto updated = run(pc.update(spec, *current, {{"status", "Active"}, {"substatus", "Accepted"}, {"details.notes", "hi"}}));
  INFO(testing::describe(updated));
  REQUIRE(updated.ok());
  CHECK(updated->fields["status"] == "Active");
  CHECK(updated->version != current->version);  // the new eTag, read back after the 204

  auto requests = pc_fake.server().requests();
  auto patch = std::find_if(requests.begin(), requests.end(), [](auto& r) { return r.method == "PATCH"; });
  REQUIRE(patch != requests.end());
  CHECK(patch->header("If-Match") == current->version);
  CHECK(patch->header("Content-Type") == "application/json");
  auto body = json::parse(patch->body);
  REQUIRE(body.size() == 3);
  CHECK(body[2] == json{{"op", "replace"}, {"path", "/details/notes"}, {"value", "hi"}});

  SECTION("a stale eTag is a conflict, never an overwrite") {
    auto stale = run(pc.update(spec, *current, {{"details.notes", "again"}}));
    REQUIRE_FALSE(stale.ok());
    CHECK(stale.failure().kind == FailureKind::conflict);
    CHECK(pc_fake.referral(id)["details"]["notes"] == "hi");
  }
}

TEST_CASE_METHOD(PcFixture, "partner center: terminal referrals and impossible transitions are never sent") {
  auto closed = pc_fake.add_referral({{"status", "Closed"}, {"substatus", "Won"}});
  auto active = pc_fake.add_referral({{"status", "Active"}, {"substatus", "Accepted"}});
  auto closed_record = run(pc.get(spec, closed));
  auto active_record = run(pc.get(spec, active));
  INFO(testing::describe(closed_record));
  REQUIRE(closed_record.ok());
  INFO(testing::describe(active_record));
  REQUIRE(active_record.ok());
  pc_fake.server().clear_requests();

  auto a = run(pc.update(spec, *closed_record, {{"details.notes", "late"}}));
  auto b = run(pc.update(spec, *active_record, {{"status", "New"}, {"substatus", "Pending"}}));
  auto c = run(pc.update(spec, *active_record, {{"customerProfile.name", "Renamed"}}));
  for (auto* r : {&a, &b, &c}) {
    REQUIRE_FALSE(r->ok());
    CHECK(r->failure().kind == FailureKind::rejected);
  }
  CHECK_THAT(a.failure().message, Catch::Contains("terminal"));
  CHECK_THAT(b.failure().message, Catch::Contains("impossible transition Active -> New"));
  CHECK(pc_fake.server().count("PATCH") == 0);
}

TEST_CASE_METHOD(PcFixture, "partner center: 429 with Retry-After on a read is waited out and retried") {
  pc_fake.add_referral({});
  pc_fake.fail_next(1, 429, 0);
  auto result = run(pc.pull(spec, ""));
  INFO(testing::describe(result));
  REQUIRE(result.ok());
  CHECK(result->records.size() == 1);
}

TEST_CASE_METHOD(PcFixture, "partner center: malformed referrals are reported, the rest is kept") {
  pc_fake.add_referral({});
  auto broken = pc_fake.add_referral({{"eTag", nullptr}});  // merge-patch null: no eTag at all
  auto result = run(pc.pull(spec, ""));
  INFO(testing::describe(result));
  REQUIRE(result.ok());
  CHECK(result->records.size() == 1);
  REQUIRE(result->malformed.size() == 1);
  CHECK(result->malformed[0].id == broken);
  CHECK_THAT(result->malformed[0].reason, Catch::Contains("no eTag"));
}

TEST_CASE_METHOD(PcFixture, "partner center: its clock is read from the Date header of its answers") {
  // The fake's clock (the fixture's) runs days ahead of the host's: deadlines on referral timestamps
  // are measured on Partner Center's clock, so the connector must report the fake's time.
  CHECK_FALSE(pc.remote_now());
  clock.advance(72h);
  pc_fake.add_referral({});
  auto result = run(pc.pull(spec, ""));
  REQUIRE(result.ok());
  auto pc_now = pc.remote_now();
  REQUIRE(pc_now);
  auto skew = *pc_now - clock.now();
  CHECK(skew <= 1s);
  CHECK(skew >= -5s);  // the header is whole seconds, stamped before the answer travelled
  CHECK(std::chrono::abs(std::chrono::system_clock::now() - clock.now()) > 24h);
}
