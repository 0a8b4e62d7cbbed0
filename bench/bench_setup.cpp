#include "bench/bench_setup.hpp"

#include <climits>

#include "tests/e2e/e2e_helpers.hpp"

namespace cosync::bench {

nlohmann::json incoming_lead(const std::string& company, double deal_value) {
  return {{"name", company},
          {"type", "Independent"},
          {"direction", "Incoming"},
          {"status", "New"},
          {"substatus", "Pending"},
          {"customerProfile", {{"name", company}, {"address", {{"country", "US"}}}}},
          {"details", {{"dealValue", deal_value}, {"currency", "USD"}, {"notes", "from Microsoft"}}}};
}

fakes::FakePartnerCenterOptions BenchSetup::pc_options(testing::E2eHarness& h) {
  fakes::FakePartnerCenterOptions options;
  options.validate_token = h.tokens.validator();
  options.expire_after = std::chrono::hours(0);
  return options;
}

BenchSetup::BenchSetup(int in_flight, int overlap_seconds, const std::string& extra_top_level) : pc(pc_options(h)) {
  h.write_config("http: { timeout: 60s, max_attempts: 3, max_in_flight_per_host: " + std::to_string(in_flight) +
                 " }\n" + extra_top_level);
  // Info, as in production: a debug line per record would be the daemon's main cost.
  testing::replace_in_file(h.config_path(), "log: { level: debug }", "log: { level: info }");
  const std::string overlap = std::to_string(overlap_seconds) + "s";
  testing::replace_in_file(h.config_path(), "base_url: " + h.pc.base_url(),
                           "base_url: " + pc.base_url() + "\n  overlap: " + overlap);
  testing::replace_in_file(h.config_path(), "instance_url: " + h.sf().base_url(),
                           "instance_url: " + h.sf().base_url() + "\n    overlap: " + overlap);
}

void BenchSetup::inject_rtt(int ms) {
  for (auto* server : {&pc.server(), &h.sf().server(), &h.tokens.server()}) server->delay_next(INT_MAX, ms);
}

}  // namespace cosync::bench
