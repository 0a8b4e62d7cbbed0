// Opportunities created from Partner Center need an AccountId: the connector finds the one
// Account by Name or Website domain (one query for the batch), creates the missing ones (one
// Collections call), and rejects a record whose value matches several Accounts, naming them.
#include <catch2/catch.hpp>

#include "tests/unit/connector_fixture.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

struct AccountFixture : testing::ConnectorFixture {
  connectors::SalesforceConnector sf{client, tokens, options(), captured.log};

  connectors::SalesforceOptions options() {
    connectors::SalesforceOptions o;
    o.instance_url = sf_fake.base_url();
    o.clock = &clock;
    return o;
  }
  // `by_website`: match web domains; `defaults`: leave the names to the connector's defaults.
  static connectors::ObjectSpec spec(bool by_website, bool defaults = false) {
    connectors::ObjectSpec s{"Opportunity", {"Name", "StageName"}, "PartnerCenterReferralId__c"};
    s.parent = defaults ? connectors::ParentLookup{"", "", "", by_website}
                        : connectors::ParentLookup{"AccountId", "Account", by_website ? "Website" : "Name", by_website};
    return s;
  }
  // `create`: the fields of an account to create when none matches; null: none may be created.
  static connectors::UpsertRequest opportunity(const std::string& ref, const std::string& match,
                                               json create = json::object()) {
    connectors::UpsertRequest u;
    u.external_id = ref;
    u.fields = {{"Name", "[MSFT] " + ref}, {"StageName", "Prospecting"}, {"CloseDate", "2026-12-31"}};
    u.parent = connectors::ParentMatch{match, std::nullopt};
    if (!create.is_null()) {
      u.parent->create.emplace();
      for (const auto& [field, value] : create.items()) u.parent->create->push_back({field, value});
    }
    return u;
  }
  std::size_t account_queries() {
    std::size_t n = 0;
    for (const auto& r : sf_fake.server().requests())
      if (r.path.find("/query") != std::string::npos && r.param("q").find("FROM Account") != std::string::npos) ++n;
    return n;
  }
  std::string account_of(const std::string& ref) {
    for (const auto& o : sf_fake.records("Opportunity"))
      if (o.value("PartnerCenterReferralId__c", "") == ref) return o.value("AccountId", "");
    return "";
  }
};

}  // namespace

TEST_CASE("salesforce_account_lookup: web domains from URLs, e-mail addresses and host names") {
  CHECK(connectors::web_domain("https://www.Contoso.com/about?x=1") == "contoso.com");
  CHECK(connectors::web_domain("jane.doe@fabrikam.co.uk") == "fabrikam.co.uk");
  CHECK(connectors::web_domain(" www.northwind.com. ") == "northwind.com");
  CHECK(connectors::web_domain("http://adatum.com:8080") == "adatum.com");
  CHECK(connectors::web_domain("Contoso Ltd").empty());
  CHECK(connectors::web_domain("").empty());
}

TEST_CASE("salesforce_account_lookup: LIKE values are escaped") {
  CHECK(connectors::soql_quote("50%_o'k\\", true) == "'50\\%\\_o\\'k\\\\'");
  CHECK(connectors::soql_quote("50%", false) == "'50%'");
}

