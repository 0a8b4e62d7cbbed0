#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "daemon/store/migrations.hpp"
#include "daemon/store/quarantine_sql.hpp"
#include "daemon/store/state_store.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;

TEST_CASE("state store: migrations, links, cursors and quarantine survive a reopen") {
  testing::TempDir dir;
  auto path = dir.file("state.db");
  {
    StateStore store(path);
    CHECK(store.schema_version() == static_cast<int>(schema_migrations().size()));
    store.save_link({"m", "ref-1", "00Q1", "etag-1", "2024-01-01T00:00:00.000+0000", {{"status", {"New", "Pending"}}}});
    store.set_cursor("m", "pc", "2024-05-01T00:00:00.000Z");
    CHECK(store.quarantine("m", "pc", "ref-2", "malformed: no eTag", "req-9", "2024-05-01T00:05:00.000Z") == 1);
    CHECK(store.quarantine("m", "pc", "ref-2", "malformed: no eTag", "req-10", "2024-05-01T00:15:00.000Z") == 2);
  }
  StateStore store(path);
  CHECK(store.schema_version() == static_cast<int>(schema_migrations().size()));
  auto link = store.link_by_crm("m", "00Q1");
  REQUIRE(link);
  CHECK(link->pc_id == "ref-1");
  CHECK(link->shadow["status"] == nlohmann::json{"New", "Pending"});
  CHECK_FALSE(store.link_by_pc("other-mapping", "ref-1"));
  CHECK(store.cursor("m", "pc") == "2024-05-01T00:00:00.000Z");
  CHECK_FALSE(store.cursor("m", "crm"));
  auto q = store.quarantined();
  REQUIRE(q.size() == 1);
  CHECK(q[0].attempts == 2);
  CHECK(q[0].request_id == "req-10");
  CHECK(store.due_quarantine("m", "2024-05-01T00:10:00.000Z").empty());
  CHECK(store.due_quarantine("m", "2024-05-01T00:15:00.000Z").size() == 1);
  CHECK(store.retry_quarantine_now(q[0].id));
  CHECK(store.due_quarantine("m", "2024-01-01T00:00:00.000Z").size() == 1);
  CHECK_FALSE(store.drop_quarantine(q[0].id + 100));
  store.release_quarantine("m", "pc", "ref-2");
  CHECK(store.quarantined().empty());
}

TEST_CASE("state store: a CRM record links to one referral per mapping") {
  testing::TempDir dir;
  StateStore store(dir.file("state.db"));
  store.save_link({"m", "ref-1", "00Q1", "", "", nlohmann::json::object()});
  CHECK_THROWS(store.save_link({"m", "ref-2", "00Q1", "", "", nlohmann::json::object()}));
  store.save_link({"other", "ref-2", "00Q1", "", "", nlohmann::json::object()});
  CHECK(store.links("m").size() == 1);
}

TEST_CASE("state store: a transaction not committed leaves nothing behind") {
  testing::TempDir dir;
  StateStore store(dir.file("state.db"));
  {
    StateStore::Transaction tx(store);
    store.set_cursor("m", "pc", "x");
  }
  CHECK_FALSE(store.cursor("m", "pc"));
}

TEST_CASE("state store: audit entries, newest first, pruned by age") {
  testing::TempDir dir;
  StateStore store(dir.file("state.db"));
  store.add_audit({"2024-01-01T00:00:00.000Z", "m", "ref-1", "00Q1", "status", nlohmann::json{"New", "Pending"},
                   nlohmann::json{"Active", "Accepted"}, "crm", "update", "changed in the CRM", ""});
  store.add_audit({"2024-03-01T00:00:00.000Z", "m", "ref-1", "00Q1", "notes", "a", "b", "pc", "conflict", "pc wins", ""});
  auto entries = store.audit("m", 10);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].field == "notes");
  CHECK(entries[1].new_value == nlohmann::json{"Active", "Accepted"});
  CHECK(store.prune_audit("2024-02-01T00:00:00.000Z") == 1);
  CHECK(store.audit("m", 10).size() == 1);
}

TEST_CASE("state store: an orphaned link keeps its last values, survives a save and drops its quarantine") {
  testing::TempDir dir;
  StateStore store(dir.file("state.db"));
  Link link{"m", "ref-1", "00Q1", "etag-1", "v1", {{"notes", "last synced"}}};
  store.save_link(link);
  store.quarantine("m", "crm", "00Q1", "rejected", "", "");
  store.orphan_link(link, "2026-11-30T10:00:00.000Z", "Partner Center answered 404");
  store.save_link(link);  // a save later in the same cycle does not revive it

  auto orphan = store.link_by_pc("m", "ref-1");
  REQUIRE(orphan);
  CHECK(orphan->orphaned());
  CHECK(orphan->orphaned_at == "2026-11-30T10:00:00.000Z");
  CHECK(orphan->orphan_reason == "Partner Center answered 404");
  CHECK(orphan->shadow["notes"] == "last synced");
  CHECK(orphan->pc_version == "etag-1");
  CHECK(store.quarantined().empty());
  CHECK(store.link_by_crm("m", "00Q1")->orphaned());
}

