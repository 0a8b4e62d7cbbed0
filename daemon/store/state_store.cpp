#include "daemon/store/state_store.hpp"

#include <stdexcept>

#include "daemon/store/migrations.hpp"
#include "daemon/store/quarantine_sql.hpp"
#include "daemon/store/sqlite_statement.hpp"

namespace cosync {
namespace {

constexpr const char* kLinkColumns =
    "mapping, pc_id, crm_id, pc_version, crm_version, shadow, pending, orphaned_at, orphan_reason";

Link read_link(const SqliteStatement& s) {
  Link l;
  l.mapping = s.text(0);
  l.pc_id = s.text(1);
  l.crm_id = s.text(2);
  l.pc_version = s.text(3);
  l.crm_version = s.text(4);
  l.shadow = nlohmann::json::parse(s.text(5), nullptr, false);
  if (l.shadow.is_discarded()) l.shadow = nlohmann::json::object();
  l.pending = nlohmann::json::parse(s.text(6), nullptr, false);
  if (!l.pending.is_object()) l.pending = nlohmann::json::object();
  l.orphaned_at = s.text(7);
  l.orphan_reason = s.text(8);
  return l;
}

}  // namespace

StateStore::StateStore(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot open state database " + path + ": " + message);
  }
  try {
    statements_ = std::make_unique<StatementCache>(db_);
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    // Checkpoint every 8192 WAL pages (32 MB) instead of 1000: a bulk's commits rewrite the same
    // pages of the links index (keyed by random referral ids) again and again, and a checkpoint
    // copies each page it finds once into the database, so fewer checkpoints copy fewer of
    // those pages (issue 18). No guarantee changes: a commit is in the WAL either way.
    exec("PRAGMA wal_autocheckpoint=8192");
    // Temporary files in memory: each record's savepoint journals the pages it changes, and on
    // disk that sub-journal spilled to a /var/tmp file rewritten about 50 KB per record in a bulk
    // (25 pwrite calls each). In memory it is truncated at every release, so it stays one
    // record's pages.
    exec("PRAGMA temp_store=MEMORY");
    exec("PRAGMA foreign_keys=ON");
    migrate();
  } catch (...) {
    // No destructor runs for an object whose constructor threw (a database newer than this
    // cosyncd, a failed migration): the connection is closed here, or it leaks.
    statements_.reset();
    sqlite3_close(db_);
    throw;
  }
}

StateStore::~StateStore() {
  statements_.reset();  // a connection with statements left unfinalized does not close
  sqlite3_close(db_);
}

void StateStore::exec(const char* sql) const {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error("state DB: " + message);
  }
}

void StateStore::run_cached(const char* sql) {
  // Prepared once: a bulk opens and releases a savepoint per record, and parsing the same
  // statement text each time showed in its profile.
  SqliteStatement s(*statements_, sql);
  s.run();
}

int StateStore::schema_version() const {
  SqliteStatement s(*statements_, "PRAGMA user_version");
  s.step();
  return static_cast<int>(s.integer(0));
}

void StateStore::migrate() {
  const auto& migrations = schema_migrations();
  int version = schema_version();
  if (version > static_cast<int>(migrations.size()))
    throw SchemaTooNew("state database schema version " + std::to_string(version) +
                             " is newer than this cosyncd supports (" + std::to_string(migrations.size()) + ")");
  for (int next = version + 1; next <= static_cast<int>(migrations.size()); ++next) {
    Transaction tx(*this);
    exec(migrations[next - 1]);
    exec(("PRAGMA user_version=" + std::to_string(next)).c_str());
    tx.commit();
  }
}

std::optional<Link> StateStore::link_by_pc(const std::string& mapping, const std::string& pc_id) const {
  static const std::string sql = std::string("SELECT ") + kLinkColumns + " FROM links WHERE mapping=? AND pc_id=?";
  SqliteStatement s(*statements_, sql);
  s.bind(mapping, pc_id);
  if (!s.step()) return std::nullopt;
  return read_link(s);
}

std::optional<Link> StateStore::link_by_crm(const std::string& mapping, const std::string& crm_id) const {
  static const std::string sql = std::string("SELECT ") + kLinkColumns + " FROM links WHERE mapping=? AND crm_id=?";
  SqliteStatement s(*statements_, sql);
  s.bind(mapping, crm_id);
  if (!s.step()) return std::nullopt;
  return read_link(s);
}

std::vector<Link> StateStore::links(const std::string& mapping) const {
  SqliteStatement s(*statements_, (std::string("SELECT ") + kLinkColumns + " FROM links WHERE mapping=? ORDER BY pc_id").c_str());
  s.bind(mapping);
  std::vector<Link> out;
  while (s.step()) out.push_back(read_link(s));
  return out;
}

