// Creates against a Dataverse that enforces its table definitions (issue 10 items 2 and 4b): a
// create sends only columns valid for create (never statecode); a row first seen in an inactive
// state is created, then moved in the same change set; an opportunity closes through its action
// with the revenue and close date Dynamics' own close dialog records.
#include <catch2/catch.hpp>

#include "daemon/util/time.hpp"
#include "tests/unit/dataverse_fixture.hpp"

using namespace cosync;
using cosync::testing::DvFixture;
using nlohmann::json;

namespace {

// `update` succeeded and closed the opportunity exactly once, through `action` with `revenue`;
// returns the OpportunityClose.
template <class Result>
nlohmann::json check_closed_once(const fakes::FakeDataverse& fake, const Result& update, const std::string& action,
                                 int revenue) {
  INFO(testing::describe(update));
  REQUIRE(update.ok());
  REQUIRE(fake.opportunity_closes().size() == 1);
  auto close = fake.opportunity_closes()[0];
  CHECK(close["action"] == action);
  CHECK(close["actualrevenue"] == revenue);
  return close;
}


// The JSON bodies of the operations of a $batch request, in order.
std::vector<json> batch_bodies(const std::string& batch) {
  std::vector<json> out;
  for (auto at = batch.find("\r\n\r\n{"); at != std::string::npos; at = batch.find("\r\n\r\n{", at + 1)) {
    auto end = batch.find("\r\n", at + 4);
    out.push_back(json::parse(batch.substr(at + 4, end - at - 4)));
  }
  return out;
}

const connectors::ObjectSpec kOpportunities{
    "opportunities", {"name", "estimatedvalue", "estimatedclosedate", "statuscode"}, "cosync_referralid"};

}  // namespace

TEST_CASE_METHOD(DvFixture, "dataverse fake: a create carrying a column not valid for create is refused in the service's error shape") {
  auto meta = run(dv.describe_object("leads"));
  REQUIRE(meta.ok());
  for (const auto& f : meta->fields)
    if (f.name == "statecode") {
      CHECK_FALSE(f.createable);  // as Dataverse's lead table defines it
      CHECK(f.updateable);
    }
  for (const auto& create : {std::pair<http::Method, std::string>{http::Method::post, "/leads"},
                             {http::Method::patch, "/leads(cosync_referralid='ref-1')"}}) {  // an upsert's create
    auto res = send(create.first, create.second, {{"lastname", "X"}, {"statecode", 0}, {"statuscode", 1}});
    REQUIRE(res.ok());
    CHECK(res->status == 400);
    auto error = json::parse(res->body);
    CHECK(error["error"]["code"] == "0x80048d19");
    CHECK_THAT(error["error"]["message"].get<std::string>(),
               Catch::Contains("'statecode'") && Catch::Contains("not valid for create"));
  }
  // An update may set it.
  auto id = add_lead("ref-2");
  auto update = send(http::Method::patch, "/leads(" + id + ")", {{"statecode", 2}, {"statuscode", 4}});
  REQUIRE(update.ok());
  CHECK(update->status == 204);
  CHECK(dv_fake.rows("leads").size() == 1);
}

TEST_CASE_METHOD(DvFixture, "dataverse: a new lead is created without statecode, which the table marks not valid for create") {
  auto created = run(dv.upsert(spec, "ref-1", {{"lastname", "[MSFT] Contoso"}, {"statuscode", "1"}}));
  INFO(testing::describe(created));
  REQUIRE(created.ok());
  auto patches = requests("PATCH");
  REQUIRE(patches.size() == 1);  // one PATCH by the alternate key, as before
  CHECK(json::parse(patches[0].body) == json{{"lastname", "[MSFT] Contoso"}, {"statuscode", 1}});
  auto row = dv_fake.row("leads", created->id);
  CHECK(row["statecode"] == 0);
  CHECK(row["statuscode"] == 1);

  SECTION("and many in $batch, one operation each") {
    std::vector<connectors::UpsertRequest> creates;
    for (int i = 0; i < 5; ++i) creates.push_back({"ref-b" + std::to_string(i), {{"lastname", "L"}, {"statuscode", "2"}}});
    dv_fake.server().clear_requests();
    auto results = run(dv.upsert_many(spec, creates));
    for (const auto& r : results) CHECK(r.ok());
    REQUIRE(requests("POST").size() == 1);
    const auto bodies = batch_bodies(requests("POST")[0].body);
    REQUIRE(bodies.size() == 5);
    for (const auto& b : bodies) CHECK_FALSE(b.contains("statecode"));
  }
}