TEST_CASE("state store: an id holding a NUL byte is read back whole, so saving it again is no conflict") {
  testing::TempDir dir;
  StateStore store(dir.file("state.db"));
  const std::string pc_id("ref\0tail", 8);
  const std::string crm_id("00Q\0x", 5);
  store.save_link({"m", pc_id, crm_id, "", "", nlohmann::json::object()});
  auto link = store.link_by_crm("m", crm_id);
  REQUIRE(link);
  CHECK(link->pc_id == pc_id);
  CHECK(link->crm_id == crm_id);
  // Read back cut ("ref", "00Q"), the link was saved as a second row: UNIQUE constraint failed.
  CHECK_NOTHROW(store.save_link(*link));
  CHECK(store.links("m").size() == 1);

  store.quarantine("m", "pc", pc_id, "malformed", "", "");
  auto q = store.quarantined();
  REQUIRE(q.size() == 1);
  CHECK(q[0].record_id == pc_id);
  CHECK(store.quarantine_attempts("m", "pc", pc_id) == 1);
  CHECK(store.quarantine_attempts("m", "pc", "ref") == 0);
}

namespace {

// What SQLite plans for `sql` on the migrated schema: one "detail" line per step.
std::vector<std::string> query_plan(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  std::vector<std::string> steps;
  while (sqlite3_step(stmt) == SQLITE_ROW) steps.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3)));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return steps;
}

}  // namespace

TEST_CASE("state store: quarantining a record finds its entry through an index, never by a table scan") {
  testing::TempDir dir;
  auto path = dir.file("state.db");
  { StateStore store(path); }
  // The upsert (kUpsert) has no plan of its own: its ON CONFLICT target is the unique key.
  auto searches = [&](const std::string& sql, const std::string& key_terms) {
    auto plan = query_plan(path, sql);
    INFO(sql);
    REQUIRE_FALSE(plan.empty());
    INFO(plan[0]);
    CHECK(plan[0].rfind("SEARCH quarantine USING INDEX", 0) == 0);
    CHECK(plan[0].find(key_terms) != std::string::npos);
    for (const auto& step : plan) CHECK(step.rfind("SCAN", 0) != 0);
  };
  searches(quarantine_sql::kAttempts, "(mapping=? AND side=? AND record_id=?)");
  searches(quarantine_sql::kRelease, "(mapping=? AND side=? AND record_id=?)");
  // Once a cycle; without quarantine_due it read every entry of the mapping.
  searches(quarantine_sql::kDue, "(mapping=? AND next_retry<?)");
}

TEST_CASE("state store: a savepoint undoes one record's writes and keeps the rest of the transaction") {
  testing::TempDir dir;
  StateStore store(dir.file("state.db"));
  {
    StateStore::Transaction tx(store);
    store.set_cursor("m", "pc", "kept");
    {
      StateStore::Savepoint record(store);
      store.set_cursor("m", "crm", "undone");
    }
    {
      StateStore::Savepoint record(store);
      store.save_link({"m", "ref-1", "00Q1", "", "", nlohmann::json::object()});
      record.release();
    }
    tx.commit();
  }
  CHECK(store.cursor("m", "pc") == "kept");
  CHECK_FALSE(store.cursor("m", "crm"));
  CHECK(store.link_by_pc("m", "ref-1"));
}

TEST_CASE("state store: the outbox keeps events until dispatched, and deliveries with their retry state") {
  testing::TempDir dir;
  StateStore store(dir.file("state.db"));
  auto id = store.add_event({0, "2026-01-01T00:00:00Z", "m", "ref-1", "00Q1", "accepted", {{"referral_id", "ref-1"}}});
  auto events = store.undispatched_events(10);
  REQUIRE(events.size() == 1);
  CHECK(events[0].id == id);
  CHECK(events[0].payload["referral_id"] == "ref-1");
  store.dispatch_event(id, {{"intro", "<a@cosync>"}, {"teams", "<b@cosync>"}});
  store.dispatch_event(id, {{"intro", "<other@cosync>"}});  // already there: ignored
  CHECK(store.undispatched_events(10).empty());
  auto due = store.due_deliveries("2026-01-01T00:00:00Z", 10);
  REQUIRE(due.size() == 2);
  CHECK(due[0].rule == "intro");
  CHECK(due[0].message_id == "<a@cosync>");
  CHECK(due[0].event.event == "accepted");
  CHECK(due[0].event.pc_id == "ref-1");

  store.mark_sent(due[0].id, "2026-01-01T00:00:01Z");
  store.mark_attempt_failed(due[1].id, "connection refused", "2026-01-01T00:01:00Z", false);
  CHECK(store.due_deliveries("2026-01-01T00:00:30Z", 10).empty());
  auto later = store.due_deliveries("2026-01-01T00:01:00Z", 10);
  REQUIRE(later.size() == 1);
  CHECK(later[0].attempts == 1);
  CHECK(later[0].last_error == "connection refused");
  store.mark_attempt_failed(due[1].id, "connection refused", "2026-01-01T00:03:00Z", true);
  CHECK(store.due_deliveries("2030-01-01T00:00:00Z", 10).empty());
  REQUIRE(store.deliveries("failed").size() == 1);
  CHECK(store.deliveries("").size() == 2);

  CHECK(store.retry_delivery_now(due[1].id));
  CHECK_FALSE(store.retry_delivery_now(due[0].id));  // sent: nothing to retry
  CHECK(store.due_deliveries("2026-01-01T00:00:00Z", 10).size() == 1);
  CHECK(store.drop_delivery(due[1].id));
  CHECK_FALSE(store.drop_delivery(due[1].id));
  CHECK(store.deliveries("pending").empty());
}
