#pragma once
// End-to-end harness, one for every CRM: the fakes of Partner Center, the CRM (Salesforce or
// Dataverse) and the token endpoint in this process, a config in a temp dir pointing at them, a
// copy of one shipped mapping, and the real cosyncd binary run against it. Its CRM-neutral
// helpers (the record linked to a referral, edits of it by the mapped fields, write counts)
// let a scenario run on either CRM.
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/e2e/child_process.hpp"
#include "tests/fakes/fake_dataverse.hpp"
#include "tests/fakes/fake_partner_center.hpp"
#include "tests/fakes/fake_salesforce.hpp"
#include "tests/fakes/fake_token_server.hpp"
#include "tests/unit/test_files.hpp"

namespace cosync::testing {

enum class Crm { salesforce, dataverse };

std::string crm_name(Crm crm);  // "salesforce", "dataverse": as cosyncd logs the connector

class E2eHarness {
 public:
  // `mapping`: a file in config/examples/mappings; "" for the CRM's leads mapping
  // (pc-sf-leads.yaml, pc-dataverse-leads.yaml). `pc_url`: where cosyncd reaches Partner Center
  // (e.g. a Prism proxy in front of `pc`), also the base of the fake's nextLinks; "" for the fake.
  explicit E2eHarness(Crm crm = Crm::salesforce, std::string mapping = "", std::string pc_url = "");
  Crm crm() const { return crm_; }

  // Runs `cosyncd <command> --config <config> [extra]`.
  CommandResult cosyncd(const std::string& command, const std::string& extra = "");
  std::unique_ptr<BackgroundProcess> start_daemon();
  std::string config_path() const { return config_path_; }
  // Rewrites the config with `extra` appended at the top level.
  void write_config(const std::string& extra_top_level = "");
  // The mapping file the config names: a copy of the shipped one, for tests to edit.
  std::string mapping_path() const { return dir.file("mapping.yaml"); }
  // Replaces the text `from` by `to` in the mapping copy; throws when it has no `from`.
  void edit_mapping(const std::string& from, const std::string& to);
  void edit_mapping(const std::vector<std::pair<std::string, std::string>>& replacements);

  // Write calls (POST, PATCH, PUT, DELETE) Partner Center and the CRM have received since the
  // last clear; crm_write_calls() counts the CRM's alone.
  std::size_t write_calls();
  std::size_t crm_write_calls();
  void clear_requests();

  // Incoming, Independent, New/Pending lead from Microsoft.
  std::string add_incoming_lead(const std::string& company, double deal_value = 25000);
  // A co-sell referral (type Shared) created `age` ago on Partner Center's clock, Active/Accepted,
  // with a closing date (the shipped Salesforce mapping's required CloseDate comes from it).
  std::string add_co_sell_referral(const std::string& name, const std::string& company, double deal_value,
                                   std::chrono::hours age = std::chrono::hours(24 * 5));

  // The records of the mapped CRM object (Lead, leads, opportunities, ...).
  std::vector<nlohmann::json> crm_records() const;
  // The CRM record whose mapped link field holds `referral_id`; null when none.
  nlohmann::json crm_record_for(const std::string& referral_id) const;
  // Its id ("Id", "leadid", ...); "" when none.
  std::string crm_id_for(const std::string& referral_id) const;
  // Edits that record in the CRM, as a seller would; deletes it (Salesforce: to the recycle bin).
  void edit_crm_record(const std::string& referral_id, const nlohmann::json& fields);
  void delete_crm_record(const std::string& referral_id);
  // Records the CRM fake created, updated, closed or deleted through its API.
  int crm_records_written() const;

  // What the harness knows of each shipped mapping's CRM side.
  struct MappedObject {
    std::string object;      // Lead, leads, ...: as the mapping's crm.object and the logs name it
    std::string link_field;  // the mapping's crm.link_field
    std::string id_field;    // the record's own id
  };
  const MappedObject& mapped() const { return mapped_; }

  fakes::FakeSalesforce& sf();  // throws std::logic_error on another CRM
  const fakes::FakeSalesforce& sf() const;
  fakes::FakeDataverse& dv();
  const fakes::FakeDataverse& dv() const;

  TempDir dir;
  fakes::FakeTokenServer tokens;
  fakes::FakePartnerCenter pc;

 private:
  void copy_mapping();
  fakes::HttpTestServer& crm_server();

  Crm crm_;
  std::string mapping_file_;
  MappedObject mapped_;
  std::unique_ptr<fakes::FakeSalesforce> sf_;
  std::unique_ptr<fakes::FakeDataverse> dv_;
  std::string pc_url_;
  std::string config_path_;
};

}  // namespace cosync::testing
