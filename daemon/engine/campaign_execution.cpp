// `campaign:` (Salesforce): each lead cosync creates joins the mapping's campaign through a
// CampaignMember, before its link commits. A lead whose membership fails stays unlinked with its
// pending create, so the next cycle finds it by the referral id, joins it again (an existing
// membership counts as done: never a second member) and links it: the lead is neither lost nor
// duplicated.
#include "daemon/engine/executor.hpp"

#include "daemon/mapping/lead_rules.hpp"

namespace cosync::engine {

namespace net = boost::asio;

net::awaitable<std::vector<bool>> Executor::join_campaign(const std::vector<NewLead>& leads, CycleStats& stats) {
  std::vector<bool> joined(leads.size(), true);
  if (!mapping_.leads || mapping_.leads->campaign.empty() || leads.empty()) co_return joined;
  const std::string campaign = mapping_.leads->campaign;
  std::vector<std::string> lead_ids;
  for (const auto& lead : leads) lead_ids.push_back(lead.crm_id);
  auto results = co_await crm_.add_campaign_members(campaign, lead_ids);
  for (std::size_t k = 0; k < leads.size(); ++k) {
    if (k < results.size() && !results[k]) continue;
    WorkItem& item = *leads[k].item;
    Failure f = k < results.size() ? *results[k] : Failure{FailureKind::transient, "no result", 0, ""};
    log_->warn("mapping={} {} {} of referral {} not added to campaign {} (linked once it is): {}", mapping_.name,
               mapping_.crm_object, leads[k].crm_id, item.pc_id, campaign, f.message);
    journal_.fail({"pc", item.pc_id, std::move(f)}, stats);
    item.done = true;
    joined[k] = false;
  }
  co_return joined;
}

net::awaitable<void> Executor::join_campaign_before_link(std::vector<PlannedLink>& links, CycleStats& stats) {
  if (!mapping_.leads || mapping_.leads->campaign.empty()) co_return;
  // Only cosync's own creates (a pending create row): a lead someone else made is not ours to enrol.
  std::vector<NewLead> ours;
  for (auto& l : links)
    if (l.item->crm && store_.pending_create(mapping_.name, "crm", l.item->pc_id)) ours.push_back({l.item, l.item->crm->id});
  co_await join_campaign(ours, stats);
}

}  // namespace cosync::engine
