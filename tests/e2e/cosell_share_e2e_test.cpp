// End to end with the real cosyncd and the shipped opportunity mapping (its share: block): a
// Salesforce Opportunity flagged for Microsoft appears once in Partner Center, also when cosyncd is
// killed between the POST and the link's commit; upgrades go out, downgrades are refused once;
// afterwards the pair syncs both ways like any other.
#include <catch2/catch.hpp>
#include <signal.h>

#include <thread>

#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

using testing::Crm;

// A CRM opportunity flagged for Microsoft, with its account, primary contact and owner, in the
// CRM of the harness and through that CRM's shipped opportunity mapping (its share: block).
struct SharedOpportunity {
  testing::E2eHarness h;
  std::string account, contact, owner, opportunity;

  explicit SharedOpportunity(const std::string& deal_type = "Co-sell", bool consent = true, Crm crm = Crm::salesforce)
      : h{crm, crm == Crm::salesforce ? "pc-sf-opportunities.yaml" : "pc-dataverse-opportunities.yaml"} {
    if (crm == Crm::dataverse) {
      insert_dataverse(deal_type, consent);
      return;
    }
    account = h.sf().insert("Account", {{"Name", "Fabrikam"}, {"BillingCity", "Berlin"}, {"BillingCountry", "Germany"}});
    contact = h.sf().insert("Contact", {{"FirstName", "Jane"}, {"LastName", "Doe"}, {"Email", "jane@fabrikam.example"}});
    owner = h.sf().insert("User", {{"FirstName", "Sam"}, {"LastName", "Seller"}, {"Email", "sam@partner.example"}});
    opportunity = h.sf().insert("Opportunity", {{"Name", "Fabrikam cloud migration"},
                                                {"StageName", "Qualification"},
                                                {"CloseDate", "2027-03-31"},
                                                {"Amount", 120000},
                                                {"CurrencyIsoCode", "EUR"},
                                                {"AccountId", account},
                                                {"ContactId", contact},
                                                {"OwnerId", owner},
                                                {"Offering__c", "Contoso Cloud Platform"},
                                                {"Region__c", "EMEA"},
                                                {"CoSell_Type__c", deal_type},
                                                {"Customer_Consent__c", consent},
                                                {"Share_with_Microsoft__c", true},
                                                {"NextStep", "Architecture workshop"}});
  }
  void insert_dataverse(const std::string& deal_type, bool consent) {
    account = h.dv().insert("accounts", {{"name", "Fabrikam"}, {"address1_city", "Berlin"}, {"address1_country", "Germany"}});
    contact = h.dv().insert("contacts", {{"firstname", "Jane"}, {"lastname", "Doe"}, {"emailaddress1", "jane@fabrikam.example"}});
    owner = h.dv().insert("systemusers", {{"firstname", "Sam"}, {"lastname", "Seller"}, {"internalemailaddress", "sam@partner.example"}});
    opportunity = h.dv().insert("opportunities", {{"name", "Fabrikam cloud migration"},
                                                  {"estimatedvalue", 120000},
                                                  {"_parentaccountid_value", account},
                                                  {"_parentcontactid_value", contact},
                                                  {"_owninguser_value", owner},
                                                  {"cosync_region", "EMEA"},
                                                  {"cosync_offering", "Contoso Cloud Platform"},
                                                  {"cosync_cosell_type", deal_type},
                                                  {"cosync_customerconsent", consent},
                                                  {"cosync_sharewithmicrosoft", true},
                                                  {"stepname", "Architecture workshop"}});
  }
  std::vector<json> shared() const {
    std::vector<json> out;
    for (const auto& r : h.pc.all_referrals())
      if (r.value("externalReferenceId", "") == opportunity) out.push_back(r);
    return out;
  }
  json opp() const { return h.sf().record("Opportunity", opportunity); }
  // The referral id in the CRM's link field (null until the share is linked).
  json link() const {
    if (h.crm() == Crm::salesforce) return opp()["PartnerCenterReferralId__c"];
    return h.dv().row("opportunities", opportunity).value("cosync_referralid", json());
  }
  // A seller changes the deal type in the CRM.
  void set_deal_type(const std::string& type) {
    if (h.crm() == Crm::salesforce) h.sf().edit("Opportunity", opportunity, {{"CoSell_Type__c", type}});
    else h.dv().edit("opportunities", opportunity, {{"cosync_cosell_type", type}});
  }
};

