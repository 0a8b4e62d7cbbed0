// Deal registration, the executor's half: each planned registration is sent once. The pending row
// goes to the state DB before the PATCH: a crash after it finds the registration on the referral
// next cycle (the planner links it) instead of adding a second one.
#include "daemon/engine/executor.hpp"

namespace cosync::engine {

namespace net = boost::asio;

namespace {
constexpr const char* kPendingSide = "registration";  // as registration_planning.cpp reads it
}

net::awaitable<void> Executor::register_deals(std::vector<PlannedUpdate>& planned, CycleStats& stats) {
  for (auto& p : planned) {
    // A refused referral write (a closed referral takes no dealValue) leaves the registration
    // alone: Partner Center takes registration changes of a referral closed as Won.
    if (!p.registration || p.failed || p.again || !p.item->pc) continue;
    const PlannedRegistration& r = *p.registration;
    if (r.kind == PlannedRegistration::Kind::link) {
      registered(p, r);
      continue;
    }
    const std::string& id = p.item->pc_id;
    bool adding = r.kind == PlannedRegistration::Kind::add;
    if (adding) store_.add_pending_create(mapping_.name, kPendingSide, id, r.body);
    Expected<connectors::RemoteRecord> written = Failure{FailureKind::transient, "not sent", 0, ""};
    // Each co_await stands alone: GCC 12 miscompiles one inside a ternary.
    if (adding) written = co_await pc_.add_deal_registration(*p.item->pc, r.body);
    else written = co_await pc_.update_deal_registration(*p.item->pc, r.changes);
    if (!written) {
      // Refused: nothing was added, so the next try is planned afresh. Otherwise the answer may be
      // lost: the row stays, and the next cycle reads the referral before sending anything.
      if (adding && written.failure().kind == FailureKind::rejected) store_.remove_pending_create(mapping_.name, kPendingSide, id);
      journal_.fail({"pc", id, written.failure()}, stats);
      p.registration_failed = true;
      continue;
    }
    p.item->pc = std::move(*written);
    planner_.annotate(*p.item->pc);
    ++stats.updated_pc;
    registered(p, r);
  }
}

void Executor::registered(PlannedUpdate& p, const PlannedRegistration& r) {
  StateStore::Transaction tx(store_);
  store_.remove_pending_create(mapping_.name, kPendingSide, p.item->pc_id);
  if (r.kind == PlannedRegistration::Kind::replace) {
    for (const auto& c : r.changes) journal_.audit(p.link, c.path, nullptr, c.value, Origin::crm, "registration", r.reason);
  } else {
    journal_.audit(p.link, "(registration)", nullptr, r.body, Origin::crm, "registration", r.reason);
    journal_.event(p.link, "registration_submitted", Origin::crm, r.reason, p.item->pc, p.item->crm);
  }
  tx.commit();
  const char* what = r.kind == PlannedRegistration::Kind::add      ? "registered the deal"
                     : r.kind == PlannedRegistration::Kind::link   ? "linked the deal registration"
                                                                   : "updated the deal registration";
  log_->info("mapping={} referral={} {} ({})", mapping_.name, p.item->pc_id, what, r.reason);
}

}  // namespace cosync::engine
