// Component tests of the Dataverse connector against the fake Dataverse over real HTTP.
#include <catch2/catch.hpp>

#include "tests/unit/dataverse_fixture.hpp"

using namespace cosync;
using cosync::testing::DvFixture;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::size_t count_occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Each of `results` succeeded, `check(i, record)` holding, but the one at `conflicted`: a conflict.
template <class Results, class Check>
void check_all_ok_but_a_conflict(Results& results, std::size_t conflicted, Check&& check) {
  for (std::size_t i = 0; i < results.size(); ++i) {
    INFO(i << ": " << testing::describe(results[i]));
    if (i == conflicted) {
      REQUIRE_FALSE(results[i].ok());
      CHECK(results[i].failure().kind == FailureKind::conflict);
    } else {
      REQUIRE(results[i].ok());
      check(i, *results[i]);
    }
  }
}

}  // namespace

TEST_CASE_METHOD(DvFixture, "dataverse: a first pull follows nextLink pages to the delta link, with OData headers") {
  for (int i = 0; i < 7; ++i) add_lead("ref-" + std::to_string(i));
  auto result = run(dv.pull(spec, ""));
  INFO(testing::describe(result));
  REQUIRE(result.ok());
  CHECK(result->records.size() == 7);
  CHECK(result->records.front().version.starts_with("W/\""));
  CHECK(result->records.front().fields.contains("companyname"));
  CHECK_FALSE(result->records.front().fields.contains("@odata.etag"));
  CHECK_THAT(result->cursor, Catch::Contains("$deltatoken="));
  auto gets = requests("GET");
  REQUIRE(gets.size() == 3);  // 3 + 3 + 1 rows
  for (const auto& g : gets) {
    CHECK(g.header("OData-MaxVersion") == "4.0");
    CHECK(g.header("OData-Version") == "4.0");
    CHECK(g.header("Accept") == "application/json");
    CHECK_THAT(g.header("Prefer"), Catch::Contains("odata.track-changes") && Catch::Contains("odata.maxpagesize=3"));
  }
  CHECK(gets[0].param("$select") == "companyname,description,statuscode,cosync_referralid,modifiedon");
}

TEST_CASE_METHOD(DvFixture, "dataverse: the delta link returns changed rows and deleted rows as deleted records") {
  auto a = add_lead("ref-a");
  auto b = add_lead("ref-b");
  add_lead("ref-c");
  auto first = run(dv.pull(spec, ""));
  REQUIRE(first.ok());
  dv_fake.server().clear_requests();

  clock.advance(1min);
  dv_fake.edit("leads", a, {{"description", "called"}});
  dv_fake.remove("leads", b);
  auto d = add_lead("ref-d");
  auto next = run(dv.pull(spec, first->cursor));
  INFO(testing::describe(next));
  REQUIRE(next.ok());
  REQUIRE(next->records.size() == 3);
  CHECK(next->records[0].id == a);
  CHECK(next->records[0].fields["description"] == "called");
  CHECK(next->records[1].id == b);
  CHECK(next->records[1].deleted);
  CHECK(next->records[2].id == d);
  CHECK(requests("GET").size() == 1);
  CHECK(next->cursor != first->cursor);

  auto quiet = run(dv.pull(spec, next->cursor));
  REQUIRE(quiet.ok());
  CHECK(quiet->records.empty());
}

TEST_CASE_METHOD(DvFixture, "dataverse: an expired delta token falls back to a full sync with one log line") {
  add_lead("ref-a");
  add_lead("ref-b");
  auto first = run(dv.pull(spec, ""));
  REQUIRE(first.ok());
  dv_fake.expire_delta_tokens();
  auto again = run(dv.pull(spec, first->cursor));
  INFO(testing::describe(again));
  REQUIRE(again.ok());
  CHECK(again->records.size() == 2);
  CHECK_THAT(again->cursor, Catch::Contains("$deltatoken="));
  CHECK(count_occurrences(*captured.text, "is no longer valid") == 1);
  CHECK_THAT(*captured.text, Catch::Contains("reading the whole table again (full sync)"));
  CHECK_THAT(*captured.text, Catch::Contains("0x80044352"));
}

