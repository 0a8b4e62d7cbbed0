#include "daemon/engine/executor.hpp"

#include <set>

#include "connectors/partner_center/referral_contract.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"

namespace cosync::engine {

namespace net = boost::asio;
using connectors::FieldChange;
using connectors::RemoteRecord;

// Re-read and re-merge at most this many times when a precondition fails (someone keeps editing).
constexpr int kMaxMergeAttempts = 4;

Executor::Executor(Planner& planner, connectors::Connector& pc, connectors::Connector& crm, StateStore& store,
                   Journal& journal, const Clock& clock, Log log)
    : planner_(planner),
      mapping_(planner.mapping()),
      pc_(pc),
      crm_(crm),
      store_(store),
      journal_(journal),
      clock_(clock),
      log_(std::move(log)) {}

net::awaitable<bool> Executor::execute(CyclePlan& plan, CycleStats& stats, const std::atomic<bool>& stop) {
  record_failures(plan.failures, stats);
  for (const auto& d : plan.deletions) {
    std::optional<std::string> error;
    try {
      co_await apply_deletion(d, stats);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (error) journal_.contain("pc", d.link.pc_id, *error, stats);
  }
  // A requested stop lets the batch in flight finish and commit; the rest waits for the next run.
  if (stop.load()) co_return false;
  std::vector<WorkItem*> replan;  // linked or created now: merged in the first round
  co_await join_campaign_before_link(plan.links);
  for (auto& l : plan.links) {
    try {
      link_existing(*l.item);
      replan.push_back(l.item);
    } catch (const std::exception& e) {
      l.item->done = true;
      journal_.contain("pc", l.item->pc_id, e.what(), stats);
    }
  }
  co_await create(plan.creates, stats);
  for (auto& c : plan.creates)
    if (!c.item->done) replan.push_back(c.item);
  co_await share(plan, replan, stats);
  bool finished = co_await update(std::move(plan.updates), std::move(replan), stats, stop);
  co_return finished;
}

void Executor::record_failures(const std::vector<RecordFailure>& failures, CycleStats& stats) {
  {
    StateStore::Transaction tx(store_);  // one commit for all quarantines, not one per record
    for (const auto& f : failures)
      if (f.failure.kind != FailureKind::not_found) journal_.fail(f, stats);
    tx.commit();
  }
  for (const auto& f : failures)  // orphaning commits on its own
    if (f.failure.kind == FailureKind::not_found) journal_.fail(f, stats);
}

net::awaitable<void> Executor::apply_deletion(const PlannedDeletion& d, CycleStats& stats) {
  const Link& link = d.link;
  if (!d.pc_changes.empty()) {
    auto referral = co_await pc_.get(planner_.pc_spec(), link.pc_id);
    bool gone = !referral && referral.failure().kind == FailureKind::not_found;  // nothing left to close
    if (!referral && !gone) co_return journal_.fail({"pc", link.pc_id, referral.failure()}, stats);
    if (!gone && !connectors::is_terminal_referral(referral->fields)) {
      auto closed = co_await pc_.update(planner_.pc_spec(), *referral, d.pc_changes);
      // A conflict or outage is retried next cycle: the cursor does not move past the deletion.
      if (!closed) co_return journal_.fail({"pc", link.pc_id, closed.failure()}, stats);
      ++stats.updated_pc;
    }
  }
  if (!d.unlink) co_return;
  bool close = !d.pc_changes.empty();
  StateStore::Transaction tx(store_);
  store_.bury_link(link, d.reason);
  journal_.audit(link, "(record)", link.crm_id, nullptr, Origin::crm, close ? "close" : "unlink",
                 d.reason + (close ? ": referral closed as Lost" : ""));
  tx.commit();
  log_->info("mapping={} referral={} {} after {} {} was deleted", mapping_.name, link.pc_id,
             close ? "closed as Lost and unlinked" : "unlinked", mapping_.crm_object, link.crm_id);
}

void Executor::link_existing(WorkItem& item) {
  Link link{mapping_.name, item.pc_id, item.crm->id, item.pc->version, item.crm->version, nlohmann::json::object()};
  // If cosync created it (a create whose link a crash lost), the values it sent are its own: as
  // pending writes they become the shadow where the record still holds them, so an edit made
  // since on either side wins as an edit instead of by the first-sync rule.
  auto intent = store_.pending_create(mapping_.name, "crm", item.pc_id);
  if (intent)
    for (auto& [field, value] : intent->items()) link.pending[field] = {{"side", "crm"}, {"value", value}};
  StateStore::Transaction tx(store_);
  store_.save_link(link);
  store_.remove_pending_create(mapping_.name, "crm", item.pc_id);
  journal_.audit(link, "(record)", nullptr, item.crm->id, Origin::crm, "link",
                 "linked the existing " + mapping_.crm_object + " that holds the referral id");
  // cosync's own create, whose commit a crash cut short: its `received` event was never written.
  if (intent) received(link, item);
  tx.commit();
  log_->info("mapping={} linked existing {} {} to referral {}", mapping_.name, mapping_.crm_object, item.crm->id,
             item.pc_id);
}

net::awaitable<void> Executor::create(std::vector<PlannedCreate>& creates, CycleStats& stats) {
  // The create carries the referral id in the CRM's external-id field (upsert), and a pending row
  // is committed first, so a retry or a restart finds the record instead of duplicating it.
  std::vector<WorkItem*> sending;
  std::vector<connectors::UpsertRequest> requests;
  StateStore::Transaction intents(store_);  // one commit for the batch's intents, before it is sent
  for (auto& c : creates) {
    try {
      store_.add_pending_create(mapping_.name, "crm", c.item->pc_id, c.intent);
      requests.push_back(c.request);
      sending.push_back(c.item);
    } catch (const std::exception& e) {
      c.item->done = true;
      journal_.contain("pc", c.item->pc_id, e.what(), stats);
    }
  }
  intents.commit();
  if (requests.empty()) co_return;
  auto results = co_await crm_.upsert_many(planner_.crm_spec(), requests);
  std::vector<NewLead> created_leads;
  for (std::size_t k = 0; k < sending.size() && k < results.size(); ++k)
    if (results[k]) created_leads.push_back({sending[k], results[k]->id});
  co_await join_campaign(created_leads);
  // The batch's links commit together (a crash before the commit leaves their intents: the next
  // cycle links those records, as after any lost create), each in its own savepoint.
  StateStore::Transaction links(store_);
  for (std::size_t k = 0; k < sending.size() && k < results.size(); ++k) {
    WorkItem& item = *sending[k];
    auto& created = results[k];
    if (!created) {
      journal_.fail({"pc", item.pc_id, created.failure()}, stats);
      item.done = true;
      continue;
    }
    try {
      link_created(item, *created, stats);
    } catch (const std::exception& e) {
      item.done = true;
      journal_.contain("pc", item.pc_id, e.what(), stats);
    }
  }
  links.commit();
}

void Executor::link_created(WorkItem& item, RemoteRecord& created, CycleStats& stats) {
  // What both records hold now is the shadow from the start: if the run dies before this item's
  // merge commits, an edit made since is still known as an edit (not a first sync).
  SideState pc_side{&item.pc->fields, item.pc->modified};
  SideState crm_side{&created.fields, created.modified};
  auto agreed = merge(mapping_, pc_side, crm_side, nlohmann::json::object()).agreed;
  Link link{mapping_.name, item.pc_id, created.id, item.pc->version, created.version, std::move(agreed)};
  {
    StateStore::Savepoint tx(store_);  // within create()'s transaction for the batch
    store_.save_link(link);
    store_.remove_pending_create(mapping_.name, "crm", item.pc_id);
    journal_.audit(link, "(record)", nullptr, created.id, Origin::pc, "create",
                   "created " + mapping_.crm_object + " from referral");
    item.crm = std::move(created);
    received(link, item);
    tx.release();
  }
  ++stats.created;
  log_->info("mapping={} created {} {} from referral {}", mapping_.name, mapping_.crm_object, item.crm->id,
             item.pc_id);
}

void Executor::received(const Link& link, const WorkItem& item) {
  // "A lead (or co-sell invitation) arrived": the notifications' `received`, written in the
  // transaction that commits the create's link.
  journal_.event(link, "received", Origin::pc, "created " + mapping_.crm_object + " from referral " + item.pc_id,
                 item.pc, item.crm);
}

net::awaitable<bool> Executor::update(std::vector<PlannedUpdate> planned, std::vector<WorkItem*> replan,
                                      CycleStats& stats, const std::atomic<bool>& stop) {
  for (int attempt = 0; attempt < kMaxMergeAttempts && (!planned.empty() || !replan.empty()); ++attempt) {
    if (stop.load()) co_return false;
    for (auto* item : replan) {
      ItemPlan p;
      std::optional<std::string> error;
      try {
        p = co_await planner_.plan_update(*item);
      } catch (const std::exception& e) {
        error = e.what();
      }
      if (error) {
        item->done = true;
        journal_.contain("pc", item->pc_id, *error, stats);
      }
      if (p.failure) journal_.fail(*p.failure, stats);
      if (p.update) planned.push_back(std::move(*p.update));
    }
    // The CRM side first (one batched call per 200 records), then Partner Center for the items
    // whose CRM write (if any) went through.
    co_await write_side(planned, Side::crm, stats);
    co_await write_side(planned, Side::pc, stats);
    co_await register_deals(planned, stats);
    replan.clear();
    commit_round(planned, replan, stats);
    planned.clear();
  }
  for (auto* item : replan) {
    ++stats.failed;
    log_->warn("mapping={} referral={} kept changing during {} attempts; retried next cycle", mapping_.name,
               item->pc_id, kMaxMergeAttempts);
  }
  co_return true;
}

void Executor::commit_round(std::vector<PlannedUpdate>& planned, std::vector<WorkItem*>& again, CycleStats& stats) {
  // Shadows and versions of the batch, committed together.
  StateStore::Transaction tx(store_);
  for (auto& p : planned) {
    if (p.again) {
      again.push_back(p.item);
      continue;
    }
    if (p.failed) continue;
    try {
      StateStore::Savepoint record(store_);  // a record that fails is undone alone
      if (p.refused) {
        save(p);  // keep what the CRM write achieved
        // The other rules' holds and events stand (a registration's review change, a deadline
        // warning): only the refused Partner Center writes are quarantined.
        settle_rule_actions(p);
        journal_.quarantine("pc", p.item->pc_id, {FailureKind::rejected, *p.refused, 0, ""}, stats);
      } else {
        finish(p, stats);
      }
      record.release();
    } catch (const std::exception& e) {
      p.item->done = true;
      journal_.contain("pc", p.item->pc_id, e.what(), stats);
    }
  }
  tx.commit();
}

void Executor::remember_pending(std::vector<PlannedUpdate*>& writes, Side side) {
  StateStore::Transaction tx(store_);
  for (auto* p : writes) {
    for (const auto& w : side == Side::crm ? p->merge.to_crm : p->merge.to_pc)
      p->link.pending[w.rule->name] = {{"side", to_string(side)}, {"value", w.value}};
    store_.save_link(p->link);
  }
  tx.commit();
}

void Executor::save(PlannedUpdate& p) {
  p.link.shadow = p.shadow;
  if (p.item->pc) p.link.pc_version = p.item->pc->version;
  if (p.item->crm) p.link.crm_version = p.item->crm->version;
  store_.save_link(p.link);
}

void Executor::record_writes(PlannedUpdate& p, Side side) {
  // Only fields actually written join the shadow; their intents are settled.
  Origin origin = side == Side::crm ? Origin::pc : Origin::crm;
  for (const auto& w : side == Side::crm ? p.merge.to_crm : p.merge.to_pc) {
    p.link.pending.erase(w.rule->name);
    journal_.audit(p.link, w.rule->name, remote_json::member(p.link.shadow, w.rule->name), w.value, origin, "update",
                   w.reason);
    p.shadow[w.rule->name] = w.value;
    log_->info("mapping={} referral={} {}={} {} {} {} ({})", mapping_.name, p.item->pc_id, w.rule->name,
               w.value.dump(), origin == Origin::pc ? "->" : "<-", mapping_.crm_object, p.link.crm_id, w.reason);
  }
}

void Executor::settle_rule_actions(PlannedUpdate& p) {
  std::set<std::string> held_now;
  TimePoint now = planner_.pc_now();  // holds come due on Partner Center's clock (add_due)
  for (const auto& a : p.actions) {
    Origin origin = a.side == Side::pc ? Origin::pc : Origin::crm;
    if (a.kind == RuleAction::Kind::hold && a.until <= now) {
      // Due already: holding it would bring the pair back every cycle. The rule must act instead.
      log_->error("mapping={} referral={} a rule held {} until {}, which has passed: released", mapping_.name,
                  p.item->pc_id, a.key, format_iso8601(a.until));
    } else if (a.kind == RuleAction::Kind::hold) {
      store_.hold({mapping_.name, p.item->pc_id, a.key, format_iso8601(a.until), a.reason});
      held_now.insert(a.key);
    } else if (a.kind == RuleAction::Kind::event) {
      journal_.event(p.link, a.key, origin, a.reason, p.item->pc, p.item->crm);
      log_->info("mapping={} referral={} event {}: {}", mapping_.name, p.item->pc_id, a.key, a.reason);
    } else if (a.kind == RuleAction::Kind::write) {
      for (const auto& c : a.changes) journal_.audit(p.link, c.path, nullptr, c.value, origin, "rule", a.reason);
    }
  }
  // A hold its rule no longer asks for is over (done, or no longer wanted).
  for (const auto& h : store_.holds(mapping_.name, p.item->pc_id))
    if (!held_now.contains(h.key)) store_.release_hold(mapping_.name, p.item->pc_id, h.key);
}

void Executor::finish(PlannedUpdate& p, CycleStats& stats) {
  for (const auto& c : p.merge.conflicts) {
    log_->info("mapping={} referral={} conflict {}", mapping_.name, p.item->pc_id, c.describe());
    journal_.audit(p.link, c.rule->name, c.winner == Origin::pc ? c.crm_value : c.pc_value,
                   c.winner == Origin::pc ? c.pc_value : c.crm_value, c.winner, "conflict", c.describe());
  }
  stats.conflicts += p.merge.conflicts.size();
  settle_rule_actions(p);
  save(p);
  // A refused registration stays in quarantine with its reason: its backoff brings the pair back
  // (the pair's other writes went through and are saved above).
  if (!p.registration_failed) store_.release_quarantine(mapping_.name, "pc", p.item->pc_id);
  store_.release_quarantine(mapping_.name, "crm", p.link.crm_id);
}

net::awaitable<void> Executor::write_side(std::vector<PlannedUpdate>& planned, Side side, CycleStats& stats) {
  bool to_crm = side == Side::crm;
  auto& connector = to_crm ? crm_ : pc_;
  const auto& spec = to_crm ? planner_.crm_spec() : planner_.pc_spec();
  std::vector<connectors::UpdateRequest> requests;
  std::vector<PlannedUpdate*> writing;
  for (auto& p : planned) {
    const auto& changes = to_crm ? p.crm_changes : p.pc_changes;
    if (changes.empty() || p.failed || p.again) continue;
    requests.push_back({to_crm ? *p.item->crm : *p.item->pc, changes});
    writing.push_back(&p);
  }
  if (requests.empty()) co_return;
  remember_pending(writing, side);
  auto written = co_await connector.update_many(spec, requests);
  for (std::size_t k = 0; k < writing.size() && k < written.size(); ++k) {
    PlannedUpdate& p = *writing[k];
    auto& record = to_crm ? p.item->crm : p.item->pc;
    const std::string id = to_crm ? p.link.crm_id : p.item->pc_id;
    if (written[k]) {
      record = std::move(*written[k]);
      if (!to_crm) planner_.annotate(*record);
      record_writes(p, side);
      ++(to_crm ? stats.updated_crm : stats.updated_pc);
      continue;
    }
    if (!to_crm) save(p);  // keep what the CRM write achieved
    Failure f = written[k].failure();
    if (f.kind != FailureKind::conflict) {
      journal_.fail({to_string(side), id, f}, stats);
      p.failed = true;
      continue;
    }
    // A precondition failed: re-read that side, merge again next round.
    log_->info("mapping={} {} {} changed while syncing; re-reading", mapping_.name,
               to_crm ? mapping_.crm_object : std::string("referral"), id);
    auto fresh = co_await connector.get(spec, id);
    if (!fresh) {
      journal_.fail({to_string(side), id, fresh.failure()}, stats);
      p.failed = true;
    } else {
      record = std::move(*fresh);
      if (!to_crm) planner_.annotate(*record);
      p.again = true;
    }
  }
}

}  // namespace cosync::engine
