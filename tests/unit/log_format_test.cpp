#include <catch2/catch.hpp>

#include <sstream>

#include <nlohmann/json.hpp>

#include "daemon/util/log.hpp"

namespace cosync::log_format_test {

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

LogOptions json_options() {
  LogOptions o;
  o.format = LogFormat::json;
  o.level = "debug";
  return o;
}

}  // namespace

TEST_CASE("log json: every line is one object with ts, level, msg and the message's key=value fields") {
  auto captured = make_capturing_logger(json_options(), false);
  captured.log->info("mapping={} created Lead {} for referral={}", "pc-sf-leads", "00Q1", "0fdd-12");
  captured.log->warn("mapping={} not synced: its metadata check could not run (timeout); retried next cycle",
                     "pc-dv-leads");
  captured.log->error("customer {}", "Acme\n<2>forged {\"ts\":1} \x01");
  captured.log->debug("plain message without fields, a=b=c, Key=Upper, =x");
  auto lines = lines_of(*captured.text);
  REQUIRE(lines.size() == 4);
  std::vector<nlohmann::json> parsed;
  for (const auto& line : lines) {
    INFO(line);
    REQUIRE(nlohmann::json::accept(line));
    parsed.push_back(nlohmann::json::parse(line));
    CHECK(parsed.back()["ts"].get<std::string>().size() == 24);  // 2026-12-07T14:00:00.000Z
    CHECK(parsed.back()["ts"].get<std::string>().ends_with("Z"));
  }
  CHECK(parsed[0]["level"] == "info");
  CHECK(parsed[0]["msg"] == "mapping=pc-sf-leads created Lead 00Q1 for referral=0fdd-12");
  CHECK(parsed[0]["mapping"] == "pc-sf-leads");
  CHECK(parsed[0]["referral"] == "0fdd-12");
  CHECK(parsed[1]["level"] == "warning");
  CHECK(parsed[1]["mapping"] == "pc-dv-leads");
  CHECK(parsed[2]["msg"] == "customer Acme\n<2>forged {\"ts\":1} \x01");  // escaped by JSON, one line
  CHECK(parsed[2]["ts"].is_string());
  CHECK(parsed[3]["a"] == "b=c");
  CHECK_FALSE(parsed[3].contains("Key"));
}

TEST_CASE("log: under journald (JOURNAL_STREAM) every line starts with its syslog priority") {
  for (auto format : {LogFormat::text, LogFormat::json}) {
    LogOptions options;
    options.format = format;
    options.level = "debug";
    auto captured = make_capturing_logger(options, true);
    captured.log->debug("d");
    captured.log->info("i");
    captured.log->warn("w");
    captured.log->error("e");
    captured.log->critical("c");
    auto lines = lines_of(*captured.text);
    REQUIRE(lines.size() == 5);
    const char* priorities[] = {"<7>", "<6>", "<4>", "<3>", "<2>"};
    for (size_t i = 0; i < lines.size(); ++i) {
      INFO(lines[i]);
      CHECK(lines[i].starts_with(priorities[i]));
      if (format == LogFormat::json) CHECK(nlohmann::json::accept(lines[i].substr(3)));
      else CHECK(lines[i].find("T") == std::string::npos);  // no timestamp: the journal has its own
    }
  }
}

}  // namespace cosync::log_format_test
