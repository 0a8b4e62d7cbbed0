#include "daemon/engine/sync_engine.hpp"

#include <algorithm>
#include <map>

#include "connectors/partner_center/partner_center_connector.hpp"
#include "daemon/util/json_path.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"

namespace cosync::engine {

namespace net = boost::asio;
using connectors::FieldChange;
using connectors::RemoteRecord;

// Re-read and re-merge at most this many times when a precondition fails (someone keeps editing).
constexpr int kMaxMergeAttempts = 4;

struct SyncEngine::WorkItem {
  std::string pc_id;
  std::optional<RemoteRecord> pc;  // as pulled or re-read this cycle
  std::optional<RemoteRecord> crm;
  bool retry = false;  // a quarantined record due for retry: read both sides afresh
  bool done = false;                // failed, quarantined or not selected: nothing more this cycle
};

// One item's merge result and the writes it needs, while the batch is sent.
struct SyncEngine::Planned {
  WorkItem* item = nullptr;
  Link link;
  MergePlan plan;
  std::vector<FieldChange> pc_changes;
  std::vector<FieldChange> crm_changes;
  nlohmann::json shadow;  // link.shadow plus what is agreed or written so far
  bool again = false;     // a precondition failed: re-read, merge again next round
  bool failed = false;
};

SyncEngine::SyncEngine(const mapping::Mapping& mapping, connectors::Connector& pc, connectors::Connector& crm,
                       StateStore& store, const Clock& clock, Log log, EngineOptions options)
    : mapping_(mapping),
      pc_(pc),
      crm_(crm),
      store_(store),
      clock_(clock),
      log_(std::move(log)),
      pc_spec_(mapping.pc_spec()),
      crm_spec_(mapping.crm_spec()),
      options_(options) {}

void SyncEngine::quarantine(const std::string& side, const std::string& id, const Failure& failure, CycleStats& stats) {
  ++stats.quarantined;
  std::string request_id = failure.request_id.empty() ? "" : " request_id=" + failure.request_id;
  if (planning_) {
    log_->warn("mapping={} side={} record={} would be quarantined: {}{}", mapping_.name, side, id, failure.message,
               request_id);
    return;
  }
  // Exponential backoff between automatic retries, capped; `cosyncd quarantine retry` skips it.
  int attempts = store_.quarantine_attempts(mapping_.name, side, id);
  auto delay = options_.quarantine_retry * (1LL << std::min(attempts, 16));
  auto next_retry = clock_.now() + std::min<std::chrono::seconds>(delay, options_.quarantine_retry_max);
  store_.quarantine(mapping_.name, side, id, failure.message, failure.request_id, format_iso8601(next_retry));
  log_->warn("mapping={} side={} record={} quarantined (attempt {}, next retry {}): {}{}", mapping_.name, side, id,
             attempts + 1, format_iso8601(next_retry), failure.message, request_id);
}

void SyncEngine::contain(const std::string& side, const std::string& id, const std::string& what,
                         CycleStats& stats) {
  log_->error("mapping={} side={} record={} could not be processed: {}", mapping_.name, side, id, what);
  quarantine(side, id, {FailureKind::rejected, "could not be processed: " + what, 0, ""}, stats);
}

void SyncEngine::contain(WorkItem& item, const std::string& what, CycleStats& stats) {
  item.done = true;
  contain("pc", item.pc_id, what, stats);
}

void SyncEngine::audit(const Link& link, const std::string& field, const nlohmann::json& old_value,
                       const nlohmann::json& new_value, Origin origin, const std::string& kind,
                       const std::string& detail) {
  store_.add_audit({format_iso8601(clock_.now()), mapping_.name, link.pc_id, link.crm_id, field, old_value, new_value,
                    to_string(origin), kind, detail, ""});
}

net::awaitable<std::vector<PlannedChange>> SyncEngine::plan() {
  std::vector<PlannedChange> changes;
  planning_ = &changes;
  std::atomic<bool> never_stop{false};
  try {
    co_await run_cycle(never_stop);
  } catch (...) {
    planning_ = nullptr;
    throw;
  }
  planning_ = nullptr;
  co_return changes;
}

net::awaitable<CycleStats> SyncEngine::run_cycle(const std::atomic<bool>& stop) {
  auto started = std::chrono::steady_clock::now();
  std::size_t calls_before = pc_.api_calls() + crm_.api_calls();
  CycleStats stats;

  auto finish = [&](const char* outcome) {
    stats.api_calls = pc_.api_calls() + crm_.api_calls() - calls_before;
    stats.crm_api_usage = crm_.api_usage();
    stats.duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    log_->info(
        "{} mapping={} result={} pulled_pc={} pulled_crm={} created={} updated_pc={} updated_crm={} conflicts={} "
        "quarantined={} orphaned={} failed={} api_calls={} crm_api_usage={} duration_ms={}",
        planning_ ? "plan" : "cycle", mapping_.name, outcome, stats.pulled_pc, stats.pulled_crm, stats.created,
        stats.updated_pc, stats.updated_crm, stats.conflicts, stats.quarantined, stats.orphaned, stats.failed,
        stats.api_calls,
        stats.crm_api_usage.empty() ? "n/a" : stats.crm_api_usage, stats.duration.count());
    if (planning_) return;
    nlohmann::json summary = {{"pulled_pc", stats.pulled_pc},     {"pulled_crm", stats.pulled_crm},
                              {"created", stats.created},         {"updated_pc", stats.updated_pc},
                              {"updated_crm", stats.updated_crm}, {"conflicts", stats.conflicts},
                              {"quarantined", stats.quarantined}, {"orphaned", stats.orphaned},
                              {"failed", stats.failed},
                              {"api_calls", stats.api_calls}};
    store_.record_cycle({mapping_.name, format_iso8601(clock_.now()), outcome, stats.duration.count(), summary});
    store_.prune_audit(format_iso8601(clock_.now() - options_.audit_retention));
  };

  std::string pc_cursor = store_.cursor(mapping_.name, "pc").value_or("");
  std::string crm_cursor = store_.cursor(mapping_.name, "crm").value_or("");
  auto pc_pull = co_await pc_.pull(pc_spec_, pc_cursor);
  if (!pc_pull) {
    log_->error("mapping={} Partner Center pull failed: {}", mapping_.name, pc_pull.failure().message);
    stats.pull_failed = true;
    finish("pull_failed");
    co_return stats;
  }
  auto crm_pull = co_await crm_.pull(crm_spec_, crm_cursor);
  if (!crm_pull) {
    log_->error("mapping={} {} pull failed: {}", mapping_.name, crm_.system(), crm_pull.failure().message);
    stats.pull_failed = true;
    finish("pull_failed");
    co_return stats;
  }
  stats.pulled_pc = pc_pull->records.size();
  stats.pulled_crm = crm_pull->records.size();
  auto quarantine_malformed = [&] {
    for (const auto& bad : pc_pull->malformed)
      quarantine("pc", bad.id.empty() ? "(no id)" : bad.id, {FailureKind::rejected, "malformed: " + bad.reason, 0, ""}, stats);
    for (const auto& bad : crm_pull->malformed)
      quarantine("crm", bad.id.empty() ? "(no id)" : bad.id, {FailureKind::rejected, "malformed: " + bad.reason, 0, ""}, stats);
  };
  if (planning_) {
    quarantine_malformed();  // only logged
  } else {
    StateStore::Transaction tx(store_);  // one commit for all of them, not one per record
    quarantine_malformed();
    tx.commit();
  }

  // Pair what changed on either side, keyed by referral id.
  std::map<std::string, WorkItem> items;
  for (auto& r : pc_pull->records) {
    try {
      auto link = store_.link_by_pc(mapping_.name, r.id);
      if (link ? link->orphaned() : !mapping_.selects(r.fields)) continue;  // an orphaned pair is never written
      auto& item = items[r.id];
      item.pc_id = r.id;
      item.pc = std::move(r);
    } catch (const std::exception& e) {
      contain("pc", r.id, e.what(), stats);
    }
  }
  std::vector<Link> deleted_links;
  for (auto& r : crm_pull->records) {
    try {
      pair_crm_record(r, items, deleted_links);
    } catch (const std::exception& e) {
      contain("crm", r.id, e.what(), stats);
    }
  }
  for (const auto& link : deleted_links) {
    items.erase(link.pc_id);
    std::optional<std::string> error;
    try {
      co_await apply_delete_policy(link, stats);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (error) contain("pc", link.pc_id, *error, stats);
  }
  // Quarantined records whose retry time has come are read afresh from both sides.
  for (const auto& q : store_.due_quarantine(mapping_.name, format_iso8601(clock_.now()))) {
    try {
      add_due_retry(q, items);
    } catch (const std::exception& e) {
      contain(q.side, q.record_id, e.what(), stats);
    }
  }

  // Writes go in batches per side (Salesforce sObject Collections: 200 records a call).
  std::vector<WorkItem*> work;
  for (auto& [id, item] : items) work.push_back(&item);
  // Named first: GCC 12 can miscompile co_await inside an expression (seen as SIGILL).
  bool finished = co_await sync_items(std::move(work), stats, stop);
  bool stopped = !finished;

  // The cursors move only past changes that were applied or quarantined (DESIGN invariant 5).
  if (!stopped && stats.failed == 0 && !planning_) {
    StateStore::Transaction tx(store_);
    store_.set_cursor(mapping_.name, "pc", pc_pull->cursor);
    store_.set_cursor(mapping_.name, "crm", crm_pull->cursor);
    tx.commit();
  }
  finish(stopped ? "stopped" : stats.failed ? "partial" : "ok");
  co_return stats;
}

void SyncEngine::pair_crm_record(RemoteRecord& r, std::map<std::string, WorkItem>& items,
                                 std::vector<Link>& deleted_links) {
  if (r.deleted) {
    auto link = store_.link_by_crm(mapping_.name, r.id);
    if (link && link->orphaned()) return;
    log_->info("mapping={} {} {} was deleted in {}{}", mapping_.name, crm_spec_.object, r.id, crm_.system(),
               link ? " (linked to referral " + link->pc_id + ")" : "");
    if (link && mapping_.on_crm_delete != mapping::DeletePolicy::ignore) deleted_links.push_back(*link);
    return;
  }
  std::string pc_id;
  if (auto link = store_.link_by_crm(mapping_.name, r.id)) {
    if (link->orphaned()) return;
    pc_id = link->pc_id;
  } else {
    auto ref = json_at(r.fields, mapping_.crm_link_field);
    if (!ref.is_string() || ref.get<std::string>().empty()) return;
    pc_id = ref.get<std::string>();
    if (auto other = store_.link_by_pc(mapping_.name, pc_id); other && other->crm_id != r.id) {
      log_->warn("mapping={} {} {} claims referral {} which is linked to {}: left alone", mapping_.name,
                 crm_spec_.object, r.id, pc_id, other->crm_id);
      return;
    }
  }
  auto& item = items[pc_id];
  item.pc_id = pc_id;
  item.crm = std::move(r);
}

void SyncEngine::add_due_retry(const QuarantineEntry& q, std::map<std::string, WorkItem>& items) {
  std::string pc_id = q.record_id;
  if (q.side == "crm") {
    auto link = store_.link_by_crm(mapping_.name, q.record_id);
    if (!link) return;  // an unlinked CRM record is retried when it changes
    pc_id = link->pc_id;
  }
  if (pc_id == "(no id)") return;
  if (auto link = store_.link_by_pc(mapping_.name, pc_id); link && link->orphaned()) return;
  auto& item = items[pc_id];
  item.pc_id = pc_id;
  item.retry = true;
}

net::awaitable<void> SyncEngine::apply_delete_policy(const Link& link, CycleStats& stats) {
  bool close = mapping_.on_crm_delete == mapping::DeletePolicy::close;
  if (planning_) {
    planning_->push_back({mapping_.name, link.pc_id, link.crm_id, close ? "close referral as Lost" : "unlink",
                          "(record)", link.crm_id, nullptr, crm_spec_.object + " deleted in the CRM"});
    co_return;
  }
  if (close) {
    auto referral = co_await pc_.get(pc_spec_, link.pc_id);
    bool gone = !referral && referral.failure().kind == FailureKind::not_found;  // nothing left to close
    if (!referral && !gone) co_return fail("pc", link.pc_id, referral.failure(), stats);
    if (!gone && remote_json::string_or(referral->fields, "status") != "Closed") {
      // The reason shows in Partner Center why the referral was lost (mapping `close_reason`).
      std::vector<FieldChange> lost = {{"status", "Closed"}, {"substatus", "Lost"}, {"statusReason", mapping_.close_reason}};
      auto closed = co_await pc_.update(pc_spec_, *referral, lost);
      // A conflict or outage is retried next cycle: the cursor does not move past the deletion.
      if (!closed) co_return fail("pc", link.pc_id, closed.failure(), stats);
      ++stats.updated_pc;
    }
  }
  StateStore::Transaction tx(store_);
  store_.bury_link(link, crm_spec_.object + " deleted in the CRM");
  audit(link, "(record)", link.crm_id, nullptr, Origin::crm, close ? "close" : "unlink",
        crm_spec_.object + " deleted in the CRM" + (close ? ": referral closed as Lost" : ""));
  tx.commit();
  log_->info("mapping={} referral={} {} after {} {} was deleted", mapping_.name, link.pc_id,
             close ? "closed as Lost and unlinked" : "unlinked", crm_spec_.object, link.crm_id);
}

void SyncEngine::orphan(const Link& link, const std::string& side, const Failure& failure, CycleStats& stats) {
  ++stats.orphaned;
  std::string system = side == "pc" ? std::string("Partner Center") : crm_.system();
  std::string reason = system + " answered 404 for " + (side == "pc" ? "referral " + link.pc_id : crm_spec_.object + " " + link.crm_id);
  if (planning_) {
    planning_->push_back({mapping_.name, link.pc_id, link.crm_id, "orphan link", "(record)", nullptr, nullptr, reason});
    return;
  }
  // Not quarantine: no retry brings a deleted record back. The link stays (with the last synced
  // values) so that neither side is written again and a referral that reappears is not paired
  // with a second CRM record (DESIGN invariant 1).
  StateStore::Transaction tx(store_);
  store_.orphan_link(link, format_iso8601(clock_.now()), reason);
  audit(link, "(record)", side == "pc" ? nlohmann::json(link.pc_id) : nlohmann::json(link.crm_id), nullptr,
        side == "pc" ? Origin::pc : Origin::crm, "orphan", reason + ": " + failure.message);
  tx.commit();
  log_->warn("mapping={} referral={} {}={} link orphaned: {}; no more writes to either side for this pair{}",
             mapping_.name, link.pc_id, crm_spec_.object, link.crm_id, reason,
             failure.request_id.empty() ? "" : " request_id=" + failure.request_id);
}

void SyncEngine::fail(const std::string& side, const std::string& id, const Failure& f, CycleStats& stats) {
  if (f.kind == FailureKind::not_found) {
    auto link = side == "pc" ? store_.link_by_pc(mapping_.name, id) : store_.link_by_crm(mapping_.name, id);
    if (link) return orphan(*link, side, f, stats);
  }
  if (f.kind == FailureKind::rejected || f.kind == FailureKind::not_found) {
    quarantine(side, id, f, stats);
  } else {
    ++stats.failed;
    log_->warn("mapping={} side={} record={} not synced this cycle ({}): {}{}", mapping_.name, side, id,
               to_string(f.kind), f.message, f.request_id.empty() ? "" : " request_id=" + f.request_id);
  }
}

net::awaitable<void> SyncEngine::create_missing(std::vector<WorkItem*>& items, CycleStats& stats) {
  std::vector<WorkItem*> to_create;
  for (auto* item : items) {
    std::optional<std::string> error;
    bool create = false;
    try {
      create = co_await needs_create(*item, stats);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (error) contain(*item, *error, stats);
    else if (create) to_create.push_back(item);
  }
  // The create carries the referral id in the CRM's external-id field (upsert), and a pending
  // row is committed first, so a retry or a restart finds the record instead of duplicating it.
  std::vector<WorkItem*> sending;
  std::vector<connectors::UpsertRequest> requests;
  for (auto* item : to_create) {
    try {
      requests.push_back(create_request(*item));
      sending.push_back(item);
    } catch (const std::exception& e) {
      contain(*item, e.what(), stats);
    }
  }
  if (requests.empty()) co_return;
  auto results = co_await crm_.upsert_many(crm_spec_, requests);
  for (std::size_t k = 0; k < sending.size() && k < results.size(); ++k) {
    WorkItem& item = *sending[k];
    auto& created = results[k];
    if (!created) {
      fail("pc", item.pc_id, created.failure(), stats);
      item.done = true;
      continue;
    }
    try {
      link_created(item, *created, stats);
    } catch (const std::exception& e) {
      contain(item, e.what(), stats);
    }
  }
}

net::awaitable<bool> SyncEngine::read_side(WorkItem& item, bool crm, const std::string& id, CycleStats& stats) {
  connectors::Connector& side = crm ? crm_ : pc_;
  auto record = co_await side.get(crm ? crm_spec_ : pc_spec_, id);
  if (!record) {
    fail(crm ? "crm" : "pc", id, record.failure(), stats);
    item.done = true;
    co_return false;
  }
  (crm ? item.crm : item.pc) = std::move(*record);
  co_return true;
}

net::awaitable<bool> SyncEngine::needs_create(WorkItem& item, CycleStats& stats) {
  // Awaited values are named before they are tested: GCC 12 miscompiles co_await inside an
  // expression (seen as SIGILL and SIGSEGV).
  if (item.retry) {  // a quarantined record due for retry: read both sides afresh
    bool read = co_await read_side(item, false, item.pc_id, stats);
    if (!read) co_return false;
    if (auto link = store_.link_by_pc(mapping_.name, item.pc_id)) {
      read = co_await read_side(item, true, link->crm_id, stats);
      if (!read) co_return false;
    }
  }
  if (store_.link_by_pc(mapping_.name, item.pc_id)) co_return false;
  if (!item.pc) {
    bool read = co_await read_side(item, false, item.pc_id, stats);
    if (!read) co_return false;
  }
  if (!mapping_.selects(item.pc->fields) || store_.is_tombstoned(mapping_.name, item.pc_id)) {
    item.done = true;
    co_return false;
  }
  // A CRM record already claims this referral (a create whose link a crash lost, or a record a
  // person tied to it): link it instead of writing the create over it. The merge then settles
  // each field by its owner, so an edit made since is not lost.
  if (item.crm && !item.crm->deleted) {
    if (planning_) {
      planning_->push_back({mapping_.name, item.pc_id, item.crm->id, "link existing CRM record", "(record)",
                            nullptr, item.crm->id, crm_spec_.object + " already holds the referral id"});
      co_return false;
    }
    Link link{mapping_.name, item.pc_id, item.crm->id, item.pc->version, item.crm->version,
              nlohmann::json::object()};
    // If cosync created it (a create whose link a crash lost), the values it sent are its own:
    // as pending writes they become the shadow where the record still holds them, so an edit
    // made since on either side wins as an edit instead of by the first-sync rule.
    if (auto intent = store_.pending_create(mapping_.name, "crm", item.pc_id))
      for (auto& [field, value] : intent->items()) link.pending[field] = {{"side", "crm"}, {"value", value}};
    StateStore::Transaction tx(store_);
    store_.save_link(link);
    store_.remove_pending_create(mapping_.name, "crm", item.pc_id);
    audit(link, "(record)", nullptr, item.crm->id, Origin::crm, "link",
          "linked the existing " + crm_spec_.object + " that holds the referral id");
    tx.commit();
    log_->info("mapping={} linked existing {} {} to referral {}", mapping_.name, crm_spec_.object, item.crm->id,
               item.pc_id);
    co_return false;
  }
  if (planning_) {
    ++stats.created;
    for (const auto& f : mapping_.crm_fields_for_create(item.pc->fields))
      planning_->push_back({mapping_.name, item.pc_id, "", "create in CRM", f.path, nullptr, f.value,
                            "new referral selected by the mapping"});
    if (!mapping_.pc_link_field.empty())
      planning_->push_back({mapping_.name, item.pc_id, "", "update Partner Center", mapping_.pc_link_field,
                            json_at(item.pc->fields, mapping_.pc_link_field), "(id of the new CRM record)",
                            "link the referral to the new record"});
    item.done = true;
    co_return false;
  }
  co_return true;
}

connectors::UpsertRequest SyncEngine::create_request(WorkItem& item) {
  nlohmann::json intent = nlohmann::json::object();
  for (const auto& f : mapping_.fields)
    if (auto value = mapping_.canonical_from_pc(f, item.pc->fields); value && f.flows_to_crm()) intent[f.name] = *value;
  store_.add_pending_create(mapping_.name, "crm", item.pc_id, intent);
  connectors::UpsertRequest request;
  request.external_id = item.pc_id;
  request.fields = mapping_.crm_fields_for_create(item.pc->fields);
  return request;
}

void SyncEngine::link_created(WorkItem& item, RemoteRecord& created, CycleStats& stats) {
  // What both records hold now is the shadow from the start: if the run dies before this
  // item's merge commits, an edit made since is still known as an edit (not a first sync).
  SideState pc_side{&item.pc->fields, item.pc->modified};
  SideState crm_side{&created.fields, created.modified};
  auto agreed = merge(mapping_, pc_side, crm_side, nlohmann::json::object()).agreed;
  Link link{mapping_.name, item.pc_id, created.id, item.pc->version, created.version, std::move(agreed)};
  {
    StateStore::Transaction tx(store_);
    store_.save_link(link);
    store_.remove_pending_create(mapping_.name, "crm", item.pc_id);
    audit(link, "(record)", nullptr, created.id, Origin::pc, "create", "created " + crm_spec_.object + " from referral");
    tx.commit();
  }
  ++stats.created;
  log_->info("mapping={} created {} {} from referral {}", mapping_.name, crm_spec_.object, created.id, item.pc_id);
  item.crm = std::move(created);
}

net::awaitable<std::optional<SyncEngine::Planned>> SyncEngine::plan_item(WorkItem& item, CycleStats& stats) {
  // At most one read per side before the plan is final.
  for (int reads = 0; reads < 3; ++reads) {
    auto link = store_.link_by_pc(mapping_.name, item.pc_id);
    if (!link || link->orphaned()) {
      item.done = true;
      co_return std::nullopt;
    }
    reconcile_pending(*link, item);
    SideState pc_side{item.pc ? &item.pc->fields : nullptr, item.pc ? item.pc->modified : TimePoint{}};
    SideState crm_side{item.crm ? &item.crm->fields : nullptr, item.crm ? item.crm->modified : TimePoint{}};
    Planned p;
    p.item = &item;
    p.plan = merge(mapping_, pc_side, crm_side, link->shadow);
    for (const auto& w : p.plan.to_pc)
      for (auto& c : mapping_.pc_changes(*w.rule, w.value)) p.pc_changes.push_back(std::move(c));
    for (const auto& w : p.plan.to_crm)
      for (auto& c : mapping_.crm_changes(*w.rule, w.value)) p.crm_changes.push_back(std::move(c));
    // The referral carries the CRM id, so that sellers in Partner Center see the pairing. A
    // closed referral takes no write: the link table alone pairs them (the CRM record carries
    // the referral id), so that is no failure to quarantine.
    bool link_field_stale = item.pc && !mapping_.pc_link_field.empty() &&
                            !connectors::is_terminal_referral(item.pc->fields) &&
                            json_at(item.pc->fields, mapping_.pc_link_field) != link->crm_id;
    if (link_field_stale) p.pc_changes.push_back({mapping_.pc_link_field, link->crm_id});

    // A side that must be written but was not pulled is read first, then merged again.
    if (!p.pc_changes.empty() && !item.pc) {
      bool read = co_await read_side(item, false, item.pc_id, stats);  // named first (GCC 12)
      if (!read) co_return std::nullopt;
      continue;
    }
    if (!p.crm_changes.empty() && !item.crm) {
      bool read = co_await read_side(item, true, link->crm_id, stats);
      if (!read) co_return std::nullopt;
      continue;
    }

    for (const auto& u : p.plan.unmapped) log_->warn("mapping={} referral={} {}", mapping_.name, item.pc_id, u);
    if (planning_) {
      auto base = [&](const mapping::FieldRule* r) { return remote_json::member(link->shadow, r->name); };
      for (const auto& w : p.plan.to_crm)
        planning_->push_back({mapping_.name, item.pc_id, link->crm_id, "update CRM", w.rule->name,
                              item.crm ? mapping_.canonical_from_crm(*w.rule, item.crm->fields).value_or(nullptr)
                                       : base(w.rule),
                              w.value, w.reason});
      for (const auto& w : p.plan.to_pc)
        planning_->push_back({mapping_.name, item.pc_id, link->crm_id, "update Partner Center", w.rule->name,
                              item.pc ? mapping_.canonical_from_pc(*w.rule, item.pc->fields).value_or(nullptr)
                                      : base(w.rule),
                              w.value, w.reason});
      if (link_field_stale)
        planning_->push_back({mapping_.name, item.pc_id, link->crm_id, "update Partner Center", mapping_.pc_link_field,
                              json_at(item.pc->fields, mapping_.pc_link_field), link->crm_id, "link field"});
      stats.updated_crm += p.crm_changes.empty() ? 0 : 1;
      stats.updated_pc += p.pc_changes.empty() ? 0 : 1;
      stats.conflicts += p.plan.conflicts.size();
      item.done = true;
      co_return std::nullopt;
    }
    p.shadow = link->shadow;
    for (auto& [k, v] : p.plan.agreed.items()) p.shadow[k] = v;
    p.link = std::move(*link);
    co_return p;
  }
  co_return std::nullopt;  // not reached: each side is read at most once
}

void SyncEngine::reconcile_pending(Link& link, const WorkItem& item) const {
  // A write the last run sent but never confirmed: if the value is there, it landed, and it is
  // cosync's own value, not an edit. Either way the intent is settled now.
  for (auto& [field, intent] : link.pending.items()) {
    auto rule = std::find_if(mapping_.fields.begin(), mapping_.fields.end(), [&](const auto& f) { return f.name == field; });
    if (rule == mapping_.fields.end()) continue;
    bool to_crm = remote_json::string_or(intent, "side") == "crm";
    std::optional<nlohmann::json> now;
    if (to_crm && item.crm) now = mapping_.canonical_from_crm(*rule, item.crm->fields);
    if (!to_crm && item.pc) now = mapping_.canonical_from_pc(*rule, item.pc->fields);
    if (now && intent.contains("value") && *now == intent["value"]) link.shadow[field] = intent["value"];
  }
  link.pending = nlohmann::json::object();
}

void SyncEngine::remember_pending(std::vector<Planned*>& writes, bool to_crm) {
  StateStore::Transaction tx(store_);
  for (auto* p : writes) {
    for (const auto& w : to_crm ? p->plan.to_crm : p->plan.to_pc)
      p->link.pending[w.rule->name] = {{"side", to_crm ? "crm" : "pc"}, {"value", w.value}};
    store_.save_link(p->link);
  }
  tx.commit();
}

void SyncEngine::save(Planned& p) {
  p.link.shadow = p.shadow;
  if (p.item->pc) p.link.pc_version = p.item->pc->version;
  if (p.item->crm) p.link.crm_version = p.item->crm->version;
  store_.save_link(p.link);
}

void SyncEngine::record_writes(Planned& p, const std::vector<FieldWrite>& writes, Origin origin) {
  // Only fields actually written join the shadow; their intents are settled.
  for (const auto& w : writes) {
    p.link.pending.erase(w.rule->name);
    audit(p.link, w.rule->name, remote_json::member(p.link.shadow, w.rule->name), w.value, origin, "update",
          w.reason);
    p.shadow[w.rule->name] = w.value;
    log_->info("mapping={} referral={} {}={} {} {} {} ({})", mapping_.name, p.item->pc_id, w.rule->name,
               w.value.dump(), origin == Origin::pc ? "->" : "<-", crm_spec_.object, p.link.crm_id, w.reason);
  }
}

void SyncEngine::finish(Planned& p, CycleStats& stats) {
  for (const auto& c : p.plan.conflicts) {
    log_->info("mapping={} referral={} conflict {}", mapping_.name, p.item->pc_id, c.describe());
    audit(p.link, c.rule->name, c.winner == Origin::pc ? c.crm_value : c.pc_value,
          c.winner == Origin::pc ? c.pc_value : c.crm_value, c.winner, "conflict", c.describe());
  }
  stats.conflicts += p.plan.conflicts.size();
  save(p);
  store_.release_quarantine(mapping_.name, "pc", p.item->pc_id);
  store_.release_quarantine(mapping_.name, "crm", p.link.crm_id);
}

net::awaitable<void> SyncEngine::write_side(std::vector<Planned>& planned, bool to_crm, CycleStats& stats) {
  auto& connector = to_crm ? crm_ : pc_;
  const auto& spec = to_crm ? crm_spec_ : pc_spec_;
  std::vector<connectors::UpdateRequest> requests;
  std::vector<Planned*> writing;
  for (auto& p : planned) {
    const auto& changes = to_crm ? p.crm_changes : p.pc_changes;
    if (changes.empty() || p.failed || p.again) continue;
    connectors::UpdateRequest request;
    request.current = to_crm ? *p.item->crm : *p.item->pc;
    request.changes = changes;
    requests.push_back(std::move(request));
    writing.push_back(&p);
  }
  if (requests.empty()) co_return;
  remember_pending(writing, to_crm);
  auto written = co_await connector.update_many(spec, requests);
  const std::string side = to_crm ? "crm" : "pc";
  for (std::size_t k = 0; k < writing.size() && k < written.size(); ++k) {
    Planned& p = *writing[k];
    auto& record = to_crm ? p.item->crm : p.item->pc;
    const std::string id = to_crm ? p.link.crm_id : p.item->pc_id;
    if (written[k]) {
      record = std::move(*written[k]);
      record_writes(p, to_crm ? p.plan.to_crm : p.plan.to_pc, to_crm ? Origin::pc : Origin::crm);
      ++(to_crm ? stats.updated_crm : stats.updated_pc);
      continue;
    }
    if (!to_crm) save(p);  // keep what the CRM write achieved
    Failure f = written[k].failure();
    if (f.kind != FailureKind::conflict) {
      fail(side, id, f, stats);
      p.failed = true;
      continue;
    }
    // A precondition failed: re-read that side, merge again next round.
    log_->info("mapping={} {} {} changed while syncing; re-reading", mapping_.name,
               to_crm ? crm_spec_.object : std::string("referral"), id);
    auto fresh = co_await connector.get(spec, id);
    if (!fresh) {
      fail(side, id, fresh.failure(), stats);
      p.failed = true;
    } else {
      record = std::move(*fresh);
      p.again = true;
    }
  }
}

net::awaitable<bool> SyncEngine::sync_items(std::vector<WorkItem*> items, CycleStats& stats,
                                            const std::atomic<bool>& stop) {
  // A requested stop lets the batch in flight finish and commit; the rest waits for the next run.
  if (stop.load()) co_return false;
  co_await create_missing(items, stats);

  std::vector<WorkItem*> todo;
  for (auto* item : items)
    if (!item->done) todo.push_back(item);
  for (int attempt = 0; attempt < kMaxMergeAttempts && !todo.empty(); ++attempt) {
    if (stop.load()) co_return false;
    std::vector<Planned> planned;
    for (auto* item : todo) {
      std::optional<Planned> p;
      std::optional<std::string> error;
      try {
        p = co_await plan_item(*item, stats);
      } catch (const std::exception& e) {
        error = e.what();
      }
      if (error) contain(*item, *error, stats);
      else if (p) planned.push_back(std::move(*p));
    }

    // The CRM side first (one batched call per 200 records), then Partner Center for the items
    // whose CRM write (if any) went through.
    co_await write_side(planned, true, stats);
    co_await write_side(planned, false, stats);

    // Shadows and versions of the batch, committed together.
    std::vector<WorkItem*> again;
    {
      StateStore::Transaction tx(store_);
      for (auto& p : planned) {
        if (p.again) {
          again.push_back(p.item);
        } else if (!p.failed) {
          try {
            StateStore::Savepoint record(store_);  // a record that fails is undone alone
            finish(p, stats);
            record.release();
          } catch (const std::exception& e) {
            contain(*p.item, e.what(), stats);
          }
        }
      }
      tx.commit();
    }
    todo = std::move(again);
  }
  for (auto* item : todo) {
    ++stats.failed;
    log_->warn("mapping={} referral={} kept changing during {} attempts; retried next cycle", mapping_.name,
               item->pc_id, kMaxMergeAttempts);
  }
  co_return true;
}

}  // namespace cosync::engine
