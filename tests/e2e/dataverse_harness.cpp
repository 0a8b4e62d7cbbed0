#include "tests/e2e/dataverse_harness.hpp"

#include <filesystem>
#include <sstream>

#include "daemon/auth/refresh_token.hpp"
#include "daemon/util/time.hpp"

namespace cosync::testing {

namespace {

fakes::FakePartnerCenterOptions pc_options(const fakes::FakeTokenServer& tokens) {
  fakes::FakePartnerCenterOptions o;
  o.validate_token = tokens.validator();
  return o;
}

fakes::FakeDataverseOptions dv_options(const fakes::FakeTokenServer& tokens) {
  fakes::FakeDataverseOptions o;
  o.validate_token = tokens.validator();
  return o;
}

}  // namespace

DataverseHarness::DataverseHarness(const std::string& mapping) : pc(pc_options(tokens)), dv(dv_options(tokens)) {
  tokens.add_client("dv-client", "dv-secret");
  tokens.add_client("pc-client", "pc-secret");
  tokens.add_refresh_token("refresh-token-1");
  std::string error;
  dir.write("state/.keep", "");
  auth::write_secret_file(dir.file("state/pc_refresh_token"), "refresh-token-1", error);
  auth::write_secret_file(dir.file("dv_secret"), "dv-secret", error);  // mode 0600, as cosyncd demands
  std::ostringstream yaml;
  yaml << "state_dir: state\n"
       << "log: { level: debug }\n"
       << "http: { timeout: 5s, max_attempts: 3 }\n"
       << "partner_center:\n"
       << "  base_url: " << pc.base_url() << "\n"
       << "  auth:\n"
       << "    token_url: " << tokens.url() << "\n"
       << "    client_id: pc-client\n"
       << "connections:\n"
       << "  dynamics:\n"
       << "    type: dataverse\n"
       << "    url: " << dv.base_url() << "\n"
       << "    batch_size: 50\n"
       << "    auth:\n"
       << "      token_url: " << tokens.url() << "\n"
       << "      client_id: dv-client\n"
       << "      client_secret_file: dv_secret\n"
       << "mappings:\n"
       << "  - mapping.yaml\n";
  std::filesystem::copy_file(std::filesystem::path(COSYNC_SOURCE_DIR) / "config/examples/mappings" / mapping,
                             mapping_path());
  config_path_ = dir.write("cosync.yaml", yaml.str());
}

CommandResult DataverseHarness::cosyncd(const std::string& command, const std::string& extra) {
  std::ostringstream line;
  line << COSYNC_BINARY_DIR << "/cosyncd " << command << " --config " << config_path_ << " " << extra;
  return run_command(line.str());
}

std::size_t DataverseHarness::write_calls() {
  std::size_t n = 0;
  for (auto* server : {&pc.server(), &dv.server()})
    for (const auto* method : {"POST", "PATCH", "PUT", "DELETE"}) n += server->count(method);
  return n;
}

void DataverseHarness::clear_requests() {
  pc.server().clear_requests();
  dv.server().clear_requests();
  tokens.server().clear_requests();
}

std::string DataverseHarness::add_incoming_lead(const std::string& company, double deal_value) {
  return pc.add_referral({{"type", "Independent"},
                          {"direction", "Incoming"},
                          {"status", "New"},
                          {"substatus", "Pending"},
                          {"customerProfile", {{"name", company}, {"address", {{"country", "US"}}}}},
                          {"details", {{"dealValue", deal_value}, {"currency", "USD"}, {"notes", "from Microsoft"}}}});
}

std::string DataverseHarness::add_co_sell_referral(const std::string& name, const std::string& company,
                                                  double deal_value, int age_days) {
  auto created = format_iso8601(std::chrono::system_clock::now() - std::chrono::hours(24 * age_days));
  return pc.add_referral({{"type", "Shared"},
                          {"direction", "Incoming"},
                          {"name", name},
                          {"status", "Active"},
                          {"substatus", "Accepted"},
                          {"createdDateTime", created},
                          {"customerProfile", {{"name", company}, {"address", {{"country", "US"}}}}},
                          {"details", {{"dealValue", deal_value}, {"currency", "USD"}, {"notes", "co-sell with Microsoft"}}}});
}

nlohmann::json DataverseHarness::dv_row_for(const std::string& entity_set, const std::string& referral_id) const {
  for (auto& row : dv.rows(entity_set))
    if (row.value("cosync_referralid", "") == referral_id) return row;
  return nullptr;
}

}  // namespace cosync::testing