TEST_CASE_METHOD(DvFixture, "dataverse: a referral first seen Closed/Lost creates the lead, then disqualifies it in the same change set") {
  std::vector<connectors::UpsertRequest> creates = {{"ref-open", {{"lastname", "A"}, {"statuscode", "1"}}},
                                                    {"ref-lost", {{"lastname", "B"}, {"statuscode", "4"}}},
                                                    {"ref-won", {{"lastname", "C"}, {"statuscode", "3"}}}};
  auto results = run(dv.upsert_many(spec, creates));
  REQUIRE(results.size() == 3);
  for (const auto& r : results) {
    INFO(testing::describe(r));
    REQUIRE(r.ok());
  }
  auto lost = dv_fake.row("leads", results[1]->id);
  CHECK(lost["statecode"] == 2);  // Disqualified
  CHECK(lost["statuscode"] == 4);
  CHECK(results[1]->fields["statuscode"] == "4");
  auto qualified = dv_fake.row("leads", results[2]->id);
  CHECK(qualified["statecode"] == 1);
  CHECK(qualified["statuscode"] == 3);
  CHECK(dv_fake.rows("leads").size() == 3);
  // One request: the create (no state) then the state with its status, by the same key.
  REQUIRE(requests("POST").size() == 1);
  const std::string batch = requests("POST")[0].body;
  auto bodies = batch_bodies(batch);
  REQUIRE(bodies.size() == 5);
  CHECK(bodies[1] == json{{"lastname", "B"}});
  CHECK(bodies[2] == json{{"statecode", 2}, {"statuscode", 4}});
  CHECK(bodies[3] == json{{"lastname", "C"}});
  CHECK(bodies[4] == json{{"statecode", 1}, {"statuscode", 3}});

  SECTION("a single upsert takes the same change set") {
    auto one = run(dv.upsert(spec, "ref-lost-2", {{"lastname", "D"}, {"statuscode", "5"}}));
    INFO(testing::describe(one));
    REQUIRE(one.ok());
    CHECK(dv_fake.row("leads", one->id)["statecode"] == 2);
    CHECK(dv_fake.row("leads", one->id)["statuscode"] == 5);
  }
  SECTION("a refused state rolls back the create: no half-written row") {
    dv_fake.server().clear_requests();
    // 4 is Lost (Disqualified); a statecode 1 (Qualified) with it is refused after the create.
    auto refused = run(dv.upsert_many(spec, {{"ref-bad", {{"lastname", "E"}, {"statuscode", "4"}, {"statecode", "1"}}}}));
    REQUIRE_FALSE(refused[0].ok());
    CHECK(refused[0].failure().kind == FailureKind::rejected);
    CHECK(dv_fake.rows("leads").size() == 3);
  }
}

