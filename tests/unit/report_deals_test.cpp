// `cosyncd report deals-to-register` and `cosyncd report registrations` (daemon/cli/report_deals.cpp)
// from a state database as the registration deadline watch leaves it: sorted by deadline, the
// JSON keys exactly, CSV parsed back, --due-within and --mapping.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include "daemon/cli/report.hpp"
#include "daemon/util/time.hpp"
#include "tests/unit/config_fixtures.hpp"
#include "tests/unit/csv_reader.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

const std::string kDealsMapping = R"(name: deals
crm:
  connection: salesforce
  object: Opportunity
  link_field: Ref__c
fields:
  - name: name
    pc: name
    crm: Name
    direction: to_crm
  - name: customer
    pc: customerProfile.name
    crm: Customer__c
    direction: to_crm
  - name: value
    pc: details.dealValue
    crm: Amount
registration:
  when: {crm.Registration__c: Eligible}
  body:
    contract.term: {value: Finite}
  status:
    registrationStatus: Registration_Status__c
    status: Registration_Review__c
    statusHistory.approvedDateTime: Registration_Approved__c
)";

struct DealFiles {
  testing::TempDir dir;
  app::Config config;
  DealFiles() {
    dir.write("deals.yaml", kDealsMapping);
    config = app::load_config(dir.write("cosync.yaml", testing::config_text("", "client_secret: ${COSYNC_TEST_SF_SECRET}",
                                                                            "  - deals.yaml\n")));
    std::filesystem::create_directories(config.state_dir);
    StateStore store(config.state_db_path());
    auto watch = [&](const std::string& id, const std::string& reason) {
      store.hold({"deals", id, "registration_deadline", "2026-03-17T12:00:00.000Z", reason});
    };
    // Synced values in the shadow; the currency, which the mapping does not sync, from the event.
    store.save_link({"deals", "R1", "006A", "", "", {{"name", "Contoso deal"}, {"customer", "Contoso, \"EU\""}, {"value", 1000}}});
    watch("R1", "won 2026-03-01T12:00:00.000Z, register by 2026-03-31T12:00:00.000Z");
    store.add_event({0, "2026-03-01T12:00:00Z", "deals", "R1", "006A", "won", {{"pc", {{"details", {{"currency", "EUR"}}}}}}});
    // Nothing in the shadow: all from the latest event's referral.
    store.save_link({"deals", "R2", "006B", "", "", json::object()});
    watch("R2", "won 2026-02-20T08:00:00.000Z, register by 2026-03-22T08:00:00.000Z");
    json fabrikam = {{"name", "Fabrikam renewal"},
                     {"customerProfile", {{"name", "Fabrikam"}}},
                     {"details", {{"dealValue", 2500.5}, {"currency", "USD"}}}};
    store.add_event({0, "2026-02-20T08:00:00Z", "deals", "R2", "006B", "won", {{"pc", fabrikam}}});
    // A CRM win whose Closed/Won is still held: no win date yet, listed with its release.
    store.save_link({"deals", "R3", "006C", "", "", {{"name", "Northwind"}}});
    watch("R3", "Won held until 2026-03-04T00:00:00.000Z, register by 2026-04-03T00:00:00.000Z");
    // Registered by cosync this cycle: its watch lasts until the next cycle reads it; not listed.
    store.save_link({"deals", "R6", "006F", "", "", json::object()});
    watch("R6", "won 2026-02-01T08:00:00.000Z, register by 2026-03-03T08:00:00.000Z");
    store.add_event({0, "2026-02-02T08:00:00Z", "deals", "R6", "006F", "registration_submitted", {}});
    // Not decided yet (the CRM record is read next cycle): not listed.
    store.save_link({"deals", "R4", "006D", "", "", json::object()});
    watch("R4", "the CRM record decides whether this won deal is registered");
    // Registered: no watch, its registration's status mirrored.
    store.save_link({"deals", "R5", "006E", "", "",
                     {{"registration.registrationStatus", "Registered"},
                      {"registration.status", "Approved"},
                      {"registration.statusHistory.approvedDateTime", "2026-03-05"}}});
  }
  std::string report(std::vector<std::string> args, int expected = 0) {
    std::ostringstream out, err;
    CHECK(app::command_report(config, args, out, err) == expected);
    return expected == 0 ? out.str() : err.str();
  }
  app::ReportTable deals(app::ReportOptions options) {
    StateStore store(config.state_db_path());
    return app::deals_to_register_report(config, store, *parse_iso8601("2026-03-10T00:00:00Z"), options);
  }
};

}  // namespace

