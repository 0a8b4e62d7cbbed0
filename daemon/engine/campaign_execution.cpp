// `campaign:` (Salesforce): each lead cosync creates joins the mapping's campaign through a
// CampaignMember, before its link commits (a retry after a crash that lost the link joins again:
// an existing membership counts as done, never a second member). A lead whose membership the org
// refuses (no Marketing User permission, a wrong campaign id, a validation rule) is linked and
// synced all the same, the refusal logged as an error with the lead, referral and campaign ids:
// held back unlinked, a retry would upsert the whole create over the seller's edits.
#include "daemon/engine/executor.hpp"

#include "daemon/mapping/lead_rules.hpp"

namespace cosync::engine {

namespace net = boost::asio;

net::awaitable<void> Executor::join_campaign(const std::vector<NewLead>& leads) {
  if (!mapping_.leads || mapping_.leads->campaign.empty() || leads.empty()) co_return;
  const std::string campaign = mapping_.leads->campaign;
  std::vector<std::string> lead_ids;
  for (const auto& lead : leads) lead_ids.push_back(lead.crm_id);
  auto results = co_await crm_.add_campaign_members(campaign, lead_ids);
  for (std::size_t k = 0; k < leads.size(); ++k) {
    if (k < results.size() && !results[k]) continue;
    Failure f = k < results.size() ? *results[k] : Failure{FailureKind::transient, "no result", 0, ""};
    log_->error("mapping={} {} {} of referral {} could not join campaign {} (linked and synced without it; add it "
                "to the campaign by hand): {}",
                mapping_.name, mapping_.crm_object, leads[k].crm_id, leads[k].item->pc_id, campaign, f.message);
  }
}

net::awaitable<void> Executor::join_campaign_before_link(std::vector<PlannedLink>& links) {
  if (!mapping_.leads || mapping_.leads->campaign.empty()) co_return;
  // Only cosync's own creates (a pending create row): a lead someone else made is not ours to enrol.
  std::vector<NewLead> ours;
  for (auto& l : links)
    if (l.item->crm && store_.pending_create(mapping_.name, "crm", l.item->pc_id)) ours.push_back({l.item, l.item->crm->id});
  co_await join_campaign(ours);
}

}  // namespace cosync::engine
