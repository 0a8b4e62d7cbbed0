// The `share:` block of an opportunity mapping: which CRM records it selects and the referral
// body each becomes (Microsoft's "Create a referral": deal types, consent, customer profile).
#include <catch2/catch.hpp>

#include "daemon/mapping/country_codes.hpp"
#include "daemon/mapping/field_transform.hpp"
#include "daemon/mapping/mapping.hpp"
#include "tests/unit/mapping_file.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

const std::string kShareHead = R"(name: share
crm: { connection: sf, object: Opportunity, link_field: PartnerCenterReferralId__c }
share:
  when:
    crm.Share_with_Microsoft__c: true
    crm.StageName: [Prospecting, Qualification]
  name: "{Account.Name} | {Offering__c} | {Region__c} | {Id}"
  deal_type:
    field: CoSell_Type__c
    values: { Private: private, Partner-led: partner-led, Co-sell: co-sell }
  help: { code: CustomerTechnicalArchitecture, notes: "{NextStep}" }
  consent: { field: Customer_Consent__c }
  contact:
    firstName: "{Contact.FirstName}"
    lastName: "{Contact.LastName}"
    email: "{Contact.Email}"
    phoneNumber: "{Contact.Phone}"
  body:
    customerProfile.name: "{Account.Name}"
    customerProfile.address.country: "{Account.BillingCountry|country}"
    customerProfile.address.city: "{Account.BillingCity}"
  solutions:
    field: Offering__c
    values: { "Contoso Cloud": SOL-1234 }
  tags: ["{Region__c}", cosync]
)";

const std::string kFields = R"(fields:
  - name: deal_value
    pc: details.dealValue
    crm: Amount
    transform: number
  - name: status
    pc: [status, substatus]
    crm: StageName
    values:
      - { pc: [New, Pending], crm: Prospecting }
      - { pc: [Active, Accepted], crm: Qualification }
)";

json opportunity() {
  return {{"Id", "006000000000001AAA"},
          {"Share_with_Microsoft__c", true},
          {"StageName", "Prospecting"},
          {"Amount", 50000},
          {"Offering__c", "Contoso Cloud"},
          {"Region__c", "EMEA"},
          {"CoSell_Type__c", "Co-sell"},
          {"Customer_Consent__c", false},
          {"NextStep", "Architecture review"},
          {"Account", {{"Name", "Fabrikam"}, {"BillingCountry", "Germany"}, {"BillingCity", "Berlin"}}},
          {"Contact", {{"FirstName", "Jane"}, {"LastName", "Doe"}, {"Email", "jane@fabrikam.example"},
                       {"Phone", "+49 30 1234"}}}};
}

bool contains_text(const json& j, const std::string& text) { return j.dump().find(text) != std::string::npos; }

}  // namespace

TEST_CASE("share: a co-sell body carries the name, type, consent, help, customer, solutions and tags") {
  testing::MappingFile file;
  auto m = file.load(kShareHead + kFields);
  REQUIRE(m.share);
  auto crm = opportunity();
  CHECK(m.share->selects(crm, {}));
  auto body = m.pc_share_body(crm, "006000000000001AAA");
  CHECK(body["name"] == "Fabrikam | Contoso Cloud | EMEA | 006000000000001AAA");
  CHECK(body["type"] == "Shared");
  CHECK(body["consent"]["consentToShareReferralWithMicrosoftSellers"] == true);
  CHECK(body["inviteContext"]["assistanceRequestCode"] == "CustomerTechnicalArchitecture");
  CHECK(body["inviteContext"]["notes"] == "Architecture review");
  CHECK(body["customerProfile"]["name"] == "Fabrikam");
  CHECK(body["customerProfile"]["address"]["country"] == "DE");  // ISO 3166 alpha-2, as Partner Center takes it
  CHECK(body["details"]["requirements"]["solutions"] == json::array({{{"id", "SOL-1234"}}}));
  CHECK(body["details"]["dealValue"] == 50000);
  CHECK(body["tags"] == json::array({{{"tag", "EMEA"}}, {{"tag", "cosync"}}}));
  CHECK(body["externalReferenceId"] == "006000000000001AAA");
  CHECK_FALSE(body.contains("status"));  // a referral starts New: the merge moves it on after the share
  CHECK_FALSE(contains_text(body, "null"));
  CHECK(mapping::share_problem(body).empty());
}

