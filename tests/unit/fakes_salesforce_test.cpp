// The fake Salesforce behaves like the REST API in what the daemon depends on: SOQL with
// nextRecordsUrl paging, schema checks with array error bodies, upsert by external id, modstamps.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "daemon/util/time.hpp"
#include "tests/fakes/fake_salesforce.hpp"
#include "tests/fakes/soql.hpp"
#include "tests/fakes/test_http_client.hpp"

using namespace cosync;
using namespace cosync::fakes;
using nlohmann::json;

namespace {

struct SfFixture {
  ManualClock clock{*parse_iso8601("2024-05-01T10:20:30.000Z")};
  FakeSalesforce sf{[&] {
    FakeSalesforceOptions o;
    o.clock = &clock;
    o.validate_token = [](std::string_view t) { return t == "good"; };
    return o;
  }()};
  FakeClient client;

  std::string url(const std::string& rest) { return sf.base_url() + sf.data_path() + rest; }
  ClientResponse call(const std::string& method, const std::string& rest, const json& body = {},
                      HeaderList extra = {}) {
    HeaderList h = {{"Authorization", "Bearer good"}, {"Content-Type", "application/json"}};
    h.insert(h.end(), extra.begin(), extra.end());
    return client.request(method, rest.starts_with("/services") ? sf.base_url() + rest : url(rest), h,
                          body.is_null() ? std::string{} : body.dump());
  }
  ClientResponse soql(const std::string& q, HeaderList extra = {}, const std::string& verb = "/query") {
    return call("GET", verb + "?q=" + url_encode(q), {}, std::move(extra));
  }
  std::string lead(const std::string& company, json extra = json::object()) {
    json fields = {{"LastName", "Doe"}, {"Company", company}};
    fields.update(extra);
    return sf.insert("Lead", fields);
  }
};

}  // namespace

TEST_CASE("SOQL subset parses the daemon's queries and rejects the rest", "[fakes][soql]") {
  auto q = parse_soql(
      "SELECT Id, Company, SystemModstamp FROM Lead WHERE SystemModstamp > 2024-05-01T10:20:30.000Z AND "
      "Company != 'O\\'Brien' AND PartnerCenterReferralId__c != null ORDER BY SystemModstamp ASC, Id LIMIT 10");
  REQUIRE(std::holds_alternative<SoqlQuery>(q));
  auto& query = std::get<SoqlQuery>(q);
  CHECK(query.fields == std::vector<std::string>{"Id", "Company", "SystemModstamp"});
  CHECK(query.object == "Lead");
  CHECK(query.limit == 10);
  CHECK(query.order_by.size() == 2);
  json row = {{"SystemModstamp", "2024-05-01T10:20:31.000+0000"}, {"Company", "Contoso"}, {"PartnerCenterReferralId__c", "x"}};
  CHECK(soql_matches(*query.where, row));
  row["SystemModstamp"] = "2024-05-01T11:20:30.000+01:00";  // the same instant as the literal
  CHECK_FALSE(soql_matches(*query.where, row));
  row["SystemModstamp"] = "2024-05-01T10:20:31.000+0000";
  row["Company"] = "O'Brien";
  CHECK_FALSE(soql_matches(*query.where, row));

  auto in = std::get<SoqlQuery>(parse_soql("select id from lead where (status = 'a' or status in ('b','c')) and not amount < 5"));
  CHECK(soql_matches(*in.where, json{{"status", "c"}, {"amount", 7}}));
  CHECK_FALSE(soql_matches(*in.where, json{{"status", "c"}, {"amount", 3}}));

  for (auto bad : {"SELECT FROM Lead", "SELECT Id Lead", "SELECT Id FROM Lead WHERE", "SELECT Id FROM Lead WHERE a = 'x",
                   "SELECT Id FROM Lead WHERE a = 2024-13-45T00:00:00Z", "SELECT Id FROM Lead LIMIT x",
                   "SELECT Id FROM Lead extra"})
    CHECK(std::holds_alternative<std::string>(parse_soql(bad)));
}

