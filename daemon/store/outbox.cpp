// StateStore's notification outbox (daemon/store/outbox.hpp).
#include "daemon/store/outbox.hpp"

#include "daemon/store/payload_codec.hpp"
#include "daemon/store/sqlite_statement.hpp"
#include "daemon/store/state_store.hpp"

namespace cosync {
namespace {

constexpr const char* kDeliveryColumns =
    "d.id, d.event_id, d.rule, d.message_id, d.status, d.attempts, d.next_attempt, d.last_error, d.sent_at, "
    "o.at, o.mapping, o.pc_id, o.crm_id, o.event, o.payload";

OutboxEvent read_event(const SqliteStatement& s, int first) {
  OutboxEvent e;
  e.at = s.text(first);
  e.mapping = s.text(first + 1);
  e.pc_id = s.text(first + 2);
  e.crm_id = s.text(first + 3);
  e.event = s.text(first + 4);
  try {
    e.payload = nlohmann::json::parse(payload_codec::unpack(s.text(first + 5)), nullptr, false);
  } catch (const std::runtime_error&) {
    e.payload = nullptr;  // a corrupt packed payload reads as an empty one, as unparsable text does
  }
  if (!e.payload.is_object()) e.payload = nlohmann::json::object();
  return e;
}

Delivery read_delivery(const SqliteStatement& s) {
  Delivery d;
  d.id = s.integer(0);
  d.event_id = s.integer(1);
  d.rule = s.text(2);
  d.message_id = s.text(3);
  d.status = s.text(4);
  d.attempts = static_cast<int>(s.integer(5));
  d.next_attempt = s.text(6);
  d.last_error = s.text(7);
  d.sent_at = s.text(8);
  d.event = read_event(s, 9);
  d.event.id = d.event_id;
  return d;
}

}  // namespace

long long StateStore::add_event(const OutboxEvent& e) {
  // Cached statements (one prepare per connection): an event is written for every create of a bulk.
  SqliteStatement s(*statements_, "INSERT INTO outbox (at, mapping, pc_id, crm_id, event, payload) VALUES (?,?,?,?,?,?)");
  std::string packed =
      payload_codec::pack(e.payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  s.bind(e.at, e.mapping, e.pc_id, e.crm_id, e.event, SqlBlob{packed});
  s.run();
  long long id = sqlite3_last_insert_rowid(db_);
  if (!e.pc_id.empty()) {
    // The referral's last event, on its link (migration 13): no index keyed by referral to rewrite.
    SqliteStatement link(*statements_, "UPDATE links SET last_event=? WHERE mapping=? AND pc_id=?");
    link.bind(id, e.mapping, e.pc_id);
    link.run();
  }
  return id;
}

namespace {

std::vector<OutboxEvent> read_events(SqliteStatement& s) {
  std::vector<OutboxEvent> out;
  while (s.step()) {
    out.push_back(read_event(s, 1));
    out.back().id = s.integer(0);
  }
  return out;
}

}  // namespace

std::vector<OutboxEvent> StateStore::undispatched_events(std::size_t limit) const {
  SqliteStatement s(db_,
                    "SELECT id, at, mapping, pc_id, crm_id, event, payload FROM outbox WHERE dispatched=0 "
                    "ORDER BY id LIMIT ?");
  s.bind(static_cast<long long>(limit));
  return read_events(s);
}

std::vector<OutboxEvent> StateStore::events() const {
  SqliteStatement s(db_, "SELECT id, at, mapping, pc_id, crm_id, event, payload FROM outbox ORDER BY id");
  return read_events(s);
}

std::optional<OutboxEvent> StateStore::last_event(const std::string& mapping, const std::string& pc_id,
                                                   const std::vector<std::string>& keys) const {
  // cosync's own events by the partial index outbox_own; a referral's by its link's last_event.
  static const std::string own =
      "SELECT id, at, mapping, pc_id, crm_id, event, payload FROM outbox WHERE pc_id='' AND mapping=? "
      "AND (?='[]' OR event IN (SELECT value FROM json_each(?))) ORDER BY id DESC LIMIT 1";
  static const std::string referral =
      "SELECT o.id, o.at, o.mapping, o.pc_id, o.crm_id, o.event, o.payload FROM links l JOIN outbox o "
      "ON o.id=l.last_event WHERE l.mapping=? AND l.pc_id=? AND (?='[]' OR o.event IN (SELECT value FROM json_each(?)))";
  std::string list = nlohmann::json(keys).dump();
  SqliteStatement s(*statements_, pc_id.empty() ? own : referral);
  if (pc_id.empty())
    s.bind(mapping, list, list);
  else
    s.bind(mapping, pc_id, list, list);
  auto found = read_events(s);
  if (found.empty()) return std::nullopt;
  return found.front();
}

int StateStore::prune_outbox(const std::string& sent_before, const std::string& events_before) {
  Transaction tx(*this);
  SqliteStatement sent(db_, "DELETE FROM deliveries WHERE status='sent' AND sent_at<?");
  sent.bind(sent_before);
  sent.run();
  int removed = sqlite3_changes(db_);
  SqliteStatement old(db_,
                      "DELETE FROM outbox WHERE dispatched=1 AND at<? AND NOT EXISTS "
                      "(SELECT 1 FROM deliveries d WHERE d.event_id=outbox.id)");
  old.bind(events_before);
  old.run();
  removed += sqlite3_changes(db_);
  tx.commit();
  return removed;
}

void StateStore::dispatch_event(long long event_id,
                                const std::vector<std::pair<std::string, std::string>>& rule_message_ids) {
  Transaction tx(*this);
  for (const auto& [rule, message_id] : rule_message_ids) {
    SqliteStatement s(db_, "INSERT OR IGNORE INTO deliveries (event_id, rule, message_id) VALUES (?,?,?)");
    s.bind(event_id, rule, message_id);
    s.run();
  }
  SqliteStatement done(db_, "UPDATE outbox SET dispatched=1 WHERE id=?");
  done.bind(event_id);
  done.run();
  tx.commit();
}

std::vector<Delivery> StateStore::due_deliveries(const std::string& now, std::size_t limit) const {
  SqliteStatement s(db_, (std::string("SELECT ") + kDeliveryColumns +
                          " FROM deliveries d JOIN outbox o ON o.id=d.event_id WHERE d.status='pending' AND "
                          "d.next_attempt<=? ORDER BY d.id LIMIT ?")
                             .c_str());
  s.bind(now, static_cast<long long>(limit));
  std::vector<Delivery> out;
  while (s.step()) out.push_back(read_delivery(s));
  return out;
}

std::vector<Delivery> StateStore::deliveries(const std::string& status) const {
  SqliteStatement s(db_, (std::string("SELECT ") + kDeliveryColumns +
                          " FROM deliveries d JOIN outbox o ON o.id=d.event_id WHERE ?='' OR d.status=? "
                          "ORDER BY d.id DESC")
                             .c_str());
  s.bind(status, status);
  std::vector<Delivery> out;
  while (s.step()) out.push_back(read_delivery(s));
  return out;
}

void StateStore::mark_sent(long long id, const std::string& at) {
  SqliteStatement s(db_, "UPDATE deliveries SET status='sent', sent_at=?, attempts=attempts+1, last_error='' WHERE id=?");
  s.bind(at, id);
  s.run();
}

void StateStore::mark_attempt_failed(long long id, const std::string& error, const std::string& next_attempt,
                                     bool give_up) {
  SqliteStatement s(db_,
                    "UPDATE deliveries SET attempts=attempts+1, last_error=?, next_attempt=?, status=? WHERE id=?");
  s.bind(error, next_attempt, give_up ? "failed" : "pending", id);
  s.run();
}

bool StateStore::retry_delivery_now(long long id) {
  SqliteStatement s(db_,
                    "UPDATE deliveries SET status='pending', attempts=0, next_attempt='' WHERE id=? AND status!='sent'");
  s.bind(id);
  s.run();
  return sqlite3_changes(db_) > 0;
}

bool StateStore::drop_delivery(long long id) {
  SqliteStatement s(db_, "DELETE FROM deliveries WHERE id=?");
  s.bind(id);
  s.run();
  return sqlite3_changes(db_) > 0;
}

}  // namespace cosync