TEST_CASE_METHOD(DvFixture, "dataverse: a table with change tracking off is read by a modifiedon watermark") {
  dv_fake.set_change_tracking("leads", false);
  auto a = add_lead("ref-a");
  clock.advance(10min);
  add_lead("ref-b");
  auto first = run(dv.pull(spec, ""));
  INFO(testing::describe(first));
  REQUIRE(first.ok());
  CHECK(first->records.size() == 2);
  REQUIRE(first->cursor.starts_with("modifiedon:"));
  CHECK(count_occurrences(*captured.text, "change tracking is off for leads") == 1);

  clock.advance(10min);
  dv_fake.edit("leads", a, {{"description", "later"}});
  dv_fake.server().clear_requests();
  auto next = run(dv.pull(spec, first->cursor));
  INFO(testing::describe(next));
  REQUIRE(next.ok());
  // ref-b sits at the watermark (inside the 60 s overlap), then the edited row; ref-a's old
  // version, 10 minutes before the watermark, was not read again until it changed.
  REQUIRE(next->records.size() == 2);
  CHECK(next->records[0].fields["cosync_referralid"] == "ref-b");
  CHECK(next->records[1].id == a);
  CHECK(next->records[1].fields["description"] == "later");
  auto gets = requests("GET");
  REQUIRE(gets.size() == 1);
  CHECK_THAT(gets[0].param("$filter"), Catch::StartsWith("modifiedon ge "));
  CHECK(count_occurrences(*captured.text, "change tracking is off") == 1);
}

TEST_CASE_METHOD(DvFixture, "dataverse: an update PATCHes only the changed columns with If-Match, and 412 is a conflict") {
  auto id = add_lead("ref-1");
  auto current = run(dv.get(spec, id));
  REQUIRE(current.ok());
  auto updated = run(dv.update(spec, *current, {{"description", "first call"}}));
  INFO(testing::describe(updated));
  REQUIRE(updated.ok());
  CHECK(updated->fields["description"] == "first call");
  CHECK(updated->version != current->version);
  auto patches = requests("PATCH");
  REQUIRE(patches.size() == 1);
  CHECK(patches[0].path == "/api/data/v9.2/leads(" + id + ")");
  CHECK(patches[0].header("If-Match") == current->version);
  CHECK(json::parse(patches[0].body) == json{{"description", "first call"}});

  dv_fake.edit("leads", id, {{"companyname", "Edited by a seller"}});
  auto stale = run(dv.update(spec, *updated, {{"description", "second call"}}));
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.failure().kind == FailureKind::conflict);
  CHECK(stale.failure().http_status == 412);
  CHECK_THAT(stale.failure().message, Catch::Contains("0x80060882"));
  CHECK(dv_fake.row("leads", id)["description"] == "first call");
}

TEST_CASE_METHOD(DvFixture, "dataverse: upsert by the alternate key never creates a second row") {
  auto first = run(dv.upsert(spec, "ref-1", {{"lastname", "[MSFT] Contoso"}, {"companyname", "Contoso"}}));
  INFO(testing::describe(first));
  REQUIRE(first.ok());
  auto again = run(dv.upsert(spec, "ref-1", {{"lastname", "[MSFT] Contoso"}, {"companyname", "Contoso Ltd"}}));
  INFO(testing::describe(again));
  REQUIRE(again.ok());
  CHECK(again->id == first->id);
  REQUIRE(dv_fake.rows("leads").size() == 1);
  CHECK(dv_fake.row("leads", first->id)["companyname"] == "Contoso Ltd");
  CHECK(dv_fake.row("leads", first->id)["cosync_referralid"] == "ref-1");
  auto patches = requests("PATCH");
  REQUIRE(patches.size() == 2);
  CHECK(patches[0].path == "/api/data/v9.2/leads(cosync_referralid='ref-1')");

  SECTION("a quote in the key value is doubled") {
    auto quoted = run(dv.upsert(spec, "o'brien", {{"lastname", "X"}}));
    INFO(testing::describe(quoted));
    REQUIRE(quoted.ok());
    CHECK(dv_fake.row("leads", quoted->id)["cosync_referralid"] == "o'brien");
  }
}

