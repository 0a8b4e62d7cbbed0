#include "daemon/engine/sync_engine.hpp"

#include <map>

#include "daemon/util/json_path.hpp"

namespace cosync::engine {

namespace net = boost::asio;
using connectors::FieldChange;
using connectors::RemoteRecord;

// Re-read and re-merge at most this many times when a precondition fails (someone keeps editing).
constexpr int kMaxMergeAttempts = 4;

struct SyncEngine::WorkItem {
  std::string pc_id;
  std::optional<RemoteRecord> pc;   // as pulled or re-read this cycle
  std::optional<RemoteRecord> crm;
};

SyncEngine::SyncEngine(const mapping::Mapping& mapping, connectors::Connector& pc, connectors::Connector& crm,
                       StateStore& store, const Clock& clock, Log log)
    : mapping_(mapping),
      pc_(pc),
      crm_(crm),
      store_(store),
      clock_(clock),
      log_(std::move(log)),
      pc_spec_(mapping.pc_spec()),
      crm_spec_(mapping.crm_spec()) {}

void SyncEngine::quarantine(const std::string& side, const std::string& id, const Failure& failure, CycleStats& stats) {
  store_.quarantine(mapping_.name, side, id, failure.message, failure.request_id);
  ++stats.quarantined;
  log_->warn("mapping={} side={} record={} quarantined: {}{}", mapping_.name, side, id, failure.message,
             failure.request_id.empty() ? "" : " request_id=" + failure.request_id);
}

net::awaitable<CycleStats> SyncEngine::run_cycle(const std::atomic<bool>& stop) {
  auto started = std::chrono::steady_clock::now();
  std::size_t calls_before = pc_.api_calls() + crm_.api_calls();
  CycleStats stats;

  auto finish = [&](const char* outcome) {
    stats.api_calls = pc_.api_calls() + crm_.api_calls() - calls_before;
    stats.duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    log_->info(
        "cycle mapping={} result={} pulled_pc={} pulled_crm={} created={} updated_pc={} updated_crm={} conflicts={} "
        "quarantined={} failed={} api_calls={} duration_ms={}",
        mapping_.name, outcome, stats.pulled_pc, stats.pulled_crm, stats.created, stats.updated_pc, stats.updated_crm,
        stats.conflicts, stats.quarantined, stats.failed, stats.api_calls, stats.duration.count());
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
  for (const auto& bad : pc_pull->malformed)
    quarantine("pc", bad.id.empty() ? "(no id)" : bad.id, {FailureKind::rejected, "malformed: " + bad.reason, 0, ""}, stats);
  for (const auto& bad : crm_pull->malformed)
    quarantine("crm", bad.id.empty() ? "(no id)" : bad.id, {FailureKind::rejected, "malformed: " + bad.reason, 0, ""}, stats);

  // Pair what changed on either side, keyed by referral id.
  std::map<std::string, WorkItem> items;
  for (auto& r : pc_pull->records) {
    if (!store_.link_by_pc(mapping_.name, r.id) && !mapping_.selects(r.fields)) continue;
    auto& item = items[r.id];
    item.pc_id = r.id;
    item.pc = std::move(r);
  }
  for (auto& r : crm_pull->records) {
    std::string pc_id;
    if (auto link = store_.link_by_crm(mapping_.name, r.id)) {
      pc_id = link->pc_id;
    } else {
      auto ref = json_at(r.fields, mapping_.crm_link_field);
      if (!ref.is_string() || ref.get<std::string>().empty()) continue;
      pc_id = ref.get<std::string>();
      if (auto other = store_.link_by_pc(mapping_.name, pc_id); other && other->crm_id != r.id) {
        log_->warn("mapping={} {} {} claims referral {} which is linked to {}: left alone", mapping_.name,
                   crm_spec_.object, r.id, pc_id, other->crm_id);
        continue;
      }
    }
    auto& item = items[pc_id];
    item.pc_id = pc_id;
    item.crm = std::move(r);
  }

  bool stopped = false;
  for (auto& [id, item] : items) {
    if (stop.load()) {
      stopped = true;
      break;
    }
    co_await sync_item(item, stats);
  }

  // The cursors move only past changes that were applied or quarantined (DESIGN invariant 5).
  if (!stopped && stats.failed == 0) {
    StateStore::Transaction tx(store_);
    store_.set_cursor(mapping_.name, "pc", pc_pull->cursor);
    store_.set_cursor(mapping_.name, "crm", crm_pull->cursor);
    tx.commit();
  }
  finish(stopped ? "stopped" : stats.failed ? "partial" : "ok");
  co_return stats;
}

net::awaitable<void> SyncEngine::sync_item(WorkItem& item, CycleStats& stats) {
  auto fail = [&](const std::string& side, const std::string& id, const Failure& f) {
    if (f.kind == FailureKind::rejected || f.kind == FailureKind::not_found) {
      quarantine(side, id, f, stats);
    } else {
      ++stats.failed;
      log_->warn("mapping={} side={} record={} not synced this cycle ({}): {}{}", mapping_.name, side, id,
                 to_string(f.kind), f.message, f.request_id.empty() ? "" : " request_id=" + f.request_id);
    }
  };

  for (int attempt = 0; attempt < kMaxMergeAttempts; ++attempt) {
    auto link = store_.link_by_pc(mapping_.name, item.pc_id);
    if (!link) {
      if (!item.pc) {
        auto pc = co_await pc_.get(pc_spec_, item.pc_id);
        if (!pc) co_return fail("pc", item.pc_id, pc.failure());
        item.pc = std::move(*pc);
      }
      if (!mapping_.selects(item.pc->fields)) co_return;
      // The create carries the referral id in the CRM's external-id field (upsert), and a pending
      // row is committed first, so a retry or a restart finds the record instead of duplicating it.
      store_.add_pending_create(mapping_.name, "crm", item.pc_id);
      auto fields = mapping_.crm_fields_for_create(item.pc->fields);
      auto created = co_await crm_.upsert(crm_spec_, item.pc_id, fields);
      if (!created) co_return fail("pc", item.pc_id, created.failure());
      link = Link{mapping_.name, item.pc_id, created->id, item.pc->version, created->version, nlohmann::json::object()};
      {
        StateStore::Transaction tx(store_);
        store_.save_link(*link);
        store_.remove_pending_create(mapping_.name, "crm", item.pc_id);
        tx.commit();
      }
      ++stats.created;
      log_->info("mapping={} created {} {} from referral {}", mapping_.name, crm_spec_.object, created->id, item.pc_id);
      item.crm = std::move(*created);
    }

    SideState pc_side{item.pc ? &item.pc->fields : nullptr, item.pc ? item.pc->modified : TimePoint{}};
    SideState crm_side{item.crm ? &item.crm->fields : nullptr, item.crm ? item.crm->modified : TimePoint{}};
    auto plan = merge(mapping_, pc_side, crm_side, link->shadow);

    std::vector<FieldChange> pc_changes, crm_changes;
    for (const auto& w : plan.to_pc)
      for (auto& c : mapping_.pc_changes(*w.rule, w.value)) pc_changes.push_back(std::move(c));
    for (const auto& w : plan.to_crm)
      for (auto& c : mapping_.crm_changes(*w.rule, w.value)) crm_changes.push_back(std::move(c));
    // The referral carries the CRM id, so that sellers in Partner Center see the pairing.
    if (item.pc && !mapping_.pc_link_field.empty() && json_at(item.pc->fields, mapping_.pc_link_field) != link->crm_id)
      pc_changes.push_back({mapping_.pc_link_field, link->crm_id});

    // A side that must be written but was not pulled is read first, then merged again.
    if (!pc_changes.empty() && !item.pc) {
      auto pc = co_await pc_.get(pc_spec_, item.pc_id);
      if (!pc) co_return fail("pc", item.pc_id, pc.failure());
      item.pc = std::move(*pc);
      continue;
    }
    if (!crm_changes.empty() && !item.crm) {
      auto crm = co_await crm_.get(crm_spec_, link->crm_id);
      if (!crm) co_return fail("crm", link->crm_id, crm.failure());
      item.crm = std::move(*crm);
      continue;
    }

    for (const auto& u : plan.unmapped) log_->warn("mapping={} referral={} {}", mapping_.name, item.pc_id, u);
    nlohmann::json shadow = link->shadow;
    for (auto& [k, v] : plan.agreed.items()) shadow[k] = v;
    auto save = [&] {
      link->shadow = shadow;
      if (item.pc) link->pc_version = item.pc->version;
      if (item.crm) link->crm_version = item.crm->version;
      store_.save_link(*link);
    };

    if (!crm_changes.empty()) {
      auto written = co_await crm_.update(crm_spec_, *item.crm, crm_changes);
      if (!written) {
        if (written.failure().kind == FailureKind::conflict) {
          log_->info("mapping={} {} {} changed while syncing; re-reading", mapping_.name, crm_spec_.object, link->crm_id);
          item.crm.reset();
          auto crm = co_await crm_.get(crm_spec_, link->crm_id);
          if (!crm) co_return fail("crm", link->crm_id, crm.failure());
          item.crm = std::move(*crm);
          continue;
        }
        co_return fail("crm", link->crm_id, written.failure());
      }
      item.crm = std::move(*written);
      for (const auto& w : plan.to_crm) {
        shadow[w.rule->name] = w.value;
        log_->info("mapping={} referral={} {}={} -> {} {} ({})", mapping_.name, item.pc_id, w.rule->name, w.value.dump(),
                   crm_spec_.object, link->crm_id, w.reason);
      }
      ++stats.updated_crm;
    }
    if (!pc_changes.empty()) {
      auto written = co_await pc_.update(pc_spec_, *item.pc, pc_changes);
      if (!written) {
        save();  // keep what the CRM write achieved
        if (written.failure().kind == FailureKind::conflict) {
          log_->info("mapping={} referral {} changed while syncing; re-reading", mapping_.name, item.pc_id);
          auto pc = co_await pc_.get(pc_spec_, item.pc_id);
          if (!pc) co_return fail("pc", item.pc_id, pc.failure());
          item.pc = std::move(*pc);
          continue;
        }
        co_return fail("pc", item.pc_id, written.failure());
      }
      item.pc = std::move(*written);
      for (const auto& w : plan.to_pc) {
        shadow[w.rule->name] = w.value;
        log_->info("mapping={} referral={} {}={} <- {} {} ({})", mapping_.name, item.pc_id, w.rule->name, w.value.dump(),
                   crm_spec_.object, link->crm_id, w.reason);
      }
      ++stats.updated_pc;
    }
    for (const auto& c : plan.conflicts) log_->info("mapping={} referral={} conflict {}", mapping_.name, item.pc_id, c);
    stats.conflicts += plan.conflicts.size();
    save();
    store_.release_quarantine(mapping_.name, "pc", item.pc_id);
    co_return;
  }
  ++stats.failed;
  log_->warn("mapping={} referral={} kept changing during {} attempts; retried next cycle", mapping_.name, item.pc_id,
             kMaxMergeAttempts);
}

}  // namespace cosync::engine