TEST_CASE("share: without the customer's consent none of the contact's data is in the body") {
  testing::MappingFile file;
  auto m = file.load(kShareHead + kFields);
  auto crm = opportunity();
  auto without = m.pc_share_body(crm, "006000000000001AAA");
  CHECK(without["consent"]["consentToContact"] == false);
  for (const auto& text : {"Jane", "Doe", "jane@fabrikam.example", "+49 30 1234"}) CHECK_FALSE(contains_text(without, text));
  CHECK_FALSE(without["customerProfile"].contains("team"));

  crm["Customer_Consent__c"] = true;
  auto with = m.pc_share_body(crm, "006000000000001AAA");
  CHECK(with["consent"]["consentToContact"] == true);
  CHECK(with["customerProfile"]["team"] ==
        json::array({{{"firstName", "Jane"}, {"lastName", "Doe"}, {"email", "jane@fabrikam.example"},
                      {"phoneNumber", "+49 30 1234"}}}));
  crm["Contact"] = nullptr;  // no primary contact: no member, and no nulls
  auto no_contact = m.pc_share_body(crm, "006000000000001AAA");
  CHECK_FALSE(no_contact["customerProfile"].contains("team"));
  CHECK_FALSE(contains_text(no_contact, "null"));
}

TEST_CASE("share: deal types set consent to share with Microsoft sellers and the help request") {
  testing::MappingFile file;
  auto m = file.load(kShareHead + kFields);
  auto crm = opportunity();
  crm["CoSell_Type__c"] = "Private";
  auto priv = m.pc_share_body(crm, "006X");
  CHECK(priv["type"] == "Independent");
  CHECK(priv["consent"]["consentToShareReferralWithMicrosoftSellers"] == false);
  CHECK_FALSE(priv.contains("inviteContext"));
  CHECK(mapping::deal_type_of_referral(priv) == mapping::DealType::private_deal);
  crm["CoSell_Type__c"] = "Partner-led";
  auto led = m.pc_share_body(crm, "006X");
  CHECK(led["type"] == "Independent");
  CHECK(led["consent"]["consentToShareReferralWithMicrosoftSellers"] == true);
  CHECK_FALSE(led.contains("inviteContext"));
  CHECK(mapping::deal_type_of_referral(led) == mapping::DealType::partner_led);
  crm["CoSell_Type__c"] = "Something else";  // a value not listed: the least shared
  CHECK(m.share->deal_type(crm) == mapping::DealType::private_deal);
  crm["CoSell_Type__c"] = "Co-sell";
  CHECK(mapping::deal_type_of_referral(m.pc_share_body(crm, "006X")) == mapping::DealType::co_sell);
}

TEST_CASE("share: the name is cut to its limit and keeps the CRM id whole at the end") {
  testing::MappingFile file;
  auto m = file.load(kShareHead + kFields);
  auto crm = opportunity();
  crm["Account"]["Name"] = std::string(150, 'A');
  std::string name = m.share->referral_name(crm, "006000000000001AAA");
  CHECK(name.ends_with("…006000000000001AAA"));
  CHECK(name.starts_with("AAAA"));
  CHECK(mapping::text_length(name) == mapping::kDefaultShareNameLimit);
}