TEST_CASE_METHOD(AccountFixture, "salesforce_account_lookup: by name, one query for the batch, existing found and missing created once") {
  auto contoso = sf_fake.insert("Account", {{"Name", "Contoso"}});
  std::vector<connectors::UpsertRequest> requests = {
      opportunity("ref-1", "contoso"),  // SOQL = ignores case, so does the match
      opportunity("ref-2", "Fabrikam", {{"Name", "Fabrikam"}, {"BillingCountry", "DE"}}),
      opportunity("ref-3", "Fabrikam", {{"Name", "Fabrikam"}, {"BillingCountry", "DE"}}),
      opportunity("ref-4", "O'Brien & Sons", json::object()),
  };
  auto results = run(sf.upsert_many(spec(false), requests));
  REQUIRE(results.size() == 4);
  for (const auto& r : results) {
    INFO(testing::describe(r));
    CHECK(r.ok());
  }
  CHECK(account_queries() == 1);
  CHECK(account_of("ref-1") == contoso);
  auto accounts = sf_fake.records("Account");
  REQUIRE(accounts.size() == 3);  // Contoso, Fabrikam once, O'Brien & Sons
  CHECK(account_of("ref-2") == account_of("ref-3"));
  CHECK(sf_fake.record("Account", account_of("ref-2"))["BillingCountry"] == "DE");
  CHECK(sf_fake.record("Account", account_of("ref-4"))["Name"] == "O'Brien & Sons");
  CHECK(sf_fake.server().count("POST", "/services/data/v60.0/composite/sobjects") == 1);

  SECTION("a retry finds the created accounts instead of creating them again") {
    sf_fake.server().clear_requests();
    auto again = run(sf.upsert_many(spec(false), requests));
    for (const auto& r : again) CHECK(r.ok());
    CHECK(sf_fake.records("Account").size() == 3);
    CHECK(sf_fake.server().count("POST") == 0);
  }
}

TEST_CASE_METHOD(AccountFixture, "salesforce_account_lookup: by website domain") {
  auto contoso = sf_fake.insert("Account", {{"Name", "Contoso Ltd"}, {"Website", "https://www.contoso.com/"}});
  sf_fake.insert("Account", {{"Name", "Not Contoso"}, {"Website", "notcontoso.com"}});
  std::vector<connectors::UpsertRequest> requests = {
      opportunity("ref-1", "jane@Contoso.com"),
      opportunity("ref-2", "bob@fabrikam.com", {{"Name", "Fabrikam"}}),
  };
  auto results = run(sf.upsert_many(spec(true), requests));
  for (const auto& r : results) CHECK(r.ok());
  CHECK(account_of("ref-1") == contoso);
  auto created = sf_fake.record("Account", account_of("ref-2"));
  CHECK(created["Name"] == "Fabrikam");
  CHECK(created["Website"] == "fabrikam.com");  // so that the next lookup finds it
}

TEST_CASE_METHOD(AccountFixture, "salesforce_account_lookup: several matching accounts reject the record naming them") {
  auto a = sf_fake.insert("Account", {{"Name", "Contoso"}});
  auto b = sf_fake.insert("Account", {{"Name", "CONTOSO"}});
  std::vector<connectors::UpsertRequest> requests = {opportunity("ref-1", "Contoso"),
                                                     opportunity("ref-2", "Fabrikam", {{"Name", "Fabrikam"}})};
  auto results = run(sf.upsert_many(spec(false), requests));
  REQUIRE_FALSE(results[0].ok());
  CHECK(results[0].failure().kind == FailureKind::rejected);
  CHECK_THAT(results[0].failure().message, Catch::Contains("several Account records match Account Name 'Contoso': " +
                                                           a + ", " + b));
  CHECK(results[1].ok());
  CHECK(sf_fake.records("Opportunity").size() == 1);
}

TEST_CASE_METHOD(AccountFixture, "salesforce_account_lookup: create false rejects a referral whose account is missing") {
  std::vector<connectors::UpsertRequest> requests = {opportunity("ref-1", "Nowhere Inc", json())};
  auto results = run(sf.upsert_many(spec(false), requests));
  REQUIRE_FALSE(results[0].ok());
  CHECK(results[0].failure().kind == FailureKind::rejected);
  CHECK_THAT(results[0].failure().message, Catch::Contains("no Account Name 'Nowhere Inc' exists"));
  CHECK(sf_fake.records("Account").empty());
  CHECK(sf_fake.records("Opportunity").empty());
}

TEST_CASE_METHOD(AccountFixture, "salesforce_account_lookup: a referral without the match value is rejected") {
  std::vector<connectors::UpsertRequest> requests = {opportunity("ref-1", "")};
  auto results = run(sf.upsert_many(spec(true), requests));
  REQUIRE_FALSE(results[0].ok());
  CHECK_THAT(results[0].failure().message, Catch::Contains("crm.account.from"));
}

