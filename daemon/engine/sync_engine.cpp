#include "daemon/engine/sync_engine.hpp"

#include <algorithm>
#include <map>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "daemon/util/time.hpp"

namespace cosync::engine {

namespace net = boost::asio;
using connectors::RemoteRecord;

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

// What a cycle carries from batch to batch: counts, small maps and flags, never the records.
struct SyncEngine::CycleRun {
  const std::atomic<bool>& stop;
  CycleStats& stats;
  std::map<std::string, std::string> retyped;  // CyclePlan::retyped, found in any batch
  bool stopped = false;                        // a stop was requested: no further batch
  bool crm_pulled = false;                     // the CRM pull ran (from the first Partner Center page)
  std::optional<Failure> crm_failure;          // ... and failed
  std::string crm_cursor;                      // ... or ended here
  bool reread_pc = false;                      // the CRM batches wrote to Partner Center: pull it again
  // Referrals whose pair a CRM batch handled (id hashes -> whether it had the referral in hand),
  // and those whose CRM record was news (not at the version the link stored). See pc_again().
  std::unordered_map<std::uint64_t, bool> crm_handled;
  std::unordered_set<std::uint64_t> crm_news;
};

namespace {
std::uint64_t id_hash(const std::string& id) { return std::hash<std::string_view>{}(id); }
}  // namespace

net::awaitable<CycleStats> SyncEngine::run_cycle(const std::atomic<bool>& stop) {
  auto started = std::chrono::steady_clock::now();
  std::size_t calls_before = pc_.api_calls() + crm_.api_calls();
  CycleStats stats;
  CycleRun run{stop, stats, {}, false, false, std::nullopt, {}, false, {}, {}};
  auto pc_cursor = co_await pull_pc(run);
  if (run.reread_pc) pc_cursor = co_await pull_pc(run);  // see pull_pc: once at most
  bool pulled = pc_cursor && run.crm_pulled && !run.crm_failure;
  if (!pulled && !run.stopped) {
    const Failure& failure = run.crm_failure ? *run.crm_failure : pc_cursor.failure();
    log_->error("mapping={} {} pull failed: {}", mapping_.name, run.crm_failure ? crm_.system() : "Partner Center",
                failure.message);
    stats.pull_failed = true;
  }
  if (pulled && !run.stopped) co_await retry_due(run);
  // The cursors move only past changes that were applied or quarantined (DESIGN invariant 5): a
  // pull that failed midway keeps the batches it wrote (links and pending rows make them safe to
  // handle again) and is read again from the same cursors.
  if (pulled && !run.stopped && stats.failed == 0) {
    StateStore::Transaction tx(store_);
    store_.set_cursor(mapping_.name, "pc", *pc_cursor);
    store_.set_cursor(mapping_.name, "crm", run.crm_cursor);
    tx.commit();
  }
  const char* outcome = stats.pull_failed ? "pull_failed" : run.stopped ? "stopped" : stats.failed ? "partial" : "ok";
  summarize("cycle", outcome, stats, calls_before, started);
  record(outcome, stats);
  co_return stats;
}

net::awaitable<Expected<std::string>> SyncEngine::pull_pc(CycleRun& run) {
  // The CRM's records are handled before Partner Center's, so that a referral's create never
  // lands on a CRM record that already claims its id (a create whose link a crash lost, a linked
  // record whose id a person retyped): those are linked or restored first. The CRM is pulled once
  // Partner Center has served its first page, whose Date header sets its clock, on which rules
  // and holds decide. If the CRM batches wrote to Partner Center, that first page may hold a
  // referral as it was before our write: Partner Center is pulled again from the start.
  std::string cursor = store_.cursor(mapping_.name, "pc").value_or("");
  connectors::PageSink sink = [this, &run](connectors::PullPage& page) -> net::awaitable<bool> {
    if (!run.crm_pulled) {
      std::size_t pc_writes = run.stats.updated_pc + run.stats.shared;
      co_await pull_crm(run);
      if (run.crm_failure || run.stopped) co_return false;
      run.reread_pc = run.stats.updated_pc + run.stats.shared != pc_writes;
      if (run.reread_pc) co_return false;
    }
    bool more = co_await take_page(Side::pc, page, run);  // named first (GCC 12)
    co_return more;
  };
  bool again = std::exchange(run.reread_pc, false);
  if (again) log_->debug("mapping={} Partner Center pulled again after the CRM's writes to it", mapping_.name);
  auto next = co_await pc_.pull_pages(planner_.pc_spec(), cursor, sink);
  co_return next;
}

net::awaitable<void> SyncEngine::pull_crm(CycleRun& run) {
  run.crm_pulled = true;
  std::string cursor = store_.cursor(mapping_.name, "crm").value_or("");
  connectors::PageSink sink = [this, &run](connectors::PullPage& page) -> net::awaitable<bool> {
    bool more = co_await take_page(Side::crm, page, run);  // named first (GCC 12)
    co_return more;
  };
  auto next = co_await crm_.pull_pages(planner_.crm_spec(), cursor, sink);
  if (next) run.crm_cursor = std::move(*next);
  else if (!run.stopped) run.crm_failure = next.failure();
}

net::awaitable<bool> SyncEngine::take_page(Side side, connectors::PullPage& page, CycleRun& run) {
  (side == Side::pc ? run.stats.pulled_pc : run.stats.pulled_crm) += page.records.size();
  std::vector<std::string> read_crm;
  if (side == Side::pc && !run.crm_handled.empty())
    std::erase_if(page.records, [&](const RemoteRecord& r) { return !pc_again(r, run, read_crm); });
  if (side == Side::crm) note_crm_news(page.records, run);
  if (page.records.empty() && page.malformed.empty()) co_return true;  // a quiet pull plans nothing
  std::size_t at = 0;
  do {
    PullBatch batch;
    batch.side = side;
    if (at == 0) batch.malformed = std::move(page.malformed);
    std::size_t end = std::min(page.records.size(), at + kBatchRecords);
    for (; at < end; ++at) batch.records.push_back(std::move(page.records[at]));
    batch.read_crm = read_crm;
    bool more = co_await run_batch(batch, run);  // named first (GCC 12)
    if (!more) co_return false;
  } while (at < page.records.size());
  page.records.clear();
  co_return true;
}

bool SyncEngine::pc_again(const RemoteRecord& referral, CycleRun& run, std::vector<std::string>& read_crm) const {
  // A referral whose pair a CRM batch handled this cycle. Collected, both pulls met in one item;
  // streamed, the CRM batch planned the pair with the referral only if it read it. The referral
  // as pulled now is planned again only if it holds news, or the CRM record did and that batch
  // did not have the referral: then with the CRM record read again, so that the rules and the
  // merge see both sides. Not again at the version that batch merged: planned again on half the
  // facts it would undo what that batch decided (release its quarantine, register a deal early).
  auto handled = run.crm_handled.find(id_hash(referral.id));
  if (handled == run.crm_handled.end()) return true;
  auto link = store_.link_by_pc(mapping_.name, referral.id);
  if (!link) return true;
  bool pc_news = link->pc_version != referral.version;
  bool had_pc = handled->second;
  if (!pc_news && had_pc) return false;
  // Neither side is news, but the CRM batch decided without the referral: the referral alone may
  // still ask for something that batch could not see (its link field after a crash cut the
  // write-back short, a lead policy on its status), at the version the link stores. Then both.
  if (!pc_news && !run.crm_news.contains(handled->first) && !planner_.acts_alone(referral, *link)) return false;
  read_crm.push_back(referral.id);
  return true;
}

void SyncEngine::note_crm_news(const std::vector<RemoteRecord>& records, CycleRun& run) const {
  for (const auto& r : records)
    if (auto link = store_.link_by_crm(mapping_.name, r.id); link && link->crm_version != r.version)
      run.crm_news.insert(id_hash(link->pc_id));
}

net::awaitable<bool> SyncEngine::run_batch(PullBatch& batch, CycleRun& run) {
  // A requested stop lets the batch in flight finish; none starts after it.
  if (run.stop.load()) run.stopped = true;
  if (run.stopped) co_return false;
  CyclePlan plan;
  plan.pc_now = planner_.pc_now();
  plan.retyped = std::move(run.retyped);
  co_await planner_.plan_batch(batch, plan);
  run.retyped = std::move(plan.retyped);
  if (batch.side == Side::crm) {
    for (const auto& entry : plan.items) run.crm_handled[id_hash(entry.first)] = entry.second.pc.has_value();
    for (const auto& d : plan.deletions) run.crm_handled[id_hash(d.link.pc_id)] = true;
  }
  bool finished = co_await executor_.execute(plan, run.stats, run.stop);  // named first (GCC 12)
  if (!finished) run.stopped = true;
  co_return finished;
}

net::awaitable<void> SyncEngine::retry_due(CycleRun& run) {
  // After both pulls: what they brought was handled, so a record retried there is not due again.
  auto due = planner_.due_records(planner_.pc_now());
  for (std::size_t at = 0; at < due.size(); at += kBatchRecords) {
    PullBatch batch;
    auto end = due.begin() + static_cast<std::ptrdiff_t>(std::min(due.size(), at + kBatchRecords));
    batch.due.assign(due.begin() + static_cast<std::ptrdiff_t>(at), end);
    bool more = co_await run_batch(batch, run);  // named first (GCC 12)
    if (!more) co_return;
  }
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
