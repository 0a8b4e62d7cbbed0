#include "daemon/rules/share_deal_type.hpp"

#include <algorithm>
#include <chrono>

#include "connectors/partner_center/referral_contract.hpp"
#include "daemon/rules/held_actions.hpp"
#include "daemon/util/remote_json.hpp"

namespace cosync::rules {

using engine::RuleAction;
using mapping::DealType;

namespace {
constexpr const char* kDowngradeRefused = "share_downgrade_refused";
constexpr const char* kHelpAfterShare = "share_help_not_sent";
// Never due: the hold only remembers that the refusal was said, while the CRM keeps saying it.
constexpr auto kRemembered = std::chrono::hours(24 * 365 * 100);

// Said once: the event when the hold is new, the hold each time so that it lasts.
void say_once(const engine::RuleInput& input, const char* key, const std::string& reason, std::vector<RuleAction>& out) {
  if (!find_held(input, key)) out.push_back({RuleAction::Kind::event, engine::Side::pc, {}, key, {}, reason});
  out.push_back(hold_until(key, input.now + kRemembered, reason));
}
}  // namespace

std::vector<RuleAction> ShareDealType::evaluate(const engine::RuleInput& input) const {
  const auto& share = input.mapping.share;
  if (input.trigger != engine::Trigger::paired || !share || !input.crm || !input.link) return {};
  DealType wanted = share->deal_type(*input.crm);
  std::vector<RuleAction> out;
  RuleAction consent{RuleAction::Kind::write, engine::Side::pc,
                     {{"consent.consentToShareReferralWithMicrosoftSellers", true}}, "share_upgrade", {},
                     "upgraded to a " + std::string(mapping::to_string(wanted)) + " deal in the CRM"};
  if (!input.pc) {
    // The referral was not read this cycle: asking for the write makes the planner read it and
    // ask again; with the referral in hand the write stays only if it is needed.
    if (wanted != DealType::private_deal) out.push_back(std::move(consent));
    return out;
  }
  if (remote_json::string_or(*input.pc, connectors::kDirectionField) == "incoming" ||
      connectors::is_terminal_referral(*input.pc))
    return out;
  DealType shared = mapping::deal_type_of_referral(*input.pc);
  // An inbound co-sell referral's deal type is Microsoft's: only outgoing ones are the partner's.
  if (wanted < shared) {
    say_once(input, kDowngradeRefused,
             std::string("the CRM says ") + mapping::to_string(wanted) + " but the referral was shared as " +
                 mapping::to_string(shared) + ": consent to share with Microsoft cannot be withdrawn, not sent",
             out);
    return out;
  }
  if (wanted > shared && shared == DealType::private_deal) out.push_back(std::move(consent));
  if (wanted == DealType::co_sell && shared != DealType::co_sell)
    say_once(input, kHelpAfterShare,
             "upgraded to co-sell in the CRM: Partner Center takes a request for help only when the referral is "
             "created (its PATCH has no inviteContext); ask for help in Partner Center",
             out);
  return out;
}

}  // namespace cosync::rules
