// What the state store costs per call: statements prepared once per connection, and a link saved
// unchanged writing no row (a quiet cycle re-saves every link it read).
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "daemon/store/sqlite_statement.hpp"
#include "daemon/store/state_store.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;

namespace {

Link sample_link() {
  return {"m", "ref-1", "00Q1", "etag-1", "2024-01-01T00:00:00.000+0000", {{"status", {"New", "Pending"}}}};
}

}  // namespace

TEST_CASE("state store: saving a link unchanged writes no row, a changed one writes one", "[store]") {
  testing::TempDir dir;
  StateStore store(dir.file("state.db"));
  Link link = sample_link();
  store.save_link(link);
  long long after_insert = store.total_changes();
  CHECK(after_insert >= 1);

  store.save_link(link);
  auto read_back = store.link_by_pc("m", "ref-1");
  REQUIRE(read_back);
  store.save_link(*read_back);  // as a cycle does: what it read, saved again
  CHECK(store.total_changes() == after_insert);

  for (auto change : {+[](Link& l) { l.shadow["status"] = nlohmann::json{"Active", "Accepted"}; },
                      +[](Link& l) { l.pc_version = "etag-2"; }, +[](Link& l) { l.crm_version = "2024-02-01"; },
                      +[](Link& l) { l.pending["status"] = "Won"; }, +[](Link& l) { l.crm_id = "00Q2"; }}) {
    long long before = store.total_changes();
    change(link);
    store.save_link(link);
    CHECK(store.total_changes() == before + 1);
    auto saved = store.link_by_pc("m", "ref-1");
    REQUIRE(saved);
    CHECK(saved->shadow == link.shadow);
    CHECK(saved->pc_version == link.pc_version);
    CHECK(saved->crm_version == link.crm_version);
    CHECK(saved->pending == link.pending);
    CHECK(saved->crm_id == link.crm_id);
  }
}

TEST_CASE("state store: a cached statement is reused, reset and unbound: one in use is not handed out twice", "[store]") {
  testing::TempDir dir;
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(dir.file("cache.db").c_str(), &db) == SQLITE_OK);
  {
    StatementCache cache(db);
    SqliteStatement(cache, "CREATE TABLE t (k INTEGER, v TEXT)").run();
    for (long long k : {1LL, 2LL}) SqliteStatement(cache, "INSERT INTO t VALUES (?, ?)").bind(k, "v" + std::to_string(k)).run();
    const char* select = "SELECT v FROM t WHERE k = ?";
    {
      SqliteStatement outer(cache, select);
      outer.bind(1LL);
      REQUIRE(outer.step());
      CHECK(outer.text(0) == "v1");
      // The same SQL while the first is mid-step: a second statement, not the one in use.
      SqliteStatement inner(cache, select);
      inner.bind(2LL);
      REQUIRE(inner.step());
      CHECK(inner.text(0) == "v2");
      CHECK(outer.text(0) == "v1");
    }
    int prepared = 0;
    for (sqlite3_stmt* s = sqlite3_next_stmt(db, nullptr); s; s = sqlite3_next_stmt(db, s)) ++prepared;
    {
      SqliteStatement again(cache, select);  // given back reset and unbound: NULL matches no row
      CHECK_FALSE(again.step());
    }
    SqliteStatement(cache, select).bind(2LL).step();
    int still = 0;
    for (sqlite3_stmt* s = sqlite3_next_stmt(db, nullptr); s; s = sqlite3_next_stmt(db, s)) {
      ++still;
      CHECK_FALSE(sqlite3_stmt_busy(s));  // none left holding a read
    }
    CHECK(still == prepared);  // nothing prepared again
  }
  CHECK(sqlite3_next_stmt(db, nullptr) == nullptr);  // all finalized with the cache
  CHECK(sqlite3_close(db) == SQLITE_OK);
}

TEST_CASE("state store: a referral's last event is found by an index, not a scan of the outbox", "[store]") {
  // Journal::event asks for the referral's last event before writing each one: a scan made a bulk
  // of N creates (N received events) cost O(N^2) rows read.
  testing::TempDir dir;
  { StateStore store(dir.file("state.db")); }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(dir.file("state.db").c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "EXPLAIN QUERY PLAN SELECT id, at, mapping, pc_id, crm_id, event, payload FROM outbox "
                             "WHERE mapping=? AND pc_id=? AND (?='[]' OR event IN (SELECT value FROM json_each(?))) "
                             "ORDER BY id DESC LIMIT 1",
                             -1, &s, nullptr) == SQLITE_OK);
  std::string plan;
  while (sqlite3_step(s) == SQLITE_ROW) plan += std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 3))) + "\n";
  sqlite3_finalize(s);
  sqlite3_close(db);
  INFO(plan);
  CHECK_THAT(plan, Catch::Contains("SEARCH outbox USING INDEX outbox_by_referral"));
}
