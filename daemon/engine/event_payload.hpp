#pragma once
// The payload of a notification event (README "Notifications"): what a template can read. One
// builder for the executor's events (Journal::event) and the previews of `cosyncd plan`.
#include <string>

#include <nlohmann/json.hpp>

namespace cosync::engine {

struct EventSubject {
  std::string mapping;
  std::string crm_system;
  std::string crm_object;
  std::string pc_id;
  std::string crm_id;
};

// {event, reason, at, mapping, referral_id, crm_id, crm_system, crm_object, people, pc, crm}.
nlohmann::json event_payload(const EventSubject& subject, const std::string& key, const std::string& reason,
                             const std::string& at, const nlohmann::json& pc, const nlohmann::json& crm);

// Who an event concerns, as far as the records say:
//   crm_owner          the CRM record's owner: Salesforce Owner.{Name,Email} when the mapping reads
//                      them, Dynamics 365 owninguser.{fullname,internalemailaddress} as Name/Email
//   partner_team       the referral's team members outside Microsoft
//   microsoft_team     the referral's team members with a microsoft.com e-mail (Microsoft sellers)
//   customer_contacts  customerProfile.team
//   invited_by         inviteContext.invitedBy (the organization that shared the referral)
// The referral contract has no other field naming Microsoft's people.
nlohmann::json event_people(const nlohmann::json& pc, const nlohmann::json& crm);

}  // namespace cosync::engine
