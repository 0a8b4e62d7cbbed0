// Co-sell sharing in-process against the fakes: a flagged Salesforce Opportunity becomes one
// Partner Center referral (never two, also after a lost answer), waits for consent when the
// mapping requires it, and may be upgraded, never downgraded, after the share.
#include <catch2/catch.hpp>

#include "tests/engine/engine_fixture.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

const std::string kShareMapping = R"(name: cosell
crm:
  connection: salesforce
  object: Opportunity
  link_field: PartnerCenterReferralId__c
share:
  when: { crm.Share_with_Microsoft__c: true }
  name: "{Account.Name} | {Offering__c} | {Id}"
  deal_type:
    field: CoSell_Type__c
    values: { Private: private, Partner-led: partner-led, Co-sell: co-sell }
  consent: { field: Customer_Consent__c, require: REQUIRE }
  contact: { firstName: "{Contact.FirstName}", lastName: "{Contact.LastName}", email: "{Contact.Email}" }
  body:
    customerProfile.name: "{Account.Name}"
    customerProfile.address.country: "{Account.BillingCountry|country}"
fields:
  - name: deal_value
    pc: details.dealValue
    crm: Amount
    transform: number
    owner: crm
  - name: notes
    pc: details.notes
    crm: Description
    owner: crm
)";

std::string share_mapping(bool require_consent) {
  std::string text = kShareMapping;
  text.replace(text.find("REQUIRE"), 7, require_consent ? "true" : "false");
  return text;
}

struct ShareFixture : testing::EngineFixture {
  explicit ShareFixture(bool require_consent = false) : EngineFixture(share_mapping(require_consent)) {
    auto schema = fakes::default_opportunity_schema();
    for (auto f : {"Share_with_Microsoft__c", "CoSell_Type__c", "Customer_Consent__c", "Offering__c"}) schema.fields.insert(f);
    sf_fake.define_object("Opportunity", schema);
    account = sf_fake.insert("Account", {{"Name", "Fabrikam"}, {"BillingCountry", "Germany"}});
    contact = sf_fake.insert("Contact", {{"FirstName", "Jane"}, {"LastName", "Doe"}, {"Email", "jane@fabrikam.example"}});
  }
  std::string opportunity(json extra = json::object()) {
    json fields = {{"Name", "Fabrikam migration"}, {"StageName", "Prospecting"}, {"CloseDate", "2027-03-31"},
                   {"Amount", 50000},          {"AccountId", account},          {"ContactId", contact},
                   {"Offering__c", "Azure"},  {"CoSell_Type__c", "Co-sell"},  {"Share_with_Microsoft__c", true},
                   {"Customer_Consent__c", false}};
    fields.update(extra);
    return sf_fake.insert("Opportunity", fields);
  }
  std::string referral_of(const std::string& opportunity_id) {
    auto link = store.link_by_crm(mapping.name, opportunity_id);
    return link ? link->pc_id : "";
  }
  int posts() { return pc_fake.server().count("POST"); }
  std::string account, contact;
};

struct ConsentRequired : ShareFixture {
  ConsentRequired() : ShareFixture(true) {}
};

}  // namespace

TEST_CASE_METHOD(ShareFixture, "share: a flagged opportunity becomes one referral whose id lands in the CRM") {
  auto opp = opportunity();
  opportunity({{"Share_with_Microsoft__c", false}, {"Name", "Not for Microsoft"}});
  auto stats = cycle();
  INFO(*captured.text);
  CHECK(stats.shared == 1);
  CHECK(stats.ok());
  auto id = referral_of(opp);
  REQUIRE_FALSE(id.empty());
  auto referral = pc_fake.referral(id);
  CHECK(referral["name"] == "Fabrikam | Azure | " + opp);
  CHECK(referral["externalReferenceId"] == opp);
  CHECK(referral["type"] == "Shared");
  CHECK(referral["customerProfile"]["address"]["country"] == "DE");
  CHECK(referral["details"]["dealValue"] == 50000);
  auto sent = pc_fake.server().requests("POST");
  REQUIRE(sent.size() == 1);
  for (const auto& text : {"Jane", "Doe", "jane@fabrikam.example", "null"})
    CHECK(sent[0].body.find(text) == std::string::npos);  // no consent: no contact data; never a null
  CHECK(sf_fake.record("Opportunity", opp)["PartnerCenterReferralId__c"] == id);
  CHECK(posts() == 1);
  auto audit = store.audit(mapping.name, 20);
  CHECK(std::any_of(audit.begin(), audit.end(), [](const AuditEntry& a) { return a.kind == "share"; }));
  auto events = store.events();
  CHECK(std::any_of(events.begin(), events.end(), [](const auto& e) { return e.event == "co_sell_shared"; }));

  int writes_before = writes();
  CHECK(cycle().ok());
  CHECK(writes() == writes_before);  // a quiet system makes no write
  CHECK(posts() == 1);
  CHECK(this->plan().empty());
}

