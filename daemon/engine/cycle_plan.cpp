#include "daemon/engine/cycle_plan.hpp"

#include "daemon/engine/event_payload.hpp"
#include "daemon/mapping/lead_rules.hpp"
#include "daemon/util/json_path.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"

namespace cosync::engine {
namespace {

const char* failure_action(const RecordFailure& f) {
  if (f.failure.kind == FailureKind::not_found) return "orphan link or quarantine";
  if (f.failure.kind == FailureKind::rejected) return "quarantine";
  return "retry next cycle";
}

void describe_update(const PlannedUpdate& p, const mapping::Mapping& m, std::vector<PlannedChange>& out) {
  const WorkItem& item = *p.item;
  auto add = [&](const char* action, const std::string& field, nlohmann::json old_value, nlohmann::json new_value,
                 const std::string& reason) {
    out.push_back({m.name, item.pc_id, p.link.crm_id, action, field, std::move(old_value), std::move(new_value), reason});
  };
  auto base = [&](const mapping::FieldRule* r) { return remote_json::member(p.link.shadow, r->name); };
  for (const auto& w : p.merge.to_crm)
    add("update CRM", w.rule->name, item.crm ? m.canonical_from_crm(*w.rule, item.crm->fields).value_or(nullptr) : base(w.rule),
        w.value, w.reason);
  if (!p.refused)
    for (const auto& w : p.merge.to_pc)
      add("update Partner Center", w.rule->name,
          item.pc ? m.canonical_from_pc(*w.rule, item.pc->fields).value_or(nullptr) : base(w.rule), w.value, w.reason);
  if (p.link_field_stale && !p.refused)
    add("update Partner Center", m.pc_link_field, json_at(item.pc->fields, m.pc_link_field), p.link.crm_id, "link field");
  if (p.crm_link_field_stale)
    add("update CRM", m.crm_link_field, json_at(item.crm->fields, m.crm_link_field), p.link.pc_id, "link field");
  if (p.refused) add("quarantine", "(record)", nullptr, nullptr, *p.refused);
  if (const auto& r = p.registration) {  // registration_planning.cpp
    if (r->kind == PlannedRegistration::Kind::add) add("register deal", "registrations", nullptr, r->body, r->reason);
    if (r->kind == PlannedRegistration::Kind::link) add("link registration", "registrations", nullptr, nullptr, r->reason);
    for (const auto& c : r->changes)
      add("update registration", c.path, item.pc ? json_at(item.pc->fields, c.path) : nlohmann::json(), c.value, r->reason);
  }
  for (const auto& a : p.actions) {
    const auto* record = a.side == Side::pc ? (item.pc ? &item.pc->fields : nullptr) : (item.crm ? &item.crm->fields : nullptr);
    if (a.kind == RuleAction::Kind::write)
      for (const auto& c : a.changes)
        add(a.side == Side::pc ? "update Partner Center" : "update CRM", c.path,
            record ? json_at(*record, c.path) : nlohmann::json(), c.value, a.reason);
    if (a.kind == RuleAction::Kind::hold) add("hold", a.key, nullptr, format_iso8601(a.until), a.reason);
    if (a.kind == RuleAction::Kind::event) {
      add("event", a.key, nullptr, nullptr, a.reason);
      out.back().event = event_payload({m.name, "", m.crm_object, item.pc_id, p.link.crm_id}, a.key, a.reason, "",
                                       item.pc ? item.pc->fields : nlohmann::json::object(),
                                       item.crm ? item.crm->fields : nlohmann::json::object());
    }
  }
}

// What the acceptance policy does once the new record exists (in the same cycle).
void describe_lead_policy(const PlannedCreate& c, const mapping::Mapping& m, TimePoint pc_now,
                          std::vector<PlannedChange>& out) {
  if (!m.leads) return;
  auto decision = mapping::decide_lead(*m.leads, c.item->pc->fields, nullptr, pc_now);
  for (const auto& change : decision.changes)
    out.push_back({m.name, c.item->pc_id, "", "update Partner Center", change.path, json_at(c.item->pc->fields, change.path),
                   change.value, decision.reason});
}

}  // namespace

std::vector<PlannedChange> describe(const CyclePlan& plan, const mapping::Mapping& m) {
  std::vector<PlannedChange> out;
  for (const auto& f : plan.failures)
    out.push_back({m.name, f.side == "pc" ? f.id : "", f.side == "crm" ? f.id : "", failure_action(f), "(record)",
                   nullptr, nullptr, f.failure.message});
  for (const auto& d : plan.deletions)
    out.push_back({m.name, d.link.pc_id, d.link.crm_id, d.pc_changes.empty() ? "unlink" : "close referral as Lost",
                   "(record)", d.link.crm_id, nullptr, d.reason});
  for (const auto& l : plan.links)
    out.push_back({m.name, l.item->pc_id, l.item->crm->id, "link existing CRM record", "(record)", nullptr,
                   l.item->crm->id, m.crm_object + " already holds the referral id"});
  for (const auto& c : plan.creates) {
    for (const auto& f : m.crm_create_preview(c.request))
      out.push_back({m.name, c.item->pc_id, "", "create in CRM", f.path, nullptr, f.value,
                     "new referral selected by the mapping"});
    if (!m.pc_link_field.empty())
      out.push_back({m.name, c.item->pc_id, "", "update Partner Center", m.pc_link_field,
                     json_at(c.item->pc->fields, m.pc_link_field), "(id of the new CRM record)",
                     "link the referral to the new record"});
    describe_lead_policy(c, m, plan.pc_now, out);
  }
  for (const auto& s : plan.shares) {
    std::string reason = s.held ? *s.held
                                : std::string("selected by share.when, as a ") + mapping::to_string(s.deal_type) + " deal";
    if (s.held) {
      out.push_back({m.name, "", s.crm.id, "share held", "(record)", nullptr, nullptr, reason});
      continue;
    }
    for (const auto& [field, value] : s.referral.items())
      out.push_back({m.name, "", s.crm.id, "share to Partner Center", field, nullptr, value, reason});
    out.push_back({m.name, "", s.crm.id, "update CRM", m.crm_link_field, json_at(s.crm.fields, m.crm_link_field),
                   "(id of the new referral)", "link the record to its referral"});
  }
  for (const auto& p : plan.updates) describe_update(p, m, out);
  return out;
}

CycleStats planned_stats(const CyclePlan& plan) {
  CycleStats s;
  s.pulled_pc = plan.pulled_pc;
  s.pulled_crm = plan.pulled_crm;
  s.pull_failed = plan.pull_failed;
  s.created = plan.creates.size();
  for (const auto& share : plan.shares) s.shared += share.held ? 0 : 1;
  for (const auto& f : plan.failures) {
    if (f.failure.kind == FailureKind::rejected) ++s.quarantined;
    else if (f.failure.kind == FailureKind::not_found) ++s.orphaned;
    else ++s.failed;
  }
  for (const auto& p : plan.updates) {
    s.updated_crm += p.crm_changes.empty() ? 0 : 1;
    s.updated_pc += p.pc_changes.empty() ? 0 : 1;
    s.quarantined += p.refused ? 1 : 0;
    s.conflicts += p.merge.conflicts.size();
  }
  for (const auto& d : plan.deletions) s.updated_pc += d.pc_changes.empty() ? 0 : 1;
  return s;
}

}  // namespace cosync::engine
