// Opportunities created in Dataverse from co-sell referrals get their account, as on Salesforce:
// the connector finds the one account by name or websiteurl domain (one $filter query for the
// batch), creates the missing ones (one $batch), binds the opportunity with
// parentaccountid@odata.bind, and rejects a record whose value matches several accounts, naming
// them. Against the fake Dataverse over real HTTP, hostile answers included.
#include <catch2/catch.hpp>

#include "tests/unit/dataverse_fixture.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

struct AccountFixture : testing::DvFixture {
  // `by_website`: match web domains; the other names are the connector's defaults.
  static connectors::ObjectSpec opportunities(bool by_website = false) {
    connectors::ObjectSpec s{"opportunities", {"name", "estimatedvalue"}, "cosync_referralid"};
    s.parent = connectors::ParentLookup{"", "", "", by_website};
    return s;
  }
  // `create`: the columns of an account to create when none matches; null: none may be created.
  static connectors::UpsertRequest opportunity(const std::string& ref, const std::string& match,
                                               json create = json::object()) {
    connectors::UpsertRequest u;
    u.external_id = ref;
    u.fields = {{"name", "[MSFT] " + ref}, {"estimatedvalue", 1000}};
    u.parent = connectors::ParentMatch{match, std::nullopt};
    if (!create.is_null()) {
      u.parent->create.emplace();
      for (const auto& [field, value] : create.items()) u.parent->create->push_back({field, value});
    }
    return u;
  }
  std::size_t account_queries() {
    std::size_t n = 0;
    for (const auto& r : dv_fake.server().requests())
      if (r.method == "GET" && r.path.ends_with("/accounts")) ++n;
    return n;
  }
  std::string account_of(const std::string& ref) {
    for (const auto& o : dv_fake.rows("opportunities"))
      if (o.value("cosync_referralid", "") == ref) return o.value("_parentaccountid_value", "");
    return "";
  }
  // The table definition read first, so that a queued fault hits the account query.
  void read_definitions() { REQUIRE(run(dv.describe_object("opportunities")).ok()); }
  void check_nothing_written() {
    CHECK(dv_fake.rows("opportunities").empty());
    CHECK(dv_fake.rows("accounts").size() == 1);  // the one the test seeded
  }
};

}  // namespace

TEST_CASE("dataverse_account_lookup: OData literals double their quotes and the $filter is URL-encoded") {
  CHECK(connectors::odata_quote("O'Brien & Sons") == "'O''Brien & Sons'");
  CHECK(connectors::odata_quote("''") == "''''''");
  CHECK(connectors::odata_filter_value("name eq 'O''Brien & Sons + Co'") ==
        "name%20eq%20%27O%27%27Brien%20%26%20Sons%20%2B%20Co%27");
  CHECK(connectors::dataverse_bind("accounts", "00aa00aa-bb11-cc22-dd33-44ee44ee44ee") ==
        "/accounts(00aa00aa-bb11-cc22-dd33-44ee44ee44ee)");
  auto p = connectors::with_dataverse_defaults({});
  CHECK(p.field == "parentaccountid");
  CHECK(p.object == "accounts");
  CHECK(p.match_field == "name");
  CHECK(connectors::with_dataverse_defaults({"", "", "", true}).match_field == "websiteurl");
  CHECK(connectors::DataverseConnector::supported().parent_lookup);
}

TEST_CASE_METHOD(AccountFixture, "dataverse_account_lookup: by name, one query for the batch, existing bound and missing created once") {
  auto contoso = dv_fake.insert("accounts", {{"name", "Contoso"}});
  std::vector<connectors::UpsertRequest> requests = {
      opportunity("ref-1", "contoso"),  // Dataverse compares strings ignoring case, so does the match
      opportunity("ref-2", "Fabrikam", {{"name", "Fabrikam"}, {"address1_country", "DE"}}),
      opportunity("ref-3", "Fabrikam", {{"name", "Fabrikam"}, {"address1_country", "DE"}}),
      opportunity("ref-4", "O'Brien & Sons + Co", {{"address1_country", "IE"}}),
  };
  auto results = run(dv.upsert_many(opportunities(), requests));
  REQUIRE(results.size() == 4);
  for (const auto& r : results) {
    INFO(testing::describe(r));
    CHECK(r.ok());
  }
  CHECK(account_queries() == 1);
  CHECK(account_of("ref-1") == contoso);
  CHECK(dv_fake.rows("accounts").size() == 3);  // Contoso, Fabrikam once, O'Brien & Sons + Co
  CHECK(account_of("ref-2") == account_of("ref-3"));
  CHECK(dv_fake.row("accounts", account_of("ref-2"))["address1_country"] == "DE");
  auto obrien = dv_fake.row("accounts", account_of("ref-4"));
  CHECK(obrien["name"] == "O'Brien & Sons + Co");  // the match value, so that the next lookup finds it
  CHECK(obrien["address1_country"] == "IE");
  CHECK_THAT(*captured.text, Catch::Contains("dataverse: created accounts"));

  SECTION("a retry finds the created accounts, the quoted name too, instead of creating them again") {
    dv_fake.server().clear_requests();
    auto again = run(dv.upsert_many(opportunities(), requests));
    for (const auto& r : again) CHECK(r.ok());
    CHECK(dv_fake.rows("accounts").size() == 3);
    CHECK(account_queries() == 1);
    for (const auto& r : dv_fake.server().requests()) CHECK(r.body.find("PATCH " + dv_fake.base_url() + dv_fake.service_root() + "/accounts(") == std::string::npos);
  }
}

