// End to end: the real cosyncd sends the introduction notification when a seller accepts a lead
// in Salesforce, once, to a Teams-shaped webhook; status, notifications and report show it.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "daemon/auth/refresh_token.hpp"
#include "tests/e2e/e2e_checks.hpp"
#include "tests/fakes/http_test_server.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

// The notifications: section: one webhook sink "hook" posting to `url` in `format`, `extra`
// settings, and `rules` (one YAML flow mapping per line, sink: hook).
std::string webhook_section(const std::string& url, const std::string& format, const std::vector<std::string>& rules,
                            const std::string& extra = "") {
  std::string text = "notifications:\n" + extra + "  sinks:\n    hook: { type: webhook, url: \"" + url +
                     "\", format: " + format + " }\n  rules:\n";
  for (const auto& r : rules) text += "    - { " + r + ", sink: hook }\n";
  return text;
}

}  // namespace

TEST_CASE("e2e notifications: accepting a lead in Salesforce posts the introduction to Teams once") {
  testing::E2eHarness h;
  fakes::HttpTestServer teams([](const fakes::FakeRequest&) { return fakes::FakeResponse{200, {}, "1"}; });
  h.dir.write("introduction.txt", "Subject: Introduction: {pc.customerProfile.name}\n\nReferral {referral_id} ({reason}).\n");
  h.write_config(webhook_section(teams.base_url() + "/hook", "teams", {"name: introduction, on: accepted, template: introduction.txt"}));
  auto id = h.add_incoming_lead("Fabrikam");
  testing::check_once(h);
  CHECK(teams.count("POST") == 0);  // created: nothing accepted yet

  h.edit_crm_record(id, {{"Status", "Working - Contacted"}});
  // plan shows the event and the notification it would send, and sends nothing.
  auto plan = h.cosyncd("plan", "--json");
  INFO(plan.output);
  REQUIRE(plan.exit_status == 0);
  json notify;
  for (const auto& line : json::parse(plan.output.substr(plan.output.find("\n[") + 1)))
    if (line["action"] == "notify") notify = line;
  REQUIRE(notify.is_object());
  CHECK(notify["field"] == "introduction");
  CHECK(notify["referral"] == id);
  CHECK(notify["new"]["sink"] == "hook");
  CHECK(notify["new"]["subject"] == "Introduction: Fabrikam");
  CHECK(notify["why"] == "on accepted");
  CHECK_THAT(h.cosyncd("plan").output, Catch::Contains("notify") && Catch::Contains("Introduction: Fabrikam"));
  CHECK(teams.count("POST") == 0);
  auto run = testing::check_once(h);
  INFO(run.output);
  auto posts = teams.requests("POST", "/hook");
  REQUIRE(posts.size() == 1);
  auto card = json::parse(posts[0].body);
  // The Office 365 connector card Teams incoming webhooks take: @type, @context, and a summary or
  // text (Teams answers "Summary or Text is required" without).
  CHECK(card["@type"] == "MessageCard");
  CHECK(card["@context"] == "https://schema.org/extensions");
  CHECK(card["summary"] == "Introduction: Fabrikam");
  CHECK(card["title"] == "Introduction: Fabrikam");
  CHECK(card["text"] == "Referral " + id + " (referral " + id + ": New -> Active/Accepted).\n");
  testing::check_once(h);
  CHECK(teams.count("POST") == 1);  // once

  auto list = h.cosyncd("notifications list", "--json");
  INFO(list.output);
  REQUIRE(list.exit_status == 0);
  auto sent = json::parse(list.output);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0]["status"] == "sent");
  CHECK(sent[0]["referral"] == id);
  CHECK(posts[0].header("Idempotency-Key") == sent[0]["message_id"]);
  CHECK_THAT(h.cosyncd("status").output, Catch::Contains("notifications: 0 pending, 0 failed"));
  auto report = h.cosyncd("report pipeline", "--format csv");
  INFO(report.output);
  CHECK(report.exit_status == 0);
  CHECK_THAT(report.output, Catch::StartsWith("mapping,status,stage,offering,region,count,value\r\n"));
}

