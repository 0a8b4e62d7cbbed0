// Deal registration, the planner's half: a linked referral Closed/Won in Partner Center whose CRM
// opportunity the mapping's `registration.when` selects is registered once (`add /registrations/-`);
// a registration already there is linked, never added again; while its review still takes changes
// (review pending, action required) CRM edits of its fields become `replace /registrations/0/...`.
// Partner Center: https://learn.microsoft.com/en-us/partner/develop/update-a-referral (the
// registration PATCH forms) and the DealRegistration / UpdateDealRegistration contract.
#include "daemon/engine/planner.hpp"
#include "daemon/mapping/registration_rule.hpp"
#include "daemon/util/remote_json.hpp"

namespace cosync::engine {

namespace {
constexpr const char* kPendingSide = "registration";  // the pending row's side in the state DB

// A review change the merge mirrors to the CRM this cycle is worth an event of its own.
void status_event(PlannedUpdate& p) {
  for (const auto& w : p.merge.to_crm) {
    const std::string& name = w.rule->name;
    if (name != "registration.status" && name != "registration.registrationStatus") continue;
    RuleAction event;
    event.kind = RuleAction::Kind::event;
    event.side = Side::crm;
    event.key = "registration_status_changed";
    event.reason = "deal registration " + name.substr(13) + " is now " + w.value.dump();
    p.actions.push_back(std::move(event));
    return;
  }
}
}  // namespace

bool Planner::registration_needs_crm(const WorkItem& item) const {
  if (!mapping_.registration || !item.pc || !mapping::referral_closed_won(item.pc->fields)) return false;
  const auto& regs = remote_json::array_at(item.pc->fields, "registrations");
  return regs.empty() || mapping::registration_editable(regs[0]) ||
         store_.pending_create(mapping_.name, kPendingSide, item.pc_id).has_value();
}

bool Planner::registration_needs_pc(const WorkItem& item) const {
  // An eligible opportunity's edit may change a registration still in review.
  return mapping_.registration && item.crm && !item.crm->deleted &&
         mapping_.registration->selects(item.crm->fields, clock_.now());
}

void Planner::plan_registration(PlannedUpdate& p) const {
  status_event(p);
  if (!mapping_.registration || !p.item->pc || !p.item->crm || p.item->crm->deleted) return;
  const auto& rule = *mapping_.registration;
  const auto& referral = p.item->pc->fields;
  if (!mapping::referral_closed_won(referral)) return;
  const auto& regs = remote_json::array_at(referral, "registrations");
  bool pending = store_.pending_create(mapping_.name, kPendingSide, p.item->pc_id).has_value();
  if (!regs.empty()) {
    if (pending) {  // sent before a crash lost the answer: Partner Center has it, so link it
      p.registration = PlannedRegistration{PlannedRegistration::Kind::link, nullptr, {},
                                           "deal registration found again after an interrupted submission"};
      return;
    }
    if (!mapping::registration_editable(regs[0])) return;  // approved or rejected: never changed again
    PlannedRegistration r{PlannedRegistration::Kind::replace, nullptr, {}, "CRM values of the registration changed"};
    for (auto& [path, value] : rule.changes(p.item->crm->fields, regs[0])) r.changes.push_back({path, value});
    if (!r.changes.empty()) p.registration = std::move(r);
    return;
  }
  if (!pending && !rule.selects(p.item->crm->fields, clock_.now())) return;
  p.registration = PlannedRegistration{PlannedRegistration::Kind::add, rule.registration(p.item->crm->fields), {},
                                       "referral is Closed/Won and the opportunity is eligible (" +
                                           (rule.when.always_true() ? std::string("always") : rule.when.describe()) + ")"};
}

}  // namespace cosync::engine
