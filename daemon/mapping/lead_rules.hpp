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

// Reads `accept:` and `decline:` of a mapping file's root into m.leads (left null when neither
// is there) and checks that the status field's value map can carry the outcome to the CRM;
// throws ConfigError naming file, line and key. Called after the fields are read.
void load_lead_rules(const YamlNode& root, Mapping& m);

}  // namespace cosync::mapping
