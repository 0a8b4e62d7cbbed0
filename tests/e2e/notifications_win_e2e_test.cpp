// End to end, the real cosyncd and a real SMTP server (aiosmtpd, STARTTLS, verified certificate):
// when a won co-sell deal's registration is submitted to Partner Center, the guide's win e-mail
// and then its post-sales e-mail go out once each, from the example templates in
// config/examples/notifications/ (text and HTML), to the configured recipients.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>

#include "daemon/util/time.hpp"
#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/smtp_server.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// The win and post-sales rules of the example section, through an SMTP sink on `port`.
std::string win_config(testing::E2eHarness& h, unsigned short port) {
  for (const char* name : {"win.txt", "win.html", "post-sales.txt", "post-sales.html"})
    std::filesystem::copy_file(std::string(COSYNC_SOURCE_DIR) + "/config/examples/notifications/" + name,
                               h.dir.file(name));
  std::string to = "to: [\"{people.crm_owner.Email}\", sales@example.com], cc: [alliance-manager@example.com]";
  return "notifications:\n"
         "  sinks:\n"
         "    mail: { type: smtp, url: \"smtp://127.0.0.1:" + std::to_string(port) +
         "\", from: cosync@example.com, ca_file: " + h.dir.file("server.pem") + ", timeout: 5s }\n"
         "  rules:\n"
         "    - { name: win, on: registration_submitted, sink: mail, " + to +
         ", template: win.txt, html_template: win.html }\n"
         "    - { name: post-sales, on: registration_submitted, sink: mail, to: [delivery@example.com], "
         "template: post-sales.txt, html_template: post-sales.html }\n";
}

const std::string* mail_with(const std::vector<std::string>& mails, const std::string& text) {
  for (const auto& m : mails)
    if (m.find(text) != std::string::npos) return &m;
  return nullptr;
}

}  // namespace

TEST_CASE("e2e notifications: a submitted deal registration sends the win e-mail, then the post-sales e-mail, once each") {
  SKIP_WITHOUT_SMTP();
  testing::E2eHarness h(testing::Crm::salesforce, "pc-sf-opportunities.yaml");
  REQUIRE(testing::make_certificate(h.dir, "server"));
  auto port = testing::free_smtp_port();
  testing::SmtpServer smtp(h.dir, "starttls", port);
  REQUIRE(smtp.accepting());
  h.write_config(win_config(h, port));

  // A co-sell referral created 80 hours ago on Partner Center's clock: its Won is not held.
  auto referral = h.add_co_sell_referral("Fabrikam - cloud migration", "Fabrikam", 120000, 80h);
  testing::check_once(h);
  REQUIRE_FALSE(h.crm_id_for(referral).empty());
  h.edit_crm_record(referral, {{"Offering__c", "Contoso Cloud Platform"}});
  h.edit_crm_record(referral, {{"StageName", "Closed Won"}});
  for (int i = 0; i < 3 && h.pc.referral(referral)["registrations"].is_null(); ++i) testing::check_once(h);
  REQUIRE_FALSE(h.pc.referral(referral)["registrations"].is_null());

  auto mails = smtp.messages();
  REQUIRE(mails.size() == 2);
  const auto* win = mail_with(mails, "Subject: Won and registered: Fabrikam");
  const auto* post = mail_with(mails, "Subject: Next steps after the win: Fabrikam");
  REQUIRE(win);
  REQUIRE(post);
  CHECK_THAT(*win, Catch::Contains("sales@example.com") && Catch::Contains("Cc: alliance-manager@example.com"));
  CHECK_THAT(*win, Catch::Contains("Content-Type: multipart/alternative"));
  CHECK_THAT(*win, Catch::Contains("Content-Type: text/html") && Catch::Contains("<b>Fabrikam</b> is won"));
  CHECK_THAT(*win, Catch::Contains("Partner Center referral: " + referral));
  CHECK_THAT(*post, Catch::Contains("To: delivery@example.com"));
  CHECK_THAT(*post, Catch::Contains("Fabrikam is now a customer"));

  // The win first: deliveries go out in rule order.
  auto list = json::parse(h.cosyncd("notifications list", "--json").output);
  REQUIRE(list.size() == 2);
  std::map<std::string, long long> id;
  for (const auto& n : list) {
    CHECK(n["status"] == "sent");
    const auto& v = n["id"];
    id[n["rule"].get<std::string>()] = v.is_string() ? std::stoll(v.get<std::string>()) : v.get<long long>();
  }
  CHECK(id["win"] < id["post-sales"]);

  testing::check_once(h);
  testing::check_once(h);
  CHECK(smtp.messages().size() == 2);  // once each
}