TEST_CASE("SOQL = , IN and LIKE ignore case beyond ASCII, as Salesforce's comparison operators do", "[fakes][soql]") {
  auto eq = std::get<SoqlQuery>(parse_soql("SELECT Id FROM Account WHERE Name = 'Müller GmbH'"));
  CHECK(soql_matches(*eq.where, json{{"Name", "MÜLLER GMBH"}}));
  CHECK(soql_matches(*eq.where, json{{"Name", "müller gmbh"}}));
  CHECK_FALSE(soql_matches(*eq.where, json{{"Name", "Muller GmbH"}}));  // case, not accents
  auto in = std::get<SoqlQuery>(parse_soql("SELECT Id FROM Account WHERE Name IN ('ооо ромашка', 'ｃｏｎｔｏｓｏ')"));
  CHECK(soql_matches(*in.where, json{{"Name", "ООО Ромашка"}}));
  CHECK(soql_matches(*in.where, json{{"Name", "ＣＯＮＴＯＳＯ"}}));
  auto like = std::get<SoqlQuery>(parse_soql("SELECT Id FROM Account WHERE Name LIKE 'ΑΘΗΝ_ %'"));
  CHECK(soql_matches(*like.where, json{{"Name", "αθηνά ae"}}));  // _ is one character, not one byte
  CHECK_FALSE(soql_matches(*like.where, json{{"Name", "αθην ae"}}));
}

TEST_CASE("fake Salesforce pages query results with nextRecordsUrl", "[fakes][sf]") {
  SfFixture f;
  for (int i = 0; i < 5; ++i) f.lead("C" + std::to_string(i));
  auto first = f.soql("SELECT Id, Company FROM Lead ORDER BY Company DESC", {{"Sforce-Query-Options", "batchSize=2"}});
  REQUIRE(first.status == 200);
  auto body = first.json();
  CHECK(body["totalSize"] == 5);
  CHECK(body["done"] == false);
  REQUIRE(body["records"].size() == 2);
  auto rec = body["records"][0];
  CHECK(rec["Company"] == "C4");
  CHECK(rec["attributes"]["type"] == "Lead");
  CHECK(rec["attributes"]["url"] == f.sf.data_path() + "/sobjects/Lead/" + rec["Id"].get<std::string>());
  CHECK(rec.size() == 3);  // attributes + the selected fields only
  std::string next = body["nextRecordsUrl"];
  CHECK(next.starts_with("/services/data/v60.0/query/01gFAKE"));

  std::vector<std::string> companies;
  for (auto& r : body["records"]) companies.push_back(r["Company"]);
  while (!body["done"].get<bool>()) {
    auto page = f.call("GET", body["nextRecordsUrl"].get<std::string>());
    REQUIRE(page.status == 200);
    body = page.json();
    for (auto& r : body["records"]) companies.push_back(r["Company"]);
  }
  CHECK(companies == std::vector<std::string>{"C4", "C3", "C2", "C1", "C0"});
  CHECK_FALSE(body.contains("nextRecordsUrl"));
  CHECK(f.call("GET", "/query/01gFAKEnope-2").status == 400);

  f.sf.set_batch_size(3);
  CHECK(f.soql("SELECT Id FROM Lead").json()["records"].size() == 3);
  CHECK(f.soql("SELECT Id FROM Lead LIMIT 1").json()["totalSize"] == 1);
}

TEST_CASE("fake Salesforce filters on SystemModstamp and hides deleted rows from query", "[fakes][sf]") {
  SfFixture f;
  std::string a = f.lead("A");
  f.clock.advance(std::chrono::minutes(1));
  std::string b = f.lead("B");
  auto rows = f.soql("SELECT Id FROM Lead WHERE SystemModstamp > 2024-05-01T10:20:30.000Z").json();
  REQUIRE(rows["totalSize"] == 1);
  CHECK(rows["records"][0]["Id"] == b);

  CHECK(f.call("DELETE", "/sobjects/Lead/" + a).status == 204);
  CHECK(f.soql("SELECT Id FROM Lead").json()["totalSize"] == 1);
  auto all = f.soql("SELECT Id, IsDeleted FROM Lead WHERE IsDeleted = true", {}, "/queryAll").json();
  REQUIRE(all["totalSize"] == 1);
  CHECK(all["records"][0]["Id"] == a);
  CHECK(f.call("GET", "/sobjects/Lead/" + a).status == 404);
}

