// Co-sell sharing, the planner's half: which unlinked CRM records become referrals this cycle.
#include "daemon/engine/planner.hpp"
#include "daemon/util/remote_json.hpp"

namespace cosync::engine {

namespace net = boost::asio;
using connectors::RemoteRecord;

void Planner::consider_share(RemoteRecord& record, CyclePlan& plan) const {
  if (!mapping_.share) return;
  // A share sent before whose link a crash lost is finished whatever the record says now.
  bool resumed = store_.pending_create(mapping_.name, "pc", record.id).has_value();
  if (!resumed && !mapping_.share->selects(record.fields, clock_.now())) return;
  plan.share_candidates.push_back(std::move(record));
}

bool Planner::is_own_share(const RemoteRecord& referral) const {
  // A referral cosync shared but has not linked yet (its answer was lost): the share finds and
  // links it; creating a CRM record from it would duplicate the opportunity it came from.
  if (!mapping_.share) return false;
  auto crm_id = remote_json::string_or(referral.fields, mapping_.pc_link_field);
  return !crm_id.empty() && store_.pending_create(mapping_.name, "pc", crm_id).has_value();
}

net::awaitable<void> Planner::plan_share(RemoteRecord& candidate, CyclePlan& plan) {
  const auto& share = *mapping_.share;
  // Read afresh with the fields of related records the body needs (Account.Name, the contact).
  const auto spec = mapping_.crm_share_spec();
  auto fresh = co_await crm_.get(spec, candidate.id);
  if (!fresh) co_return plan.failures.push_back({"crm", candidate.id, fresh.failure()});
  PlannedShare s;
  s.resumed = store_.pending_create(mapping_.name, "pc", candidate.id).has_value();
  if (!s.resumed && !share.selects(fresh->fields, clock_.now())) co_return;
  s.crm = std::move(*fresh);
  s.deal_type = share.deal_type(s.crm.fields);
  s.referral = mapping_.pc_share_body(s.crm.fields, s.crm.id);
  if (auto problem = mapping::share_problem(s.referral); !problem.empty())
    co_return plan.failures.push_back({"crm", s.crm.id, {FailureKind::rejected, problem, 0, ""}});
  if (share.require_consent && !s.resumed && !share.has_consent(s.crm.fields))
    s.held = "waiting for the customer's consent (" + share.consent_field + " is not true): shared once it is";
  plan.shares.push_back(std::move(s));
}

}  // namespace cosync::engine
