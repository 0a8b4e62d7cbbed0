#pragma once
// End-to-end harness for Dynamics 365: the fakes of Partner Center, Dataverse and the token
// endpoint in this process, a config naming a `type: dataverse` connection and a copy of one
// shipped mapping (pc-dataverse-leads unless told), and the real cosyncd binary run against it.
#include <string>
#include <vector>

#include "tests/e2e/daemon_harness.hpp"
#include "tests/fakes/fake_dataverse.hpp"

namespace cosync::testing {

class DataverseHarness {
 public:
  // `mapping`: a file in config/examples/mappings.
  explicit DataverseHarness(const std::string& mapping = "pc-dataverse-leads.yaml");

  // Runs `cosyncd <command> --config <config> [extra]`.
  CommandResult cosyncd(const std::string& command, const std::string& extra = "");
  std::string config_path() const { return config_path_; }
  // The mapping file the config names: a copy of the shipped one, for tests to edit.
  std::string mapping_path() const { return dir.file("mapping.yaml"); }

  // Write calls (POST, PATCH, PUT, DELETE) each fake has received since the last clear.
  std::size_t write_calls();
  void clear_requests();
  // Incoming, Independent, New/Pending lead from Microsoft.
  std::string add_incoming_lead(const std::string& company, double deal_value = 25000);
  std::vector<nlohmann::json> leads() const { return dv.rows("leads"); }
  // A co-sell referral (type Shared) created `age_days` ago, Active/Accepted.
  std::string add_co_sell_referral(const std::string& name, const std::string& company, double deal_value,
                                   int age_days = 5);
  std::vector<nlohmann::json> opportunities() const { return dv.rows("opportunities"); }
  // The row of `entity_set` linked to the referral (its cosync_referralid); null when none.
  nlohmann::json dv_row_for(const std::string& entity_set, const std::string& referral_id) const;

  TempDir dir;
  fakes::FakeTokenServer tokens;
  fakes::FakePartnerCenter pc;
  fakes::FakeDataverse dv;

 private:
  std::string config_path_;
};

}  // namespace cosync::testing