StateStore::Counts StateStore::counts(const std::string& mapping) const {
  SqliteStatement s(*statements_,
                    "SELECT (SELECT count(*) FROM links WHERE mapping=?1), "
                    "(SELECT count(*) FROM links WHERE mapping=?1 AND orphaned_at <> ''), "
                    "(SELECT count(*) FROM quarantine WHERE mapping=?1), "
                    "(SELECT count(*) FROM held_actions WHERE mapping=?1)");
  s.bind(mapping);
  Counts c;
  if (!s.step()) return c;
  c.links = static_cast<std::size_t>(s.integer(0));
  c.orphaned = static_cast<std::size_t>(s.integer(1));
  c.quarantined = static_cast<std::size_t>(s.integer(2));
  c.held = static_cast<std::size_t>(s.integer(3));
  return c;
}

void StateStore::save_link(const Link& l) {
  SqliteStatement s(*statements_,
                    "INSERT INTO links (mapping, pc_id, crm_id, pc_version, crm_version, shadow, pending) "
                    "VALUES (?,?,?,?,?,?,?) "
                    "ON CONFLICT(mapping, pc_id) DO UPDATE SET crm_id=excluded.crm_id, pc_version=excluded.pc_version, "
                    "crm_version=excluded.crm_version, shadow=excluded.shadow, pending=excluded.pending, "
                    "updated_at=strftime('%Y-%m-%dT%H:%M:%fZ','now') "
                    // A link saved unchanged (every quiet cycle re-saves what it read) writes nothing.
                    "WHERE crm_id IS NOT excluded.crm_id OR pc_version IS NOT excluded.pc_version OR "
                    "crm_version IS NOT excluded.crm_version OR shadow IS NOT excluded.shadow OR "
                    "pending IS NOT excluded.pending");
  s.bind(l.mapping, l.pc_id, l.crm_id, l.pc_version, l.crm_version, l.shadow.dump(), l.pending.dump());
  s.run();
}

void StateStore::bury_link(const Link& link, const std::string& reason) {
  SqliteStatement remove(*statements_, "DELETE FROM links WHERE mapping=? AND pc_id=?");
  remove.bind(link.mapping, link.pc_id);
  remove.run();
  SqliteStatement tomb(*statements_, "INSERT OR REPLACE INTO tombstones (mapping, pc_id, crm_id, reason) VALUES (?,?,?,?)");
  tomb.bind(link.mapping, link.pc_id, link.crm_id, reason);
  tomb.run();
  release_holds(link.mapping, link.pc_id);
}

void StateStore::release_holds(const std::string& mapping, const std::string& pc_id) {
  SqliteStatement s(*statements_, "DELETE FROM held_actions WHERE mapping=? AND pc_id=?");
  s.bind(mapping, pc_id);
  s.run();
}

void StateStore::orphan_link(const Link& link, const std::string& at, const std::string& reason) {
  SqliteStatement s(*statements_, "UPDATE links SET orphaned_at=?, orphan_reason=? WHERE mapping=? AND pc_id=?");
  s.bind(at, reason, link.mapping, link.pc_id);
  s.run();
  release_quarantine(link.mapping, "pc", link.pc_id);
  release_quarantine(link.mapping, "crm", link.crm_id);
  release_holds(link.mapping, link.pc_id);  // no more writes to the pair: nothing to hold for it
}

void StateStore::hold(const HeldAction& h) {
  SqliteStatement s(*statements_, "INSERT OR REPLACE INTO held_actions (mapping, pc_id, key, until, reason) VALUES (?,?,?,?,?)");
  s.bind(h.mapping, h.pc_id, h.key, h.until, h.reason);
  s.run();
}

void StateStore::release_hold(const std::string& mapping, const std::string& pc_id, const std::string& key) {
  SqliteStatement s(*statements_, "DELETE FROM held_actions WHERE mapping=? AND pc_id=? AND key=?");
  s.bind(mapping, pc_id, key);
  s.run();
}

namespace {
std::vector<HeldAction> read_holds(SqliteStatement& s) {
  std::vector<HeldAction> out;
  while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)});
  return out;
}
}  // namespace

std::vector<HeldAction> StateStore::holds(const std::string& mapping, const std::string& pc_id) const {
  SqliteStatement s(*statements_, "SELECT mapping, pc_id, key, until, reason FROM held_actions WHERE mapping=? AND pc_id=?");
  s.bind(mapping, pc_id);
  return read_holds(s);
}