TEST_CASE("share: `when` selects by CRM fields: a record without a customer name cannot be shared") {
  testing::MappingFile file;
  auto m = file.load(kShareHead + kFields);
  auto crm = opportunity();
  crm["Share_with_Microsoft__c"] = false;
  CHECK_FALSE(m.share->selects(crm, {}));
  crm["Share_with_Microsoft__c"] = true;
  crm["StageName"] = "Closed Won";
  CHECK_FALSE(m.share->selects(crm, {}));
  crm = opportunity();
  crm["Account"] = nullptr;
  CHECK(mapping::share_problem(m.pc_share_body(crm, "006X")).find("customer name") != std::string::npos);
  // The pull reads what `when` and the deal type need; the share's own read adds related fields.
  auto pulled = m.crm_spec().fields;
  for (const auto& f : {"Share_with_Microsoft__c", "StageName", "CoSell_Type__c", "Customer_Consent__c"})
    CHECK(std::find(pulled.begin(), pulled.end(), f) != pulled.end());
  CHECK(std::find(pulled.begin(), pulled.end(), "Account.Name") == pulled.end());
  auto read = m.crm_share_spec().fields;
  CHECK(std::find(read.begin(), read.end(), "Account.Name") != read.end());
  CHECK(std::find(read.begin(), read.end(), "Contact.Email") != read.end());
}

TEST_CASE("share: body: sets any field of Microsoft's referral schema, such as campaignId, and nothing else") {
  testing::MappingFile file;
  auto head = kShareHead;
  head.replace(head.find("  solutions:"), 0, "    campaignId: \"{Campaign_Id__c}\"\n");
  auto m = file.load(head + kFields);
  auto crm = opportunity();
  crm["Campaign_Id__c"] = "MS-CAMPAIGN-42";
  CHECK(m.pc_share_body(crm, "006000000000001AAA")["campaignId"] == "MS-CAMPAIGN-42");
  // partnerRole, solutionArea and solutionPlay are not in the published referral contract
  // (../shared/specs): a body that sent them would not validate, so the mapping is refused.
  auto refused = kShareHead;
  refused.replace(refused.find("  solutions:"), 0, "    partnerRole: ServicesPartner\n");
  CHECK_THAT(file.error_of(refused + kFields),
             Catch::Contains("share.body.partnerRole: 'partnerRole' is not a field of a Partner Center referral"));
}

TEST_CASE("share: configuration errors name the file, line and key") {
  testing::MappingFile file;
  auto replace = [](std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  CHECK_THAT(file.error_of(replace(kShareHead, "crm.StageName", "pc.status") + kFields),
             Catch::Contains("m.yaml:6: share.when.pc.status") &&
                 Catch::Contains("an opportunity is shared before any referral exists"));
  CHECK_THAT(file.error_of(replace(kShareHead, "Partner-led: partner-led", "Partner-led: partner") + kFields),
             Catch::Contains(":10: share.deal_type.values.Partner-led: expected private, partner-led or co-sell"));
  CHECK_THAT(file.error_of(replace(kShareHead, "code: CustomerTechnicalArchitecture", "code: PleaseHelp") + kFields),
             Catch::Contains(":11: share.help.code: 'PleaseHelp' is not an assistanceRequestCode"));
  CHECK_THAT(file.error_of(replace(kShareHead, "{Account.BillingCity}", "{Account.BillingCity|upper}") + kFields),
             Catch::Contains(":21: share.body.customerProfile.address.city: unknown filter |upper"));
  CHECK_THAT(file.error_of(replace(kShareHead, "customerProfile.address.city", "customerProfile.town") + kFields),
             Catch::Contains("share.body.customerProfile.town: 'customerProfile.town' is not a field of a Partner Center referral"));
  CHECK_THAT(file.error_of(replace(kShareHead, "  consent: { field: Customer_Consent__c }\n", "") + kFields),
             Catch::Contains("share.contact: a customer contact is sent only with consent"));
}

TEST_CASE("country codes: names and codes as CRMs hold them become ISO 3166 alpha-2") {
  CHECK(mapping::iso_country_code("Germany") == "DE");
  CHECK(mapping::iso_country_code(" united states ") == "US");
  CHECK(mapping::iso_country_code("USA") == "US");
  CHECK(mapping::iso_country_code("gb") == "GB");
  CHECK(mapping::iso_country_code("United Kingdom") == "GB");
  CHECK(mapping::iso_country_code("España") == "ES");
  CHECK_FALSE(mapping::iso_country_code("Atlantis"));
  CHECK_FALSE(mapping::iso_country_code(""));
}