TEST_CASE_METHOD(DvFixture, "dataverse: many writes go in $batch requests with one change set per record") {
  std::vector<connectors::UpsertRequest> creates;
  for (int i = 0; i < 250; ++i) creates.push_back({"ref-" + std::to_string(i), {{"lastname", "L" + std::to_string(i)}}});
  auto created = run(dv.upsert_many(spec, creates));
  REQUIRE(created.size() == 250);
  for (const auto& c : created) REQUIRE(c.ok());
  CHECK(dv_fake.rows("leads").size() == 250);
  CHECK(dv_fake.server().count("POST", "/api/data/v9.2/$batch") == 3);  // 100 + 100 + 50
  auto batches = requests("POST");
  CHECK_THAT(batches[0].header("Content-Type"), Catch::StartsWith("multipart/mixed;boundary=batch_"));
  CHECK_THAT(batches[0].header("Prefer"), Catch::Contains("odata.continue-on-error"));
  CHECK(count_occurrences(batches[0].body, "Content-Type: multipart/mixed;boundary=changeset_") == 100);

  // Updates: one row was edited meanwhile; only it fails, as a conflict.
  dv_fake.edit("leads", created[7]->id, {{"description", "seller"}});
  std::vector<connectors::UpdateRequest> updates;
  for (int i = 0; i < 250; ++i) updates.push_back({*created[static_cast<std::size_t>(i)], {{"companyname", "Co " + std::to_string(i)}}});
  dv_fake.server().clear_requests();
  auto written = run(dv.update_many(spec, updates));
  REQUIRE(written.size() == 250);
  check_all_ok_but_a_conflict(written, 7, [](std::size_t i, connectors::RemoteRecord r) {
    CHECK(r.fields["companyname"] == "Co " + std::to_string(i));
  });
  CHECK(dv_fake.server().count("POST", "/api/data/v9.2/$batch") == 3);
  CHECK(dv_fake.server().count("PATCH") == 0);
}

TEST_CASE_METHOD(DvFixture, "dataverse: a rejected record in a batch fails alone with the service's error") {
  std::vector<connectors::UpsertRequest> creates = {{"ref-1", {{"lastname", "A"}}},
                                                    {"ref-2", {{"lastname", "B"}, {"statuscode", "99"}}},
                                                    {"ref-3", {{"lastname", "C"}}}};
  auto created = run(dv.upsert_many(spec, creates));
  REQUIRE(created.size() == 3);
  CHECK(created[0].ok());
  REQUIRE_FALSE(created[1].ok());
  CHECK(created[1].failure().kind == FailureKind::rejected);
  CHECK_THAT(created[1].failure().message, Catch::Contains("0x8004431a"));
  CHECK(created[2].ok());
  CHECK(dv_fake.rows("leads").size() == 2);
}

TEST_CASE_METHOD(DvFixture, "dataverse: 429 with Retry-After is waited out, then the call succeeds") {
  add_lead("ref-1");
  dv_fake.fail_next(1, 429, 1);
  auto started = std::chrono::steady_clock::now();
  auto result = run(dv.pull(spec, ""));
  auto waited = std::chrono::steady_clock::now() - started;
  INFO(testing::describe(result));
  REQUIRE(result.ok());
  CHECK(result->records.size() == 1);
  CHECK(dv_fake.server().requests().size() == 3);  // the first GET answered 429, its repeat, the page
  CHECK(waited >= 900ms);
}

TEST_CASE_METHOD(DvFixture, "dataverse: error bodies name the service's code and message") {
  auto missing = run(dv.get(spec, "00000000-0000-0000-0000-000000000001"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.failure().kind == FailureKind::not_found);
  CHECK_THAT(missing.failure().message, Catch::Contains("404") && Catch::Contains("0x80040217") &&
                                            Catch::Contains("Does Not Exist"));
  auto id = add_lead("ref-1");
  auto current = run(dv.get(spec, id));
  REQUIRE(current.ok());
  auto bad = run(dv.update(spec, *current, {{"no_such_column", 1}}));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.failure().kind == FailureKind::rejected);
  CHECK_THAT(bad.failure().message, Catch::Contains("0x80060888: Could not find a property named 'no_such_column'"));
}