TEST_CASE("fake Salesforce answers errors as JSON arrays", "[fakes][sf]") {
  SfFixture f;
  auto malformed = f.soql("SELECT Id FROM Lead WHERE");
  CHECK(malformed.status == 400);
  REQUIRE(malformed.json().is_array());
  CHECK(malformed.json()[0]["errorCode"] == "MALFORMED_QUERY");
  CHECK(f.soql("SELECT Nope FROM Lead").json()[0]["errorCode"] == "INVALID_FIELD");
  CHECK(f.soql("SELECT Id FROM Nothing").json()[0]["errorCode"] == "INVALID_TYPE");

  auto unauthorized = f.client.request("GET", f.url("/query?q=SELECT+Id+FROM+Lead"), {{"Authorization", "Bearer bad"}});
  CHECK(unauthorized.status == 401);
  CHECK(unauthorized.json()[0]["errorCode"] == "INVALID_SESSION_ID");
  CHECK(unauthorized.json()[0]["message"] == "Session expired or invalid");

  auto missing = f.call("POST", "/sobjects/Lead", {{"LastName", "Doe"}});
  CHECK(missing.status == 400);
  CHECK(missing.json()[0]["errorCode"] == "REQUIRED_FIELD_MISSING");
  CHECK(missing.json()[0]["fields"] == json::array({"Company"}));
  auto picklist = f.call("POST", "/sobjects/Lead", {{"LastName", "Doe"}, {"Company", "X"}, {"Status", "Hot"}});
  CHECK(picklist.json()[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
  auto unknown = f.call("POST", "/sobjects/Lead", {{"LastName", "Doe"}, {"Company", "X"}, {"Foo__c", 1}});
  CHECK(unknown.json()[0]["errorCode"] == "INVALID_FIELD");
  auto readonly = f.call("POST", "/sobjects/Lead", {{"LastName", "Doe"}, {"Company", "X"}, {"SystemModstamp", "x"}});
  CHECK(readonly.json()[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE");
  auto not_found = f.call("GET", "/sobjects/Lead/00Q000000000000AAA");
  CHECK(not_found.status == 404);
  CHECK(not_found.json()[0]["errorCode"] == "NOT_FOUND");

  f.sf.fail_next(1, 503, 3);
  auto unavailable = f.soql("SELECT Id FROM Lead");
  CHECK(unavailable.status == 503);
  CHECK(unavailable.header("Retry-After") == "3");
  CHECK(unavailable.json().is_array());
  f.sf.serve_malformed_next(1);
  CHECK_THROWS(f.soql("SELECT Id FROM Lead").json());

  auto limit = f.soql("SELECT Id FROM Lead").header("Sforce-Limit-Info");
  CHECK(limit == "api-usage=" + std::to_string(f.sf.api_requests()) + "/15000");
}

TEST_CASE("fake Salesforce creates, reads and updates records with increasing modstamps", "[fakes][sf]") {
  SfFixture f;
  auto created = f.call("POST", "/sobjects/Lead", {{"lastname", "Doe"}, {"Company", "[MSFT] Contoso"}});
  REQUIRE(created.status == 201);
  std::string id = created.json()["id"];
  CHECK(created.json()["success"] == true);
  CHECK(id.size() == 18);
  CHECK(id.starts_with("00Q"));
  auto record = f.sf.record("Lead", id);
  CHECK(record["LastName"] == "Doe");  // field names resolve case-insensitively
  CHECK(record["Status"] == "Open - Not Contacted");
  CHECK(record["CreatedDate"] == "2024-05-01T10:20:30.000+0000");

  // The clock does not move, yet every write gets a later SystemModstamp.
  CHECK(f.call("PATCH", "/sobjects/Lead/" + id, {{"Status", "Working - Contacted"}}).status == 204);
  auto updated = f.sf.record("Lead", id);
  CHECK(updated["SystemModstamp"] == "2024-05-01T10:20:30.001+0000");
  CHECK(updated["LastModifiedDate"] == updated["SystemModstamp"]);
  f.sf.edit("Lead", id, {{"Description", "user edit"}});
  CHECK(f.sf.record("Lead", id)["SystemModstamp"] == "2024-05-01T10:20:30.002+0000");
  CHECK(f.call("PATCH", "/sobjects/Lead/" + id, {{"Company", ""}}).json()[0]["errorCode"] == "REQUIRED_FIELD_MISSING");

  auto some = f.call("GET", "/sobjects/Lead/" + id + "?fields=Company,Status").json();
  CHECK(some.size() == 3);
  CHECK(some["Status"] == "Working - Contacted");
  auto full = f.call("GET", "/sobjects/Lead/" + id).json();
  CHECK(full["Description"] == "user edit");
  CHECK(full["Email"].is_null());
  CHECK(f.sf.writes() == 2);
}

TEST_CASE("fake Salesforce upserts by external id: 201, 200, 300", "[fakes][sf]") {
  SfFixture f;
  json body = {{"LastName", "Doe"}, {"Company", "[MSFT] Fabrikam"}};
  auto created = f.call("PATCH", "/sobjects/Lead/PartnerCenterReferralId__c/ref-1", body);
  REQUIRE(created.status == 201);
  CHECK(created.json()["created"] == true);
  std::string id = created.json()["id"];
  CHECK(f.sf.record("Lead", id)["PartnerCenterReferralId__c"] == "ref-1");

  auto updated = f.call("PATCH", "/sobjects/Lead/PartnerCenterReferralId__c/ref-1", {{"Status", "Working - Contacted"}});
  REQUIRE(updated.status == 200);
  CHECK(updated.json()["created"] == false);
  CHECK(updated.json()["id"] == id);
  CHECK(f.sf.records("Lead").size() == 1);

  // The field is unique for API writes; seeding can still make duplicates.
  CHECK(f.call("POST", "/sobjects/Lead", {{"LastName", "X"}, {"Company", "Y"}, {"PartnerCenterReferralId__c", "ref-1"}})
            .json()[0]["errorCode"] == "DUPLICATE_VALUE");
  std::string twin = f.lead("Twin", {{"PartnerCenterReferralId__c", "ref-1"}});
  auto ambiguous = f.call("PATCH", "/sobjects/Lead/PartnerCenterReferralId__c/ref-1", {{"Status", "Working - Contacted"}});
  CHECK(ambiguous.status == 300);
  REQUIRE(ambiguous.json().is_array());
  CHECK(ambiguous.json().size() == 2);
  CHECK(ambiguous.json()[1] == f.sf.data_path() + "/sobjects/Lead/" + twin);

  CHECK(f.call("PATCH", "/sobjects/Lead/Company/x", body).status == 404);  // not an external id
  CHECK(f.call("GET", "/sobjects/Lead/PartnerCenterReferralId__c/ref-1").status == 300);
}

TEST_CASE("fake Salesforce sObject Collections create, roll back and upsert", "[fakes][sf]") {
  SfFixture f;
  json good = {{"attributes", {{"type", "Lead"}}}, {"LastName", "A"}, {"Company", "A"}};
  json bad = {{"attributes", {{"type", "Lead"}}}, {"LastName", "B"}};
  auto rolled_back = f.call("POST", "/composite/sobjects", {{"allOrNone", true}, {"records", {good, bad}}});
  REQUIRE(rolled_back.status == 200);
  CHECK(rolled_back.json()[0]["success"] == false);
  CHECK(rolled_back.json()[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK");
  CHECK(rolled_back.json()[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING");
  CHECK(f.sf.records("Lead").empty());

  auto partial = f.call("POST", "/composite/sobjects", {{"allOrNone", false}, {"records", {good, bad}}});
  CHECK(partial.json()[0]["success"] == true);
  CHECK(partial.json()[1]["success"] == false);
  CHECK(f.sf.records("Lead").size() == 1);

  json upsert = {{"attributes", {{"type", "Lead"}}}, {"LastName", "C"}, {"Company", "C"}, {"PartnerCenterReferralId__c", "r9"}};
  auto upserted = f.call("PATCH", "/composite/sobjects/Lead/PartnerCenterReferralId__c", {{"records", {upsert}}});
  CHECK(upserted.json()[0]["created"] == true);
  upserted = f.call("PATCH", "/composite/sobjects/Lead/PartnerCenterReferralId__c", {{"records", {upsert}}});
  CHECK(upserted.json()[0]["created"] == false);
  CHECK(f.sf.records("Lead").size() == 2);
}