TEST_CASE_METHOD(AccountFixture, "dataverse_account_lookup: by website domain") {
  auto contoso = dv_fake.insert("accounts", {{"name", "Contoso Ltd"}, {"websiteurl", "https://www.contoso.com/"}});
  dv_fake.insert("accounts", {{"name", "Not Contoso"}, {"websiteurl", "notcontoso.com"}});
  std::vector<connectors::UpsertRequest> requests = {
      opportunity("ref-1", "jane@Contoso.com"),
      opportunity("ref-2", "bob@fabrikam.com", {{"name", "Fabrikam"}}),
  };
  auto results = run(dv.upsert_many(opportunities(true), requests));
  for (const auto& r : results) CHECK(r.ok());
  CHECK(account_queries() == 1);
  CHECK(account_of("ref-1") == contoso);
  auto created = dv_fake.row("accounts", account_of("ref-2"));
  CHECK(created["name"] == "Fabrikam");
  CHECK(created["websiteurl"] == "fabrikam.com");
}

TEST_CASE_METHOD(AccountFixture, "dataverse_account_lookup: several matching accounts reject the record naming them, the rest is written") {
  auto a = dv_fake.insert("accounts", {{"name", "Contoso"}});
  auto b = dv_fake.insert("accounts", {{"name", "CONTOSO"}});
  std::vector<connectors::UpsertRequest> requests = {opportunity("ref-1", "Contoso"),
                                                     opportunity("ref-2", "Fabrikam", {{"name", "Fabrikam"}})};
  auto results = run(dv.upsert_many(opportunities(), requests));
  REQUIRE_FALSE(results[0].ok());
  CHECK(results[0].failure().kind == FailureKind::rejected);
  CHECK_THAT(results[0].failure().message, Catch::Contains("several accounts records match accounts name 'Contoso'"));
  CHECK_THAT(results[0].failure().message, Catch::Contains(a));
  CHECK_THAT(results[0].failure().message, Catch::Contains(b));
  CHECK(results[1].ok());
  REQUIRE(dv_fake.rows("opportunities").size() == 1);
  CHECK(account_of("ref-2") != "");
}

TEST_CASE_METHOD(AccountFixture, "dataverse_account_lookup: create false and a missing value reject the record") {
  std::vector<connectors::UpsertRequest> requests = {opportunity("ref-1", "Nowhere Inc", json()),
                                                     opportunity("ref-2", "")};
  auto results = run(dv.upsert_many(opportunities(), requests));
  REQUIRE_FALSE(results[0].ok());
  CHECK(results[0].failure().kind == FailureKind::rejected);
  CHECK_THAT(results[0].failure().message, Catch::Contains("no accounts name 'Nowhere Inc' exists"));
  REQUIRE_FALSE(results[1].ok());
  CHECK_THAT(results[1].failure().message, Catch::Contains("the referral has no value"));
  CHECK(dv_fake.rows("accounts").empty());
  CHECK(dv_fake.rows("opportunities").empty());
}

TEST_CASE_METHOD(AccountFixture, "dataverse_account_lookup: a request without a parent is written without a bind") {
  connectors::UpsertRequest plain = opportunity("ref-1", "x");
  plain.parent.reset();
  std::vector<connectors::UpsertRequest> requests = {plain};
  auto results = run(dv.upsert_many(opportunities(), requests));
  REQUIRE(results[0].ok());
  CHECK(account_queries() == 0);
  CHECK(account_of("ref-1") == "");
}