TEST_CASE_METHOD(DvFixture, "dataverse: a lead status change sets the statecode its statuscode belongs to") {
  auto id = add_lead("ref-1");
  auto current = run(dv.get(spec, id));
  REQUIRE(current.ok());
  CHECK(current->fields["statuscode"] == "1");  // option values are text, as value maps hold them
  auto qualified = run(dv.update(spec, *current, {{"statuscode", "3"}}));
  INFO(testing::describe(qualified));
  REQUIRE(qualified.ok());
  CHECK(dv_fake.row("leads", id)["statecode"] == 1);
  CHECK(dv_fake.row("leads", id)["statuscode"] == 3);
  CHECK(json::parse(requests("PATCH")[0].body) == json{{"statuscode", 3}, {"statecode", 1}});
}

TEST_CASE_METHOD(DvFixture, "dataverse: an opportunity is closed through WinOpportunity, never a PATCH of statecode") {
  connectors::ObjectSpec opp{"opportunities", {"name", "estimatedvalue", "salesstage", "statuscode"}, "cosync_referralid"};
  auto id = dv_fake.insert("opportunities", {{"name", "Contoso deal"}, {"estimatedvalue", 1000}, {"cosync_referralid", "r"}});
  auto current = run(dv.get(opp, id));
  REQUIRE(current.ok());
  dv_fake.server().clear_requests();
  auto won = run(dv.update(opp, *current, {{"statuscode", "3"}, {"estimatedvalue", 1200}, {"salesstage", "3"}}));
  INFO(testing::describe(won));
  REQUIRE(won.ok());
  auto row = dv_fake.row("opportunities", id);
  CHECK(row["statecode"] == 1);
  CHECK(row["statuscode"] == 3);
  CHECK(row["estimatedvalue"] == 1200);
  CHECK(row["salesstage"] == 3);
  CHECK(won->fields["statuscode"] == "3");
  REQUIRE(dv_fake.opportunity_closes().size() == 1);
  CHECK(dv_fake.opportunity_closes()[0]["opportunityid@odata.bind"] == "/opportunities(" + id + ")");
  CHECK(dv_fake.opportunity_closes()[0]["action"] == "WinOpportunity");
  // One $batch: the other columns with If-Match, then the action, in one change set; then the read.
  REQUIRE(dv_fake.server().requests().size() == 1);
  const auto batch = dv_fake.server().requests()[0];
  CHECK(batch.path == "/api/data/v9.2/$batch");
  CHECK_THAT(batch.body, Catch::Contains("POST " + dv_fake.base_url() + "/api/data/v9.2/WinOpportunity HTTP/1.1"));
  CHECK_THAT(batch.body, Catch::Contains("If-Match: " + current->version));
  CHECK_THAT(batch.body, Catch::Contains(R"({"estimatedvalue":1200,"salesstage":3})"));  // option value as an integer
  CHECK_FALSE(batch.body.find("\"statecode\"") != std::string::npos);

  SECTION("and a lost one through LoseOpportunity") {
    auto other = dv_fake.insert("opportunities", {{"name", "Other"}});
    auto o = run(dv.get(opp, other));
    REQUIRE(o.ok());
    auto lost = run(dv.update(opp, *o, {{"statuscode", "4"}}));
    INFO(testing::describe(lost));
    REQUIRE(lost.ok());
    CHECK(dv_fake.opportunity_closes().back()["action"] == "LoseOpportunity");
    CHECK(dv_fake.row("opportunities", other)["statecode"] == 2);
    CHECK(lost->fields["statuscode"] == "4");
  }
  SECTION("a row edited since it was read is a conflict and stays open") {
    auto other = dv_fake.insert("opportunities", {{"name", "Other"}});
    auto o = run(dv.get(opp, other));
    REQUIRE(o.ok());
    dv_fake.edit("opportunities", other, {{"name", "Renamed by a seller"}});
    auto stale = run(dv.update(opp, *o, {{"statuscode", "3"}}));
    REQUIRE_FALSE(stale.ok());
    CHECK(stale.failure().kind == FailureKind::conflict);
    CHECK(dv_fake.row("opportunities", other)["statecode"] == 0);
    CHECK(dv_fake.opportunity_closes().size() == 1);
  }
}

