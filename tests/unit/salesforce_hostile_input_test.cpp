// Every byte Salesforce answers is hostile: wrong JSON types, broken ids, deeply nested bodies,
// error bodies of the wrong shape and next-page links to other hosts are failures or quarantined
// records, never an exception, a crash or our bearer token sent elsewhere.
#include <catch2/catch.hpp>

#include <set>

#include "tests/unit/connector_fixture.hpp"
#include "tests/unit/failure_checks.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

struct HostileFixture : testing::ConnectorFixture {
  connectors::SalesforceConnector sf{client, tokens, sf_options(), captured.log};
  connectors::ObjectSpec spec{"Lead", {"Company"}, "PartnerCenterReferralId__c"};

  // A query page as Salesforce shapes it, with `records`.
  static json page(json records, std::optional<std::string> next = std::nullopt) {
    json body = {{"totalSize", records.size()}, {"done", !next}, {"records", std::move(records)}};
    if (next) body["nextRecordsUrl"] = *next;
    return body;
  }
  static json lead_record(const std::string& id, const std::string& ref) {
    return {{"attributes", {{"type", "Lead"}}},
            {"Id", id},
            {"SystemModstamp", "2024-05-01T10:00:00.000+0000"},
            {"IsDeleted", false},
            {"Company", "C"},
            {"PartnerCenterReferralId__c", ref}};
  }
  void serve_next(int status, const std::string& body) { sf_fake.fail_next(1, status, std::nullopt, body); }
  std::string deeply_nested() const { return std::string(70000, '[') + std::string(70000, ']'); }
};

json with(json record, const std::string& key, json value) {
  record[key] = std::move(value);
  return record;
}

}  // namespace

TEST_CASE_METHOD(HostileFixture, "salesforce hostile: records of the wrong shape are malformed with their reason, the rest is pulled") {
  auto good1 = add_sf_lead("ref-1");
  auto good2 = add_sf_lead("ref-2");
  json base = lead_record("00Q0000000000XXAAA", "ref-x");
  sf_fake.serve_raw_records(
      "Lead", {with(base, "Id", 42), with(base, "Id", nullptr), with(base, "Id", json{{"nested", 1}}),
               with(base, "Id", std::string("00Qbad\0id\n", 10)), with(base, "SystemModstamp", 12345),
               with(with(base, "Id", "00Q0000000000EXTAAA"), "PartnerCenterReferralId__c", "ref\r\nx"),
               with(with(with(base, "Id", "00Q0000000000TYPAAA"), "IsDeleted", "yes"), "Company", nullptr), 17,
               json::array({"not", "a", "record"})});
  auto result = run(sf.pull(spec, ""));
  INFO(testing::describe(result));
  REQUIRE(result.ok());
  std::set<std::string> ids;
  for (const auto& r : result->records) ids.insert(r.id);
  // A wrong type where a value is optional reads as absent: IsDeleted "yes" is not deleted.
  CHECK(ids == std::set<std::string>{good1, good2, "00Q0000000000TYPAAA"});
  std::vector<std::pair<std::string, std::string>> malformed;
  for (const auto& m : result->malformed) malformed.emplace_back(m.id, m.reason);
  CHECK(malformed == std::vector<std::pair<std::string, std::string>>{
                         {"", "record without an Id"},
                         {"", "record without an Id"},
                         {"", "record without an Id"},
                         {"00Qbad\\x00id\\x0a", "record Id '00Qbad\\x00id\\x0a' contains a control character"},
                         {"00Q0000000000XXAAA", "record 00Q0000000000XXAAA has no valid SystemModstamp"},
                         {"00Q0000000000EXTAAA", "record 00Q0000000000EXTAAA has PartnerCenterReferralId__c "
                                                 "'ref\\x0d\\x0ax', which contains a control character"},
                         {"", "record is not a JSON object"},
                         {"", "record is not a JSON object"}});
}