TEST_CASE_METHOD(DvFixture, "dataverse: a referral first seen Lost creates the opportunity and closes it through LoseOpportunity") {
  auto created = run(dv.upsert(kOpportunities, "ref-9",
                               {{"name", "Contoso deal"}, {"estimatedvalue", 5000}, {"statuscode", "4"},
                                {"estimatedclosedate", "2026-11-30T00:00:00Z"}}));
  INFO(testing::describe(created));
  REQUIRE(created.ok());
  auto row = dv_fake.row("opportunities", created->id);
  CHECK(row["statecode"] == 2);
  CHECK(row["statuscode"] == 4);
  CHECK(row["cosync_referralid"] == "ref-9");
  CHECK(created->fields["statuscode"] == "4");
  REQUIRE(dv_fake.opportunity_closes().size() == 1);
  const auto close = dv_fake.opportunity_closes()[0];
  CHECK(close["action"] == "LoseOpportunity");
  CHECK(close["opportunityid@odata.bind"] == "/opportunities(cosync_referralid='ref-9')");
  CHECK(close["actualrevenue"] == 5000);
  CHECK(close["actualend"] == "2026-11-30T00:00:00.000Z");
  CHECK(row["actualvalue"] == 5000);
  CHECK(row["actualclosedate"] == "2026-11-30T00:00:00Z");
  // One $batch: the create (neither statecode nor statuscode) and the action in one change set,
  // then the read of the closed row.
  REQUIRE(requests("POST").size() == 1);
  auto bodies = batch_bodies(requests("POST")[0].body);
  REQUIRE(bodies.size() == 2);
  CHECK(bodies[0] == json{{"name", "Contoso deal"}, {"estimatedvalue", 5000}, {"estimatedclosedate", "2026-11-30T00:00:00Z"}});
  CHECK(bodies[1]["Status"] == 4);
  CHECK(requests("PATCH").empty());
  CHECK(requests("GET").empty());
}

TEST_CASE_METHOD(DvFixture, "dataverse: WinOpportunity records the deal value as actualrevenue and the close date as actualend") {
  auto id = dv_fake.insert("opportunities", {{"name", "Deal"}, {"estimatedvalue", 1000}, {"cosync_referralid", "r"}});
  auto current = run(dv.get(kOpportunities, id));
  REQUIRE(current.ok());

  SECTION("the value written with the close, and today when the row has no close date") {
    auto won = run(dv.update(kOpportunities, *current, {{"statuscode", "3"}, {"estimatedvalue", 1200}}));
    auto close = check_closed_once(dv_fake, won, "WinOpportunity", 1200);
    CHECK(close["actualend"] == format_iso8601(clock.now()));
    auto row = dv_fake.row("opportunities", id);
    CHECK(row["actualvalue"] == 1200);
    CHECK(row["statecode"] == 1);
  }
  SECTION("the row's value and its estimated close date (a date alone) when the change is only the status") {
    dv_fake.edit("opportunities", id, {{"estimatedclosedate", "2026-10-01"}});
    auto edited = run(dv.get(kOpportunities, id));
    REQUIRE(edited.ok());
    auto lost = run(dv.update(kOpportunities, *edited, {{"statuscode", "5"}}));
    auto close = check_closed_once(dv_fake, lost, "LoseOpportunity", 1000);
    CHECK(close["actualend"] == "2026-10-01T00:00:00.000Z");
    CHECK(dv_fake.row("opportunities", id)["actualclosedate"] == "2026-10-01T00:00:00Z");
  }
}

TEST_CASE_METHOD(DvFixture, "dataverse fake: an OpportunityClose with a revenue or date of the wrong type is refused") {
  auto id = dv_fake.insert("opportunities", {{"name", "Deal"}});
  for (const auto& [column, value] : std::vector<std::pair<std::string, json>>{
           {"actualrevenue", "a lot"}, {"actualend", "yesterday"}, {"actualend", 20261001}}) {
    const json body = {{"Status", 3},
                       {"OpportunityClose", {{"opportunityid@odata.bind", "/opportunities(" + id + ")"}, {column, value}}}};
    auto res = send(http::Method::post, "/WinOpportunity", body);
    REQUIRE(res.ok());
    CHECK(res->status == 400);
    CHECK_THAT(res->body, Catch::Contains("0x80048d19") && Catch::Contains("'" + column + "'"));
  }
  CHECK(dv_fake.opportunity_closes().empty());
  CHECK(dv_fake.row("opportunities", id)["statecode"] == 0);
}
