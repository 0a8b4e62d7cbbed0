#pragma once
// Deal registration (`registration:` in an opportunity mapping): which won deals are registered
// in Partner Center, within how long of the win, with which contract and solution values, and
// which CRM fields receive the review's outcome.
//
// Partner Center's contract (shared/specs/partner-center-referrals.swagger.json, DealRegistration
// and UpdateDealRegistration; https://learn.microsoft.com/en-us/partner/develop/update-a-referral)
// registers a deal as one PATCH `add /registrations/-` of a referral already Closed/Won, and
// changes it later with `replace /registrations/0/<path>` on a fixed list of paths.
//
//   registration:
//     when: {crm.Registration_Eligible__c: true}
//     register_within: 30d              # after the win Partner Center recorded (default 30d)
//     warn_before: [14d, 7d, 1d]        # warnings before that deadline (default none)
//     body:                             # registration path -> CRM path, constant or value map
//       contract.value: Amount
//       contract.currency: CurrencyIsoCode
//       contract.term: {value: Finite}
//       solutionDetails.id: {field: Offering__c, values: {"Contoso Analytics": "SOL-1"}}
//     status:                           # registration outcome -> CRM field (optionally value-mapped)
//       registrationStatus: {crm: Registration_Status__c, values: {Approved: Registered}}
//       statusReason: Registration_Reason__c
//       statusHistory.approvedDateTime: Registration_Approved__c
//
// `solutionDetails.*` is the registration's one solution (solutionDetails[0]).
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/mapping/condition.hpp"
#include "daemon/mapping/mapping.hpp"

namespace cosync {
class YamlNode;
}

namespace cosync::mapping {

// Where one registration value comes from: a CRM path, a constant, or a CRM field's value mapped.
struct RegistrationSource {
  std::string crm_path;                       // a field of the opportunity ("Amount"); empty for a constant
  std::map<std::string, nlohmann::json> values;  // CRM value -> registration value (value map)
  std::optional<nlohmann::json> constant;     // `{value: Finite}`
  int line = 0;
};

struct RegistrationRule {
  Condition when;  // crm. paths of the opportunity (the referral is Closed/Won by then)
  std::chrono::seconds register_within = std::chrono::hours(30 * 24);
  std::vector<std::chrono::seconds> warn_before;  // longest first
  std::map<std::string, RegistrationSource> body;  // registration path ("contract.value") -> source
  // The `status:` block as to_crm field rules (pc paths "registrationStatus", "registrations.status"...):
  // the loader appends them to the mapping's fields, so the normal merge mirrors them.
  std::vector<FieldRule> status_fields;
  int line = 0;

  bool selects(const nlohmann::json& crm, TimePoint now) const;
  // The CRM fields of the opportunity itself the rule reads (when, body): pulled with it.
  std::vector<std::string> crm_fields() const;
  // The registration to add (`value` of `add /registrations/-`): typed values, none null.
  nlohmann::json registration(const nlohmann::json& crm) const;
  // The later changes of a registration Partner Center holds (`current`, as read) that the CRM
  // now says otherwise: connector paths ("registrations.0.contract.value") -> value; only the
  // paths Partner Center lets a partner replace.
  std::map<std::string, nlohmann::json> changes(const nlohmann::json& crm, const nlohmann::json& current) const;
};

// Whether a registration's review still takes changes (review pending, action required).
bool registration_editable(const nlohmann::json& registration);
// Whether a referral as read from Partner Center is Closed/Won: the only state that takes a registration.
bool referral_closed_won(const nlohmann::json& referral);

// The connector path that replaces a body path, or "" when Partner Center takes no replace of it.
std::string registration_replace_path(const std::string& body_path);

// Reads a `registration:` block; errors name file, line and key.
RegistrationRule load_registration(const YamlNode& node);

}  // namespace cosync::mapping
