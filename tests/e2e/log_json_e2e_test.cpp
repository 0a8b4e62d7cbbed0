// End to end, log.format json under systemd's journal (JOURNAL_STREAM set): every line the real
// daemon writes through a cycle is a priority prefix and one JSON object with ts, level and msg,
// and the lines about a mapping or a referral carry it as a field (journalctl can select on it).
#include <catch2/catch.hpp>

#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/e2e_helpers.hpp"

namespace cosync::log_json_e2e_test {

TEST_CASE("log_json_e2e: every line of a cycle parses, with journald priorities and mapping fields") {
  testing::E2eHarness h;
  testing::replace_in_file(h.config_path(), "log: { level: debug }", "log: { level: debug, format: json }");
  std::string referral = h.add_incoming_lead("Adatum");
  auto result = testing::run_command("JOURNAL_STREAM=8:12345 " + std::string(COSYNC_BINARY_DIR) + "/cosyncd once --config " +
                                     h.config_path() + " 2>&1");
  REQUIRE(result.exit_status == 0);
  std::istringstream in(result.output);
  int lines = 0, with_mapping = 0, with_referral = 0;
  for (std::string line; std::getline(in, line); ++lines) {
    INFO(line);
    REQUIRE(line.size() > 3);
    CHECK((line[0] == '<' && line[2] == '>' && line[1] >= '0' && line[1] <= '7'));
    REQUIRE(nlohmann::json::accept(line.substr(3)));
    auto object = nlohmann::json::parse(line.substr(3));
    CHECK(object["ts"].is_string());
    CHECK(object["level"].is_string());
    CHECK(object["msg"].is_string());
    if (object.contains("mapping")) {
      ++with_mapping;
      CHECK(object["mapping"] == "pc-sf-leads");
    }
    // "mapping=pc-sf-leads created Lead 00Q... from referral <id>": the referral's line has its mapping
    if (object.contains("mapping") && object["msg"].get<std::string>().find(referral) != std::string::npos) ++with_referral;
  }
  CHECK(lines > 3);
  CHECK(with_mapping > 0);
  INFO(result.output);
  CHECK(with_referral > 0);
}

}  // namespace cosync::log_json_e2e_test
