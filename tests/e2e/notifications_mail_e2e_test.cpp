// End to end, the real cosyncd: the introduction mail reaches a real SMTP server (aiosmtpd, with
// STARTTLS and a verified certificate) and Microsoft Graph's sendMail (a fake with a
// client-credentials token) once each when a seller accepts a lead; an SMTP server that is down
// delays the mail without failing a cycle; a SIGKILL between a send and its commit resends at
// most once, with the same Message-ID.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <thread>

#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/smtp_server.hpp"
#include "tests/fakes/http_test_server.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// https://learn.microsoft.com/en-us/graph/api/user-sendmail: POST /users/{id | userPrincipalName}/sendMail
// with a bearer token, 202 Accepted and no body.
fakes::HttpTestServer fake_graph(const fakes::FakeTokenServer& tokens) {
  return fakes::HttpTestServer([&tokens](const fakes::FakeRequest& r) {
    auto auth = r.header("Authorization");
    if (!auth.starts_with("Bearer ") || !tokens.is_valid_access_token(auth.substr(7)))
      return fakes::FakeResponse::json(401, {{"error", {{"code", "InvalidAuthenticationToken"}}}});
    return fakes::FakeResponse{202, {}, ""};
  });
}

// The notifications: section: the introduction through SMTP and through Graph.
std::string mail_config(testing::E2eHarness& h, unsigned short smtp_port, const std::string& graph_url) {
  h.tokens.add_client("graph-app", "graph-secret");
  h.dir.write("graph_secret", "graph-secret");
  std::filesystem::permissions(h.dir.file("graph_secret"), std::filesystem::perms::owner_read |
                                                               std::filesystem::perms::owner_write);
  h.dir.write("introduction.txt",
              "Subject: Introduction: {pc.customerProfile.name}\n\nReferral {referral_id} was accepted.\n");
  return "notifications:\n"
         "  interval: 1s\n"
         "  retry: 1s\n"
         "  sinks:\n"
         "    mail: { type: smtp, url: \"smtp://127.0.0.1:" + std::to_string(smtp_port) +
         "\", from: cosync@example.com, ca_file: " + h.dir.file("server.pem") + ", timeout: 5s }\n"
         "    m365: { type: graph, mailbox: cosync@contoso.com, graph_url: \"" + graph_url + "/v1.0\", token_url: \"" +
         h.tokens.url() + "\", client_id: graph-app, client_secret_file: " + h.dir.file("graph_secret") + " }\n"
         "  rules:\n"
         "    - { name: introduction, on: accepted, sink: mail, to: [sales@example.com, alliances@example.com], "
         "template: introduction.txt }\n"
         "    - { name: introduction-m365, on: accepted, sink: m365, to: [sales@example.com], "
         "template: introduction.txt }\n";
}

}  // namespace

TEST_CASE("e2e notifications: the introduction mail goes through SMTP and Graph once, and waits for a server that is down") {
  SKIP_WITHOUT_SMTP();
  testing::E2eHarness h;
  REQUIRE(testing::make_certificate(h.dir, "server"));
  auto graph = fake_graph(h.tokens);
  auto port = testing::free_smtp_port();
  h.write_config(mail_config(h, port, graph.base_url()));
  auto id = h.add_incoming_lead("Fabrikam");
  testing::check_once(h);
  h.edit_crm_record(id, {{"Status", "Working - Contacted"}});

  // The SMTP server is down: the cycle completes (exit 0), Graph gets its mail, SMTP's waits.
  auto run = testing::check_once(h);
  INFO(run.output);
  CHECK(graph.requests("POST", "/v1.0/users/cosync@contoso.com/sendMail").size() == 1);
  CHECK_THAT(h.cosyncd("status").output, Catch::Contains("notifications: 1 pending, 0 failed"));

  testing::SmtpServer smtp(h.dir, "starttls", port);
  REQUIRE(smtp.accepting());
  std::this_thread::sleep_for(1100ms);  // the retry time (retry: 1s) has come
  run = testing::check_once(h);
  INFO(run.output);
  auto mails = smtp.messages();
  REQUIRE(mails.size() == 1);
  CHECK_THAT(mails[0], Catch::Contains("Subject: Introduction: Fabrikam"));
  CHECK_THAT(mails[0], Catch::Contains("To: sales@example.com, alliances@example.com"));
  CHECK_THAT(mails[0], Catch::Contains("Referral " + id + " was accepted."));
  auto list = json::parse(h.cosyncd("notifications list", "--json").output);
  REQUIRE(list.size() == 2);
  for (const auto& n : list) {
    CHECK(n["status"] == "sent");
    if (n["rule"] == "introduction") CHECK_THAT(mails[0], Catch::Contains("Message-ID: " + n["message_id"].get<std::string>()));
  }
  auto posts = graph.requests("POST", "/v1.0/users/cosync@contoso.com/sendMail");
  REQUIRE(posts.size() == 1);
  auto body = json::parse(posts[0].body);
  CHECK(body["message"]["subject"] == "Introduction: Fabrikam");
  CHECK(body["message"]["toRecipients"][0]["emailAddress"]["address"] == "sales@example.com");

  // Once each: further cycles send nothing again.
  testing::check_once(h);
  CHECK(smtp.messages().size() == 1);
  CHECK(graph.requests("POST", "/v1.0/users/cosync@contoso.com/sendMail").size() == 1);
  CHECK_THAT(h.cosyncd("status").output, Catch::Contains("notifications: 0 pending, 0 failed"));
}

TEST_CASE("e2e notifications: a SIGKILL between a send and its commit resends at most once, with the same Message-ID") {
  testing::E2eHarness h;
  std::atomic<int> posts{0};
  // The receiver takes the message, then answers late: the daemon is killed while it waits.
  fakes::HttpTestServer teams([&](const fakes::FakeRequest&) {
    if (++posts == 1) std::this_thread::sleep_for(1500ms);
    return fakes::FakeResponse{200, {}, "1"};
  });
  h.dir.write("introduction.txt", "Subject: Introduction: {pc.customerProfile.name}\n\nHello\n");
  h.write_config("notifications:\n"
                 "  interval: 1s\n"
                 "  sinks:\n"
                 "    teams: { type: webhook, url: \"" + teams.base_url() + "/hook\", format: teams }\n"
                 "  rules:\n"
                 "    - { name: introduction, on: accepted, sink: teams, template: introduction.txt }\n");
  auto id = h.add_incoming_lead("Contoso");
  testing::check_once(h);
  h.edit_crm_record(id, {{"Status", "Working - Contacted"}});

  auto daemon = h.start_daemon();
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (posts == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  REQUIRE(posts == 1);
  daemon->signal(SIGKILL);
  daemon->wait_exit(5s);
  std::this_thread::sleep_for(1600ms);  // the first answer is done: nobody waits for it any more

  auto run = testing::check_once(h);
  INFO(run.output);
  auto sent = teams.requests("POST", "/hook");
  REQUIRE(sent.size() == 2);  // the one the kill cut short, sent again: at most one duplicate
  CHECK(sent[0].header("Idempotency-Key") == sent[1].header("Idempotency-Key"));
  CHECK_FALSE(sent[0].header("Idempotency-Key").empty());
  testing::check_once(h);
  CHECK(teams.requests("POST", "/hook").size() == 2);
  auto list = json::parse(h.cosyncd("notifications list", "--json").output);
  REQUIRE(list.size() == 1);
  CHECK(list[0]["status"] == "sent");
  CHECK(list[0]["message_id"] == sent[0].header("Idempotency-Key"));
}
