// Salesforce writes through sObject Collections: 200 records a call, allOrNone=false, one result
// per record, SystemModstamp re-read for the whole batch in one query.
#include <catch2/catch.hpp>

#include "daemon/util/time.hpp"
#include "tests/unit/connector_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct CollectionsFixture : testing::ConnectorFixture {
  connectors::SalesforceConnector sf{client, tokens, sf_options(), captured.log};
  connectors::ObjectSpec spec{"Lead", {"Company", "Status"}, "PartnerCenterReferralId__c"};

  std::size_t collection_calls() { return sf_fake.server().count("PATCH", "/services/data/v60.0/composite/sobjects"); }
  std::size_t single_writes() {
    return sf_fake.server().count("PATCH", "/services/data/v60.0/sobjects") +
           sf_fake.server().count("POST", "/services/data/v60.0/sobjects");
  }
  std::vector<connectors::UpdateRequest> updates_for(const std::vector<std::string>& ids, const std::string& company) {
    auto pulled = run(sf.pull(spec, ""));
    REQUIRE(pulled.ok());
    std::vector<connectors::UpdateRequest> requests;
    for (const auto& id : ids)
      for (const auto& r : pulled->records)
        if (r.id == id) {
          connectors::UpdateRequest u;
          u.current = r;
          u.changes = {{"Company", company}};
          requests.push_back(u);
        }
    REQUIRE(requests.size() == ids.size());
    return requests;
  }
};

}  // namespace

TEST_CASE_METHOD(CollectionsFixture, "salesforce_collections: 450 upserts take 3 calls and never duplicate") {
  std::vector<connectors::UpsertRequest> requests;
  for (int i = 0; i < 450; ++i) {
    connectors::UpsertRequest u;
    u.external_id = "ref-" + std::to_string(i);
    u.fields = {{"LastName", "[MSFT] Co " + std::to_string(i)}, {"Company", "Co " + std::to_string(i)}};
    requests.push_back(u);
  }
  auto results = run(sf.upsert_many(spec, requests));
  REQUIRE(results.size() == 450);
  for (const auto& r : results) REQUIRE(r.ok());
  CHECK(collection_calls() == 3);
  CHECK(single_writes() == 0);
  CHECK(sf_fake.server().count("PATCH", "/services/data/v60.0/composite/sobjects/Lead/PartnerCenterReferralId__c") == 3);
  CHECK(sf_fake.records("Lead").size() == 450);
  CHECK(results[7]->fields["PartnerCenterReferralId__c"] == "ref-7");
  CHECK(results[7]->fields["Company"] == "Co 7");
  CHECK_FALSE(results[7]->version.empty());

  // The request body is what the docs describe: allOrNone false, attributes.type on each record.
  auto body = json::parse(sf_fake.server().requests().front().body);
  CHECK(body["allOrNone"] == false);
  CHECK(body["records"].size() == 200);
  CHECK(body["records"][0]["attributes"]["type"] == "Lead");
  CHECK(body["records"][0]["PartnerCenterReferralId__c"] == "ref-0");

  auto again = run(sf.upsert_many(spec, requests));
  for (std::size_t i = 0; i < again.size(); ++i) {
    REQUIRE(again[i].ok());
    CHECK(again[i]->id == results[i]->id);
  }
  CHECK(sf_fake.records("Lead").size() == 450);
}

TEST_CASE_METHOD(CollectionsFixture, "salesforce_collections: a rejected record fails alone, the rest is written") {
  std::vector<connectors::UpsertRequest> requests(3);
  requests[0].external_id = "ref-a";
  requests[0].fields = {{"LastName", "A"}, {"Company", "A"}};
  requests[1].external_id = "ref-b";
  requests[1].fields = {{"LastName", "B"}, {"Company", "B"}, {"Status", "Not a picklist value"}};
  requests[2].external_id = "ref-c";
  requests[2].fields = {{"LastName", "C"}, {"Company", "C"}};
  auto results = run(sf.upsert_many(spec, requests));
  REQUIRE(results.size() == 3);
  CHECK(results[0].ok());
  REQUIRE_FALSE(results[1].ok());
  CHECK(results[1].failure().kind == FailureKind::rejected);
  CHECK_THAT(results[1].failure().message, Catch::Contains("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"));
  CHECK_THAT(results[1].failure().message, Catch::Contains("Status"));
  CHECK(results[2].ok());
  CHECK(sf_fake.records("Lead").size() == 2);
}