std::vector<HeldAction> StateStore::due_holds(const std::string& mapping, const std::string& now) const {
  SqliteStatement s(*statements_,
                    "SELECT mapping, pc_id, key, until, reason FROM held_actions WHERE mapping=? AND until<=? "
                    "ORDER BY until");
  s.bind(mapping, now);
  return read_holds(s);
}

std::vector<HeldAction> StateStore::all_holds(const std::string& mapping) const {
  SqliteStatement s(*statements_,
                    "SELECT mapping, pc_id, key, until, reason FROM held_actions WHERE mapping=? ORDER BY until");
  s.bind(mapping);
  return read_holds(s);
}

long long StateStore::audit_count(const std::string& mapping, const std::string& kind) const {
  SqliteStatement s(*statements_, "SELECT COUNT(*) FROM audit WHERE mapping=? AND kind=?");
  s.bind(mapping, kind);
  return s.step() ? s.integer(0) : 0;
}

bool StateStore::is_tombstoned(const std::string& mapping, const std::string& pc_id) const {
  SqliteStatement s(*statements_, "SELECT 1 FROM tombstones WHERE mapping=? AND pc_id=?");
  s.bind(mapping, pc_id);
  return s.step();
}

std::optional<std::string> StateStore::cursor(const std::string& mapping, const std::string& side) const {
  SqliteStatement s(*statements_, "SELECT value FROM cursors WHERE mapping=? AND side=?");
  s.bind(mapping, side);
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

void StateStore::set_cursor(const std::string& mapping, const std::string& side, const std::string& value) {
  SqliteStatement s(*statements_,
                    "INSERT INTO cursors (mapping, side, value) VALUES (?,?,?) ON CONFLICT(mapping, side) DO UPDATE "
                    "SET value=excluded.value, updated_at=strftime('%Y-%m-%dT%H:%M:%fZ','now')");
  s.bind(mapping, side, value);
  s.run();
}

void StateStore::add_pending_create(const std::string& mapping, const std::string& side, const std::string& key,
                                    const nlohmann::json& intent) {
  SqliteStatement s(*statements_,
                    "INSERT INTO pending_creates (mapping, side, key, intent) VALUES (?,?,?,?) "
                    "ON CONFLICT(mapping, side, key) DO UPDATE SET intent=excluded.intent");
  s.bind(mapping, side, key, intent.dump());
  s.run();
}

std::optional<nlohmann::json> StateStore::pending_create(const std::string& mapping, const std::string& side,
                                                         const std::string& key) const {
  SqliteStatement s(*statements_, "SELECT intent FROM pending_creates WHERE mapping=? AND side=? AND key=?");
  s.bind(mapping, side, key);
  if (!s.step()) return std::nullopt;
  auto intent = nlohmann::json::parse(s.text(0), nullptr, false);
  return intent.is_object() ? intent : nlohmann::json::object();
}

void StateStore::remove_pending_create(const std::string& mapping, const std::string& side, const std::string& key) {
  SqliteStatement s(*statements_, "DELETE FROM pending_creates WHERE mapping=? AND side=? AND key=?");
  s.bind(mapping, side, key);
  s.run();
}

std::vector<std::string> StateStore::pending_creates(const std::string& mapping, const std::string& side) const {
  SqliteStatement s(*statements_, "SELECT key FROM pending_creates WHERE mapping=? AND side=? ORDER BY created_at");
  s.bind(mapping, side);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

int StateStore::quarantine(const std::string& mapping, const std::string& side, const std::string& record_id,
                           const std::string& reason, const std::string& request_id, const std::string& next_retry) {
  SqliteStatement s(*statements_, quarantine_sql::kUpsert);
  s.bind(mapping, side, record_id, reason, request_id, next_retry);
  int attempts = s.step() ? static_cast<int>(s.integer(0)) : 1;
  s.run();
  return attempts;
}

int StateStore::quarantine_attempts(const std::string& mapping, const std::string& side,
                                    const std::string& record_id) const {
  SqliteStatement s(*statements_, quarantine_sql::kAttempts);
  s.bind(mapping, side, record_id);
  return s.step() ? static_cast<int>(s.integer(0)) : 0;
}

namespace {

QuarantineEntry read_quarantine(const SqliteStatement& s) {
  return {s.integer(0), s.text(1), s.text(2), s.text(3), s.text(4),
          s.text(5),    static_cast<int>(s.integer(6)), s.text(7), s.text(8), s.text(9)};
}

}  // namespace

std::vector<QuarantineEntry> StateStore::due_quarantine(const std::string& mapping, const std::string& now) const {
  SqliteStatement s(*statements_, quarantine_sql::kDue.c_str());
  s.bind(mapping, now);
  std::vector<QuarantineEntry> out;
  while (s.step()) out.push_back(read_quarantine(s));
  return out;
}

bool StateStore::retry_quarantine_now(long long id) {
  SqliteStatement s(*statements_, "UPDATE quarantine SET next_retry='' WHERE id=?");
  s.bind(id);
  s.run();
  return sqlite3_changes(db_) > 0;
}

bool StateStore::drop_quarantine(long long id) {
  SqliteStatement s(*statements_, "DELETE FROM quarantine WHERE id=?");
  s.bind(id);
  s.run();
  return sqlite3_changes(db_) > 0;
}

void StateStore::retry_all_quarantine_now() { exec("UPDATE quarantine SET next_retry=''"); }

void StateStore::add_audit(const AuditEntry& e) {
  SqliteStatement s(*statements_,
                    "INSERT INTO audit (at, mapping, pc_id, crm_id, field, old_value, new_value, origin, kind, detail, "
                    "request_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  s.bind(e.at, e.mapping, e.pc_id, e.crm_id, e.field, e.old_value.dump(), e.new_value.dump(), e.origin, e.kind,
         e.detail, e.request_id);
  s.run();
}

std::vector<AuditEntry> StateStore::audit(const std::string& mapping, std::size_t limit) const {
  SqliteStatement s(*statements_,
                    "SELECT at, mapping, pc_id, crm_id, field, old_value, new_value, origin, kind, detail, request_id "
                    // Newest first along the rowid, stopping at `limit` (+mapping: not through an index,
                    // which would read and sort every entry of the mapping first).
                    "FROM audit WHERE +mapping=? ORDER BY id DESC LIMIT ?");
  s.bind(mapping, static_cast<long long>(limit));
  std::vector<AuditEntry> out;
  auto parse = [](const std::string& text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    return j.is_discarded() ? nlohmann::json(text) : j;
  };
  while (s.step())
    out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), parse(s.text(5)), parse(s.text(6)), s.text(7),
                   s.text(8), s.text(9), s.text(10)});
  return out;
}

