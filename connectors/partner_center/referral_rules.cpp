// What Partner Center accepts in a referral patch: the New -> Active -> Closed state machine
// over the contract's patch paths (referral_contract.cpp). Checked before sending, so an
// impossible write is never put on the wire. Also how a referral read from the API is parsed.
#include <string_view>

#include "connectors/partner_center/partner_center_connector.hpp"
#include "connectors/partner_center/referral_contract.hpp"
#include "daemon/util/printable_text.hpp"
#include "daemon/util/json_path.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"

namespace cosync::connectors {
namespace {

std::string text_at(const nlohmann::json& j, std::string_view path) {
  auto v = json_at(j, path);
  return v.is_string() ? v.get<std::string>() : std::string();
}

// A date the sync relies on: nullopt with `reason` when it is not a string or not a date in range
// (parse_iso8601 refuses what a TimePoint cannot hold).
std::optional<TimePoint> required_date(const nlohmann::json& referral, const std::string& id, std::string_view key,
                                       std::string& reason) {
  const auto& value = remote_json::member(referral, key);
  std::optional<TimePoint> parsed;
  if (value.is_string()) parsed = parse_iso8601(value.get_ref<const std::string&>());
  if (!parsed)
    reason = "referral " + id + " has no valid " + std::string(key) + " (got " +
             value.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace).substr(0, 80) + ")";
  return parsed;
}

int status_rank(std::string_view status) {
  if (status == "New") return 0;
  if (status == "Active") return 1;
  if (status == "Closed") return 2;
  return -1;
}

bool substatus_allowed(std::string_view status, std::string_view substatus) {
  if (status == "New") return substatus == "Pending" || substatus == "Received";
  if (status == "Active") return substatus == "Accepted" || substatus == "Engaged";
  if (status == "Closed") return substatus == "Won" || substatus == "Lost" || substatus == "Declined" || substatus == "Expired";
  return false;
}

}  // namespace

ReferralClass classify_referral(const nlohmann::json& referral) {
  ReferralClass c;
  // Direction: PC states it (read-only "direction"); without it, a referral whose invitation
  // came from another organization than the referral's owner is incoming.
  std::string direction = text_at(referral, "direction");
  std::string invited_by = text_at(referral, "inviteContext.invitedBy.organizationId");
  std::string owner = text_at(referral, "organizationId");
  if (direction == "Incoming" || direction == "Outgoing") c.direction = direction == "Incoming" ? "incoming" : "outgoing";
  else if (!invited_by.empty()) c.direction = (!owner.empty() && invited_by == owner) ? "outgoing" : "incoming";
  else c.direction = "outgoing";
  // Kind: Shared referrals are co-sell; Independent ones are leads when they came in (from the
  // marketplace when marketing-qualified or carrying a marketplace source), a partner's own
  // deal (co-sell pipeline) when they went out.
  std::string type = text_at(referral, "type");
  std::string qualification = text_at(referral, "qualification");
  bool marketplace = qualification == "MarketingQualified" || qualification == "MarketplaceLead" ||
                     !text_at(referral, "referralSource").empty() || !text_at(referral, "callToAction").empty();
  if (type == "Shared") c.kind = "co_sell_opportunity";
  else if (marketplace) c.kind = "marketplace_lead";
  else if (c.direction == "incoming") c.kind = "qualified_lead";
  else c.kind = "co_sell_opportunity";
  return c;
}

std::optional<std::string> referral_patch_refusal(const nlohmann::json& referral, const std::vector<FieldChange>& changes) {
  std::string status = remote_json::string_or(referral, "status");
  std::string substatus = remote_json::string_or(referral, "substatus");
  if (is_terminal_referral(referral))
    return "referral is Closed/" + (substatus.empty() ? "?" : substatus) + " (terminal): no write is sent";
  std::string new_status = status, new_substatus = substatus;
  for (const auto& c : changes) {
    if (!is_patchable_referral_path(c.path))
      return "Partner Center does not accept a patch of " + c.path;
    if (c.value.is_null()) return "Partner Center does not accept null for " + c.path;
    if (c.path == "status") new_status = c.value.is_string() ? c.value.get<std::string>() : "";
    if (c.path == "substatus") new_substatus = c.value.is_string() ? c.value.get<std::string>() : "";
  }
  if (new_status != status || new_substatus != substatus) {
    if (status_rank(new_status) < 0) return "unknown referral status " + new_status;
    if (status_rank(new_status) < status_rank(status))
      return "impossible transition " + status + " -> " + new_status + " (New -> Active -> Closed only)";
    if (!substatus_allowed(new_status, new_substatus))
      return "substatus " + new_substatus + " is not allowed with status " + new_status;
  }
  return std::nullopt;
}

std::optional<RemoteRecord> parse_referral(const nlohmann::json& body, std::string& reason) {
  if (!body.is_object()) {
    reason = "referral is not a JSON object";
    return std::nullopt;
  }
  // Wrong types read as absent (remote_json); what the sync cannot do without makes the referral
  // malformed, so that it is quarantined with this reason while the others sync.
  RemoteRecord r;
  r.id = remote_json::string_or(body, "id");
  if (r.id.empty()) {
    reason = "referral without an id (a non-empty string)";
    return std::nullopt;
  }
  if (has_control_character(r.id)) {
    reason = "referral id " + quoted_remote_text(r.id) + " contains a control character";
    return std::nullopt;
  }
  r.version = remote_json::string_or(body, "eTag");
  if (r.version.empty()) {
    reason = "referral " + r.id + " has no eTag";
    return std::nullopt;
  }
  if (!remote_json::opt_string(body, "status")) {
    reason = "referral " + r.id + " has no status (a string)";
    return std::nullopt;
  }
  auto updated = required_date(body, r.id, "updatedDateTime", reason);
  if (!updated) return std::nullopt;
  if (!remote_json::member(body, "createdDateTime").is_null() && !required_date(body, r.id, "createdDateTime", reason))
    return std::nullopt;
  r.modified = *updated;
  r.fields = body;  // everything, unknown fields included: nothing is dropped on the way back
  auto c = classify_referral(body);
  r.fields[kKindField] = c.kind;
  r.fields[kDirectionField] = c.direction;
  return r;
}

std::string malformed_referral_id(const nlohmann::json& referral) {
  std::string id = remote_json::string_or(referral, "id");
  return has_control_character(id) ? quoted_remote_text(id) : id;
}

}  // namespace cosync::connectors