TEST_CASE_METHOD(HostileFixture, "salesforce hostile: a query page of the wrong shape is a failure, not an exception") {
  SECTION("records not an array") {
    testing::check_200_body_fails(sf_fake, R"({"done":"no","totalSize":"x","records":{"Id":"1"}})", [&] { return run(sf.pull(spec, "")); }, "malformed body (no records array)");
  }
  SECTION("done and nextRecordsUrl of the wrong types end the pull after this page") {
    serve_next(200, R"({"done":null,"nextRecordsUrl":5,"records":[)" + lead_record("00Q0000000000AAAAA", "r").dump() + "]}");
    auto result = run(sf.pull(spec, ""));
    INFO(testing::describe(result));
    REQUIRE(result.ok());
    CHECK(result->records.size() == 1);
  }
  SECTION("a GET answering an object without a string Id") {
    serve_next(200, R"({"Id":5,"SystemModstamp":[]})");
    auto result = run(sf.get(spec, "00Q0000000000AAAAA"));
    REQUIRE_FALSE(result.ok());
    CHECK(result.failure().kind == FailureKind::rejected);
    CHECK_THAT(result.failure().message, Catch::Contains("malformed Lead: record without an Id"));
  }
  SECTION("a describe whose fields have the wrong types") {
    serve_next(200, R"({"name":7,"fields":[{"name":1},{"name":"Status","updateable":"yes",
                        "picklistValues":[{"value":3,"active":true},{"value":"Open","active":"true"},{"value":"New","active":true}]},
                        null,"x"]})");
    auto meta = run(sf.describe_object("Lead"));
    INFO(testing::describe(meta));
    REQUIRE(meta.ok());
    CHECK(meta->object == "Lead");
    REQUIRE(meta->fields.size() == 1);
    CHECK(meta->fields[0].name == "Status");
    CHECK_FALSE(meta->fields[0].updateable);
    CHECK(meta->fields[0].allowed_values == std::vector<std::string>{"New"});
  }
}

TEST_CASE_METHOD(HostileFixture, "salesforce hostile: 70,000 nested arrays are a clear failure, no crash") {
  SECTION("a query page") {
    testing::check_200_body_fails(sf_fake, deeply_nested(), [&] { return run(sf.pull(spec, "")); }, "not JSON, or nested deeper than 64 levels");
  }
  SECTION("a record nested inside a page") {
    std::string nested = R"({"done":true,"records":[{"Id":"00Q0000000000AAAAA","Deep":)" + deeply_nested() + "}]}";
    testing::check_200_body_fails(sf_fake, nested, [&] { return run(sf.pull(spec, "")); }, "nested deeper than 64");
  }
  SECTION("a GET") {
    serve_next(200, deeply_nested());
    auto result = run(sf.get(spec, "00Q0000000000AAAAA"));
    REQUIRE_FALSE(result.ok());
    CHECK(result.failure().kind == FailureKind::rejected);
  }
  SECTION("an sObject Collections answer") {
    serve_next(200, deeply_nested());
    auto results = run(sf.upsert_many(spec, {{"ref-1", {{"Company", "C"}, {"LastName", "L"}}}}));
    REQUIRE(results.size() == 1);
    testing::check_fails_with(results[0], "malformed body");
  }
  SECTION("an error body") {
    serve_next(400, deeply_nested());
    auto result = run(sf.get(spec, "00Q0000000000AAAAA"));
    REQUIRE_FALSE(result.ok());
    CHECK(result.failure().kind == FailureKind::rejected);
  }
}

TEST_CASE_METHOD(HostileFixture, "salesforce hostile: error bodies with numbers and nulls are plain failures") {
  auto body = GENERATE(as<std::string>{}, R"([{"errorCode":5,"message":null}])", R"([{"errorCode":null,"message":["x"]}])",
                       R"([null,{"errorCode":"X"}])", R"([])", R"({"errorCode":"X","message":{}})",
                       R"({"error":7,"error_description":null})", R"("just a string")", R"(<html>)");
  INFO(body);
  serve_next(400, body);
  auto result = run(sf.get(spec, "00Q0000000000AAAAA"));
  REQUIRE_FALSE(result.ok());
  CHECK(result.failure().kind == FailureKind::rejected);
  CHECK_THAT(result.failure().message, Catch::Contains("answered 400"));
}

