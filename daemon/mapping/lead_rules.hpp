#pragma once
// How a mapping answers Microsoft's leads (`accept:` and `decline:` in the mapping file): Partner
// Center expects a partner to accept or decline an incoming lead by clear criteria
// (https://learn.microsoft.com/en-us/partner-center/developer/referral-resources: status New ->
// Active/Accepted, or Closed/Declined with a statusReason saying why).
//
//   accept: manual                  Partner Center follows the CRM status (the default)
//   accept: auto                    every selected lead is accepted once its CRM record exists
//   accept: {when: <condition>}     only the leads the condition selects
//   decline: {when: <condition>, reason: "Outside our regions"}   checked before accept
//   expiry: {warn_before: [7d, 2d, 1d]}   warnings before expirationDateTime of a lead still New
//   stale: {after: 8w, touches: 3, reason: "...", warn_before: 7d, progress: field:Touches__c}
//                                   an accepted lead without progress is closed as Lost
//
// Only an incoming referral still New is decided on: a seller's own status change and a closed
// referral are never overridden.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "connectors/records.hpp"
#include "daemon/mapping/condition.hpp"

namespace cosync {
class YamlNode;
}

namespace cosync::mapping {

struct Mapping;

enum class AcceptMode { manual, automatic, when };

// `stale:` the guide's "close it as lost after a set number of touches over 6-8 weeks with no
// progress". The clock restarts whenever the CRM record's status changes (a status move is
// progress); touches are what the seller tried meanwhile, counted by `progress`.
struct StaleRules {
  enum class Progress {
    status,      // no touch count: `after` without a status change closes the lead
    field,       // a CRM touch-counter field: closes once it reaches `touches`
    activities,  // completed activities on the record (Tasks/Events; Dataverse activities regarding it)
  };
  std::chrono::seconds after{};
  std::chrono::seconds warn_before{};
  int touches = 0;  // required before closing; 0 with Progress::status
  std::string reason;  // the referral's statusReason when closed
  Progress progress = Progress::status;
  std::string touch_field;  // Progress::field
  int line = 0;
  int progress_line = 0;  // `progress:`, for a connection that cannot count it (cli/config.cpp)
};

// `assign:` who fields a new lead: the first rule whose condition (on the referral: country,
// offering, Partner Center location or MPN id) holds names the owner written to `field` on
// create. Salesforce: `field: OwnerId`, a user (005...) or a lead queue (00G...); Dataverse:
// `field: ownerid@odata.bind`, `/teams(<guid>)` or `/systemusers(<guid>)`.
struct AssignRule {
  std::optional<Condition> when;  // none: every lead that reaches it
  std::string owner;
  int line = 0;
};
struct Assignment {
  std::string field;
  std::vector<AssignRule> rules;
  // The owner of a lead created from `referral`, and why; nullopt when no rule matches.
  std::optional<std::pair<std::string, std::string>> owner_for(const nlohmann::json& referral, TimePoint now) const;
};

struct LeadRules {
  AcceptMode accept = AcceptMode::manual;
  Condition accept_when;             // AcceptMode::when
  std::optional<Condition> decline_when;
  std::string decline_reason;        // the referral's statusReason when declined
  int accept_line = 0;
  int decline_line = 0;
  // `expiry.warn_before`: how long before a New referral's expirationDateTime a warning is given,
  // longest first; empty: no expiry watch.
  std::vector<std::chrono::seconds> expiry_warnings;
  std::optional<StaleRules> stale;
  std::optional<Assignment> assign;
  // `campaign:` the Salesforce Campaign (701..., 15 or 18 characters) each lead cosync creates
  // joins through a CampaignMember, so conversion is reported per campaign; empty: none.
  std::string campaign;

  bool decides() const { return accept != AcceptMode::manual || decline_when.has_value(); }
  // The CRM record's own fields the conditions read (crm.X), for the pull to bring them.
  std::vector<std::string> crm_fields() const;
};

// What the policy does with one referral now.
struct LeadDecision {
  enum class Kind { none, accept, decline };
  Kind kind = Kind::none;
  std::string reason;                              // for `plan`, the log and the audit
  std::vector<connectors::FieldChange> changes;    // the referral writes (status, substatus, statusReason)
};

// `crm` is null before the CRM record exists (a crm. leaf is then false). `pc_now`: Partner
// Center's clock, for older_than / newer_than on the referral's timestamps.
LeadDecision decide_lead(const LeadRules& rules, const nlohmann::json& referral, const nlohmann::json* crm,
                         TimePoint pc_now);

// The touches a stale watch counts on this CRM record (0 without a count, or not read).
int touches_of(const StaleRules& stale, const nlohmann::json& crm);

// Reads `accept:`, `decline:`, `expiry:`, `stale:`, `assign:` and `campaign:` of a mapping file's root into m.leads (left null when neither
// is there) and checks that the status field's value map can carry the outcome to the CRM;
// throws ConfigError naming file, line and key. Called after the fields are read.
void load_lead_rules(const YamlNode& root, Mapping& m);

}  // namespace cosync::mapping
