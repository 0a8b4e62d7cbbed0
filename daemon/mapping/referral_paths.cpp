#include "daemon/mapping/referral_paths.hpp"

#include <algorithm>
#include <array>

#include "connectors/partner_center/referral_contract.hpp"

namespace cosync::mapping {
namespace {

// Every property of Microsoft.Partner.Service.PartnerReferrals.Contracts.V3.Referral in
// Microsoft's swagger for the Partner Center referrals API (partner-center-referrals.swagger.json,
// "Referral" definition), nested objects and array items flattened to dotted paths.
constexpr std::array kReferralPaths = {
    "campaignId",
    "consent",
    "consent.consentToContact",
    "consent.consentToToShareInfoWithOthers",
    "consent.consentToShareReferralWithMicrosoftSellers",
    "createdDateTime",
    "customerProfile",
    "customerProfile.address",
    "customerProfile.address.addressLine1",
    "customerProfile.address.addressLine2",
    "customerProfile.address.city",
    "customerProfile.address.country",
    "customerProfile.address.postalCode",
    "customerProfile.address.region",
    "customerProfile.address.state",
    "customerProfile.ids",
    "customerProfile.name",
    "customerProfile.size",
    "customerProfile.team",
    "customerProfile.team.contactPreference",
    "customerProfile.team.contactPreference.disableNotifications",
    "customerProfile.team.contactPreference.locale",
    "customerProfile.team.email",
    "customerProfile.team.firstName",
    "customerProfile.team.lastName",
    "customerProfile.team.phoneNumber",
    "details",
    "details.closingDateTime",
    "details.currency",
    "details.customerAction",
    "details.customerRequestedContact",
    "details.dealValue",
    "details.notes",
    "details.requirements",
    "details.requirements.industries",
    "details.requirements.industries.id",
    "details.requirements.products",
    "details.requirements.products.id",
    "details.requirements.services",
    "details.requirements.services.id",
    "details.requirements.solutions",
    "details.requirements.offers",
    "details.requirements.additionalRequirements",
    "eTag",
    "engagementId",
    "expirationDateTime",
    "externalReferenceId",
    "favorite",
    "id",
    "inviteContext",
    "inviteContext.assistanceRequestCode",
    "inviteContext.invitedBy",
    "inviteContext.invitedBy.organizationId",
    "inviteContext.invitedBy.organizationName",
    "inviteContext.notes",
    "lastModifiedVia",
    "lastRunId",
    "links",
    "links.relatedReferrals",
    "links.relatedReferrals.method",
    "links.relatedReferrals.uri",
    "links.self",
    "links.self.method",
    "links.self.uri",
    "name",
    "organizationId",
    "organizationName",
    "qualification",
    "referralProgram",
    "salesStage",
    "status",
    "statusReason",
    "substatus",
    "target",
    "target.id",
    "target.type",
    "team",
    "team.contactPreference",
    "team.contactPreference.disableNotifications",
    "team.contactPreference.locale",
    "team.email",
    "team.firstName",
    "team.lastName",
    "team.phoneNumber",
    "trackingInfo",
    "trackingInfo.microsoftMsxId",
    "type",
    "updatedDateTime",
    "mpnId",
    "registrations",
    "registrations.id",
    "registrations.registrationDateTime",
    "registrations.status",
    "registrations.statusReason",
    "registrations.contract",
    "registrations.contract.value",
    "registrations.contract.currency",
    "registrations.contract.startDateTime",
    "registrations.contract.endDateTime",
    "registrations.contract.signDateTime",
    "registrations.contract.term",
    "registrations.solutionDetails",
    "registrations.solutionDetails.id",
    "registrations.solutionDetails.name",
    "registrations.solutionDetails.value",
    "registrations.solutionDetails.isDeployedOnAzure",
    "registrations.solutionDetails.primaryDeploymentOn",
    "registrations.solutionDetails.pricingModel",
    "registrations.solutionDetails.marketplaceTransactionDetails",
    "registrations.solutionDetails.marketplaceTransactionDetails.isMarketplaceTransacted",
    "registrations.solutionDetails.marketplaceTransactionDetails.marketplaceTransactionDateTime",
    "registrations.statusHistory",
    "registrations.statusHistory.reviewPendingDateTime",
    "registrations.statusHistory.actionRequiredDateTime",
    "registrations.statusHistory.passedDateTime",
    "registrations.statusHistory.failedDateTime",
    "registrations.statusHistory.approvedDateTime",
    "registrationStatus",
    "callToAction",
    "referralSource",
    "quality",
    "isSpam",
    "direction",
    "tags",
    "tags.tag",
    "acceptedDateTime",
    "closedDateTime",
};

}  // namespace

bool is_known_referral_path(std::string_view path) {
  // The connector's computed classification fields are readable too (select on them).
  if (path == connectors::kKindField || path == connectors::kDirectionField) return true;
  return std::find(kReferralPaths.begin(), kReferralPaths.end(), path) != kReferralPaths.end();
}

bool is_crm_identifier(std::string_view name) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (name.empty() || name.size() > 255 || !letter(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return letter(c) || (c >= '0' && c <= '9'); });
}

std::string template_problem(std::string_view text) {
  for (std::size_t open = text.find('{'); open != std::string_view::npos; open = text.find('{', open + 1)) {
    std::size_t close = text.find('}', open);
    std::size_t next_open = text.find('{', open + 1);
    if (close == std::string_view::npos || next_open < close)
      return "unclosed '{' at position " + std::to_string(open + 1) + " (write {path} or {path|date})";
    std::string_view path = text.substr(open + 1, close - open - 1);
    if (path.ends_with("|date")) path.remove_suffix(5);
    if (!is_known_referral_path(path))
      return "{" + std::string(path) + "} is not a field of a Partner Center referral";
  }
  return "";
}

}  // namespace cosync::mapping
