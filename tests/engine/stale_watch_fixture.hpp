#pragma once
// What the stale-lead watch's engine tests share: the events said about a referral, and a later
// cycle after a restart (the watch's clock and warning must survive one).
#include <algorithm>
#include <string>

#include <catch2/catch.hpp>

#include "tests/engine/engine_fixture.hpp"

namespace cosync::testing {

struct StaleWatchFixture : EngineFixture {
  using EngineFixture::EngineFixture;
  long events(const std::string& id, const std::string& key) {
    auto audit = store.audit(mapping.name, 500);
    return std::count_if(audit.begin(), audit.end(), [&](const AuditEntry& e) { return e.field == key && e.pc_id == id; });
  }
  void later(std::chrono::system_clock::duration by) {
    clock.advance(by);
    restart();
    REQUIRE(cycle().ok());
  }
};

}  // namespace cosync::testing
