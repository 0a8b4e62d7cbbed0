#include "tests/e2e/e2e_harness.hpp"

#include <map>
#include <sstream>
#include <stdexcept>

#include "daemon/auth/refresh_token.hpp"
#include "daemon/util/time.hpp"
#include "tests/e2e/e2e_helpers.hpp"

namespace cosync::testing {

namespace {

const std::string kMappings = COSYNC_SOURCE_DIR "/config/examples/mappings/";

template <typename Options>
Options validated_by(const fakes::FakeTokenServer& tokens) {
  Options o;
  o.validate_token = tokens.validator();
  return o;
}

fakes::FakePartnerCenterOptions pc_options(const fakes::FakeTokenServer& tokens, const std::string& public_url) {
  auto o = validated_by<fakes::FakePartnerCenterOptions>(tokens);
  o.public_base_url = public_url;
  return o;
}

std::string default_mapping(Crm crm) {
  return crm == Crm::salesforce ? "pc-sf-leads.yaml" : "pc-dataverse-leads.yaml";
}

// The connection block of the config, under `connections:`.
std::string connection_yaml(Crm crm, const std::string& crm_url, const std::string& token_url) {
  std::ostringstream yaml;
  if (crm == Crm::salesforce)
    yaml << "  salesforce:\n"
         << "    type: salesforce\n"
         << "    instance_url: " << crm_url << "\n"
         << "    auth:\n"
         << "      token_url: " << token_url << "\n"
         << "      client_id: test-client\n"
         << "      client_secret_file: sf_secret\n";
  else
    yaml << "  dynamics:\n"
         << "    type: dataverse\n"
         << "    url: " << crm_url << "\n"
         << "    batch_size: 50\n"
         << "    auth:\n"
         << "      token_url: " << token_url << "\n"
         << "      client_id: dv-client\n"
         << "      client_secret_file: dv_secret\n";
  return yaml.str();
}

nlohmann::json referral(const std::string& type, const std::string& status, const std::string& substatus,
                        const std::string& company, double deal_value, const std::string& notes) {
  return {{"type", type},
          {"direction", "Incoming"},
          {"status", status},
          {"substatus", substatus},
          {"customerProfile", {{"name", company}, {"address", {{"country", "US"}}}}},
          {"details", {{"dealValue", deal_value}, {"currency", "USD"}, {"notes", notes}}}};
}

}  // namespace

std::string crm_name(Crm crm) { return crm == Crm::salesforce ? "salesforce" : "dataverse"; }

E2eHarness::E2eHarness(Crm crm, std::string mapping, std::string pc_url)
    : pc(pc_options(tokens, pc_url)), crm_(crm), mapping_file_(mapping.empty() ? default_mapping(crm) : mapping) {
  static const std::map<std::string, MappedObject> objects = {
      {"pc-sf-leads.yaml", {"Lead", "PartnerCenterReferralId__c", "Id"}},
      {"pc-sf-opportunities.yaml", {"Opportunity", "PartnerCenterReferralId__c", "Id"}},
      {"pc-dataverse-leads.yaml", {"leads", "cosync_referralid", "leadid"}},
      {"pc-dataverse-opportunities.yaml", {"opportunities", "cosync_referralid", "opportunityid"}}};
  mapped_ = objects.at(mapping_file_);
  pc_url_ = pc_url.empty() ? pc.base_url() : pc_url;
  std::string error;
  if (crm_ == Crm::salesforce) {
    sf_ = std::make_unique<fakes::FakeSalesforce>(validated_by<fakes::FakeSalesforceOptions>(tokens));
    tokens.add_client("test-client", "test-secret",
                      {.expires_in = 3600, .omit_expires_in = true, .instance_url = sf_->base_url()});
    auth::write_secret_file(dir.file("sf_secret"), "test-secret", error);  // mode 0600, as cosyncd demands
  } else {
    dv_ = std::make_unique<fakes::FakeDataverse>(validated_by<fakes::FakeDataverseOptions>(tokens));
    tokens.add_client("dv-client", "dv-secret");
    auth::write_secret_file(dir.file("dv_secret"), "dv-secret", error);
  }
  tokens.add_client("pc-client", "pc-secret");
  tokens.add_refresh_token("refresh-token-1");
  dir.write("state/.keep", "");
  auth::write_secret_file(dir.file("state/pc_refresh_token"), "refresh-token-1", error);
  copy_mapping();
  write_config();
}

void E2eHarness::copy_mapping() { dir.write("mapping.yaml", read_text(kMappings + mapping_file_)); }

void E2eHarness::write_config(const std::string& extra_top_level) {
  std::ostringstream yaml;
  yaml << "state_dir: state\n"
       << "log: { level: debug }\n"
       // A key given twice is refused: the caller's own http: replaces the default one.
       << (extra_top_level.find("http:") == std::string::npos ? "http: { timeout: 5s, max_attempts: 3 }\n" : "")
       << extra_top_level  //
       << "partner_center:\n"
       << "  base_url: " << pc_url_ << "\n"
       << "  auth:\n"
       << "    token_url: " << tokens.url() << "\n"
       << "    client_id: pc-client\n"
       << "connections:\n"
       << connection_yaml(crm_, sf_ ? sf_->base_url() : dv_->base_url(), tokens.url())  //
       << "mappings:\n"
       << "  - " << mapping_path() << "\n";
  config_path_ = dir.write("cosync.yaml", yaml.str());
}

void E2eHarness::edit_mapping(const std::string& from, const std::string& to) { edit_mapping({{from, to}}); }

void E2eHarness::edit_mapping(const std::vector<std::pair<std::string, std::string>>& replacements) {
  for (const auto& [from, to] : replacements) replace_in_file(mapping_path(), from, to);
}

CommandResult E2eHarness::cosyncd(const std::string& command, const std::string& extra) {
  std::ostringstream line;
  line << COSYNC_BINARY_DIR << "/cosyncd " << command << " --config " << config_path_ << " " << extra;
  return run_command(line.str());
}

std::unique_ptr<BackgroundProcess> E2eHarness::start_daemon() {
  return std::make_unique<BackgroundProcess>(
      std::vector<std::string>{std::string(COSYNC_BINARY_DIR) + "/cosyncd", "run", "--config", config_path_},
      dir.file("daemon.log"));
}

fakes::HttpTestServer& E2eHarness::crm_server() { return sf_ ? sf_->server() : dv_->server(); }

std::size_t E2eHarness::crm_write_calls() {
  std::size_t n = 0;
  for (const auto* method : {"POST", "PATCH", "PUT", "DELETE"}) n += crm_server().count(method);
  return n;
}

std::size_t E2eHarness::write_calls() {
  std::size_t n = crm_write_calls();
  for (const auto* method : {"POST", "PATCH", "PUT", "DELETE"}) n += pc.server().count(method);
  return n;
}

void E2eHarness::clear_requests() {
  pc.server().clear_requests();
  crm_server().clear_requests();
  tokens.server().clear_requests();
}

std::string E2eHarness::add_incoming_lead(const std::string& company, double deal_value) {
  return pc.add_referral(referral("Independent", "New", "Pending", company, deal_value, "from Microsoft"));
}

std::string E2eHarness::add_co_sell_referral(const std::string& name, const std::string& company,
                                            double deal_value, std::chrono::hours age) {
  auto r = referral("Shared", "Active", "Accepted", company, deal_value, "co-sell with Microsoft");
  r["name"] = name;
  r["createdDateTime"] = format_iso8601(pc.service_now() - age);
  r["details"]["closingDateTime"] = "2027-03-31T00:00:00Z";
  return pc.add_referral(r);
}

std::vector<nlohmann::json> E2eHarness::crm_records() const {
  return sf_ ? sf_->records(mapped_.object) : dv_->rows(mapped_.object);
}

nlohmann::json E2eHarness::crm_record_for(const std::string& referral_id) const {
  for (auto& record : crm_records())
    if (record.value(mapped_.link_field, "") == referral_id) return record;
  return nullptr;
}

std::string E2eHarness::crm_id_for(const std::string& referral_id) const {
  auto record = crm_record_for(referral_id);
  return record.is_object() ? record.value(mapped_.id_field, "") : "";
}

void E2eHarness::edit_crm_record(const std::string& referral_id, const nlohmann::json& fields) {
  auto id = crm_id_for(referral_id);
  if (id.empty()) throw std::invalid_argument("no " + mapped_.object + " record is linked to " + referral_id);
  if (sf_) sf_->edit(mapped_.object, id, fields);
  else dv_->edit(mapped_.object, id, fields);
}

void E2eHarness::delete_crm_record(const std::string& referral_id) {
  auto id = crm_id_for(referral_id);
  if (id.empty()) throw std::invalid_argument("no " + mapped_.object + " record is linked to " + referral_id);
  if (sf_) sf_->edit(mapped_.object, id, {{"IsDeleted", true}});
  else dv_->remove(mapped_.object, id);
}

int E2eHarness::crm_records_written() const { return sf_ ? sf_->writes() : dv_->writes(); }

fakes::FakeSalesforce& E2eHarness::sf() {
  if (!sf_) throw std::logic_error("this harness runs against Dataverse, not Salesforce");
  return *sf_;
}
const fakes::FakeSalesforce& E2eHarness::sf() const { return const_cast<E2eHarness*>(this)->sf(); }

fakes::FakeDataverse& E2eHarness::dv() {
  if (!dv_) throw std::logic_error("this harness runs against Salesforce, not Dataverse");
  return *dv_;
}
const fakes::FakeDataverse& E2eHarness::dv() const { return const_cast<E2eHarness*>(this)->dv(); }

}  // namespace cosync::testing