TEST_CASE_METHOD(AccountFixture, "dataverse_account_lookup: a hostile or failing account query writes nothing and retries later") {
  dv_fake.insert("accounts", {{"name", "Contoso"}});
  read_definitions();
  std::vector<connectors::UpsertRequest> requests = {opportunity("ref-1", "Contoso"),
                                                     opportunity("ref-2", "Fabrikam", {{"name", "Fabrikam"}})};
  std::string expected;
  SECTION("value is null") {
    dv_fake.fail_next(1, 200, std::nullopt, R"({"value":null})");
    expected = "malformed body";
  }
  SECTION("the body is not JSON") {
    dv_fake.serve_malformed_next(1);
    expected = "not JSON";
  }
  SECTION("a row without a valid accountid") {
    dv_fake.fail_next(1, 200, std::nullopt, R"({"value":[{"accountid":"x)/../contacts(1","name":"Contoso"}]})");
    expected = "without a valid accountid";
  }
  SECTION("429 for longer than the client retries") {
    dv_fake.fail_next(5, 429, 0);
    expected = "429";
  }
  auto results = run(dv.upsert_many(opportunities(), requests));
  for (const auto& r : results) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.failure().kind == FailureKind::transient);
    CHECK_THAT(r.failure().message + " " + std::to_string(r.failure().http_status), Catch::Contains(expected));
  }
  check_nothing_written();

  // The next cycle, with the service well again, binds both.
  auto again = run(dv.upsert_many(opportunities(), requests));
  for (const auto& r : again) CHECK(r.ok());
  CHECK(dv_fake.rows("opportunities").size() == 2);
}

TEST_CASE_METHOD(AccountFixture, "dataverse_account_lookup: a 429 on the account query is retried after Retry-After") {
  auto contoso = dv_fake.insert("accounts", {{"name", "Contoso"}});
  read_definitions();
  dv_fake.fail_next(1, 429, 0);
  std::vector<connectors::UpsertRequest> requests = {opportunity("ref-1", "Contoso")};
  auto results = run(dv.upsert_many(opportunities(), requests));
  REQUIRE(results[0].ok());
  CHECK(account_of("ref-1") == contoso);
  CHECK(account_queries() == 2);
}

TEST_CASE_METHOD(AccountFixture, "dataverse fake: string $filters compare ignoring case, and a literal with an undoubled quote is refused") {
  dv_fake.insert("accounts", {{"name", "O'Brien & Sons"}, {"websiteurl", "https://obrien.example/"}});
  auto list = [&](const std::string& filter) {
    return send(http::Method::get, "/accounts?$select=accountid,name&$filter=" + connectors::odata_filter_value(filter), json());
  };
  auto found = list("name eq 'o''brien & sons' or contains(websiteurl,'nothing')");
  REQUIRE(found.ok());
  REQUIRE(found->status == 200);
  CHECK(json::parse(found->body)["value"].size() == 1);
  auto by_site = list("contains(websiteurl,'OBRIEN.example')");
  REQUIRE(by_site.ok());
  CHECK(json::parse(by_site->body)["value"].size() == 1);
  auto bad = list("name eq 'O'Brien'");
  REQUIRE(bad.ok());
  CHECK(bad->status == 400);
}

TEST_CASE_METHOD(AccountFixture, "dataverse fake: an @odata.bind to a missing row is refused, a good one reads back as _value") {
  auto account = dv_fake.insert("accounts", {{"name", "Contoso"}});
  auto missing = send(http::Method::post, "/opportunities",
                      {{"name", "x"}, {"parentaccountid@odata.bind", "/accounts(00aa00aa-bb11-cc22-dd33-44ee44ee44ee)"}});
  REQUIRE(missing.ok());
  CHECK(missing->status == 404);
  auto unknown = send(http::Method::post, "/opportunities", {{"name", "x"}, {"nosuch@odata.bind", "/accounts(" + account + ")"}});
  REQUIRE(unknown.ok());
  CHECK(unknown->status == 400);
  auto bound = send(http::Method::post, "/opportunities", {{"name", "x"}, {"parentaccountid@odata.bind", "/accounts(" + account + ")"}});
  REQUIRE(bound.ok());
  CHECK(bound->status == 204);
  REQUIRE(dv_fake.rows("opportunities").size() == 1);
  CHECK(dv_fake.rows("opportunities")[0]["_parentaccountid_value"] == account);
  CHECK_FALSE(dv_fake.rows("opportunities")[0].contains("parentaccountid@odata.bind"));
}