TEST_CASE("e2e notifications: with the receiver down the cycles still succeed, and the message waits") {
  testing::E2eHarness h;
  h.dir.write("introduction.txt", "Subject: Introduction: {pc.customerProfile.name}\n\nHello\n");
  h.write_config(webhook_section("http://127.0.0.1:1/hook", "teams", {"name: introduction, on: accepted, template: introduction.txt"}));
  auto id = h.add_incoming_lead("Contoso");
  testing::check_once(h);
  h.edit_crm_record(id, {{"Status", "Working - Contacted"}});
  testing::check_once(h);  // exit 0: a notification that cannot be sent fails no cycle
  CHECK_THAT(h.cosyncd("status").output, Catch::Contains("notifications: 1 pending, 0 failed"));
}

TEST_CASE("e2e notifications: a refused Partner Center sign-in is notified once, and so is its recovery") {
  testing::E2eHarness h;
  fakes::HttpTestServer hook([](const fakes::FakeRequest&) { return fakes::FakeResponse{200, {}, "ok"}; });
  h.dir.write("health.txt", "Subject: cosync: {event}\n\n{reason}\n");
  h.write_config(webhook_section(hook.base_url() + "/hook", "json",
                                 {"name: sign-in, on: sign_in_failing, template: health.txt",
                                  "name: signed-in, on: sign_in_recovered, template: health.txt"}));
  h.tokens.revoke_refresh_tokens();  // the admin's sign-in was revoked
  auto failing = h.cosyncd("once");
  INFO(failing.output);
  CHECK(failing.exit_status != 0);
  h.cosyncd("once");  // still refused: no second notification
  auto posts = hook.requests("POST", "/hook");
  REQUIRE(posts.size() == 1);
  auto body = json::parse(posts[0].body);
  CHECK(body["event"]["event"] == "sign_in_failing");
  CHECK(body["subject"] == "cosync: sign_in_failing");
  CHECK_THAT(body["text"].get<std::string>(), Catch::Contains("Partner Center sign-in failed") && Catch::Contains("sign in again: cosyncd login partner-center"));

  auto token = auth::read_secret_file(h.dir.file("state/pc_refresh_token"));
  REQUIRE(token);
  h.tokens.add_refresh_token(*token);  // signed in again
  testing::check_once(h);
  testing::check_once(h);
  posts = hook.requests("POST", "/hook");
  REQUIRE(posts.size() == 2);
  CHECK(json::parse(posts[1].body)["event"]["event"] == "sign_in_recovered");
}

TEST_CASE("e2e notifications: a quarantine rising past its threshold is notified once") {
  testing::E2eHarness h;
  fakes::HttpTestServer hook([](const fakes::FakeRequest&) { return fakes::FakeResponse{200, {}, "ok"}; });
  h.dir.write("health.txt", "Subject: cosync: {event} ({mapping})\n\n{reason}\n");
  h.write_config(webhook_section(hook.base_url() + "/hook", "json",
                                 {"name: quarantine, on: quarantine_growing, template: health.txt"},
                                 "  health: { quarantine_above: 1 }\n"));
  auto bad = [&](const std::string& name) {  // a control character in its id: quarantined
    h.pc.add_referral({{"id", "bad\n" + name}, {"direction", "Incoming"}, {"customerProfile", {{"name", name}}}});
  };
  bad("First");
  h.cosyncd("once");  // 1 in quarantine: the first count, at the threshold
  bad("Second");
  bad("Third");
  auto run = h.cosyncd("once");
  INFO(run.output);
  h.cosyncd("once");
  auto posts = hook.requests("POST", "/hook");
  REQUIRE(posts.size() == 1);
  auto body = json::parse(posts[0].body);
  CHECK(body["subject"] == "cosync: quarantine_growing (pc-sf-leads)");
  CHECK_THAT(body["text"].get<std::string>(), Catch::Contains("3 record(s) in quarantine (was 1), above 1"));
}
