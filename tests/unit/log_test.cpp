#include <catch2/catch.hpp>

#include <algorithm>

#include "daemon/util/log.hpp"

using namespace cosync;

TEST_CASE("log: a remote value with a newline cannot forge a second line or its priority") {
  auto captured = make_capturing_logger();
  // A customer name as a hostile API could send it: a newline, then a journald priority prefix.
  captured.log->info("referral 42: customer {}", "Acme\n<2>fake critical\r\tx\x01\x7f");
  const std::string& text = *captured.text;
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  CHECK(text == "info referral 42: customer Acme\\n<2>fake critical\\r\\tx\\x01\\x7f\n");
}

TEST_CASE("log: escaping leaves printable text, UTF-8 and backslashes as they are") {
  CHECK(escape_control_characters("Müller GmbH \\ 100% {x}") == "Müller GmbH \\ 100% {x}");
  CHECK(escape_control_characters(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(escape_control_characters("\x1b[31mred") == "\\x1b[31mred");
}
