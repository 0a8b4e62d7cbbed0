#pragma once
// Checks that many end-to-end tests make, each in one place.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_harness.hpp"

namespace cosync::testing {

// DESIGN invariant 3: a cycle with nothing new to sync makes no write call on either side.
// Clears the request logs, runs `cosyncd once` and checks it succeeded without a write.
inline CommandResult check_quiet_cycle(E2eHarness& h) {
  h.clear_requests();
  auto quiet = h.cosyncd("once");
  INFO(quiet.output);
  REQUIRE(quiet.exit_status == 0);
  CHECK(h.write_calls() == 0);
  return quiet;
}

}  // namespace cosync::testing
