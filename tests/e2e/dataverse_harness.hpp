#pragma once
// End-to-end harness for Dynamics 365: the fakes of Partner Center, Dataverse and the token
// endpoint in this process, a config naming a `type: dataverse` connection and the shipped
// pc-dataverse-leads mapping, and the real cosyncd binary run against it.
#include <string>
#include <vector>

#include "tests/e2e/daemon_harness.hpp"
#include "tests/fakes/fake_dataverse.hpp"

namespace cosync::testing {

class DataverseHarness {
 public:
  DataverseHarness();

  // Runs `cosyncd <command> --config <config> [extra]`.
  CommandResult cosyncd(const std::string& command, const std::string& extra = "");
  std::string config_path() const { return config_path_; }

  // Write calls (POST, PATCH, PUT, DELETE) each fake has received since the last clear.
  std::size_t write_calls();
  void clear_requests();
  // Incoming, Independent, New/Pending lead from Microsoft.
  std::string add_incoming_lead(const std::string& company, double deal_value = 25000);
  std::vector<nlohmann::json> leads() const { return dv.rows("leads"); }

  TempDir dir;
  fakes::FakeTokenServer tokens;
  fakes::FakePartnerCenter pc;
  fakes::FakeDataverse dv;

 private:
  std::string config_path_;
};

}  // namespace cosync::testing