TEST_CASE("report deals-to-register: unregistered won deals by deadline with days left, as JSON") {
  DealFiles f;
  auto list = json::parse(f.report({"deals-to-register", "--format", "json"}));
  REQUIRE(list.size() == 3);
  const std::set<std::string> keys = {"referralId", "crmId", "name", "customer", "value", "currency",
                                      "wonDateTime", "deadline", "daysLeft"};
  for (const auto& deal : list) {
    std::set<std::string> got;
    for (const auto& [k, v] : deal.items()) got.insert(k);
    CHECK(got == keys);
  }
  CHECK(list[0]["referralId"] == "R2");
  CHECK(list[0]["crmId"] == "006B");
  CHECK(list[0]["name"] == "Fabrikam renewal");
  CHECK(list[0]["customer"] == "Fabrikam");
  CHECK(list[0]["value"] == 2500.5);
  CHECK(list[0]["currency"] == "USD");
  CHECK(list[0]["wonDateTime"] == "2026-02-20T08:00:00.000Z");
  CHECK(list[0]["deadline"] == "2026-03-22T08:00:00.000Z");
  CHECK(list[1]["referralId"] == "R1");
  CHECK(list[1]["customer"] == "Contoso, \"EU\"");
  CHECK(list[1]["value"] == 1000);
  CHECK(list[1]["currency"] == "EUR");
  CHECK(list[2]["referralId"] == "R3");
  CHECK(list[2]["wonDateTime"].is_null());

  // Days left on the given clock, rounded down.
  auto t = f.deals({app::ReportFormat::json, std::nullopt});
  REQUIRE(t.rows.size() == 3);
  CHECK(t.rows[0][8] == 12);  // 12 days 8 hours
  CHECK(t.rows[1][8] == 21);
  CHECK(t.rows[2][8] == 24);
}

TEST_CASE("report deals-to-register: days left on Partner Center's clock as the last cycle saw it") {
  DealFiles f;
  {
    StateStore store(f.config.state_db_path());  // Partner Center's clock 2 days ahead of the host's
    store.record_cycle({"deals", "2026-03-09T00:00:00.000Z", "ok", 1, {{"pc_clock", "2026-03-11T00:00:00.000Z"}}});
  }
  auto t = f.deals({app::ReportFormat::json, std::nullopt});
  REQUIRE(t.rows.size() == 3);
  CHECK(t.rows[0][8] == 10);  // 2026-03-22T08:00 from 2026-03-12T00:00
}

TEST_CASE("report deals-to-register: CSV parsed back, with the mapping and held-until") {
  DealFiles f;
  auto rows = testing::parse_csv(f.report({"deals-to-register", "--format=csv"}));
  REQUIRE(rows.size() == 4);
  CHECK(rows[0] == std::vector<std::string>{"mapping", "referral", "crm_record", "name", "customer", "value", "currency",
                                            "won", "deadline", "days_left", "held_until"});
  CHECK(rows[2][1] == "R1");
  CHECK(rows[2][4] == "Contoso, \"EU\"");
  CHECK(rows[2][10] == "");
  CHECK(rows[3][1] == "R3");
  CHECK(rows[3][7] == "");
  CHECK(rows[3][10] == "2026-03-04T00:00:00.000Z");
  auto table = f.report({"deals-to-register"});
  CHECK_THAT(table, Catch::StartsWith("MAPPING  REFERRAL  CRM RECORD  NAME"));
}

TEST_CASE("report deals-to-register: --due-within keeps the deals due by then, --mapping one mapping") {
  DealFiles f;
  app::ReportOptions options{app::ReportFormat::table, std::chrono::hours(14 * 24)};
  auto t = f.deals(options);  // by 2026-03-24
  REQUIRE(t.rows.size() == 1);
  CHECK(t.rows[0][1] == "R2");
  // Every deal is overdue by the host's clock (December 2026), so all are due within 7 days.
  auto list = json::parse(f.report({"deals-to-register", "--due-within", "7d", "--mapping", "deals", "--format", "json"}));
  CHECK(list.size() == 3);
  CHECK(list[0]["daysLeft"].get<long>() < 0);
  CHECK_THAT(f.report({"deals-to-register", "--mapping", "leads"}, 64), Catch::Contains("no mapping named 'leads'"));
  CHECK_THAT(f.report({"deals-to-register", "--due-within", "soon"}, 64), Catch::Contains("usage"));
  CHECK_THAT(f.report({"pipeline", "--due-within", "7d"}, 64), Catch::Contains("deals-to-register"));
  CHECK(app::parse_report_duration("36h") == std::chrono::hours(36));
  CHECK_FALSE(app::parse_report_duration("7"));
  CHECK_FALSE(app::parse_report_duration("-7d"));
}

TEST_CASE("report registrations: each registration with its review status and dates") {
  DealFiles f;
  auto rows = testing::parse_csv(f.report({"registrations", "--format", "csv"}));
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == std::vector<std::string>{"mapping", "referral", "crm_record", "registration_status", "status",
                                            "status_reason", "review_pending", "action_required", "approved",
                                            "rejected"});
  CHECK(rows[1] == std::vector<std::string>{"deals", "R5", "006E", "Registered", "Approved", "", "", "", "2026-03-05", ""});
}