TEST_CASE_METHOD(HostileFixture, "salesforce hostile: sObject Collections results of the wrong shape fail their record only") {
  std::vector<connectors::UpsertRequest> requests;
  for (int i = 0; i < 5; ++i) requests.push_back({"ref-" + std::to_string(i), {{"Company", "C"}, {"LastName", "L"}}});
  serve_next(200, R"([{"success":"true","id":"00Q0000000000AAAAA"},
                      {"success":true,"id":7},
                      {"success":false,"errors":[{"statusCode":3,"message":null,"fields":"Company"}]},
                      {"success":false,"errors":[{"statusCode":"REQUIRED_FIELD_MISSING","message":"Required","fields":[1,"LastName"]}]},
                      5])");
  auto results = run(sf.upsert_many(spec, requests));
  REQUIRE(results.size() == 5);
  for (const auto& r : results) CHECK_FALSE(r.ok());
  CHECK(results[1].failure().kind == FailureKind::transient);  // no usable id: try again
  CHECK(results[3].failure().kind == FailureKind::rejected);
  CHECK_THAT(results[3].failure().message, Catch::Contains("REQUIRED_FIELD_MISSING: Required (fields: LastName)"));
  CHECK(sf_fake.records("Lead").empty());

  SECTION("an answer with fewer results than records fails them all") {
    serve_next(200, "[]");
    auto again = run(sf.upsert_many(spec, requests));
    for (const auto& r : again) {
      testing::check_fails_with(r, "malformed body");
    }
  }
  SECTION("a created Account answered without a string id fails the Opportunity that needed it") {
    connectors::ObjectSpec opportunity{"Opportunity", {"Name"}, "PartnerCenterReferralId__c"};
    opportunity.parent = connectors::ParentLookup{"AccountId", "Account", "Name", false};
    connectors::UpsertRequest u{"ref-9", {{"Name", "[MSFT] x"}, {"StageName", "Prospecting"}, {"CloseDate", "2026-12-31"}},
                                connectors::ParentMatch{"Contoso", std::vector<connectors::FieldChange>{{"Name", "Contoso"}}}};
    serve_next(200, page(json::array()).dump());       // the lookup finds nothing
    serve_next(200, R"([{"success":true,"id":12345}])");  // the create answers a number
    auto created = run(sf.upsert_many(opportunity, {u}));
    REQUIRE(created.size() == 1);
    REQUIRE_FALSE(created[0].ok());
    CHECK(sf_fake.records("Opportunity").empty());
  }
}

TEST_CASE_METHOD(HostileFixture, "salesforce hostile: a nextRecordsUrl to another host is not followed and gets no token") {
  fakes::HttpTestServer other([](const fakes::FakeRequest&) { return fakes::FakeResponse::json(200, page(json::array())); });
  std::string elsewhere = GENERATE(as<std::string>{}, "other-port", "other-host", "https");
  std::string port = std::to_string(sf_fake.server().port());
  std::string link = elsewhere == "other-port" ? other.base_url() + "/services/data/v60.0/query/01gX-2000"
                     : elsewhere == "other-host" ? "http://localhost:" + port + "/services/data/v60.0/query/01gX-2000"
                                                 : "https://127.0.0.1:" + port + "/services/data/v60.0/query/01gX-2000";
  INFO(link);
  serve_next(200, page(json::array({lead_record("00Q0000000000AAAAA", "ref-1")}), link).dump());
  auto result = run(sf.pull(spec, "2024-05-01T10:00:00.000Z"));
  REQUIRE_FALSE(result.ok());
  CHECK_THAT(result.failure().message,
             Catch::Contains("SOQL query on Lead: nextRecordsUrl: the next-page link points to another host"));
  CHECK(other.requests().empty());
  CHECK(sf_fake.server().count("GET") == 1);  // the first page only
}

TEST_CASE_METHOD(HostileFixture, "salesforce hostile: a page linking to itself stops the pull") {
  std::string self = "/services/data/v60.0/query/01gSELF-2000";
  serve_next(200, page(json::array({lead_record("00Q0000000000AAAAA", "ref-1")}), self).dump());
  serve_next(200, page(json::array({lead_record("00Q0000000000BBAAA", "ref-2")}), self).dump());
  testing::check_200_body_fails(sf_fake, page(json::array({lead_record("00Q0000000000CCAAA", "ref-3")}), self).dump(), [&] { return run(sf.pull(spec, "")); }, "repeats a page already read");
  CHECK(sf_fake.server().count("GET") == 2);
}
