// Mail through SMTP (libcurl) to a real SMTP server on loopback: Debian's python3-aiosmtpd,
// started and stopped by the test, with STARTTLS or implicit TLS and a certificate the test makes.
#include <catch2/catch.hpp>

#include "tests/e2e/smtp_server.hpp"
#include "tests/unit/notify_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;

namespace {

notify::NotificationConfig smtp_config(const std::string& url, const std::string& ca_file) {
  notify::NotificationConfig c;
  notify::SinkConfig s;
  s.type = notify::SinkType::smtp;
  s.smtp.url = url;
  s.smtp.from = "cosync@example.com";
  s.smtp.ca_file = ca_file;
  s.smtp.timeout = 10s;
  c.sinks["mail"] = s;
  c.retry = 30s;
  return c;
}

}  // namespace

TEST_CASE_METHOD(testing::NotifyFixture, "notify smtp: STARTTLS with a verified certificate delivers the mail once") {
  SKIP_WITHOUT_SMTP();
  REQUIRE(testing::make_certificate(dir, "server"));
  auto port = testing::free_smtp_port();
  auto config = smtp_config("smtp://127.0.0.1:" + std::to_string(port), dir.file("server.pem"));
  config.rules.push_back(rule("mail", {"{people.crm_owner.Email}", "sales@example.com"}));
  config.rules.back().cc = {"{pc.team.email}"};
  auto s = sender(config);
  store.add_event(testing::accepted_event());

  // The server is down: the cycle's pass leaves the mail pending, to be retried.
  deliver(*s);
  REQUIRE(store.deliveries("pending").size() == 1);
  CHECK(store.deliveries("pending")[0].attempts == 1);

  testing::SmtpServer server(dir, "starttls", port);
  REQUIRE(server.accepting());
  clock.advance(31s);
  deliver(*s);
  auto sent = store.deliveries("sent");
  REQUIRE(sent.size() == 1);
  auto mails = server.messages();
  REQUIRE(mails.size() == 1);
  const auto& mail = mails[0];
  CHECK_THAT(mail, Catch::Contains("Subject: Introduction: Contoso"));
  CHECK_THAT(mail, Catch::Contains("To: owner@example.com, sales@example.com"));
  CHECK_THAT(mail, Catch::Contains("Cc: partner@example.com"));
  CHECK_THAT(mail, Catch::Contains("Message-ID: " + sent[0].message_id));
  CHECK_THAT(mail, Catch::Contains("Hello Olga Owner,"));
  CHECK_THAT(mail, Catch::Contains("X-RcptTos: owner@example.com,sales@example.com,partner@example.com") ||
                       Catch::Contains("X-RcptTo: owner@example.com, sales@example.com, partner@example.com"));
  deliver(*s);
  CHECK(server.messages().size() == 1);
}

TEST_CASE_METHOD(testing::NotifyFixture, "notify smtp: implicit TLS (smtps://), and a certificate nobody trusts is refused") {
  SKIP_WITHOUT_SMTP();
  REQUIRE(testing::make_certificate(dir, "server"));
  REQUIRE(testing::make_certificate(dir, "other"));
  auto port = testing::free_smtp_port();
  testing::SmtpServer server(dir, "smtps", port);
  REQUIRE(server.accepting());
  auto untrusted = smtp_config("smtps://127.0.0.1:" + std::to_string(port), dir.file("other.pem"));
  untrusted.rules.push_back(rule("mail"));
  auto refused = sender(untrusted);
  store.add_event(testing::accepted_event());
  deliver(*refused);
  REQUIRE(store.deliveries("pending").size() == 1);
  CHECK_THAT(store.deliveries("pending")[0].last_error, Catch::Contains("SMTP"));
  CHECK(server.messages().empty());

  auto trusted = sender(smtp_config("smtps://127.0.0.1:" + std::to_string(port), dir.file("server.pem")));
  trusted->configure([&] {
    auto c = smtp_config("smtps://127.0.0.1:" + std::to_string(port), dir.file("server.pem"));
    c.rules.push_back(rule("mail"));
    return c;
  }());
  clock.advance(31s);
  deliver(*trusted);
  CHECK(store.deliveries("sent").size() == 1);
  REQUIRE(server.messages().size() == 1);
  CHECK_THAT(server.messages()[0], Catch::Contains("Subject: Introduction: Contoso"));
}