TEST_CASE_METHOD(AccountFixture, "salesforce_account_lookup: a name that differs only in non-ASCII case finds the existing Account") {
  auto mueller = sf_fake.insert("Account", {{"Name", "MÜLLER GMBH"}});
  auto romashka = sf_fake.insert("Account", {{"Name", "ООО РОМАШКА"}});
  std::vector<connectors::UpsertRequest> requests = {
      opportunity("ref-1", "Müller GmbH", {{"Name", "Müller GmbH"}}),
      opportunity("ref-2", "müller gmbh", {{"Name", "müller gmbh"}}),
      opportunity("ref-3", "ООО Ромашка", {{"Name", "ООО Ромашка"}}),
  };
  auto results = run(sf.upsert_many(spec(false), requests));
  for (const auto& r : results) {
    INFO(testing::describe(r));
    CHECK(r.ok());
  }
  CHECK(account_of("ref-1") == mueller);
  CHECK(account_of("ref-2") == mueller);
  CHECK(account_of("ref-3") == romashka);
  CHECK(sf_fake.records("Account").size() == 2);
  CHECK(sf_fake.server().count("POST") == 0);
  CHECK(account_queries() == 1);
}

TEST_CASE_METHOD(AccountFixture, "salesforce_account_lookup: a name the query matched but the daemon's fold does not pair is still the match") {
  // Salesforce compares in the querying user's locale; here fullwidth Latin, which fold_case does
  // not cover. The batch query returns the Account without saying for which value: each value
  // without a match is asked alone, and what that query returns is the match.
  auto contoso = sf_fake.insert("Account", {{"Name", "ＣＯＮＴＯＳＯ"}});
  std::vector<connectors::UpsertRequest> requests = {
      opportunity("ref-1", "ｃｏｎｔｏｓｏ", {{"Name", "ｃｏｎｔｏｓｏ"}}),
      opportunity("ref-2", "Fabrikam", {{"Name", "Fabrikam"}}),
  };
  auto results = run(sf.upsert_many(spec(false), requests));
  for (const auto& r : results) {
    INFO(testing::describe(r));
    CHECK(r.ok());
  }
  CHECK(account_of("ref-1") == contoso);
  CHECK(sf_fake.records("Account").size() == 2);  // Fabrikam created, no second Contoso
  CHECK(account_queries() == 3);                  // the batch, then each value alone

  SECTION("with one value in the query, what it returned is the match without asking again") {
    sf_fake.server().clear_requests();
    std::vector<connectors::UpsertRequest> one = {opportunity("ref-3", "ｃｏｎｔｏｓｏ", {{"Name", "ｃｏｎｔｏｓｏ"}})};
    auto again = run(sf.upsert_many(spec(false), one));
    REQUIRE(again[0].ok());
    CHECK(account_of("ref-3") == contoso);
    CHECK(account_queries() == 1);
  }
}

TEST_CASE_METHOD(AccountFixture, "salesforce_account_lookup: names the spec leaves empty are the connector's defaults") {
  auto defaults = connectors::SalesforceConnector::supported().parent_lookup;
  REQUIRE(defaults);
  CHECK(defaults->field == "AccountId");
  CHECK(defaults->object == "Account");
  auto contoso = sf_fake.insert("Account", {{"Name", "Contoso"}, {"Website", "https://contoso.com"}});
  bool by_website = GENERATE(false, true);
  auto results = run(sf.upsert_many(spec(by_website, true), {opportunity("ref-1", by_website ? "a@contoso.com" : "Contoso")}));
  INFO(testing::describe(results[0]));
  REQUIRE(results[0].ok());
  CHECK(account_of("ref-1") == contoso);
}

TEST_CASE_METHOD(AccountFixture, "salesforce_account_lookup: a request without a parent is written without a lookup") {
  connectors::UpsertRequest plain = opportunity("ref-1", "Contoso");
  plain.parent.reset();
  auto results = run(sf.upsert_many(spec(false), {plain}));
  INFO(testing::describe(results[0]));
  REQUIRE(results[0].ok());
  CHECK(account_queries() == 0);
  CHECK(account_of("ref-1").empty());
  CHECK(sf_fake.records("Account").empty());
}
