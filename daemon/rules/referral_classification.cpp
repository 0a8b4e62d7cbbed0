#include "daemon/rules/referral_classification.hpp"

#include "daemon/util/json_path.hpp"

namespace cosync::rules {
namespace {

std::string text_at(const nlohmann::json& j, std::string_view path) {
  auto v = json_at(j, path);
  return v.is_string() ? v.get<std::string>() : std::string();
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

std::vector<engine::RuleAction> ReferralClassification::evaluate(const engine::RuleInput& input) const {
  if (input.trigger != engine::Trigger::pulled || !input.pc) return {};
  auto c = classify_referral(*input.pc);
  engine::RuleAction a;
  a.kind = engine::RuleAction::Kind::annotate;
  a.changes = {{connectors::kKindField, c.kind}, {connectors::kDirectionField, c.direction}};
  return {a};
}

}  // namespace cosync::rules
