// HTML alternatives of notification templates (html_template:): loaded and checked like the text
// template, filled with HTML-escaped values, sent as multipart/alternative over SMTP; the Teams
// Adaptive Card webhook body; the example notification section loads with its templates.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "daemon/cli/notify/sink.hpp"
#include "daemon/util/yaml_reader.hpp"
#include "tests/unit/notify_fixture.hpp"

using namespace cosync;
using nlohmann::json;

namespace {

// A Delivery of the fixture's "accepted" event for a customer whose name is markup.
Delivery markup_delivery() {
  Delivery d;
  d.message_id = "<m-1@cosync>";
  d.event = testing::accepted_event();
  d.event.payload["pc"]["customerProfile"]["name"] = "<b>Contoso</b> & \"Sons\"";
  return d;
}

notify::NotificationRule html_rule() {
  notify::NotificationRule r;
  r.name = "introduction";
  r.on = "accepted";
  r.to = {"{people.crm_owner.Email}"};
  r.subject = "Introduction: {pc.customerProfile.name}";
  r.body = "Customer: {pc.customerProfile.name}\n";
  r.html = "<p>Customer: <b>{pc.customerProfile.name}</b></p>\n";
  return r;
}

}  // namespace

TEST_CASE("notify html: values are escaped in the HTML body, not in the text body") {
  auto m = notify::compose(html_rule(), markup_delivery(), true);
  REQUIRE(m);
  CHECK(m->body == "Customer: <b>Contoso</b> & \"Sons\"\n");
  CHECK(m->html == "<p>Customer: <b>&lt;b&gt;Contoso&lt;/b&gt; &amp; &quot;Sons&quot;</b></p>\n");
  CHECK(m->subject == "Introduction: <b>Contoso</b> & \"Sons\"");
  auto text_only = html_rule();
  text_only.html.clear();
  CHECK(notify::compose(text_only, markup_delivery(), true)->html.empty());
}

TEST_CASE("notify html: SMTP sends both bodies as multipart/alternative, text first") {
  auto m = notify::compose(html_rule(), markup_delivery(), true);
  REQUIRE(m);
  std::string mail = notify::mime_message("cosync@example.com", *m, TimePoint{});
  const std::string header = "Content-Type: multipart/alternative; boundary=\"";
  auto type = mail.find(header);
  REQUIRE(type != std::string::npos);
  auto start = type + header.size();
  std::string boundary = mail.substr(start, mail.find('"', start) - start);
  CHECK(boundary.starts_with("=_cosync_"));
  auto text = mail.find("--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\n");
  auto html = mail.find("--" + boundary + "\r\nContent-Type: text/html; charset=utf-8\r\n");
  REQUIRE(text != std::string::npos);
  REQUIRE(html != std::string::npos);
  CHECK(text < html);  // clients show the last part they can render
  CHECK(mail.find("<p>Customer: <b>&lt;b&gt;Contoso") > html);
  CHECK(mail.ends_with("--" + boundary + "--\r\n"));
  CHECK(mail.find("Message-ID: <m-1@cosync>\r\n") < type);

  auto plain = *m;
  plain.html.clear();
  std::string text_mail = notify::mime_message("cosync@example.com", plain, TimePoint{});
  CHECK(text_mail.find("multipart") == std::string::npos);
  CHECK(text_mail.find("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                       "Customer: <b>Contoso</b> & \"Sons\"\r\n") != std::string::npos);
}

TEST_CASE("notify html: the Teams Adaptive Card body, as Teams incoming webhooks document it") {
  notify::Message m;
  m.subject = "Introduction: Contoso";
  m.body = "Referral ref-1 was accepted.";
  auto body = notify::webhook_body("teams_adaptive", m);
  CHECK(body["type"] == "message");
  REQUIRE(body["attachments"].size() == 1);
  const auto& a = body["attachments"][0];
  CHECK(a["contentType"] == "application/vnd.microsoft.card.adaptive");
  CHECK(a["contentUrl"].is_null());
  CHECK(a["content"]["type"] == "AdaptiveCard");
  CHECK(a["content"]["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json");
  CHECK(a["content"]["body"][0]["text"] == "Introduction: Contoso");
  CHECK(a["content"]["body"][1]["text"] == "Referral ref-1 was accepted.");
  auto card = notify::webhook_body("teams", m);
  CHECK(card["@type"] == "MessageCard");
  CHECK(card["@context"] == "https://schema.org/extensions");
  CHECK(card["summary"] == "Introduction: Contoso");  // Teams refuses a card without summary or text
}

TEST_CASE("notify html: the example notification section loads, each rule with its HTML template") {
  ::setenv("GRAPH_CLIENT_SECRET", "example-secret", 1);
  auto root = YamlNode::load_file(std::string(COSYNC_SOURCE_DIR) + "/config/examples/notifications/notifications.yaml");
  auto c = notify::read_notifications(root.get("notifications"));
  ::unsetenv("GRAPH_CLIENT_SECRET");
  REQUIRE(c.rules.size() == 4);
  CHECK(c.rules[1].on == "registration_submitted");
  CHECK(c.rules[2].on == "registration_submitted");
  for (int i = 0; i < 3; ++i) {
    INFO(c.rules[i].name);
    CHECK(c.rules[i].html.starts_with("<!DOCTYPE html>"));
    CHECK_FALSE(c.rules[i].subject.empty());
  }
  CHECK(c.health.quarantine_above == 10);
  CHECK(c.health.quarantine_growing_cycles == 5);
  CHECK(c.keep_sent == std::chrono::hours(30 * 24));
}

TEST_CASE("notify html: an unknown placeholder in the HTML template names its file and line") {
  testing::TempDir dir;
  dir.write("t.txt", "Subject: Hi\n\nText\n");
  dir.write("t.html", "<p>ok</p>\n<p>{pc.customerProfile.nosuch}</p>\n");
  auto path = dir.write("n.yaml", "notifications:\n  sinks:\n    hook: { type: webhook, url: \"http://127.0.0.1:9/h\" }\n"
                                  "  rules:\n    - { name: r, on: accepted, sink: hook, template: t.txt, html_template: t.html }\n");
  auto root = YamlNode::load_file(path);
  try {
    notify::read_notifications(root.get("notifications"));
    FAIL("loaded");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("t.html:2: {pc.customerProfile.nosuch}"));
  }
}
