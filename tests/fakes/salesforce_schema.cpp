#include "tests/fakes/salesforce_schema.hpp"

#include <cctype>

namespace cosync::fakes {

namespace {

bool iequals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

const std::set<std::string>& SObjectSchema::system_fields() {
  static const std::set<std::string> fields = {"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", "IsDeleted"};
  return fields;
}

std::optional<std::string> SObjectSchema::resolve(const std::string& name) const {
  for (const auto* set : {&fields, &system_fields()})
    for (const auto& f : *set)
      if (iequals(f, name)) return f;
  return std::nullopt;
}

SObjectSchema default_lead_schema() {
  SObjectSchema s;
  s.key_prefix = "00Q";
  s.fields = {"FirstName",  "LastName", "Company",     "Email",      "Phone",   "Status",
              "AnnualRevenue", "Description", "LeadSource", "Country", "PartnerCenterReferralId__c", "OwnerId"};
  s.required = {"LastName", "Company"};
  s.lengths = {{"FirstName", 40}, {"LastName", 80}, {"Description", 32000}};
  s.picklists["Status"] = {"Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"};
  s.external_ids["PartnerCenterReferralId__c"] = true;
  s.defaults = {{"Status", "Open - Not Contacted"}, {"OwnerId", "005000000000001AAA"}};
  return s;
}

SObjectSchema default_opportunity_schema() {
  SObjectSchema s;
  s.key_prefix = "006";
  s.fields = {"Name",      "AccountId", "Amount",   "CloseDate", "StageName", "Probability", "Description",
              "LeadSource", "Type",     "NextStep", "OwnerId",   "CurrencyIsoCode", "PartnerCenterReferralId__c",
              "ContactId", "Share_with_Microsoft__c", "CoSell_Type__c", "Customer_Consent__c", "Offering__c",
              "Region__c", "Registration_Status__c", "Registration_Reason__c", "Registration_Approved__c"};
  s.required = {"Name", "StageName", "CloseDate"};
  s.lengths = {{"Name", 120}, {"Description", 32000}};
  s.picklists["StageName"] = {"Prospecting",        "Qualification",          "Needs Analysis",
                              "Value Proposition",  "Id. Decision Makers",    "Perception Analysis",
                              "Proposal/Price Quote", "Negotiation/Review",   "Closed Won",
                              "Closed Lost"};
  s.external_ids["PartnerCenterReferralId__c"] = true;
  s.defaults = {{"OwnerId", "005000000000001AAA"}};
  return s;
}

SObjectSchema default_account_schema() {
  SObjectSchema s;
  s.key_prefix = "001";
  s.fields = {"Name", "BillingCity", "BillingCountry", "Website", "Industry", "Phone", "OwnerId", "Description"};
  s.required = {"Name"};
  s.lengths = {{"Description", 32000}};
  s.defaults = {{"OwnerId", "005000000000001AAA"}};
  return s;
}

// https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_campaignmember.htm:
// CampaignId is required, LeadId or ContactId names the member; Salesforce refuses a second
// membership of the same lead with DUPLICATE_VALUE ("Already a campaign member").
SObjectSchema default_campaign_member_schema() {
  SObjectSchema s;
  s.key_prefix = "00v";
  s.fields = {"CampaignId", "LeadId", "ContactId", "Status"};
  s.required = {"CampaignId"};
  s.unique_together = {"CampaignId", "LeadId"};
  s.defaults = {{"Status", "Sent"}};
  return s;
}

}  // namespace cosync::fakes
