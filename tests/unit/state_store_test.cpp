#include <catch2/catch.hpp>

#include "daemon/store/state_store.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;

TEST_CASE("state store: migrations, links, cursors and quarantine survive a reopen") {
  testing::TempDir dir;
  auto path = dir.file("state.db");
  {
    StateStore store(path);
    CHECK(store.schema_version() == 1);
    store.save_link({"m", "ref-1", "00Q1", "etag-1", "2024-01-01T00:00:00.000+0000", {{"status", {"New", "Pending"}}}});
    store.set_cursor("m", "pc", "2024-05-01T00:00:00.000Z");
    store.quarantine("m", "pc", "ref-2", "malformed: no eTag", "req-9");
    store.quarantine("m", "pc", "ref-2", "malformed: no eTag", "req-10");
  }
  StateStore store(path);
  CHECK(store.schema_version() == 1);
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