int StateStore::prune_audit(const std::string& before) {
  SqliteStatement s(*statements_, "DELETE FROM audit WHERE at < ?");
  s.bind(before);
  s.run();
  return sqlite3_changes(db_);
}

void StateStore::record_cycle(const CycleRecord& c) {
  SqliteStatement s(*statements_,
                    "INSERT INTO cycles (mapping, finished_at, result, duration_ms, summary) VALUES (?,?,?,?,?) "
                    "ON CONFLICT(mapping) DO UPDATE SET finished_at=excluded.finished_at, result=excluded.result, "
                    "duration_ms=excluded.duration_ms, summary=excluded.summary");
  s.bind(c.mapping, c.finished_at, c.result, c.duration_ms, c.summary.dump());
  s.run();
}

std::vector<CycleRecord> StateStore::cycles() const {
  SqliteStatement s(*statements_, "SELECT mapping, finished_at, result, duration_ms, summary FROM cycles ORDER BY mapping");
  std::vector<CycleRecord> out;
  while (s.step())
    out.push_back({s.text(0), s.text(1), s.text(2), s.integer(3), nlohmann::json::parse(s.text(4), nullptr, false)});
  return out;
}

std::size_t StateStore::pending_create_count() const {
  SqliteStatement s(*statements_, "SELECT count(*) FROM pending_creates");
  s.step();
  return static_cast<std::size_t>(s.integer(0));
}

void StateStore::release_quarantine(const std::string& mapping, const std::string& side, const std::string& record_id) {
  SqliteStatement s(*statements_, quarantine_sql::kRelease);
  s.bind(mapping, side, record_id);
  s.run();
}

bool StateStore::is_quarantined(const std::string& mapping, const std::string& side, const std::string& record_id) const {
  return quarantine_attempts(mapping, side, record_id) > 0;
}

std::vector<QuarantineEntry> StateStore::quarantined() const {
  SqliteStatement s(*statements_, (std::string("SELECT ") + quarantine_sql::kColumns + " FROM quarantine ORDER BY id").c_str());
  std::vector<QuarantineEntry> out;
  while (s.step()) out.push_back(read_quarantine(s));
  return out;
}

long long StateStore::total_changes() const { return sqlite3_total_changes64(db_); }

StateStore::SqlScope::SqlScope(StateStore& store, const char* open, const char* close, const char* undo)
    : store_(store), close_(close), undo_(undo) {
  store_.run_cached(open);
}

StateStore::SqlScope::~SqlScope() {
  if (!done_) {
    try {
      store_.exec(undo_);
    } catch (...) {
    }
  }
}

void StateStore::SqlScope::finish() {
  store_.run_cached(close_);
  done_ = true;
}

}  // namespace cosync