TEST_CASE_METHOD(ShareFixture, "share: plan shows the body it would POST and sends nothing") {
  auto opp = opportunity();
  auto lines = testing::lines_of(this->plan(), "share to Partner Center");
  REQUIRE_FALSE(lines.empty());
  auto name = std::find_if(lines.begin(), lines.end(), [](const auto& l) { return l.field == "name"; });
  REQUIRE(name != lines.end());
  CHECK(name->crm_id == opp);
  CHECK(name->new_value == "Fabrikam | Azure | " + opp);
  CHECK(posts() == 0);
}

TEST_CASE_METHOD(ShareFixture, "share: a share whose answer was lost is found by externalReferenceId and linked, not sent again") {
  auto opp = opportunity();
  // The run before sent the POST (pending row committed first) and died before linking.
  store.add_pending_create(mapping.name, "pc", opp, json::object());
  auto existing = pc_fake.add_referral({{"externalReferenceId", opp},
                                        {"name", "Fabrikam | Azure | " + opp},
                                        {"direction", "Outgoing"},
                                        {"customerProfile", {{"name", "Fabrikam"}}}});
  auto stats = cycle();
  INFO(*captured.text);
  CHECK(stats.ok());
  CHECK(posts() == 0);
  CHECK(referral_of(opp) == existing);
  CHECK(store.pending_creates(mapping.name, "pc").empty());
  CHECK(sf_fake.record("Opportunity", opp)["PartnerCenterReferralId__c"] == existing);
  CHECK(lead_of(existing) == opp);
}

TEST_CASE_METHOD(ConsentRequired, "share: require_consent holds the share until the customer consents, said once") {
  auto opp = opportunity();
  CHECK(cycle().ok());
  CHECK(posts() == 0);
  auto held = store.holds(mapping.name, "crm:" + opp);
  REQUIRE(held.size() == 1);
  CHECK(held[0].key == "share_consent");
  auto said = [&] {
    std::string text = *captured.text;
    std::size_t n = 0;
    for (auto at = text.find("not shared: waiting for the customer's consent"); at != std::string::npos;
         at = text.find("not shared: waiting for the customer's consent", at + 1))
      ++n;
    return n;
  };
  CHECK(said() == 1);
  sf_fake.edit("Opportunity", opp, {{"Amount", 60000}});  // still no consent
  cycle();
  CHECK(said() == 1);
  CHECK(posts() == 0);
  sf_fake.edit("Opportunity", opp, {{"Customer_Consent__c", true}});
  CHECK(cycle().shared == 1);
  auto referral = pc_fake.referral(referral_of(opp));
  CHECK(referral["consent"]["consentToContact"] == true);
  CHECK(referral["customerProfile"]["team"][0]["email"] == "jane@fabrikam.example");
  CHECK(store.holds(mapping.name, "crm:" + opp).empty());
}

TEST_CASE_METHOD(ShareFixture, "share: private to partner-led is sent as consent: a downgrade is refused and said once") {
  auto opp = opportunity({{"CoSell_Type__c", "Private"}});
  REQUIRE(cycle().shared == 1);
  auto id = referral_of(opp);
  CHECK(pc_fake.referral(id)["consent"]["consentToShareReferralWithMicrosoftSellers"] == false);

  sf_fake.edit("Opportunity", opp, {{"CoSell_Type__c", "Partner-led"}});
  CHECK(cycle().ok());
  CHECK(pc_fake.referral(id)["consent"]["consentToShareReferralWithMicrosoftSellers"] == true);

  int writes_before = pc_fake.writes();
  sf_fake.edit("Opportunity", opp, {{"CoSell_Type__c", "Private"}});
  CHECK(cycle().ok());
  sf_fake.edit("Opportunity", opp, {{"Amount", 70000}});
  CHECK(cycle().ok());
  CHECK(pc_fake.referral(id)["consent"]["consentToShareReferralWithMicrosoftSellers"] == true);
  CHECK(pc_fake.referral(id)["details"]["dealValue"] == 70000);  // the rest still syncs
  CHECK(pc_fake.writes() == writes_before + 1);
  std::string text = *captured.text;
  auto first = text.find("consent to share with Microsoft cannot be withdrawn");
  REQUIRE(first != std::string::npos);
  CHECK(text.find("consent to share with Microsoft cannot be withdrawn", first + 1) == std::string::npos);
  auto held = store.holds(mapping.name, id);
  CHECK(std::any_of(held.begin(), held.end(), [](const HeldAction& h) { return h.key == "share_downgrade_refused"; }));
}

TEST_CASE_METHOD(ShareFixture, "share: a POST Partner Center refuses is quarantined and leaves no pending row, so the next try is checked afresh") {
  auto opp = opportunity();
  pc_fake.refuse_next_create("The customer's address is not valid");
  auto stats = cycle();
  CHECK(stats.quarantined == 1);
  CHECK(store.is_quarantined(mapping.name, "crm", opp));
  CHECK(store.pending_creates(mapping.name, "pc").empty());
  CHECK(referral_of(opp).empty());
  // The seller takes the flag off before the record comes back: it is not shared.
  sf_fake.edit("Opportunity", opp, {{"Share_with_Microsoft__c", false}});
  CHECK(cycle().shared == 0);
  CHECK(posts() == 1);  // the refused one only
}
