// How a referral read from the API is parsed: what the sync cannot do without is checked, the
// rest is kept as it came. (What a patch may touch is the contract, referral_contract.cpp; the
// state machine is a rule, daemon/rules/referral_state_machine.cpp.)
#include <string_view>
#include <utility>

#include "connectors/partner_center/partner_center_connector.hpp"
#include "connectors/partner_center/referral_contract.hpp"
#include "daemon/util/printable_text.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"

namespace cosync::connectors {
namespace {

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

}  // namespace

std::optional<RemoteRecord> parse_referral(nlohmann::json body, std::string& reason) {
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
  r.fields = std::move(body);  // everything, unknown fields included: nothing is dropped on the way back
  return r;
}

std::string malformed_referral_id(const nlohmann::json& referral) {
  std::string id = remote_json::string_or(referral, "id");
  return has_control_character(id) ? quoted_remote_text(id) : id;
}

}  // namespace cosync::connectors
