// Mail through SMTP (libcurl) to a real SMTP server on loopback: Debian's python3-aiosmtpd,
// started and stopped by the test, with STARTTLS or implicit TLS and a certificate the test makes.
#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/child_process.hpp"
#include "tests/unit/notify_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;

namespace {

// Debian's python3-aiosmtpd is installed for the system interpreter.
constexpr const char* kPython = "/usr/bin/python3";

// Why the SMTP tests cannot run here, or "" when they can.
std::string smtp_unavailable() {
  if (std::system((std::string(kPython) + " -c 'import aiosmtpd' >/dev/null 2>&1").c_str()) != 0)
    return "python3-aiosmtpd is not installed for " + std::string(kPython) + " (scripts/install-deps.sh installs it)";
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) return "the openssl command is missing";
  return "";
}

unsigned short free_smtp_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

bool smtp_port_accepts(unsigned short port) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  return !ec;
}

// A self-signed certificate for 127.0.0.1 and localhost: its own trust anchor.
void make_certificate(const testing::TempDir& dir, const std::string& name) {
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext "
                    "subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " + dir.file(name + ".key") + " -out " +
                    dir.file(name + ".pem") + " >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
}

// aiosmtpd storing every message in a Maildir; `tls`: "starttls" or "smtps".
struct SmtpServer {
  SmtpServer(const testing::TempDir& dir, const std::string& tls, unsigned short port) : maildir(dir.file("maildir")) {
    std::vector<std::string> argv = {kPython, "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(port)};
    for (const auto& a : tls == "smtps" ? std::vector<std::string>{"--smtpscert", dir.file("server.pem"), "--smtpskey",
                                                                     dir.file("server.key")}
                                        : std::vector<std::string>{"--tlscert", dir.file("server.pem"), "--tlskey",
                                                                   dir.file("server.key")})
      argv.push_back(a);
    for (const auto& a : {"-c", "aiosmtpd.handlers.Mailbox"}) argv.push_back(a);
    argv.push_back(maildir);
    process = std::make_unique<testing::BackgroundProcess>(argv, dir.file("aiosmtpd.log"));
    for (int i = 0; i < 100 && !smtp_port_accepts(port); ++i) std::this_thread::sleep_for(50ms);
    REQUIRE(smtp_port_accepts(port));
  }
  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(maildir + "/new", ec)) {
      std::ifstream in(e.path());
      std::stringstream text;
      text << in.rdbuf();
      out.push_back(text.str());
    }
    return out;
  }
  std::string maildir;
  std::unique_ptr<testing::BackgroundProcess> process;
};

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

#define SKIP_WITHOUT_SMTP()                                                   \
  if (auto why = smtp_unavailable(); !why.empty()) {                          \
    WARN("COSYNC-TEST-SKIPPED: SMTP test skipped: " + why);                   \
    return;                                                                   \
  }

}  // namespace

TEST_CASE_METHOD(testing::NotifyFixture, "notify smtp: STARTTLS with a verified certificate delivers the mail once") {
  SKIP_WITHOUT_SMTP();
  make_certificate(dir, "server");
  auto port = free_smtp_port();
  auto config = smtp_config("smtp://127.0.0.1:" + std::to_string(port), dir.file("server.pem"));
  config.rules.push_back(rule("mail", {"{people.crm_owner.Email}", "sales@example.com"}));
  config.rules.back().cc = {"{pc.team.email}"};
  auto s = sender(config);
  store.add_event(testing::accepted_event());

  // The server is down: the cycle's pass leaves the mail pending, to be retried.
  deliver(*s);
  REQUIRE(store.deliveries("pending").size() == 1);
  CHECK(store.deliveries("pending")[0].attempts == 1);

  SmtpServer server(dir, "starttls", port);
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
  make_certificate(dir, "server");
  make_certificate(dir, "other");
  auto port = free_smtp_port();
  SmtpServer server(dir, "smtps", port);
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
