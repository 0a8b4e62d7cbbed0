#include "daemon/engine/journal.hpp"

#include <algorithm>

#include "daemon/engine/event_payload.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"

namespace cosync::engine {

Journal::Journal(const mapping::Mapping& mapping, std::string crm_system, StateStore& store, const Clock& clock,
                 Log log, EngineOptions options)
    : mapping_(mapping),
      crm_system_(std::move(crm_system)),
      store_(store),
      clock_(clock),
      log_(std::move(log)),
      options_(options) {}

void Journal::quarantine(const std::string& side, const std::string& id, const Failure& failure, CycleStats& stats) {
  ++stats.quarantined;
  std::string request_id = failure.request_id.empty() ? "" : " request_id=" + failure.request_id;
  // Exponential backoff between automatic retries, capped; `cosyncd quarantine retry` skips it.
  int attempts = store_.quarantine_attempts(mapping_.name, side, id);
  auto delay = options_.quarantine_retry * (1LL << std::min(attempts, 16));
  auto next_retry = clock_.now() + std::min<std::chrono::seconds>(delay, options_.quarantine_retry_max);
  store_.quarantine(mapping_.name, side, id, failure.message, failure.request_id, format_iso8601(next_retry));
  log_->warn("mapping={} side={} record={} quarantined (attempt {}, next retry {}): {}{}", mapping_.name, side, id,
             attempts + 1, format_iso8601(next_retry), failure.message, request_id);
}

void Journal::contain(const std::string& side, const std::string& id, const std::string& what, CycleStats& stats) {
  log_->error("mapping={} side={} record={} could not be processed: {}", mapping_.name, side, id, what);
  quarantine(side, id, {FailureKind::rejected, "could not be processed: " + what, 0, ""}, stats);
}

void Journal::audit(const Link& link, const std::string& field, const nlohmann::json& old_value,
                    const nlohmann::json& new_value, Origin origin, const std::string& kind, const std::string& detail) {
  store_.add_audit({format_iso8601(clock_.now()), mapping_.name, link.pc_id, link.crm_id, field, old_value, new_value,
                    to_string(origin), kind, detail, ""});
}

void Journal::event(const Link& link, const std::string& key, Origin origin, const std::string& reason,
                    const std::optional<connectors::RemoteRecord>& pc,
                    const std::optional<connectors::RemoteRecord>& crm) {
  // A record read again before its shadow could take the new value (e.g. a status the value map
  // lacks) shows the same transition again: the same event as the referral's last is no news.
  auto last = store_.last_event(mapping_.name, link.pc_id, {});
  if (last && last->event == key && remote_json::string_or(last->payload, "reason") == reason) return;
  audit(link, key, nullptr, nullptr, origin, "event", reason);
  // The records by reference: the payload takes its one copy of each (one per event in a bulk).
  static const nlohmann::json none = nlohmann::json::object();
  const nlohmann::json& pc_fields = pc ? pc->fields : none;
  const nlohmann::json& crm_fields = crm ? crm->fields : none;
  std::string at = format_iso8601(clock_.now());
  nlohmann::json payload =
      event_payload({mapping_.name, crm_system_, mapping_.crm_object, link.pc_id, link.crm_id}, key, reason, at,
                    pc_fields, crm_fields);
  store_.add_event({0, at, mapping_.name, link.pc_id, link.crm_id, key, std::move(payload)});
}

void Journal::orphan(const Link& link, const std::string& side, const Failure& failure, CycleStats& stats) {
  ++stats.orphaned;
  std::string system = side == "pc" ? std::string("Partner Center") : crm_system_;
  std::string reason = system + " answered 404 for " +
                       (side == "pc" ? "referral " + link.pc_id : mapping_.crm_object + " " + link.crm_id);
  // Not quarantine: no retry brings a deleted record back. The link stays (with the last synced
  // values) so that neither side is written again and a referral that reappears is not paired
  // with a second CRM record (DESIGN invariant 1).
  StateStore::Transaction tx(store_);
  store_.orphan_link(link, format_iso8601(clock_.now()), reason);
  audit(link, "(record)", side == "pc" ? nlohmann::json(link.pc_id) : nlohmann::json(link.crm_id), nullptr,
        side == "pc" ? Origin::pc : Origin::crm, "orphan", reason + ": " + failure.message);
  tx.commit();
  log_->warn("mapping={} referral={} {}={} link orphaned: {}; no more writes to either side for this pair{}",
             mapping_.name, link.pc_id, mapping_.crm_object, link.crm_id, reason,
             failure.request_id.empty() ? "" : " request_id=" + failure.request_id);
}

void Journal::fail(const RecordFailure& r, CycleStats& stats) {
  const Failure& f = r.failure;
  if (f.kind == FailureKind::not_found) {
    auto link = r.side == "pc" ? store_.link_by_pc(mapping_.name, r.id) : store_.link_by_crm(mapping_.name, r.id);
    if (link) return orphan(*link, r.side, f, stats);
  }
  if (f.kind == FailureKind::rejected || f.kind == FailureKind::not_found) {
    quarantine(r.side, r.id, f, stats);
  } else {
    ++stats.failed;
    log_->warn("mapping={} side={} record={} not synced this cycle ({}): {}{}", mapping_.name, r.side, r.id,
               to_string(f.kind), f.message, f.request_id.empty() ? "" : " request_id=" + f.request_id);
  }
}

}  // namespace cosync::engine
