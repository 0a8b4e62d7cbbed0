#pragma once
// What both benches run cosyncd against (bench/run.sh): the e2e harness (fake Salesforce, token
// server, a config, the shipped pc-sf-leads mapping) with a Partner Center fake of their own,
// info logging as in production, `in_flight` requests per host and the pull overlap given.
#include <string>

#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_harness.hpp"
#include "tests/fakes/fake_partner_center.hpp"

namespace cosync::bench {

// An incoming, Independent, New/Pending lead from Microsoft, as the e2e tests seed them.
nlohmann::json incoming_lead(const std::string& company, double deal_value);

class BenchSetup {
 public:
  // `extra_top_level`: more config at the top level (e.g. "poll_interval: 5s\n").
  BenchSetup(int in_flight, int overlap_seconds, const std::string& extra_top_level = "");

  // The round trip `ms` injected before every answer of every fake.
  void inject_rtt(int ms);
  std::string cosyncd() const { return COSYNC_BINARY_DIR "/cosyncd"; }

  testing::E2eHarness h;
  // The Partner Center cosyncd talks to (not h.pc), without the 14-day expiry: that check reads
  // every referral on every request and would make the fake, not cosyncd, the bottleneck.
  fakes::FakePartnerCenter pc;

 private:
  static fakes::FakePartnerCenterOptions pc_options(testing::E2eHarness& h);
};

}  // namespace cosync::bench
