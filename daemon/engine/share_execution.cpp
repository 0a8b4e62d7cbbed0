// Co-sell sharing, the executor's half: POST each planned share exactly once and link it.
#include <chrono>

#include "daemon/engine/executor.hpp"
#include "daemon/util/time.hpp"

namespace cosync::engine {

namespace net = boost::asio;
using connectors::FieldChange;

namespace {
// A share waiting for consent is kept as a held action of the CRM record (it has no referral
// yet); it is never due by time: the record's next change brings it back.
std::string held_share_key(const std::string& crm_id) { return "crm:" + crm_id; }
constexpr const char* kConsentHold = "share_consent";
constexpr auto kNeverDue = std::chrono::hours(24 * 365 * 100);
}  // namespace

net::awaitable<void> Executor::share(CyclePlan& plan, std::vector<WorkItem*>& replan, CycleStats& stats) {
  for (auto& s : plan.shares) {
    if (s.held) {
      hold_share(s);
      continue;
    }
    // The pending row first: a crash after the POST finds the referral by externalReferenceId
    // (the upsert looks before it posts) and links it instead of sharing the opportunity twice.
    store_.add_pending_create(mapping_.name, "pc", s.crm.id, s.referral);
    std::vector<FieldChange> body;
    for (const auto& [key, value] : s.referral.items()) body.push_back({key, value});
    auto created = co_await pc_.upsert(planner_.pc_spec(), s.crm.id, body);
    if (!created) {
      // Refused (4xx): nothing was created, so the next try is a new share, checked afresh
      // against `when` and consent. Otherwise the answer may be lost: the row stays.
      if (created.failure().kind == FailureKind::rejected) store_.remove_pending_create(mapping_.name, "pc", s.crm.id);
      journal_.fail({"crm", s.crm.id, created.failure()}, stats);
      continue;
    }
    planner_.annotate(*created);
    std::string pc_id = created->id;
    WorkItem& item = plan.items[pc_id];
    item.pc_id = pc_id;
    item.pc = std::move(*created);
    item.crm = s.crm;
    item.done = false;
    try {
      link_shared(item, s, stats);
      replan.push_back(&item);
    } catch (const std::exception& e) {
      item.done = true;
      journal_.contain("crm", s.crm.id, e.what(), stats);
    }
  }
}

void Executor::hold_share(const PlannedShare& s) {
  std::string key = held_share_key(s.crm.id);
  if (!store_.holds(mapping_.name, key).empty()) return;  // said once already
  store_.hold({mapping_.name, key, kConsentHold, format_iso8601(clock_.now() + kNeverDue), *s.held});
  log_->warn("mapping={} {} {} not shared: {}", mapping_.name, mapping_.crm_object, s.crm.id, *s.held);
}

void Executor::link_shared(WorkItem& item, const PlannedShare& s, CycleStats& stats) {
  // The CRM record is where the share came from: what the referral was created with is
  // cosync's own write, so the shadow holds the referral's values and a CRM value that differs
  // (a title the share renamed, a stage) reads as the CRM's, never as an edit in Partner Center.
  nlohmann::json shadow = nlohmann::json::object();
  for (const auto& f : mapping_.fields)
    if (auto v = mapping_.canonical_from_pc(f, item.pc->fields); v && !v->is_null()) shadow[f.name] = *v;
  Link link{mapping_.name, item.pc_id, item.crm->id, item.pc->version, item.crm->version, std::move(shadow)};
  StateStore::Transaction tx(store_);
  store_.save_link(link);
  store_.remove_pending_create(mapping_.name, "pc", item.crm->id);
  store_.release_holds(mapping_.name, held_share_key(item.crm->id));
  std::string what = std::string("shared ") + mapping_.crm_object + " as a " + mapping::to_string(s.deal_type) + " referral";
  journal_.audit(link, "(record)", nullptr, item.pc_id, Origin::crm, "share", what);
  journal_.event(link, "co_sell_shared", Origin::crm, what, item.pc, item.crm);  // notifications, same transaction
  tx.commit();
  ++stats.shared;
  log_->info("mapping={} shared {} {} as {} referral {}{}", mapping_.name, mapping_.crm_object, item.crm->id,
             mapping::to_string(s.deal_type), item.pc_id, s.resumed ? " (found again after an interrupted share)" : "");
}

}  // namespace cosync::engine
