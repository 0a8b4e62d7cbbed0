// The `notifications:` section: sinks, rules with when:, recipients and template files, and the
// errors that name file, line and key.
#include <catch2/catch.hpp>

#include "daemon/cli/config.hpp"
#include "tests/unit/config_fixtures.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;

namespace {

const std::string kNotifyConfigSection = R"(notifications:
  retry: 2m
  sinks:
    mail:
      type: smtp
      url: smtps://smtp.example.com:465
      from: cosync@example.com
      username: cosync@example.com
      password_file: smtp_password
    teams:
      type: webhook
      url: https://example.webhook.office.com/webhookb2/x
      format: teams
  rules:
    - name: introduction
      on: accepted
      when:
        pc._kind: [marketplace_lead, qualified_lead]
        pc.customerProfile.address.country: US
      sink: mail
      to: ["{people.crm_owner.Email}", sales-us@example.com]
      cc: alliances@example.com
      template: templates/introduction.txt
)";

struct NotifyConfigFiles {
  testing::TempDir dir;
  NotifyConfigFiles() {
    dir.write("leads.yaml", testing::kLeadsMapping);
    dir.write_secret("smtp_password", "pw\n");
    dir.write("templates/introduction.txt", "Subject: Hello {pc.customerProfile.name}\n\nAccepted: {referral_id}\n");
  }
  std::string config(const std::string& notifications) {
    return dir.write("cosync.yaml", testing::config_text() + notifications);
  }
};

}  // namespace

TEST_CASE("notify config: sinks, a rule with its condition, recipients and template") {
  NotifyConfigFiles f;
  auto c = app::load_config(f.config(kNotifyConfigSection));
  const auto& n = c.notifications;
  CHECK(n.retry == std::chrono::minutes(2));
  REQUIRE(n.sinks.size() == 2);
  CHECK(n.sinks.at("mail").type == notify::SinkType::smtp);
  CHECK(n.sinks.at("mail").smtp.password == "pw");
  CHECK(n.sinks.at("teams").webhook.format == "teams");
  REQUIRE(n.rules.size() == 1);
  const auto& r = n.rules[0];
  CHECK(r.on == "accepted");
  CHECK(r.to == std::vector<std::string>{"{people.crm_owner.Email}", "sales-us@example.com"});
  CHECK(r.cc == std::vector<std::string>{"alliances@example.com"});
  CHECK(r.subject == "Hello {pc.customerProfile.name}");
  CHECK(r.body == "Accepted: {referral_id}\n");
  nlohmann::json us = {{"_kind", "qualified_lead"}, {"customerProfile", {{"address", {{"country", "US"}}}}}};
  nlohmann::json de = {{"_kind", "qualified_lead"}, {"customerProfile", {{"address", {{"country", "DE"}}}}}};
  CHECK(r.when.evaluate({&us, nullptr, {}}));
  CHECK_FALSE(r.when.evaluate({&de, nullptr, {}}));
}

TEST_CASE("notify config: errors name the file, the line and the key") {
  NotifyConfigFiles f;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string text = kNotifyConfigSection;
    text.replace(text.find(from), from.size(), to);
    return testing::config_error_of(f.config(text));
  };
  // config_text() has 16 lines; notifications: starts at line 17.
  CHECK(with("sink: mail", "sink: email") ==
        f.dir.file("cosync.yaml") + ":36: notifications.rules[0].sink: no sink named 'email' under notifications.sinks");
  CHECK_THAT(with("type: webhook", "type: pigeon"),
             Catch::Contains(":27: notifications.sinks.teams.type: expected smtp, graph, webhook or command"));
  CHECK_THAT(with("url: smtps://smtp.example.com:465", "url: https://smtp.example.com"),
             Catch::Contains(":22: notifications.sinks.mail.url: unsupported URL scheme 'https'"));
  CHECK_THAT(with("country: US", "country: {older: 1d}"), Catch::Contains(":35: notifications.rules[0].when.pc.customerProfile.address.country"));
  CHECK_THAT(with("cc: alliances@example.com", "cc: \"{crm.Owner.Email\""),
             Catch::Contains(":38: notifications.rules[0].cc: unclosed '{'"));
  f.dir.write("templates/introduction.txt", "Subject: x\n\nHello {pc.customerProfile.nosuch}\n");
  CHECK_THAT(testing::config_error_of(f.config(kNotifyConfigSection)),
             Catch::Contains(":39: notifications.rules[0].template: ") &&
                 Catch::Contains("introduction.txt:3: {pc.customerProfile.nosuch}: not a path of a Partner Center referral"));
  f.dir.write("templates/introduction.txt", "Hello\n");
  CHECK_THAT(testing::config_error_of(f.config(kNotifyConfigSection)), Catch::Contains("expected the first line to be 'Subject: ...'"));
}

TEST_CASE("notify config: the example templates load") {
  for (const char* name : {"introduction.txt", "win.txt", "post-sales.txt"}) {
    NotifyConfigFiles f;
    std::string text = kNotifyConfigSection;
    std::string from = "template: templates/introduction.txt";
    text.replace(text.find(from), from.size(),
                 std::string("template: ") + COSYNC_SOURCE_DIR + "/config/examples/notifications/" + name);
    INFO(name);
    auto c = app::load_config(f.config(text));
    CHECK_FALSE(c.notifications.rules.at(0).subject.empty());
  }
}
