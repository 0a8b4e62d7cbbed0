#include "daemon/engine/event_payload.hpp"

#include <algorithm>
#include <cctype>

#include "daemon/mapping/mapping.hpp"
#include "daemon/util/remote_json.hpp"

namespace cosync::engine {
namespace {

bool microsoft_address(const nlohmann::json& member) {
  std::string email = remote_json::string_or(member, "email");
  std::transform(email.begin(), email.end(), email.begin(), [](unsigned char c) { return std::tolower(c); });
  return email.ends_with("@microsoft.com");
}

nlohmann::json crm_owner(const nlohmann::json& crm) {
  nlohmann::json owner = nlohmann::json::object();
  if (auto o = mapping::first_value_at(crm, "Owner"); o.is_object()) owner = o;
  // Dynamics 365: the owning user's row, when the read expanded it.
  if (auto u = mapping::first_value_at(crm, "owninguser"); u.is_object()) {
    owner = u;
    if (auto e = remote_json::member(u, "internalemailaddress"); e.is_string()) owner["Email"] = e;
    if (auto n = remote_json::member(u, "fullname"); n.is_string()) owner["Name"] = n;
  }
  for (const char* id : {"OwnerId", "_ownerid_value"})
    if (auto v = mapping::first_value_at(crm, id); !v.is_null()) owner["Id"] = v;
  return owner;
}

}  // namespace

nlohmann::json event_people(const nlohmann::json& pc, const nlohmann::json& crm) {
  auto list = [](const nlohmann::json& v) { return v.is_array() ? v : nlohmann::json::array(); };
  nlohmann::json partner = nlohmann::json::array();
  nlohmann::json microsoft = nlohmann::json::array();
  for (const auto& member : list(mapping::first_value_at(pc, "team")))
    (microsoft_address(member) ? microsoft : partner).push_back(member);
  auto invited_by = mapping::first_value_at(pc, "inviteContext.invitedBy");
  return {{"crm_owner", crm_owner(crm)},
          {"partner_team", partner},
          {"microsoft_team", microsoft},
          {"customer_contacts", list(mapping::first_value_at(pc, "customerProfile.team"))},
          {"invited_by", invited_by.is_object() ? invited_by : nlohmann::json::object()}};
}

nlohmann::json event_payload(const EventSubject& s, const std::string& key, const std::string& reason,
                             const std::string& at, const nlohmann::json& pc, const nlohmann::json& crm) {
  return {{"event", key},          {"reason", reason},           {"at", at},
          {"mapping", s.mapping},  {"referral_id", s.pc_id},     {"crm_id", s.crm_id},
          {"crm_system", s.crm_system}, {"crm_object", s.crm_object}, {"people", event_people(pc, crm)},
          {"pc", pc},              {"crm", crm}};
}

}  // namespace cosync::engine
