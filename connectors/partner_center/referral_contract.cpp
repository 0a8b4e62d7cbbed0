// The paths Partner Center's referral API accepts in a patch, from its published contract.
#include "connectors/partner_center/referral_contract.hpp"

#include <algorithm>
#include <array>

#include "daemon/util/remote_json.hpp"

namespace cosync::connectors {
namespace {

// From the published contract (UpdateReferralDetails.path enum), as dotted paths. The "/-"
// (append) forms are not used: cosync replaces whole arrays.
constexpr std::array<std::string_view, 15> kPatchablePaths = {
    "campaignId",          "consent.consentToShareReferralWithMicrosoftSellers",
    "customerProfile.team", "details.closingDateTime",
    "details.currency",    "details.dealValue",
    "details.notes",       "details.requirements.solutions",
    "externalReferenceId", "referralProgram",
    "salesStage",          "status",
    "substatus",           "statusReason",
    "team"};

// UpdateDealRegistration.path enum, as dotted paths.
constexpr std::array<std::string_view, 12> kRegistrationPaths = {
    "registrations.0.contract.startDateTime",
    "registrations.0.contract.endDateTime",
    "registrations.0.contract.signDateTime",
    "registrations.0.contract.term",
    "registrations.0.contract.value",
    "registrations.0.solutionDetails.0.value",
    "registrations.0.solutionDetails.0.currency",
    "registrations.0.solutionDetails.0.isDeployedOnAzure",
    "registrations.0.solutionDetails.0.primaryDeploymentOn",
    "registrations.0.solutionDetails.0.pricingModel",
    "registrations.0.solutionDetails.0.marketplaceTransactionDetails.isMarketplaceTransacted",
    "registrations.0.solutionDetails.0.marketplaceTransactionDetails.marketplaceTransactionDateTime"};

}  // namespace

bool is_patchable_referral_path(std::string_view path) {
  return std::find(kPatchablePaths.begin(), kPatchablePaths.end(), path) != kPatchablePaths.end();
}

bool is_patchable_registration_path(std::string_view path) {
  return std::find(kRegistrationPaths.begin(), kRegistrationPaths.end(), path) != kRegistrationPaths.end();
}

bool is_terminal_referral(const nlohmann::json& referral) {
  return remote_json::string_or(referral, "status") == "Closed";
}

namespace {

// The referral state machine: New -> Active -> Closed, each status with its own substatuses.
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

std::optional<std::string> referral_contract_refusal(const nlohmann::json& referral,
                                                     const std::vector<FieldChange>& changes) {
  std::string status = remote_json::string_or(referral, "status");
  std::string substatus = remote_json::string_or(referral, "substatus");
  if (is_terminal_referral(referral))
    return "referral is Closed/" + (substatus.empty() ? "?" : substatus) + " (terminal): no write is sent";
  std::string new_status = status, new_substatus = substatus;
  for (const auto& c : changes) {
    if (!is_patchable_referral_path(c.path)) return "Partner Center does not accept a patch of " + c.path;
    if (c.value.is_null()) return "Partner Center does not accept null for " + c.path;
    if (c.path == "status") new_status = c.value.is_string() ? c.value.get<std::string>() : "";
    if (c.path == "substatus") new_substatus = c.value.is_string() ? c.value.get<std::string>() : "";
  }
  if (new_status == status && new_substatus == substatus) return std::nullopt;
  if (status_rank(new_status) < 0) return "unknown referral status " + new_status;
  if (status_rank(new_status) < status_rank(status))
    return "impossible transition " + status + " -> " + new_status + " (New -> Active -> Closed only)";
  if (!substatus_allowed(new_status, new_substatus))
    return "substatus " + new_substatus + " is not allowed with status " + new_status;
  return std::nullopt;
}

std::string quoted_remote_text(std::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

}  // namespace cosync::connectors
