#include "daemon/engine/sync_engine.hpp"

#include <algorithm>

#include "daemon/util/time.hpp"

namespace cosync::engine {

namespace net = boost::asio;

SyncEngine::SyncEngine(const mapping::Mapping& mapping, connectors::Connector& pc, connectors::Connector& crm,
                       StateStore& store, const Clock& clock, Log log, RuleSet rules, EngineOptions options)
    : mapping_(mapping),
      pc_(pc),
      crm_(crm),
      store_(store),
      clock_(clock),
      log_(log),
      rules_(std::move(rules)),
      options_(options),
      planner_(mapping, pc, crm, store, rules_, clock, log),
      journal_(mapping, crm.system(), store, clock, log, options),
      executor_(planner_, pc, crm, store, journal_, clock, log) {}

void SyncEngine::summarize(const char* kind, const char* outcome, CycleStats& stats, std::size_t calls_before,
                           std::chrono::steady_clock::time_point started) const {
  stats.api_calls = pc_.api_calls() + crm_.api_calls() - calls_before;
  stats.crm_api_usage = crm_.api_usage();
  stats.duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  log_->info(
      "{} mapping={} result={} pulled_pc={} pulled_crm={} created={} shared={} updated_pc={} updated_crm={} conflicts={} "
      "quarantined={} orphaned={} failed={} api_calls={} crm_api_usage={} duration_ms={}",
      kind, mapping_.name, outcome, stats.pulled_pc, stats.pulled_crm, stats.created, stats.shared, stats.updated_pc,
      stats.updated_crm, stats.conflicts, stats.quarantined, stats.orphaned, stats.failed, stats.api_calls,
      stats.crm_api_usage.empty() ? "n/a" : stats.crm_api_usage, stats.duration.count());
}

void SyncEngine::record(const char* outcome, const CycleStats& stats) {
  nlohmann::json summary = {{"pulled_pc", stats.pulled_pc},     {"pulled_crm", stats.pulled_crm},
                            {"created", stats.created},         {"shared", stats.shared},
                            {"updated_pc", stats.updated_pc},
                            {"updated_crm", stats.updated_crm}, {"conflicts", stats.conflicts},
                            {"quarantined", stats.quarantined}, {"orphaned", stats.orphaned},
                            {"failed", stats.failed},           {"api_calls", stats.api_calls},
                            // Partner Center's clock then: reports count days on it (report_deals.cpp).
                            {"pc_clock", format_iso8601(planner_.pc_now())}};
  store_.record_cycle({mapping_.name, format_iso8601(clock_.now()), outcome, stats.duration.count(), summary});
  store_.prune_audit(format_iso8601(clock_.now() - options_.audit_retention));
}

net::awaitable<CycleStats> SyncEngine::run_cycle(const std::atomic<bool>& stop) {
  auto started = std::chrono::steady_clock::now();
  std::size_t calls_before = pc_.api_calls() + crm_.api_calls();
  CycleStats stats;
  CyclePlan plan = co_await planner_.plan();
  stats.pulled_pc = plan.pulled_pc;
  stats.pulled_crm = plan.pulled_crm;
  stats.pull_failed = plan.pull_failed;
  const char* outcome = "pull_failed";
  if (!plan.pull_failed) {
    bool finished = co_await executor_.execute(plan, stats, stop);  // named first (GCC 12)
    // The cursors move only past changes that were applied or quarantined (DESIGN invariant 5).
    if (finished && stats.failed == 0) {
      StateStore::Transaction tx(store_);
      store_.set_cursor(mapping_.name, "pc", plan.pc_cursor);
      store_.set_cursor(mapping_.name, "crm", plan.crm_cursor);
      tx.commit();
    }
    outcome = !finished ? "stopped" : stats.failed ? "partial" : "ok";
  }
  summarize("cycle", outcome, stats, calls_before, started);
  record(outcome, stats);
  co_return stats;
}

net::awaitable<Expected<std::vector<connectors::RemoteRecord>>> SyncEngine::pc_changes_since_last_cycle() {
  auto cursor = store_.cursor(mapping_.name, "pc");
  if (!cursor) co_return std::vector<connectors::RemoteRecord>{};
  auto pulled = co_await pc_.pull(planner_.pc_spec(), *cursor);
  if (!pulled) co_return pulled.failure();
  co_return std::move(pulled->records);
}

net::awaitable<std::vector<PlannedChange>> SyncEngine::plan() {
  auto started = std::chrono::steady_clock::now();
  std::size_t calls_before = pc_.api_calls() + crm_.api_calls();
  CyclePlan plan = co_await planner_.plan();
  CycleStats stats = planned_stats(plan);
  summarize("plan", plan.pull_failed ? "pull_failed" : "ok", stats, calls_before, started);
  auto changes = describe(plan, mapping_);
  // What is held for referrals this plan did not touch stays held: listed with its time too.
  for (const auto& h : store_.all_holds(mapping_.name)) {
    bool listed = std::any_of(changes.begin(), changes.end(), [&](const PlannedChange& c) {
      return c.action == "hold" && c.pc_id == h.pc_id && c.field == h.key;
    });
    if (listed) continue;
    auto link = store_.link_by_pc(mapping_.name, h.pc_id);
    changes.push_back({mapping_.name, h.pc_id, link ? link->crm_id : "", "hold", h.key, nullptr, h.until, h.reason});
  }
  co_return changes;
}

}  // namespace cosync::engine
