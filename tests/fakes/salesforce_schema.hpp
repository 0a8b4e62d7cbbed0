#pragma once
// Field declarations of the fake Salesforce's sObjects: which fields exist (writes to others are
// INVALID_FIELD), which are required, restricted picklists, external ids and defaults.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cosync::fakes {

struct SObjectSchema {
  std::string key_prefix = "a00";          // first 3 characters of record ids ("00Q" for Lead)
  std::set<std::string> fields;            // writable fields; the system fields are added implicitly
  std::set<std::string> required;          // REQUIRED_FIELD_MISSING when absent on create or blanked
  std::map<std::string, std::set<std::string>> picklists;  // restricted picklists
  // Picklist values deactivated by an admin: listed by describe with active=false, rejected on write.
  std::map<std::string, std::set<std::string>> inactive_picklist_values;
  // Values describe lists (the object-wide picklist) that the records' record type does not
  // allow: a write of one fails with INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST.
  std::map<std::string, std::set<std::string>> not_for_record_type;
  std::map<std::string, bool> external_ids;  // external id field -> unique
  nlohmann::json defaults = nlohmann::json::object();  // values set on create when absent
  // describe `length` of text fields other than the default 255 (Lead.Description is a 32,000
  // character text area).
  std::map<std::string, int> lengths;
  // Fields whose values together identify a record: a second record with the same values is
  // DUPLICATE_VALUE (CampaignMember: one membership per campaign and lead).
  std::vector<std::string> unique_together;

  // Fields the server sets (not writable): Id, CreatedDate, LastModifiedDate, SystemModstamp, IsDeleted.
  static const std::set<std::string>& system_fields();
  bool has_field(const std::string& name) const { return fields.count(name) || system_fields().count(name); }
  // The declared spelling of `name` (SOQL and the REST API ignore case), or nullopt.
  std::optional<std::string> resolve(const std::string& name) const;
};

// Lead, Opportunity and Account as a standard org has them, plus PartnerCenterReferralId__c
// (unique external id) on Lead and Opportunity.
SObjectSchema default_lead_schema();
SObjectSchema default_opportunity_schema();
SObjectSchema default_account_schema();
// CampaignMember: a lead's membership of a campaign, one per (CampaignId, LeadId).
SObjectSchema default_campaign_member_schema();

}  // namespace cosync::fakes
