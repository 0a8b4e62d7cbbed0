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

std::optional<std::string> referral_contract_refusal(const nlohmann::json& referral,
                                                     const std::vector<FieldChange>& changes) {
  if (is_terminal_referral(referral)) {
    std::string substatus = remote_json::string_or(referral, "substatus");
    return "referral is Closed/" + (substatus.empty() ? "?" : substatus) + " (terminal): no write is sent";
  }
  for (const auto& c : changes) {
    if (!is_patchable_referral_path(c.path)) return "Partner Center does not accept a patch of " + c.path;
    if (c.value.is_null()) return "Partner Center does not accept null for " + c.path;
  }
  return std::nullopt;
}

std::string quoted_remote_text(std::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

}  // namespace cosync::connectors
