// Quiet means quiet (issue 18 part 4): the pull cursors are anchored on each API's clock at the
// time of the pull (its Date header), so once a bulk and the write-backs it caused have been read,
// a cycle with nothing new reads one page per connector and writes no link row. Anchored on the
// newest record seen, every cycle re-read the whole bulk until a newer change arrived.
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "tests/engine/engine_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;

namespace {

// One number read from the state database (the links table's updated_at is SQLite's clock, not
// the test's manual one).
std::string query_text(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out = "?";
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
        sqlite3_column_text(s, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST_CASE_METHOD(testing::EngineFixture,
                 "quiet cycle: after a bulk of 250 the next quiet cycle reads one page per connector, writes no link") {
  for (int i = 0; i < 250; ++i)  // three of the fake's 100-referral pages
    pc_fake.add_referral({{"customerProfile", {{"name", "Company " + std::to_string(i)}}}});
  auto bulk = cycle();
  REQUIRE(bulk.ok());
  REQUIRE(bulk.created == 250);

  // The cycle after the bulk reads what the bulk wrote (all of it changed after that pull) once.
  // Past the 300 s overlap (and the fake Salesforce's SystemModstamps, kept strictly increasing,
  // run up to 250 ms ahead of its clock after 250 creates).
  clock.advance(305s);
  auto echo = cycle();
  REQUIRE(echo.ok());

  // A poll interval later nothing changed: one page from each API, nothing written anywhere.
  clock.advance(30s);
  pc_fake.server().clear_requests();
  sf_fake.server().clear_requests();
  int writes_before = writes();
  const std::string db = dir.file("state.db");
  std::string last_write = query_text(db, "SELECT max(updated_at) FROM links");
  auto quiet = cycle();
  REQUIRE(quiet.ok());
  CHECK(quiet.pulled_pc == 0);
  CHECK(quiet.pulled_crm == 0);
  CHECK(pc_fake.server().requests().size() <= 2);
  CHECK(sf_fake.server().requests().size() <= 2);
  CHECK(writes() == writes_before);
  CHECK(query_text(db, "SELECT count(*) FROM links WHERE updated_at > '" + last_write + "'") == "0");

  // And a change made now is still read by the next cycle (the anchor did not skip past it).
  auto first = store.links(mapping.name).front();
  pc_fake.edit(first.pc_id, [](nlohmann::json& r) { r["customerProfile"]["name"] = "Renamed"; });
  clock.advance(30s);
  auto after = cycle();
  CHECK(after.ok());
  CHECK(after.pulled_pc == 1);
  CHECK(sf_fake.record("Lead", first.crm_id)["Company"] == "Renamed");
}

TEST_CASE_METHOD(testing::EngineFixture,
                 "quiet cycle: a referral changed while the previous pull was reading is read by the next one") {
  // The anchor is Partner Center's clock when it served the first page: an edit stamped at that
  // same second (after the page was read) is newer than the anchor minus the overlap.
  auto a = pc_fake.add_referral({{"customerProfile", {{"name", "Alpha"}}}});
  REQUIRE(cycle().ok());
  clock.advance(400s);
  REQUIRE(cycle().ok());  // cursor now at this instant on Partner Center's clock
  pc_fake.edit(a, [](nlohmann::json& r) { r["customerProfile"]["name"] = "Alpha Two"; });  // same instant
  auto next = cycle();
  CHECK(next.ok());
  CHECK(next.pulled_pc == 1);
  CHECK(sf_fake.record("Lead", lead_of(a))["Company"] == "Alpha Two");
}
