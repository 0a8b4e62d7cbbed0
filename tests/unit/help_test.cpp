#include <catch2/catch.hpp>

#include <sstream>

#include "daemon/cli/help.hpp"
#include "tests/e2e/child_process.hpp"

// Inside a namespace of its own: the unity build compiles this file with others.
namespace cosync::app::help_test {

using cosync::testing::run_command;

namespace {

const std::string kCosyncd = std::string(COSYNC_BINARY_DIR) + "/cosyncd";

std::string man_page() {
  std::ostringstream out;
  write_man_page(out, "9.9.9");
  return out.str();
}

std::string command_help(const CommandHelp& c) {
  std::ostringstream out;
  print_command_help(out, c);
  return out.str();
}

}  // namespace

TEST_CASE("help: every command has its help, and `help SUB` and `SUB --help` print it") {
  for (const auto& c : commands()) {
    INFO(c.name);
    CHECK(!c.summary.empty());
    CHECK(c.description.size() > 10);
    std::string expected = command_help(c);
    CHECK(expected.starts_with("usage: cosyncd " + std::string(c.name)));
    auto by_help = run_command(kCosyncd + " help " + std::string(c.name));
    CHECK(by_help.exit_status == 0);
    CHECK(by_help.output == expected);
    auto by_flag = run_command(kCosyncd + " " + std::string(c.name) + " --help");
    CHECK(by_flag.exit_status == 0);
    CHECK(by_flag.output == expected);
  }
}

TEST_CASE("help: --help lists every command: an unknown one is a usage error") {
  auto usage = run_command(kCosyncd + " --help");
  CHECK(usage.exit_status == 0);
  for (const auto& c : commands()) CHECK_THAT(usage.output, Catch::Contains("  " + std::string(c.name) + " "));
  auto unknown = run_command(kCosyncd + " help frobnicate");
  CHECK(unknown.exit_status == 64);
  CHECK_THAT(unknown.output, Catch::Contains("no command 'frobnicate'"));
  CHECK(run_command(kCosyncd + " frobnicate").exit_status == 64);
}

TEST_CASE("help: the man page lists every command, option, exit status, signal, file and variable") {
  std::string man = man_page();
  CHECK_THAT(man, Catch::StartsWith(".\\\""));
  CHECK_THAT(man, Catch::Contains(".TH COSYNCD 8 \"\" \"cosync 9.9.9\""));
  for (const char* section : {"NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "EXIT STATUS", "SIGNALS",
                              "FILES", "ENVIRONMENT"})
    CHECK_THAT(man, Catch::Contains(std::string(".SH ") + section + "\n"));
  for (const auto& c : commands()) CHECK_THAT(man, Catch::Contains(".TP\n.B " + std::string(c.name) + "\n"));
  for (const auto* table : {&exit_statuses(), &signals(), &files(), &environment()})
    for (const auto& e : *table) CHECK_THAT(man, Catch::Contains(".TP\n.B " + std::string(e.term) + "\n"));
  CHECK_THAT(man, Catch::Contains(".B \\-\\-config FILE\n"));
}

TEST_CASE("help: the man page is roff that groff formats without a warning") {
  auto result = run_command(kCosyncd + " help --man | groff -man -ww -z -Tutf8 2>&1");
  CHECK(result.exit_status == 0);
  CHECK(result.output.empty());
  auto text = run_command(kCosyncd + " help --man | groff -man -Tutf8 -P-cbou 2>/dev/null");
  CHECK_THAT(text.output, Catch::Contains("--config FILE"));
  CHECK_THAT(text.output, Catch::Contains("EXIT STATUS"));
}

}  // namespace cosync::app::help_test