TEST_CASE_METHOD(DvFixture, "dataverse: N opportunities won in one cycle close in one $batch request, not N calls") {
  connectors::ObjectSpec opp{"opportunities", {"name", "statuscode"}, "cosync_referralid"};
  constexpr int n = 20;
  for (int i = 0; i < n; ++i) dv_fake.insert("opportunities", {{"name", "Deal " + std::to_string(i)}});
  auto pulled = run(dv.pull(opp, ""));
  REQUIRE(pulled.ok());
  REQUIRE(pulled->records.size() == n);
  // One of them moved meanwhile: it alone fails (a conflict), the others close.
  dv_fake.edit("opportunities", pulled->records[3].id, {{"name", "Renamed"}});
  std::vector<connectors::UpdateRequest> wins;
  for (const auto& r : pulled->records) wins.push_back({r, {{"statuscode", "3"}}});
  dv_fake.server().clear_requests();
  auto results = run(dv.update_many(opp, wins));
  REQUIRE(results.size() == n);
  check_all_ok_but_a_conflict(results, 3, [](std::size_t, connectors::RemoteRecord r) {
    CHECK(r.fields["statuscode"] == "3");
  });
  CHECK(dv_fake.server().requests().size() == 1);  // 19 wins, 1 conflict: one $batch request
  CHECK(dv_fake.server().count("POST", "/api/data/v9.2/$batch") == 1);
  CHECK(dv_fake.server().count("POST", "/api/data/v9.2/WinOpportunity") == 0);
  CHECK(dv_fake.opportunity_closes().size() == n - 1);
  CHECK(dv_fake.row("opportunities", pulled->records[3].id)["statecode"] == 0);
  WARN("dataverse: " << n << " opportunities won took " << dv_fake.server().requests().size() << " HTTP request(s)");
}

TEST_CASE_METHOD(DvFixture, "dataverse: describe_object reads columns, option values and change tracking from EntityDefinitions") {
  auto meta = run(dv.describe_object("opportunities"));
  INFO(testing::describe(meta));
  REQUIRE(meta.ok());
  CHECK(meta->object == "opportunities");
  CHECK(meta->change_tracking);
  auto field = [&](const std::string& name) -> const connectors::FieldMetadata& {
    for (const auto& f : meta->fields)
      if (f.name == name) return f;
    FAIL("no column " << name);
    throw std::logic_error("unreachable");
  };
  CHECK(field("name").updateable);
  CHECK(field("name").createable);
  CHECK(field("name").allowed_values.empty());
  CHECK_FALSE(field("opportunityid").updateable);
  CHECK_FALSE(field("modifiedon").createable);
  CHECK(field("salesstage").allowed_values == std::vector<std::string>{"0", "1", "2", "3"});
  CHECK(field("statuscode").allowed_values == std::vector<std::string>{"1", "2", "3", "4", "5"});
  CHECK(field("statecode").allowed_values == std::vector<std::string>{"0", "1", "2"});
  // Text columns carry their MaxLength (the fake's defaults: String 100, Memo 2000); others none.
  CHECK(field("name").max_length == std::optional<std::size_t>(100));
  CHECK(field("description").max_length == std::optional<std::size_t>(2000));
  CHECK_FALSE(field("salesstage").max_length);
  // The URL shapes of the Web API: the table by EntitySetName with its Attributes, then one cast
  // per option-set type with OptionSet / GlobalOptionSet expanded, then one per text type for
  // MaxLength (a property of StringAttributeMetadata and MemoAttributeMetadata only).
  auto sent = metadata_requests();
  REQUIRE(sent.size() == 6);
  CHECK(sent[0].path == "/api/data/v9.2/EntityDefinitions");
  CHECK(sent[0].param("$filter") == "EntitySetName eq 'opportunities'");
  CHECK_THAT(sent[0].param("$expand"), Catch::StartsWith("Attributes($select=LogicalName,AttributeType"));
  CHECK(sent[1].path ==
        "/api/data/v9.2/EntityDefinitions(LogicalName='opportunity')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata");
  CHECK(sent[1].param("$expand") == "OptionSet($select=Options),GlobalOptionSet($select=Options)");
  CHECK_THAT(sent[2].path, Catch::EndsWith("StatusAttributeMetadata"));
  CHECK_THAT(sent[3].path, Catch::EndsWith("StateAttributeMetadata"));
  CHECK_THAT(sent[4].path, Catch::EndsWith("StringAttributeMetadata"));
  CHECK(sent[4].param("$select") == "LogicalName,MaxLength");
  CHECK_THAT(sent[5].path, Catch::EndsWith("MemoAttributeMetadata"));

  SECTION("change tracking off is reported") {
    dv_fake.set_change_tracking("leads", false);
    auto leads = run(dv.describe_object("leads"));
    REQUIRE(leads.ok());
    CHECK_FALSE(leads->change_tracking);
  }
  SECTION("an unknown entity set is a failure naming it") {
    auto unknown = run(dv.describe_object("cosync_nothings"));
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.failure().kind == FailureKind::not_found);
    CHECK_THAT(unknown.failure().message, Catch::Contains("'cosync_nothings'"));
  }
}

