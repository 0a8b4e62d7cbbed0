// `cosyncd report` and `notifications`: the reports from the state database through the one
// writer, in table, CSV (parsed back here) and JSON.
#include <catch2/catch.hpp>

#include <sstream>

#include "daemon/cli/notifications_command.hpp"
#include "daemon/cli/report.hpp"
#include "tests/unit/config_fixtures.hpp"
#include "tests/unit/csv_reader.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

using testing::parse_csv;  // tests/unit/csv_reader.hpp

const std::string kStatusMapping = R"(name: leads
crm:
  connection: salesforce
  object: Lead
  link_field: Ref__c
fields:
  - name: status
    pc: [status, substatus]
    crm: Status
    owner: crm
    values:
      - { pc: [New, Pending], crm: "Open, not contacted" }
      - { pc: [Active, Accepted], crm: Working }
  - name: value
    pc: details.dealValue
    crm: Amount__c
  - name: country
    pc: customerProfile.address.country
    crm: Country
    direction: to_crm
)";

struct ReportFiles {
  testing::TempDir dir;
  app::Config config;
  ReportFiles() {
    dir.write("leads.yaml", kStatusMapping);
    config = app::load_config(dir.write("cosync.yaml", testing::config_text()));
    std::filesystem::create_directories(config.state_dir);
    StateStore store(config.state_db_path());
    auto link = [&](const std::string& id, json status, double value, const std::string& country) {
      store.save_link({"leads", id, "00Q" + id, "", "", {{"status", status}, {"value", value}, {"country", country}}});
    };
    link("1", {"Active", "Accepted"}, 1000, "US");
    link("2", {"Active", "Accepted"}, 2500.5, "US");
    link("3", {"New", "Pending"}, 700, "Contoso, \"DE\"");
    OutboxEvent shared{0, "2026-02-01T10:00:00Z", "leads", "1", "001", "co_sell_shared", {{"pc", {{"_kind", "co_sell_opportunity"}}}}};
    store.add_event(shared);
    store.add_event({0, "2026-02-03T10:00:00Z", "leads", "1", "001", "co_sell_accepted", {}});
    store.add_event({0, "2026-02-04T10:00:00Z", "leads", "2", "002", "co_sell_shared", {{"pc", {{"type", "Shared"}}}}});
  }
  std::string report(std::vector<std::string> args, int expected = 0) {
    std::ostringstream out, err;
    CHECK(app::command_report(config, args, out, err) == expected);
    return expected == 0 ? out.str() : err.str();
  }
};

}  // namespace

TEST_CASE("report pipeline: deals by status and region with counts and values, in three formats") {
  ReportFiles f;
  auto rows = parse_csv(f.report({"pipeline", "--format", "csv"}));
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == std::vector<std::string>{"mapping", "status", "stage", "offering", "region", "count", "value"});
  CHECK(rows[1] == std::vector<std::string>{"leads", "Active/Accepted", "-", "-", "US", "2", "3500.5"});
  CHECK(rows[2] == std::vector<std::string>{"leads", "New/Pending", "-", "-", "Contoso, \"DE\"", "1", "700.0"});

  auto list = json::parse(f.report({"pipeline", "--format=json"}));
  REQUIRE(list.size() == 2);
  CHECK(list[0]["count"] == 2);
  CHECK(list[0]["value"] == 3500.5);
  CHECK(list[1]["region"] == "Contoso, \"DE\"");

  auto table = f.report({"pipeline"});
  CHECK_THAT(table, Catch::StartsWith("MAPPING  STATUS           STAGE  OFFERING  REGION"));
  CHECK_THAT(table, Catch::Contains("leads    Active/Accepted  -      -         US"));
}

TEST_CASE("report shared: shared deals with Microsoft's response") {
  ReportFiles f;
  auto rows = parse_csv(f.report({"shared", "--format", "csv"}));
  REQUIRE(rows.size() == 3);
  CHECK(rows[1] == std::vector<std::string>{"leads", "1", "001", "co_sell_opportunity", "2026-02-01T10:00:00Z",
                                            "accepted 2026-02-03T10:00:00Z"});
  CHECK(rows[2][3] == "Shared");
  CHECK(rows[2][5] == "pending");
}

TEST_CASE("report: an unknown report or format prints the usage") {
  ReportFiles f;
  CHECK_THAT(f.report({"nosuch"}, 64), Catch::Contains("pipeline") && Catch::Contains("shared"));
  CHECK_THAT(f.report({"pipeline", "--format", "xml"}, 64), Catch::Contains("usage: cosyncd report NAME"));
}

TEST_CASE("notifications command: list, retry and drop") {
  ReportFiles f;
  {
    StateStore store(f.config.state_db_path());
    auto events = store.undispatched_events(10);
    store.dispatch_event(events[0].id, {{"introduction", "<m1@cosync>"}});
    auto d = store.due_deliveries("9999", 10).at(0);
    store.mark_attempt_failed(d.id, "SMTP: connection refused", "2026-02-01T10:01:00Z", true);
  }
  std::ostringstream out, err;
  REQUIRE(app::command_notifications(f.config, {"list"}, app::ReportFormat::json, out, err) == 0);
  auto list = json::parse(out.str());
  REQUIRE(list.size() == 1);
  CHECK(list[0]["status"] == "failed");
  CHECK(list[0]["message_id"] == "<m1@cosync>");
  CHECK(list[0]["last_error"] == "SMTP: connection refused");
  auto id = std::to_string(list[0]["id"].get<long long>());
  CHECK(app::command_notifications(f.config, {"retry", id}, app::ReportFormat::table, out, err) == 0);
  CHECK(StateStore(f.config.state_db_path()).deliveries("pending").size() == 1);
  CHECK(app::command_notifications(f.config, {"drop", id}, app::ReportFormat::table, out, err) == 0);
  CHECK(app::command_notifications(f.config, {"drop", id}, app::ReportFormat::table, out, err) == 1);
  CHECK(app::command_notifications(f.config, {"retry", "x"}, app::ReportFormat::table, out, err) == 64);
}
