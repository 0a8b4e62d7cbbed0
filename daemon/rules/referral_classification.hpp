#pragma once
// Microsoft's three kinds of referral (README "Referral classification"), computed for every
// referral read so that mappings can select on them: `_kind` and `_direction` (their names are
// part of connectors/partner_center/referral_contract.hpp), never written back.
#include <string>

#include <nlohmann/json.hpp>

#include "connectors/partner_center/referral_contract.hpp"
#include "daemon/engine/rule.hpp"

namespace cosync::rules {

struct ReferralClass {
  std::string kind;       // "marketplace_lead", "qualified_lead" or "co_sell_opportunity"
  std::string direction;  // "incoming" or "outgoing"
};
ReferralClass classify_referral(const nlohmann::json& referral);

// Annotates each referral read with its class.
class ReferralClassification final : public engine::Rule {
 public:
  const char* name() const override { return "referral_classification"; }
  std::vector<engine::RuleAction> evaluate(const engine::RuleInput& input) const override;
};

}  // namespace cosync::rules
