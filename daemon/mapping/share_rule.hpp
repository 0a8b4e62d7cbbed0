#pragma once
// Co-sell sharing (`share:` in an opportunity mapping): which CRM opportunities become Partner
// Center referrals, and the body each one is created with. Microsoft's "Create a referral"
// (https://learn.microsoft.com/en-us/partner/develop/create-a-referral) defines the three deal
// types a partner chooses from and what sets them:
//   private      not shared with Microsoft sellers, no help:  type Independent, consent...WithMicrosoftSellers false
//   partner-led  shared with Microsoft sellers, no help:      type Independent, consent...WithMicrosoftSellers true
//   co-sell      shared, help requested from Microsoft:       type Shared, consent true, inviteContext.assistanceRequestCode
// The customer's contact (customerProfile.team) is sent only with the customer's consent
// (consent.consentToContact); without it none of the contact's data is in the body.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/mapping/condition.hpp"

namespace cosync {
class YamlNode;
}

namespace cosync::mapping {

// Ordered: a later CRM change may move a deal up (upgrade), never down.
enum class DealType { private_deal = 0, partner_led = 1, co_sell = 2 };
const char* to_string(DealType type);  // "private", "partner-led", "co-sell"

// Partner Center's contract gives `name` no maxLength; its co-sell form takes 100 characters,
// and so does cosync by default (`name_limit:`).
constexpr std::size_t kDefaultShareNameLimit = 100;

struct ShareRule {
  Condition when;            // crm. paths of the opportunity itself
  std::string name;          // template of CRM paths: "{Account.Name} | {Offering__c} | {Id}"
  std::size_t name_limit = kDefaultShareNameLimit;
  // Deal type: the CRM field that says it and its values; without a field every share is `deal_type`.
  std::string deal_type_field;
  std::map<std::string, DealType> deal_types;  // CRM value -> deal type
  DealType deal_type_default = DealType::co_sell;
  std::string help_code = "GeneralOrOther";  // inviteContext.assistanceRequestCode of a co-sell
  std::string help_notes;                     // template: inviteContext.notes of a co-sell
  // Consent to contact the customer: a CRM boolean field; without it no contact is ever sent.
  std::string consent_field;
  bool require_consent = false;  // no consent: the share waits instead of going without contact
  std::map<std::string, std::string> contact;  // team member key (firstName, email...) -> template
  std::map<std::string, std::string> team;     // the partner's seller (the CRM owner): `team`
  std::map<std::string, std::string> body;     // referral path -> template (customerProfile.name...)
  std::string solution_field;                  // CRM field whose value names the offering
  std::map<std::string, std::string> solutions;  // its value -> Partner Center solution id
  std::vector<std::string> tags;               // templates
  int line = 0;

  // Every CRM path the share reads (own fields and related ones such as Account.Name).
  std::vector<std::string> crm_paths() const;
  // The CRM fields of the opportunity itself that `when` and the deal type read: pulled with it.
  std::vector<std::string> own_fields() const;
  bool selects(const nlohmann::json& crm, TimePoint now) const;
  DealType deal_type(const nlohmann::json& crm) const;
  bool has_consent(const nlohmann::json& crm) const;
  // The referral name: the template rendered and cut to name_limit, keeping `crm_id` whole at its end.
  std::string referral_name(const nlohmann::json& crm, const std::string& crm_id) const;
  // The referral to create (no nulls, no empty text), without the mapped fields (the caller adds them).
  nlohmann::json referral(const nlohmann::json& crm, const std::string& crm_id) const;
};

// Why Partner Center would refuse a referral body built by ShareRule::referral (its required
// name and customer name are empty), or "" when there is nothing to say.
std::string share_problem(const nlohmann::json& referral);

// What a referral as read from Partner Center was shared as.
DealType deal_type_of_referral(const nlohmann::json& referral);

// Reads a `share:` block; errors name file, line and key.
ShareRule load_share(const YamlNode& node);

}  // namespace cosync::mapping