TEST_CASE_METHOD(CollectionsFixture,
                 "salesforce_collections: updates re-read SystemModstamp in one query per batch and skip moved records") {
  std::vector<std::string> ids;
  for (int i = 0; i < 250; ++i) {
    ids.push_back(add_sf_lead("ref-" + std::to_string(i)));
    clock.advance(1s);
  }
  auto requests = updates_for(ids, "From cosync");
  clock.advance(1s);
  sf_fake.edit("Lead", ids[3], {{"Company", "Edited by a seller"}});  // moves after our read
  sf_fake.server().clear_requests();

  auto results = run(sf.update_many(spec, requests));
  REQUIRE(results.size() == 250);
  REQUIRE_FALSE(results[3].ok());
  CHECK(results[3].failure().kind == FailureKind::conflict);
  CHECK(sf_fake.record("Lead", ids[3])["Company"] == "Edited by a seller");
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (i == 3) continue;
    INFO(i << ": " << testing::describe(results[i]));
    REQUIRE(results[i].ok());
    CHECK(results[i]->version != requests[i].current.version);
    CHECK(results[i]->fields["Company"] == "From cosync");
  }
  CHECK(collection_calls() == 2);  // 200 + 49
  CHECK(single_writes() == 0);
  // Per batch: one SOQL re-read before writing and one read-back after; no per-record GETs.
  CHECK(sf_fake.server().count("GET", "/services/data/v60.0/query") == 4);
  CHECK(sf_fake.server().count("GET", "/services/data/v60.0/sobjects") == 0);
  auto first = sf_fake.server().requests().front();
  CHECK_THAT(first.query.at("q"), Catch::StartsWith("SELECT Id, SystemModstamp FROM Lead WHERE Id IN ('"));
}

TEST_CASE_METHOD(CollectionsFixture, "salesforce_collections: a record deleted meanwhile is not_found, not retried") {
  auto a = add_sf_lead("ref-a");
  auto b = add_sf_lead("ref-b");
  auto requests = updates_for({a, b}, "X");
  sf_fake.edit("Lead", b, {{"IsDeleted", true}});
  auto results = run(sf.update_many(spec, requests));
  REQUIRE(results.size() == 2);
  CHECK(results[0].ok());
  REQUIRE_FALSE(results[1].ok());
  CHECK(results[1].failure().kind == FailureKind::not_found);
}

TEST_CASE_METHOD(CollectionsFixture, "salesforce_collections: a transport failure fails the whole batch as transient") {
  auto a = add_sf_lead("ref-a");
  auto requests = updates_for({a}, "X");
  sf_fake.fail_next(5, 503);
  auto results = run(sf.update_many(spec, requests));
  REQUIRE(results.size() == 1);
  REQUIRE_FALSE(results[0].ok());
  CHECK(results[0].failure().kind == FailureKind::transient);
}

TEST_CASE_METHOD(CollectionsFixture, "salesforce_collections: an external id held by several records quarantines that record, naming them") {
  // Duplicates a user made by hand (insert skips the uniqueness check, as a data load might).
  auto a = add_sf_lead("ref-dup");
  auto b = add_sf_lead("ref-dup");
  std::vector<connectors::UpsertRequest> requests(2);
  requests[0].external_id = "ref-dup";
  requests[0].fields = {{"LastName", "[MSFT] Dup"}, {"Company", "Dup"}};
  requests[1].external_id = "ref-new";
  requests[1].fields = {{"LastName", "[MSFT] New"}, {"Company", "New"}};
  auto results = run(sf.upsert_many(spec, requests));
  REQUIRE(results.size() == 2);
  REQUIRE_FALSE(results[0].ok());
  CHECK(results[0].failure().kind == FailureKind::rejected);  // quarantined, not retried blindly
  CHECK_THAT(results[0].failure().message, Catch::Contains("DUPLICATE_EXTERNAL_ID"));
  CHECK_THAT(results[0].failure().message, Catch::Contains(a));
  CHECK_THAT(results[0].failure().message, Catch::Contains(b));
  CHECK(results[1].ok());  // the rest of the batch is written
  CHECK(sf_fake.records("Lead").size() == 3);
}

TEST_CASE_METHOD(CollectionsFixture, "salesforce_collections: a single upsert answered 300 names the matching records") {
  auto a = add_sf_lead("ref-dup");
  auto b = add_sf_lead("ref-dup");
  auto result = run(sf.upsert(spec, "ref-dup", {{"Company", "Dup"}}));
  REQUIRE_FALSE(result.ok());
  CHECK(result.failure().kind == FailureKind::rejected);
  CHECK(result.failure().http_status == 300);
  CHECK_THAT(result.failure().message,
             Catch::Contains("several Lead records have PartnerCenterReferralId__c = ref-dup: " + a + ", " + b));
  CHECK(sf_fake.record("Lead", a)["Company"] == "C ref-dup");  // neither was touched
  CHECK(sf_fake.record("Lead", b)["Company"] == "C ref-dup");
}
