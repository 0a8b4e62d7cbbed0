#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <nlohmann/json.hpp>
#include <string>

#include "daemon/store/payload_codec.hpp"
#include "daemon/store/state_store.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;

namespace {

// A `received` event's payload as Journal::event writes it for a new lead (1.4 KB of JSON).
nlohmann::json lead_payload(int i) {
  std::string n = std::to_string(i);
  nlohmann::json pc = {{"id", "0a1b2c3d-" + n},
                       {"name", "Company " + n},
                       {"status", "New"},
                       {"substatus", "Pending"},
                       {"eTag", "\"e305a7bd-0000-0800-0000-" + n + "\""},
                       {"customerProfile", {{"name", "Company " + n}, {"address", {{"country", "US"}}}, {"team", nlohmann::json::array()}}},
                       {"details", {{"dealValue", 1000.0 + i}, {"currency", "USD"}, {"notes", "from Microsoft"}}},
                       {"team", nlohmann::json::array()}};
  nlohmann::json crm = {{"Id", "00Q5g00000000" + n}, {"Company", "Company " + n}, {"Status", "Open - Not Contacted"}};
  return {{"event", "received"}, {"reason", "created Lead from referral " + n}, {"pc", pc}, {"crm", crm},
          {"unicode", "Zürich \xE2\x82\xAC"}};
}

std::string stored_payload(const std::string& db_path) {
  sqlite3* db = nullptr;
  sqlite3_open(db_path.c_str(), &db);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT payload FROM outbox", -1, &s, nullptr);
  std::string out;
  if (sqlite3_step(s) == SQLITE_ROW)
    out.assign(static_cast<const char*>(sqlite3_column_blob(s, 0)), static_cast<std::size_t>(sqlite3_column_bytes(s, 0)));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST_CASE("outbox payload: packed against the dictionary it is a fraction of its JSON, and reads back the same") {
  std::string json = lead_payload(7).dump();
  std::string packed = payload_codec::pack(json);
  CHECK(packed.size() * 3 < json.size());
  CHECK(payload_codec::unpack(packed) == json);
  CHECK(payload_codec::unpack(json) == json);  // a row written as text before packing existed
  CHECK(payload_codec::unpack("") == "");
  std::string big(100000, 'x');  // larger than one inflate chunk
  CHECK(payload_codec::unpack(payload_codec::pack(big)) == big);
  CHECK_THROWS(payload_codec::unpack(packed.substr(0, packed.size() / 2)));
}

TEST_CASE("outbox payload: the state DB keeps it packed, reads it whole, and an old text row still reads") {
  testing::TempDir dir;
  std::string path = dir.file("state.db");
  {
    StateStore store(path);
    store.save_link({"m", "ref-7", "00Q7", "", "", nlohmann::json::object()});  // last_event: the link's
    store.add_event({0, "2026-01-01T00:00:00Z", "m", "ref-7", "00Q7", "received", lead_payload(7)});
  }
  std::string stored = stored_payload(path);
  CHECK(stored.size() * 3 < lead_payload(7).dump().size());
  {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    // As cosyncd before packing wrote it.
    std::string insert = "INSERT INTO outbox (at, mapping, pc_id, crm_id, event, payload) VALUES "
                         "('2026-01-01T00:00:01Z','m','ref-8','00Q8','received','" + lead_payload(8).dump() + "')";
    CHECK(sqlite3_exec(db, insert.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  StateStore store(path);
  auto events = store.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].payload == lead_payload(7));
  CHECK(events[1].payload == lead_payload(8));
  auto last = store.last_event("m", "ref-7", {});
  REQUIRE(last);
  CHECK(last->payload == lead_payload(7));
}
