// What the state store costs per call: statements prepared once per connection, and a link saved
// unchanged writing no row (a quiet cycle re-saves every link it read).
#include <catch2/catch.hpp>
#include <filesystem>
#include <sqlite3.h>

#include "daemon/store/migrations.hpp"
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

namespace {

std::string query_plan(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, (std::string("EXPLAIN QUERY PLAN ") + sql).c_str(), -1, &s, nullptr) == SQLITE_OK);
  std::string plan;
  while (sqlite3_step(s) == SQLITE_ROW) plan += std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 3))) + "\n";
  sqlite3_finalize(s);
  return plan;
}

std::vector<std::string> outbox_indexes(sqlite3* db) {
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='outbox' ORDER BY name",
                             -1, &s, nullptr) == SQLITE_OK);
  std::vector<std::string> names;
  while (sqlite3_step(s) == SQLITE_ROW) names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
  sqlite3_finalize(s);
  return names;
}

}  // namespace

TEST_CASE("state store: a referral's last event is found through its link, cosync's own by a small index", "[store]") {
  // Journal::event asks for the referral's last event before writing each one: a scan made a bulk
  // of N creates (N received events) cost O(N^2) rows read, and an index keyed by referral made
  // each commit of a bulk rewrite about one index page per record (issue 18).
  testing::TempDir dir;
  { StateStore store(dir.file("state.db")); }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(dir.file("state.db").c_str(), &db) == SQLITE_OK);
  auto referral = query_plan(db,
                             "SELECT o.id FROM links l JOIN outbox o ON o.id=l.last_event WHERE l.mapping=? AND "
                             "l.pc_id=? AND (?='[]' OR o.event IN (SELECT value FROM json_each(?)))");
  auto own = query_plan(db,
                        "SELECT id FROM outbox WHERE pc_id='' AND mapping=? AND (?='[]' OR event IN "
                        "(SELECT value FROM json_each(?))) ORDER BY id DESC LIMIT 1");
  auto indexes = outbox_indexes(db);
  sqlite3_close(db);
  INFO(referral << own);
  CHECK_THAT(referral, Catch::Contains("SEARCH l USING INDEX sqlite_autoindex_links_1"));
  CHECK_THAT(referral, Catch::Contains("SEARCH o USING INTEGER PRIMARY KEY"));
  CHECK_THAT(own, Catch::Contains("SEARCH outbox USING INDEX outbox_own"));
  CHECK(indexes == std::vector<std::string>{"outbox_own", "outbox_undispatched"});
}

TEST_CASE("state store: a referral's last event is its link's newest, across writes and the migration", "[store][migration]") {
  testing::TempDir dir;
  auto path = dir.file("state.db");
  {
    // A database of schema 12 (with outbox_by_referral), holding two events of one linked referral.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    for (int v = 0; v < 12; ++v) REQUIRE(sqlite3_exec(db, schema_migrations()[v], nullptr, nullptr, nullptr) == SQLITE_OK);
    const char* rows =
        "PRAGMA user_version=12;"
        "INSERT INTO links (mapping, pc_id, crm_id) VALUES ('m','ref-1','00Q1'),('m','ref-2','00Q2');"
        "INSERT INTO outbox (at, mapping, pc_id, crm_id, event, payload) VALUES "
        "('t1','m','ref-1','00Q1','received','{}'),('t2','m','ref-2','00Q2','received','{}'),"
        "('t3','m','ref-1','00Q1','won','{}');";
    REQUIRE(sqlite3_exec(db, rows, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  StateStore store(path);
  auto last = store.last_event("m", "ref-1", {});
  REQUIRE(last);
  CHECK(last->event == "won");
  CHECK(store.last_event("m", "ref-1", {"won"}));
  CHECK_FALSE(store.last_event("m", "ref-1", {"received"}));  // the last is "won"
  REQUIRE(store.last_event("m", "ref-2", {}));
  CHECK(store.last_event("m", "ref-2", {})->at == "t2");
  CHECK_FALSE(store.last_event("m", "ref-3", {}));

  store.add_event({0, "t4", "m", "ref-2", "00Q2", "lost", nlohmann::json::object()});
  store.add_event({0, "t5", "", "", "", "sign_in_failing", nlohmann::json::object()});
  store.add_event({0, "t6", "m", "ref-1", "00Q1", "accepted", nlohmann::json::object()});
  CHECK(store.last_event("m", "ref-2", {})->event == "lost");
  CHECK(store.last_event("m", "ref-1", {})->event == "accepted");
  auto own = store.last_event("", "", {"sign_in_failing", "sign_in_recovered"});
  REQUIRE(own);
  CHECK(own->at == "t5");
}

TEST_CASE("state store: the WAL is checkpointed every 8192 pages, not SQLite's 1000", "[store]") {
  // A bulk's commits rewrite the same pages of the links index: fewer checkpoints copy each of
  // them into the database fewer times (issue 18). 3000 commits of a page or more each: with
  // checkpoints every 1000 pages the WAL restarts at its beginning and stays about 4 MB.
  testing::TempDir dir;
  StateStore store(dir.file("state.db"));
  Link link = sample_link();
  link.shadow["notes"] = std::string(3000, 'x');
  for (int k = 0; k < 3000; ++k) {
    link.pc_id = "ref-" + std::to_string(k);
    link.crm_id = "00Q" + std::to_string(k);
    store.save_link(link);
  }
  CHECK(std::filesystem::file_size(dir.file("state.db-wal")) > 3000u * 4096u);
}