// SIGKILL while the share's POST is in flight: the fake creates the referral after the daemon
// died; the next run finds it by externalReferenceId and links it instead of posting again.
void check_share_survives_sigkill(Crm crm) {
  SharedOpportunity s("Co-sell", true, crm);
  s.h.pc.server().delay_next(100, 800);  // every Partner Center answer late: the kill lands during the POST
  auto daemon = s.h.start_daemon();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (s.h.pc.server().count("POST") == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(s.h.pc.server().count("POST") == 1);
  daemon->signal(SIGKILL);
  daemon->wait_exit(std::chrono::seconds(5));
  s.h.pc.server().delay_next(0, 0);
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (s.shared().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(s.shared().size() == 1);  // the fake created it after the daemon died
  CHECK(s.link().is_null());

  auto run = testing::check_once(s.h);
  INFO(run.output);
  CHECK(s.shared().size() == 1);
  CHECK(s.h.pc.server().count("POST") == 1);
  CHECK(s.link() == s.shared()[0]["id"]);
  CHECK_THAT(run.output, Catch::Contains("found again after an interrupted share"));
  testing::check_quiet_cycle(s.h);
}

// Without consent no contact data is posted; an upgrade is PATCHed, a downgrade refused once.
void check_consent_and_deal_type_changes(Crm crm) {
  SharedOpportunity s("Private", false, crm);
  testing::check_once(s.h);
  auto referrals = s.shared();
  REQUIRE(referrals.size() == 1);
  std::string id = referrals[0]["id"];
  auto posts = s.h.pc.server().requests("POST");
  REQUIRE(posts.size() == 1);
  for (const auto& text : {"Jane", "jane@fabrikam.example", "null"}) CHECK(posts[0].body.find(text) == std::string::npos);
  CHECK(referrals[0]["type"] == "Independent");
  CHECK(referrals[0]["consent"]["consentToShareReferralWithMicrosoftSellers"] == false);

  s.set_deal_type("Partner-led");
  testing::check_once(s.h);
  CHECK(s.h.pc.referral(id)["consent"]["consentToShareReferralWithMicrosoftSellers"] == true);

  s.set_deal_type("Private");
  s.h.clear_requests();
  auto first = testing::check_once(s.h);
  auto second = testing::check_once(s.h);
  CHECK(s.h.pc.server().count("PATCH") == 0);
  CHECK(s.h.pc.referral(id)["consent"]["consentToShareReferralWithMicrosoftSellers"] == true);
  CHECK_THAT(first.output, Catch::Contains("consent to share with Microsoft cannot be withdrawn"));
  CHECK_THAT(second.output, !Catch::Contains("consent to share with Microsoft cannot be withdrawn"));
  auto status = s.h.cosyncd("status");
  CHECK_THAT(status.output, Catch::Contains("share_downgrade_refused"));
}

// The one referral a co-sell SharedOpportunity (with consent) became, checked field by field as the
// shipped mapping's share: block builds it; its id is in the CRM's link field.
json check_co_sell_body(const SharedOpportunity& s) {
  auto referrals = s.shared();
  REQUIRE(referrals.size() == 1);
  const json r = referrals[0];
  CHECK(r["name"] == "Fabrikam | Contoso Cloud Platform | DE | " + s.opportunity);
  CHECK(r["type"] == "Shared");
  CHECK(r["consent"]["consentToShareReferralWithMicrosoftSellers"] == true);
  CHECK(r["consent"]["consentToContact"] == true);
  CHECK(r["inviteContext"]["assistanceRequestCode"] == "GeneralOrOther");
  CHECK(r["inviteContext"]["notes"] == "Architecture workshop");
  CHECK(r["customerProfile"]["address"]["country"] == "DE");
  CHECK(r["customerProfile"]["team"][0]["email"] == "jane@fabrikam.example");
  CHECK(r["team"][0]["email"] == "sam@partner.example");
  CHECK(r["details"]["requirements"]["solutions"][0]["id"] == "SOL-0000-EXAMPLE");
  CHECK(r["details"]["dealValue"] == 120000);
  CHECK(r["tags"][0]["tag"] == "EMEA");
  CHECK(s.link() == r["id"]);
  return r;
}

}  // namespace

TEST_CASE("e2e: a flagged Salesforce Opportunity is shared once, named, typed, with consent, and linked") {
  SharedOpportunity s;
  auto run = testing::check_once(s.h);
  INFO(run.output);
  const json r = check_co_sell_body(s);
  CHECK(r["customerProfile"]["name"] == "Fabrikam");
  CHECK(r["details"]["currency"] == "EUR");
  CHECK_THAT(run.output, Catch::Contains("shared Opportunity " + s.opportunity + " as co-sell referral"));

  testing::check_quiet_cycle(s.h);
  CHECK(s.shared().size() == 1);

  // Afterwards a normal pair: a value edit in the CRM and a status change in Partner Center cross once.
  s.h.sf().edit("Opportunity", s.opportunity, {{"Amount", 150000}});
  std::string id = r["id"];
  s.h.pc.edit(id, [](json& referral) {
    referral["status"] = "Active";
    referral["substatus"] = "Accepted";
  });
  testing::check_once(s.h);
  CHECK(s.h.pc.referral(id)["details"]["dealValue"] == 150000);
  testing::check_quiet_cycle(s.h);
}

TEST_CASE("e2e: a share whose commit a SIGKILL cut short leaves one referral, linked on the next run") {
  check_share_survives_sigkill(Crm::salesforce);
}

TEST_CASE("dataverse e2e: a share whose commit a SIGKILL cut short leaves one referral, linked on the next run") {
  check_share_survives_sigkill(Crm::dataverse);
}

TEST_CASE("e2e: without consent the contact is absent: an upgrade reaches Partner Center, a downgrade is refused once") {
  check_consent_and_deal_type_changes(Crm::salesforce);
}

TEST_CASE("dataverse e2e: without consent the contact is absent: an upgrade reaches Partner Center, a downgrade is refused once") {
  check_consent_and_deal_type_changes(Crm::dataverse);
}

TEST_CASE("dataverse e2e: a co-sell opportunity is shared once, named, with help, consent, contact, owner, solution and tags") {
  SharedOpportunity s("Co-sell", true, Crm::dataverse);
  auto run = testing::check_once(s.h);
  INFO(run.output);
  const json r = check_co_sell_body(s);
  CHECK(r["team"][0]["lastName"] == "Seller");  // the owning user, through $expand=owninguser
  testing::check_quiet_cycle(s.h);
  CHECK(s.shared().size() == 1);
}

TEST_CASE("dataverse e2e: a flagged opportunity is shared once with its account and contact read through $expand") {
  testing::E2eHarness h{testing::Crm::dataverse, "pc-dataverse-opportunities.yaml"};
  auto account = h.dv().insert("accounts", {{"name", "Fabrikam"}, {"address1_city", "Berlin"}, {"address1_country", "Germany"}});
  auto contact = h.dv().insert("contacts", {{"firstname", "Jane"}, {"lastname", "Doe"}, {"emailaddress1", "jane@fabrikam.example"}});
  auto opportunity = h.dv().insert("opportunities", {{"name", "Fabrikam cloud migration"},
                                                     {"estimatedvalue", 80000},
                                                     {"_parentaccountid_value", account},
                                                     {"_parentcontactid_value", contact},
                                                     {"cosync_offering", "Contoso Cloud Platform"},
                                                     {"cosync_cosell_type", "Partner-led"},
                                                     {"cosync_customerconsent", false},
                                                     {"cosync_sharewithmicrosoft", true},
                                                     {"stepname", "Workshop"}});
  auto run = testing::check_once(h);
  INFO(run.output);
  std::vector<json> shared;
  for (const auto& r : h.pc.all_referrals())
    if (r.value("externalReferenceId", "") == opportunity) shared.push_back(r);
  REQUIRE(shared.size() == 1);
  CHECK(shared[0]["name"] == "Fabrikam | Contoso Cloud Platform | DE | " + opportunity);
  CHECK(shared[0]["type"] == "Independent");
  CHECK(shared[0]["consent"]["consentToShareReferralWithMicrosoftSellers"] == true);
  CHECK(shared[0]["customerProfile"]["name"] == "Fabrikam");
  CHECK(shared[0]["customerProfile"]["address"]["city"] == "Berlin");
  CHECK(shared[0]["details"]["dealValue"] == 80000);
  auto posts = h.pc.server().requests("POST");
  REQUIRE(posts.size() == 1);
  CHECK(posts[0].body.find("jane@fabrikam.example") == std::string::npos);  // no consent
  CHECK(h.dv().row("opportunities", opportunity)["cosync_referralid"] == shared[0]["id"]);
  testing::check_quiet_cycle(h);

  // Afterwards a normal pair: a value edit in Dynamics and a status change in Partner Center cross once.
  std::string id = shared[0]["id"];
  h.dv().edit("opportunities", opportunity, {{"estimatedvalue", 95000}});
  h.pc.edit(id, [](json& referral) {
    referral["status"] = "Active";
    referral["substatus"] = "Accepted";
  });
  testing::check_once(h);
  CHECK(h.pc.referral(id)["details"]["dealValue"] == 95000);
  CHECK(h.dv().row("opportunities", opportunity)["statuscode"] == 1);  // In Progress
  testing::check_quiet_cycle(h);
}

TEST_CASE("dataverse e2e: require consent holds an opportunity without it, said once, listed by status and plan") {
  SharedOpportunity s("Co-sell", false, Crm::dataverse);
  s.h.edit_mapping("    require: false\n", "    require: true\n");
  CHECK_THAT(s.h.cosyncd("plan").output, Catch::Contains("share held"));
  auto first = testing::check_once(s.h);
  auto second = testing::check_once(s.h);
  INFO(first.output);
  CHECK(s.shared().empty());
  CHECK(s.h.pc.server().count("POST") == 0);
  const std::string said = "opportunities " + s.opportunity + " not shared: waiting for the customer's consent";
  CHECK_THAT(first.output, Catch::Contains(said));
  CHECK_THAT(second.output, !Catch::Contains(said));
  CHECK_THAT(s.h.cosyncd("status").output, Catch::Contains("share_consent"));

  // With the customer's consent it is shared at the next cycle, the contact included.
  s.h.dv().edit("opportunities", s.opportunity, {{"cosync_customerconsent", true}});
  testing::check_once(s.h);
  REQUIRE(s.shared().size() == 1);
  CHECK(s.shared()[0]["consent"]["consentToContact"] == true);
  CHECK(s.shared()[0]["customerProfile"]["team"][0]["email"] == "jane@fabrikam.example");
}

TEST_CASE("dataverse e2e: co-sell referrals become opportunities bound to the account matched by name, or a new one") {
  testing::E2eHarness h(testing::Crm::dataverse, "pc-dataverse-opportunities.yaml");
  auto contoso = h.dv().insert("accounts", {{"name", "Contoso"}});
  auto r1 = h.add_co_sell_referral("Contoso - Azure migration", "contoso", 50000);  // names compare ignoring case
  auto r2 = h.add_co_sell_referral("Fabrikam - data platform", "Fabrikam", 40000);
  auto r3 = h.add_co_sell_referral("Fabrikam - security", "Fabrikam", 30000);
  auto r4 = h.add_co_sell_referral("O'Brien - migration", "O'Brien & Sons + Co", 20000);
  auto account_of = [&](const std::string& referral) { return h.crm_record_for(referral).value("_parentaccountid_value", ""); };

  auto run = testing::check_once(h);
  INFO(run.output);
  REQUIRE(h.crm_records().size() == 4);
  CHECK(account_of(r1) == contoso);
  CHECK(account_of(r2) == account_of(r3));  // one new Fabrikam, not two
  CHECK(h.dv().rows("accounts").size() == 3);
  auto fabrikam = h.dv().row("accounts", account_of(r2));
  CHECK(fabrikam["name"] == "Fabrikam");
  CHECK(fabrikam["address1_country"] == "US");  // the referral's customerProfile.address.country
  CHECK(h.dv().row("accounts", account_of(r4))["name"] == "O'Brien & Sons + Co");
  std::size_t queries = 0;
  for (const auto& r : h.dv().server().requests())
    if (r.method == "GET" && r.path == "/api/data/v9.2/accounts") ++queries;
  CHECK(queries == 1);  // one query for the batch, not one per referral
  testing::check_quiet_cycle(h);

  SECTION("a customer name matching two accounts quarantines that referral, naming them, while another syncs") {
    auto dup = h.dv().insert("accounts", {{"name", "CONTOSO"}});
    auto r5 = h.add_co_sell_referral("Contoso - expansion", "Contoso", 10000);
    auto r6 = h.add_co_sell_referral("Northwind - analytics", "Northwind", 15000);
    auto again = h.cosyncd("once");
    INFO(again.output);
    CHECK(again.exit_status == 3);
    CHECK_THAT(again.output, Catch::Contains("record=" + r5 + " quarantined"));
    CHECK_THAT(again.output, Catch::Contains("several accounts records match accounts name 'Contoso': "));
    CHECK_THAT(again.output, Catch::Contains(contoso));
    CHECK_THAT(again.output, Catch::Contains(dup));
    CHECK(h.crm_record_for(r5).is_null());
    REQUIRE(h.crm_record_for(r6).is_object());
    CHECK(h.dv().row("accounts", account_of(r6))["name"] == "Northwind");
    auto list = json::parse(h.cosyncd("quarantine list", "--json").output);
    REQUIRE(list.size() == 1);
    CHECK(list[0]["record_id"] == r5);
  }
}
