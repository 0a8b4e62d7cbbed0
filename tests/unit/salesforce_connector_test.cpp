#include <catch2/catch.hpp>

#include "connectors/activity_count.hpp"
#include "daemon/util/time.hpp"
#include "tests/unit/connector_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Without the fixture's clock: these tests run on the system clock.
connectors::SalesforceOptions overlapping_options(const std::string& url) {
  connectors::SalesforceOptions o;
  o.instance_url = url;
  o.overlap = 300s;
  return o;
}

struct SfFixture : testing::ConnectorFixture {
  connectors::SalesforceConnector sf{client, tokens, overlapping_options(sf_fake.base_url()), captured.log};
  connectors::ObjectSpec spec{"Lead", {"Company", "Status"}, "PartnerCenterReferralId__c"};
};

}  // namespace

TEST_CASE("salesforce: the pull query selects mapped fields since an unquoted ISO-8601 literal") {
  connectors::ObjectSpec spec{"Lead", {"Company", "Status"}, "Ref__c"};
  CHECK(connectors::build_pull_soql(spec, "2024-05-01T10:00:00.000Z") ==
        "SELECT Id, SystemModstamp, IsDeleted, Company, Status, Ref__c FROM Lead WHERE SystemModstamp >= "
        "2024-05-01T10:00:00.000Z AND Ref__c != null ORDER BY SystemModstamp, Id");
  CHECK(connectors::build_pull_soql(spec, "") ==
        "SELECT Id, SystemModstamp, IsDeleted, Company, Status, Ref__c FROM Lead WHERE Ref__c != null ORDER BY "
        "SystemModstamp, Id");
}

TEST_CASE("salesforce: counted activities are read by relationship subqueries and replaced by their count") {
  connectors::ObjectSpec spec{"Lead", {"Status", connectors::kCompletedActivitiesField}, "Ref__c"};
  const std::string subqueries =
      "(SELECT Id FROM Tasks WHERE IsClosed = true AND IsDeleted = false), (SELECT Id FROM Events WHERE EndDateTime < TODAY AND IsDeleted = false)";
  CHECK(connectors::build_pull_soql(spec, "") == "SELECT Id, SystemModstamp, IsDeleted, Status, " + subqueries +
                                                     ", Ref__c FROM Lead WHERE Ref__c != null ORDER BY SystemModstamp, Id");
  CHECK(connectors::build_ids_soql(spec, {"00Q1"}, true) ==
        "SELECT Id, SystemModstamp, IsDeleted, Status, " + subqueries + ", Ref__c FROM Lead WHERE Id IN ('00Q1')");
  // Each subquery answers a QueryResult, or null when no row matches.
  json body = {{"Id", "00Q1"},
               {"SystemModstamp", "2024-05-01T10:00:00.000+0000"},
               {"Tasks", {{"totalSize", 3}, {"done", true}, {"records", json::array()}}},
               {"Events", nullptr}};
  std::string reason;
  auto record = connectors::parse_sobject(body, reason);
  REQUIRE(record);
  CHECK(record->fields[connectors::kCompletedActivitiesField] == 3);
  CHECK_FALSE(record->fields.contains("Tasks"));
  CHECK_FALSE(record->fields.contains("Events"));
  body["Events"] = {{"totalSize", 2}, {"done", true}, {"records", json::array()}};
  CHECK(connectors::parse_sobject(body, reason)->fields[connectors::kCompletedActivitiesField] == 5);
  // A record read without them has no count (not a count of 0).
  body.erase("Tasks");
  body.erase("Events");
  CHECK_FALSE(connectors::parse_sobject(body, reason)->fields.contains(connectors::kCompletedActivitiesField));
}

TEST_CASE_METHOD(SfFixture, "salesforce: a pull follows nextRecordsUrl and skips records not tied to a referral") {
  sf_fake.set_batch_size(50);
  for (int i = 0; i < 120; ++i) {
    add_sf_lead("ref-" + std::to_string(i));
    clock.advance(1min);
  }
  sf_fake.insert("Lead", {{"LastName", "Walk-in"}, {"Company", "Not from Microsoft"}});
  auto result = run(sf.pull(spec, ""));
  INFO(testing::describe(result));
  REQUIRE(result.ok());
  CHECK(result->records.size() == 120);
  CHECK(result->records.front().fields.contains("Company"));
  CHECK_FALSE(result->records.front().fields.contains("attributes"));
  // queryAll, then its nextRecordsUrl pages (".../query/01g...").
  CHECK(sf_fake.server().count("GET", "/services/data/v60.0/query") == 3);

  clock.advance(1h);
  auto changed = add_sf_lead("ref-new");
  auto next = run(sf.pull(spec, result->cursor));
  INFO(testing::describe(next));
  REQUIRE(next.ok());
  // The changed Lead, plus the ones inside the 5-minute overlap before the first pull's time on
  // Salesforce's clock (its Date header; the last Lead was added a minute before it).
  REQUIRE(next->records.size() == 1 + 5);
  CHECK(next->records.back().id == changed);
}

TEST_CASE_METHOD(SfFixture, "salesforce: upsert by external id never creates a second record") {
  auto first = run(sf.upsert(spec, "ref-1", {{"LastName", "[MSFT] Contoso"}, {"Company", "Contoso"}}));
  INFO(testing::describe(first));
  REQUIRE(first.ok());
  auto again = run(sf.upsert(spec, "ref-1", {{"LastName", "[MSFT] Contoso"}, {"Company", "Contoso Ltd"}}));
  INFO(testing::describe(again));
  REQUIRE(again.ok());
  CHECK(again->id == first->id);
  CHECK(sf_fake.records("Lead").size() == 1);
  CHECK(sf_fake.record("Lead", first->id)["Company"] == "Contoso Ltd");
}

TEST_CASE_METHOD(SfFixture, "salesforce: an update re-reads SystemModstamp and refuses to overwrite a newer edit") {
  auto id = add_sf_lead("ref-1");
  auto current = run(sf.get(spec, id));
  INFO(testing::describe(current));
  REQUIRE(current.ok());
  clock.advance(1s);
  sf_fake.edit("Lead", id, {{"Company", "Edited by a seller"}});
  auto result = run(sf.update(spec, *current, {{"Company", "From cosync"}}));
  REQUIRE_FALSE(result.ok());
  CHECK(result.failure().kind == FailureKind::conflict);
  CHECK(sf_fake.record("Lead", id)["Company"] == "Edited by a seller");

  auto fresh = run(sf.get(spec, id));
  auto ok = run(sf.update(spec, *fresh, {{"Company", "From cosync"}}));
  INFO(testing::describe(ok));
  REQUIRE(ok.ok());
  CHECK(ok->version != fresh->version);
  CHECK(sf_fake.record("Lead", id)["Company"] == "From cosync");
}

TEST_CASE_METHOD(SfFixture, "salesforce: a rejected value is a rejected failure carrying Salesforce's message") {
  auto id = add_sf_lead("ref-1");
  auto current = run(sf.get(spec, id));
  auto result = run(sf.update(spec, *current, {{"Status", "Not a picklist value"}}));
  REQUIRE_FALSE(result.ok());
  CHECK(result.failure().kind == FailureKind::rejected);
  CHECK_THAT(result.failure().message, Catch::Contains("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"));
}
