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

struct SharedOpportunity {
  testing::E2eHarness h{testing::Crm::salesforce, "pc-sf-opportunities.yaml"};
  std::string account, contact, owner, opportunity;

  explicit SharedOpportunity(const std::string& deal_type = "Co-sell", bool consent = true) {
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
  std::vector<json> shared() const {
    std::vector<json> out;
    for (const auto& r : h.pc.all_referrals())
      if (r.value("externalReferenceId", "") == opportunity) out.push_back(r);
    return out;
  }
  json opp() const { return h.sf().record("Opportunity", opportunity); }
};

}  // namespace

TEST_CASE("e2e: a flagged Salesforce Opportunity is shared once, named, typed, with consent, and linked") {
  SharedOpportunity s;
  auto run = testing::check_once(s.h);
  INFO(run.output);
  auto referrals = s.shared();
  REQUIRE(referrals.size() == 1);
  const auto& r = referrals[0];
  CHECK(r["name"] == "Fabrikam | Contoso Cloud Platform | DE | " + s.opportunity);
  CHECK(r["type"] == "Shared");
  CHECK(r["consent"]["consentToShareReferralWithMicrosoftSellers"] == true);
  CHECK(r["consent"]["consentToContact"] == true);
  CHECK(r["inviteContext"]["assistanceRequestCode"] == "GeneralOrOther");
  CHECK(r["inviteContext"]["notes"] == "Architecture workshop");
  CHECK(r["customerProfile"]["name"] == "Fabrikam");
  CHECK(r["customerProfile"]["address"]["country"] == "DE");
  CHECK(r["customerProfile"]["team"][0]["email"] == "jane@fabrikam.example");
  CHECK(r["team"][0]["email"] == "sam@partner.example");
  CHECK(r["details"]["requirements"]["solutions"][0]["id"] == "SOL-0000-EXAMPLE");
  CHECK(r["details"]["dealValue"] == 120000);
  CHECK(r["details"]["currency"] == "EUR");
  CHECK(r["tags"][0]["tag"] == "EMEA");
  CHECK(s.opp()["PartnerCenterReferralId__c"] == r["id"]);
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
  SharedOpportunity s;
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
  CHECK(s.opp()["PartnerCenterReferralId__c"].is_null());

  auto run = testing::check_once(s.h);
  INFO(run.output);
  CHECK(s.shared().size() == 1);
  CHECK(s.h.pc.server().count("POST") == 1);
  CHECK(s.opp()["PartnerCenterReferralId__c"] == s.shared()[0]["id"]);
  CHECK_THAT(run.output, Catch::Contains("found again after an interrupted share"));
  testing::check_quiet_cycle(s.h);
}

TEST_CASE("e2e: without consent the contact is absent: an upgrade reaches Partner Center, a downgrade is refused once") {
  SharedOpportunity s("Private", false);
  testing::check_once(s.h);
  auto referrals = s.shared();
  REQUIRE(referrals.size() == 1);
  std::string id = referrals[0]["id"];
  auto posts = s.h.pc.server().requests("POST");
  REQUIRE(posts.size() == 1);
  for (const auto& text : {"Jane", "jane@fabrikam.example", "null"}) CHECK(posts[0].body.find(text) == std::string::npos);
  CHECK(referrals[0]["type"] == "Independent");
  CHECK(referrals[0]["consent"]["consentToShareReferralWithMicrosoftSellers"] == false);

  s.h.sf().edit("Opportunity", s.opportunity, {{"CoSell_Type__c", "Partner-led"}});
  testing::check_once(s.h);
  CHECK(s.h.pc.referral(id)["consent"]["consentToShareReferralWithMicrosoftSellers"] == true);

  s.h.sf().edit("Opportunity", s.opportunity, {{"CoSell_Type__c", "Private"}});
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

  std::string id = shared[0]["id"];
  h.pc.edit(id, [](json& referral) {
    referral["status"] = "Active";
    referral["substatus"] = "Accepted";
  });
  testing::check_once(h);
  CHECK(h.dv().row("opportunities", opportunity)["statuscode"] == 1);  // In Progress
  testing::check_quiet_cycle(h);
}
