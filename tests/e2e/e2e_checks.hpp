#pragma once
// Checks that many end-to-end tests make, each in one place.
#include <catch2/catch.hpp>

#include "tests/e2e/e2e_harness.hpp"

namespace cosync::testing {

// `cosyncd once`, which must succeed. Callers add INFO(result.output) for their later checks.
inline CommandResult check_once(E2eHarness& h) {
  auto run = h.cosyncd("once");
  INFO(run.output);
  REQUIRE(run.exit_status == 0);
  return run;
}

// DESIGN invariant 3: a cycle with nothing new to sync makes no write call on either side.
// Clears the request logs, runs `cosyncd once` and checks it succeeded without a write.
inline CommandResult check_quiet_cycle(E2eHarness& h) {
  h.clear_requests();
  auto quiet = check_once(h);
  INFO(quiet.output);
  CHECK(h.write_calls() == 0);
  return quiet;
}

// The referral `id` in Partner Center has `status` and `substatus`; returns it for further checks.
inline nlohmann::json check_referral_status(E2eHarness& h, const std::string& id, const std::string& status,
                                            const std::string& substatus) {
  auto referral = h.pc.referral(id);
  CHECK(referral["status"] == status);
  CHECK(referral["substatus"] == substatus);
  return referral;
}

}  // namespace cosync::testing
