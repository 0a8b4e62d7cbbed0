// StateStore::counts: the metrics' and each cycle's numbers, counted in SQL instead of read row
// by row (a /metrics scrape at 100,000 links read every link into memory).
#include <catch2/catch.hpp>

#include "daemon/store/state_store.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;

TEST_CASE("state store: counts a mapping's links, orphaned links, quarantined records and holds, not another's") {
  testing::TempDir dir;
  StateStore store(dir.file("state.db"));
  store.save_link({"m", "ref-1", "00Q1", "e1", "v1", nlohmann::json::object()});
  store.save_link({"m", "ref-2", "00Q2", "e2", "v2", nlohmann::json::object()});
  store.save_link({"other", "ref-3", "00Q3", "e3", "v3", nlohmann::json::object()});
  auto orphan = store.link_by_pc("m", "ref-2");
  REQUIRE(orphan);
  store.orphan_link(*orphan, "2024-05-01T00:00:00.000Z", "404 on get");
  store.quarantine("m", "pc", "ref-9", "malformed: no eTag", "", "2024-05-01T00:05:00.000Z");
  store.quarantine("other", "pc", "ref-8", "malformed: no eTag", "", "2024-05-01T00:05:00.000Z");
  store.hold({"m", "ref-1", "won_hold", "2024-05-04T00:00:00.000Z", "72 hours after acceptance"});

  auto c = store.counts("m");
  CHECK(c.links == 2);
  CHECK(c.orphaned == 1);
  CHECK(c.quarantined == 1);
  CHECK(c.held == 1);
  auto none = store.counts("unknown");
  CHECK(none.links == 0);
  CHECK(none.quarantined == 0);
}