TEST_CASE_METHOD(DvFixture, "dataverse: every option-set column travels as an integer and reads back as its value text") {
  connectors::ObjectSpec opp{"opportunities", {"name", "salesstage", "closeprobability", "statuscode"}, "cosync_referralid"};
  auto id = dv_fake.insert("opportunities", {{"name", "Deal"}, {"salesstage", 1}, {"closeprobability", 20}});
  auto current = run(dv.get(opp, id));
  INFO(testing::describe(current));
  REQUIRE(current.ok());
  CHECK(current->fields["salesstage"] == "1");      // Picklist: the value as text, as value maps hold it
  CHECK(current->fields["closeprobability"] == 20);  // Integer: left a number
  auto moved = run(dv.update(opp, *current, {{"salesstage", "2"}, {"closeprobability", 60}}));
  INFO(testing::describe(moved));
  REQUIRE(moved.ok());
  CHECK(json::parse(requests("PATCH").back().body) == json{{"salesstage", 2}, {"closeprobability", 60}});
  CHECK(dv_fake.row("opportunities", id)["salesstage"] == 2);
  CHECK(moved->fields["salesstage"] == "2");
  // Created rows too (upsert by the alternate key).
  auto created = run(dv.upsert(opp, "ref-9", {{"name", "New"}, {"salesstage", "0"}}));
  INFO(testing::describe(created));
  REQUIRE(created.ok());
  CHECK(dv_fake.row("opportunities", created->id)["salesstage"] == 0);
  CHECK(metadata_requests().size() == 1);  // the table definition is read once
}

TEST_CASE_METHOD(DvFixture, "dataverse: 1,000 changed opportunities sync in at most 15 HTTP requests") {
  connectors::ObjectSpec opp{"opportunities", {"name", "estimatedvalue"}, "cosync_referralid"};
  options.page_size = 5000;
  connectors::DataverseConnector big{client, tokens, options, captured.log};
  for (int i = 0; i < 1000; ++i)
    dv_fake.insert("opportunities", {{"name", "Deal " + std::to_string(i)}, {"estimatedvalue", i}, {"cosync_referralid", "r" + std::to_string(i)}});
  std::size_t before = big.api_calls();
  auto pulled = run(big.pull(opp, ""));
  REQUIRE(pulled.ok());
  REQUIRE(pulled->records.size() == 1000);
  std::vector<connectors::UpdateRequest> updates;
  for (auto& r : pulled->records) updates.push_back({r, {{"estimatedvalue", 5000}}});
  auto written = run(big.update_many(opp, updates));
  for (const auto& w : written) REQUIRE(w.ok());
  std::size_t calls = big.api_calls() - before;  // token + table definition + 1 page + 10 $batch
  INFO("HTTP requests for 1,000 opportunities: " << calls);
  CHECK(calls <= 15);
  WARN("dataverse: pull + update of 1,000 opportunities took " << calls << " HTTP requests");
}
