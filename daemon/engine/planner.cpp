#include "daemon/engine/planner.hpp"

#include <algorithm>

#include "connectors/partner_center/referral_contract.hpp"
#include "daemon/engine/rule_merge_write.hpp"
#include "daemon/util/json_path.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"

namespace cosync::engine {

namespace net = boost::asio;
using connectors::FieldChange;
using connectors::RemoteRecord;

const char* to_string(Side side) { return side == Side::pc ? "pc" : "crm"; }

Planner::Planner(const mapping::Mapping& mapping, connectors::Connector& pc, connectors::Connector& crm,
                 const StateStore& store, const RuleSet& rules, const Clock& clock, Log log)
    : mapping_(mapping),
      pc_(pc),
      crm_(crm),
      store_(store),
      rules_(rules),
      clock_(clock),
      log_(std::move(log)),
      pc_spec_(mapping.pc_spec()),
      crm_spec_(mapping.crm_spec()) {}

std::vector<RuleAction> Planner::ask_rules(const RuleInput& input) const {
  std::vector<RuleAction> actions;
  for (const auto& rule : rules_)
    for (auto& a : rule->evaluate(input)) actions.push_back(std::move(a));
  return actions;
}

void Planner::annotate(RemoteRecord& referral) const {
  RuleInput input{Trigger::pulled, mapping_};
  input.pc = &referral.fields;
  input.now = clock_.now();
  input.pc_now = pc_now();
  for (const auto& a : ask_rules(input))
    if (a.kind == RuleAction::Kind::annotate)
      for (const auto& c : a.changes) referral.fields[c.path] = c.value;
}

bool Planner::acts_alone(const RemoteRecord& referral, const Link& link) const {
  WorkItem item;
  item.pc_id = referral.id;
  item.pc = referral;
  annotate(*item.pc);
  PlannedUpdate p = merge_item(item, link);
  apply_rules(p);
  plan_registration(p);
  return !p.pc_changes.empty() || !p.crm_changes.empty() || p.link_field_stale || !p.actions.empty() ||
         p.refused.has_value() || p.registration.has_value();
}

TimePoint Planner::pc_now() const { return pc_.remote_now().value_or(clock_.now()); }

RecordFailure Planner::contain(const std::string& side, const std::string& id, const std::string& what) const {
  // Last resort: handling one record threw (an input or a state nobody foresaw). It is
  // quarantined with the reason and the cycle goes on with the others.
  log_->error("mapping={} side={} record={} could not be processed: {}", mapping_.name, side, id, what);
  return {side, id, {FailureKind::rejected, "could not be processed: " + what, 0, ""}};
}

net::awaitable<CyclePlan> Planner::plan() {
  CyclePlan plan;
  // Named first: GCC 12 mishandles a temporary bound to a reference across co_await.
  std::string pc_cursor = store_.cursor(mapping_.name, "pc").value_or("");
  std::string crm_cursor = store_.cursor(mapping_.name, "crm").value_or("");
  auto pc_pull = co_await pc_.pull(pc_spec_, pc_cursor);
  Expected<connectors::PullResult> crm_pull = connectors::PullResult{};
  if (pc_pull) crm_pull = co_await crm_.pull(crm_spec_, crm_cursor);
  plan.pc_now = pc_now();
  if (!pull(plan, pc_pull, crm_pull)) co_return plan;

  for (auto& r : pc_pull->records) add_referral(r, plan);
  for (auto& r : crm_pull->records) add_crm_record(r, plan);
  add_due(plan, due_records(plan.pc_now));
  co_await plan_gathered(plan);
  co_return plan;
}

net::awaitable<void> Planner::plan_batch(PullBatch& batch, CyclePlan& plan) {
  add_malformed(to_string(batch.side), batch.malformed, plan);
  for (auto& r : batch.records) {
    if (batch.side == Side::pc) add_referral(r, plan);
    else add_crm_record(r, plan);
  }
  for (const auto& id : batch.read_crm)
    if (auto it = plan.items.find(id); it != plan.items.end()) it->second.read_crm = true;
  add_due(plan, batch.due);
  co_await plan_gathered(plan);
}

void Planner::add_crm_record(RemoteRecord& r, CyclePlan& plan) {
  try {
    pair_crm_record(r, plan);
  } catch (const std::exception& e) {
    plan.failures.push_back(contain("crm", r.id, e.what()));
  }
}

net::awaitable<void> Planner::plan_gathered(CyclePlan& plan) {
  for (auto& candidate : plan.share_candidates) {
    std::optional<std::string> error;
    try {
      co_await plan_share(candidate, plan);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (error) plan.failures.push_back(contain("crm", candidate.id, *error));
  }
  for (auto& [id, item] : plan.items) {
    std::optional<std::string> error;
    try {
      co_await plan_item(item, plan);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (error) {
      item.done = true;
      plan.failures.push_back(contain("pc", item.pc_id, *error));
    }
  }
}

void Planner::add_malformed(const char* side, const std::vector<connectors::MalformedRecord>& malformed,
                            CyclePlan& plan) const {
  for (const auto& bad : malformed)
    plan.failures.push_back({side, bad.id.empty() ? "(no id)" : bad.id, {FailureKind::rejected, "malformed: " + bad.reason, 0, ""}});
}

bool Planner::pull(CyclePlan& plan, Expected<connectors::PullResult>& pc, Expected<connectors::PullResult>& crm) {
  if (!pc || !crm) {
    const auto& failure = !pc ? pc.failure() : crm.failure();
    log_->error("mapping={} {} pull failed: {}", mapping_.name, !pc ? "Partner Center" : crm_.system(),
                failure.message);
    plan.pull_failed = true;
    return false;
  }
  plan.pulled_pc = pc->records.size();
  plan.pulled_crm = crm->records.size();
  plan.pc_cursor = pc->cursor;
  plan.crm_cursor = crm->cursor;
  add_malformed("pc", pc->malformed, plan);
  add_malformed("crm", crm->malformed, plan);
  return true;
}

void Planner::add_referral(RemoteRecord& r, CyclePlan& plan) {
  try {
    annotate(r);
    auto link = store_.link_by_pc(mapping_.name, r.id);
    if (link ? link->orphaned() : !mapping_.selects(r.fields, clock_.now())) return;  // an orphaned pair is never written
    auto& item = plan.items[r.id];
    item.pc_id = r.id;
    item.pc = std::move(r);
  } catch (const std::exception& e) {
    plan.failures.push_back(contain("pc", r.id, e.what()));
  }
}

void Planner::pair_crm_record(RemoteRecord& r, CyclePlan& plan) {
  if (r.deleted) {
    auto link = store_.link_by_crm(mapping_.name, r.id);
    if (link && link->orphaned()) return;
    log_->info("mapping={} {} {} was deleted in {}{}", mapping_.name, crm_spec_.object, r.id, crm_.system(),
               link ? " (linked to referral " + link->pc_id + ")" : "");
    if (link) plan_deletion(*link, r, plan);
    return;
  }
  std::string pc_id;
  if (auto link = store_.link_by_crm(mapping_.name, r.id)) {
    if (link->orphaned()) return;
    pc_id = link->pc_id;
    auto claimed = json_at(r.fields, mapping_.crm_link_field);
    if (claimed.is_string() && !claimed.get_ref<const std::string&>().empty() && claimed != pc_id) {
      log_->warn("mapping={} {} {} is linked to referral {} but its {} was changed to {}: restored (the link "
                 "table pairs them)", mapping_.name, crm_spec_.object, r.id, pc_id, mapping_.crm_link_field,
                 claimed.get<std::string>());
      plan.retyped[claimed.get<std::string>()] = r.id;
    }
  } else {
    auto ref = json_at(r.fields, mapping_.crm_link_field);
    if (!ref.is_string() || ref.get<std::string>().empty()) return consider_share(r, plan);
    pc_id = ref.get<std::string>();
    if (auto other = store_.link_by_pc(mapping_.name, pc_id); other && other->crm_id != r.id) {
      log_->warn("mapping={} {} {} claims referral {} which is linked to {}: left alone", mapping_.name,
                 crm_spec_.object, r.id, pc_id, other->crm_id);
      return;
    }
  }
  auto& item = plan.items[pc_id];
  item.pc_id = pc_id;
  item.crm = std::move(r);
}

void Planner::plan_deletion(const Link& link, const RemoteRecord& record, CyclePlan& plan) {
  RuleInput input{Trigger::crm_deleted, mapping_};
  input.crm = &record.fields;
  input.link = &link;
  input.now = clock_.now();
  input.pc_now = pc_now();
  PlannedDeletion d{link, {}, false, ""};
  for (auto& a : ask_rules(input)) {
    if (a.kind == RuleAction::Kind::write && a.side == Side::pc)
      for (auto& c : a.changes) d.pc_changes.push_back(std::move(c));
    if (a.kind == RuleAction::Kind::unlink) d.unlink = true;
    if (a.kind == RuleAction::Kind::write || a.kind == RuleAction::Kind::unlink) d.reason = a.reason;
  }
  if (d.pc_changes.empty() && !d.unlink) return;
  plan.items.erase(link.pc_id);
  plan.deletions.push_back(std::move(d));
}

std::vector<std::pair<std::string, std::string>> Planner::due_records(TimePoint pc_time) const {
  // Quarantined records whose retry time has come, and referrals a rule holds an action for
  // whose time has come, are read afresh from both sides.
  auto now = format_iso8601(clock_.now());
  std::vector<std::pair<std::string, std::string>> due;  // side, record id
  for (const auto& q : store_.due_quarantine(mapping_.name, now)) due.emplace_back(q.side, q.record_id);
  // Holds wait for times on the referral's own timestamps: Partner Center's clock says when.
  for (const auto& h : store_.due_holds(mapping_.name, format_iso8601(pc_time))) {
    // A quarantined referral comes back by the quarantine's backoff, not every cycle by its hold.
    if (store_.is_quarantined(mapping_.name, "pc", h.pc_id)) continue;
    if (auto link = store_.link_by_pc(mapping_.name, h.pc_id); link && !link->orphaned()) due.emplace_back("pc", h.pc_id);
  }
  return due;
}

void Planner::add_due(CyclePlan& plan, const std::vector<std::pair<std::string, std::string>>& due) {
  for (const auto& [side, id] : due) {
    try {
      std::string pc_id = id;
      if (side == "crm") {
        auto link = store_.link_by_crm(mapping_.name, id);
        if (!link) continue;  // an unlinked CRM record is retried when it changes
        pc_id = link->pc_id;
      }
      if (pc_id == "(no id)") continue;
      if (auto link = store_.link_by_pc(mapping_.name, pc_id); link && link->orphaned()) continue;
      bool deleted = std::any_of(plan.deletions.begin(), plan.deletions.end(),
                                 [&](const PlannedDeletion& d) { return d.link.pc_id == pc_id; });
      if (deleted) continue;
      auto& item = plan.items[pc_id];
      item.pc_id = pc_id;
      item.reread = true;
    } catch (const std::exception& e) {
      plan.failures.push_back(contain(side, id, e.what()));
    }
  }
}

net::awaitable<std::optional<RecordFailure>> Planner::read_side(WorkItem& item, Side side, const std::string& id) {
  connectors::Connector& connector = side == Side::crm ? crm_ : pc_;
  auto record = co_await connector.get(side == Side::crm ? crm_spec_ : pc_spec_, id);
  if (!record) {
    item.done = true;
    co_return RecordFailure{to_string(side), id, record.failure()};
  }
  if (side == Side::pc) annotate(*record);
  (side == Side::crm ? item.crm : item.pc) = std::move(*record);
  co_return std::nullopt;
}

net::awaitable<void> Planner::plan_item(WorkItem& item, CyclePlan& plan) {
  // Awaited values are named before they are tested: GCC 12 miscompiles co_await inside an
  // expression (seen as SIGILL and SIGSEGV).
  if (item.reread) {
    auto failed = co_await read_side(item, Side::pc, item.pc_id);
    if (!failed)
      if (auto link = store_.link_by_pc(mapping_.name, item.pc_id)) failed = co_await read_side(item, Side::crm, link->crm_id);
    if (failed) co_return plan.failures.push_back(std::move(*failed));
  } else if (item.read_crm && !item.crm) {
    if (auto link = store_.link_by_pc(mapping_.name, item.pc_id); link && !link->orphaned()) {
      auto failed = co_await read_side(item, Side::crm, link->crm_id);
      if (failed) co_return plan.failures.push_back(std::move(*failed));
    }
  }
  if (store_.link_by_pc(mapping_.name, item.pc_id)) {
    auto planned = co_await plan_update(item);
    if (planned.failure) plan.failures.push_back(std::move(*planned.failure));
    if (planned.update) plan.updates.push_back(std::move(*planned.update));
    co_return;
  }
  if (!item.pc) {
    auto failed = co_await read_side(item, Side::pc, item.pc_id);
    if (failed) co_return plan.failures.push_back(std::move(*failed));
  }
  if (!mapping_.selects(item.pc->fields, clock_.now()) || store_.is_tombstoned(mapping_.name, item.pc_id) ||
      is_own_share(*item.pc)) {
    item.done = true;
    co_return;
  }
  // A CRM record already claims this referral (a create whose link a crash lost, or a record a
  // person tied to it): link it instead of writing the create over it. The merge then settles
  // each field by its owner, so an edit made since is not lost.
  if (item.crm && !item.crm->deleted) co_return plan.links.push_back({&item});
  if (auto retyped = plan.retyped.find(item.pc_id); retyped != plan.retyped.end()) {
    item.done = true;
    co_return plan.failures.push_back(
        {"pc", item.pc_id,
         {FailureKind::transient,
          crm_spec_.object + " " + retyped->second + " (linked to another referral) holds this referral's id in " +
              mapping_.crm_link_field + "; it is restored first, and this referral's record is created next cycle",
          0, ""}});
  }
  plan.creates.push_back(plan_create(item));
}

PlannedCreate Planner::plan_create(WorkItem& item) const {
  PlannedCreate c{&item, {}, nlohmann::json::object()};
  for (const auto& f : mapping_.fields) {
    auto value = mapping_.canonical_from_pc(f, item.pc->fields);
    if (!value || !f.flows_to_crm()) continue;
    c.intent[f.name] = *value;
    if (auto cut = crm_cut_note(mapping_, f, *value))
      log_->warn("mapping={} referral={} {} (create)", mapping_.name, item.pc_id, *cut);
  }
  c.request = mapping_.crm_create_request(item.pc->fields);
  c.request.external_id = item.pc_id;
  return c;
}

PlannedUpdate Planner::merge_item(WorkItem& item, Link link) const {
  // A write the last run sent but never confirmed: if the value is there, it landed, and it is
  // cosync's own value, not an edit. Either way the intent is settled now.
  for (auto& entry : link.pending.items()) {
    const std::string& field = entry.key();  // not a structured binding: clang 14 cannot capture those
    const auto& intent = entry.value();
    auto rule = std::find_if(mapping_.fields.begin(), mapping_.fields.end(), [&](const auto& f) { return f.name == field; });
    if (rule == mapping_.fields.end()) continue;
    bool to_crm = remote_json::string_or(intent, "side") == "crm";
    std::optional<nlohmann::json> now;
    if (to_crm && item.crm) now = mapping_.canonical_from_crm(*rule, item.crm->fields);
    if (!to_crm && item.pc) now = mapping_.canonical_from_pc(*rule, item.pc->fields);
    if (now && intent.contains("value") && *now == intent["value"]) link.shadow[field] = intent["value"];
  }
  link.pending = nlohmann::json::object();

  SideState pc_side{item.pc ? &item.pc->fields : nullptr, item.pc ? item.pc->modified : TimePoint{}};
  SideState crm_side{item.crm ? &item.crm->fields : nullptr, item.crm ? item.crm->modified : TimePoint{}};
  PlannedUpdate p;
  p.item = &item;
  p.merge = merge(mapping_, pc_side, crm_side, link.shadow);
  for (const auto& w : p.merge.to_pc)
    for (auto& c : mapping_.pc_changes(*w.rule, w.value)) p.pc_changes.push_back(std::move(c));
  for (const auto& w : p.merge.to_crm)
    for (auto& c : mapping_.crm_changes(*w.rule, w.value)) p.crm_changes.push_back(std::move(c));
  // The referral carries the CRM id, so that sellers in Partner Center see the pairing. A closed
  // referral takes no write: the link table alone pairs them (the CRM record carries the referral
  // id), so that is no failure to quarantine.
  p.link_field_stale = item.pc && !mapping_.pc_link_field.empty() &&
                       !connectors::is_terminal_referral(item.pc->fields) &&
                       json_at(item.pc->fields, mapping_.pc_link_field) != link.crm_id;
  if (p.link_field_stale) p.pc_changes.push_back({mapping_.pc_link_field, link.crm_id});
  // The CRM record carries the referral id (its external id): a retyped one is restored, since the
  // link table pairs them and the other referral's create (an upsert on that field) would land on it.
  p.crm_link_field_stale = item.crm && !item.crm->deleted &&
                           json_at(item.crm->fields, mapping_.crm_link_field) != link.pc_id;
  if (p.crm_link_field_stale) p.crm_changes.push_back({mapping_.crm_link_field, link.pc_id});
  p.shadow = link.shadow;
  for (auto& [k, v] : p.merge.agreed.items()) p.shadow[k] = v;
  p.link = std::move(link);
  return p;
}

void Planner::apply_rules(PlannedUpdate& p) const {
  auto held = store_.holds(mapping_.name, p.item->pc_id);
  RuleInput input{Trigger::paired, mapping_};
  input.pc = p.item->pc ? &p.item->pc->fields : nullptr;
  input.crm = p.item->crm ? &p.item->crm->fields : nullptr;
  input.link = &p.link;
  input.held = &held;
  input.pc_writes = &p.pc_changes;
  input.crm_writes = &p.crm_changes;
  input.now = clock_.now();
  input.pc_now = pc_now();
  // One rule at a time: each sees the writes the earlier ones added (the guard comes last).
  for (const auto& rule : rules_) {
    for (auto& a : rule->evaluate(input)) apply_rule_action(p, rule->name(), std::move(a));
  }
  if (p.refused) p.pc_changes.clear();
}

void Planner::apply_rule_action(PlannedUpdate& p, const char* rule, RuleAction a) const {
  auto& changes = a.side == Side::pc ? p.pc_changes : p.crm_changes;
  if (a.kind == RuleAction::Kind::write) {
    // A mapped field belongs to the merge: its shadow must hold what was written, so a rule's
    // value for it becomes a merge write (listed, audited and shadowed as one).
    if (auto ignored = merge_rule_write(mapping_, p, a, rule)) {
      log_->error("mapping={} referral={} rule {} write ignored: {}", mapping_.name, p.item->pc_id, rule, *ignored);
      return;
    }
    if (a.changes.empty()) return;
    for (const auto& c : a.changes) changes.push_back(c);
    p.actions.push_back(std::move(a));  // listed by `plan`, audited when sent
  } else if (a.kind == RuleAction::Kind::refuse && a.side == Side::pc) {
    p.refused = a.reason;
  } else if (a.kind == RuleAction::Kind::hold || a.kind == RuleAction::Kind::event) {
    if (a.kind == RuleAction::Kind::hold) withhold(p, a);
    p.actions.push_back(std::move(a));
  } else {
    log_->error("mapping={} referral={} rule {} answered an action a merged pair cannot take: ignored",
                mapping_.name, p.item->pc_id, rule);
  }
}

void Planner::withhold(PlannedUpdate& p, const RuleAction& hold) const {
  // The merge's writes of those fields leave the plan unsent: their shadows keep the value both
  // sides agreed on, so the CRM's edit is no PC edit to revert, and the merge plans it again.
  auto withheld = [&](const std::string& path) {
    return std::any_of(hold.changes.begin(), hold.changes.end(), [&](const FieldChange& c) { return c.path == path; });
  };
  auto& changes = hold.side == Side::pc ? p.pc_changes : p.crm_changes;
  std::erase_if(changes, [&](const FieldChange& c) { return withheld(c.path); });
  auto& writes = hold.side == Side::pc ? p.merge.to_pc : p.merge.to_crm;
  std::erase_if(writes, [&](const auto& w) {
    if (hold.side == Side::crm) return withheld(w.rule->crm_field);
    return std::any_of(w.rule->pc_paths.begin(), w.rule->pc_paths.end(), withheld);
  });
}

bool Planner::writes_mapped_field(Side side, const std::string& path) const {
  for (const auto& f : mapping_.fields) {
    if (side == Side::crm && f.crm_field == path) return true;
    if (side == Side::pc && std::find(f.pc_paths.begin(), f.pc_paths.end(), path) != f.pc_paths.end()) return true;
  }
  return false;
}

net::awaitable<ItemPlan> Planner::plan_update(WorkItem& item) {
  // At most one read per side before the plan is final.
  for (int reads = 0; reads < 3; ++reads) {
    auto link = store_.link_by_pc(mapping_.name, item.pc_id);
    if (!link || link->orphaned()) {
      item.done = true;
      co_return ItemPlan{};
    }
    PlannedUpdate p = merge_item(item, std::move(*link));
    apply_rules(p);
    // A side that must be written but was not pulled is read first, then merged again. So is a
    // side the rules did not see when they hold something for the pair: they decide on both.
    bool held = !store_.holds(mapping_.name, item.pc_id).empty();
    bool read_pc = (!p.pc_changes.empty() || p.refused || held || registration_needs_pc(item)) && !item.pc;
    bool read_crm = !p.crm_changes.empty() || held || registration_needs_crm(item);
    if (read_pc || (read_crm && !item.crm)) {
      Side side = read_pc ? Side::pc : Side::crm;
      std::string id = read_pc ? item.pc_id : p.link.crm_id;
      auto failed = co_await read_side(item, side, id);
      if (failed) co_return ItemPlan{std::nullopt, std::move(*failed)};
      continue;
    }
    for (const auto& u : p.merge.notes) log_->warn("mapping={} referral={} {}", mapping_.name, item.pc_id, u);
    plan_registration(p);
    co_return ItemPlan{std::move(p), std::nullopt};
  }
  co_return ItemPlan{};  // not reached: each side is read at most once
}

}  // namespace cosync::engine
