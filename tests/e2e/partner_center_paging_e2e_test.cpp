// End to end, the real cosyncd against the fakes: every changed referral is read however many
// pages Partner Center splits them into (issue 10: $top is the total, not a page size), and a
// referral no sync can use is quarantined while the daemon keeps running and syncs the others.
#include <catch2/catch.hpp>
#include <signal.h>

#include <map>
#include <set>

#include "daemon/store/state_store.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"
#include "tests/e2e/e2e_checks.hpp"
#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/e2e_helpers.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::map<std::string, json> leads_by_referral(const testing::E2eHarness& h) {
  std::map<std::string, json> out;
  for (const auto& lead : h.crm_records()) {
    auto ref = lead.find("PartnerCenterReferralId__c");
    if (ref != lead.end() && ref->is_string()) out[ref->get<std::string>()] = lead;
  }
  return out;
}

}  // namespace

TEST_CASE("e2e: 250 new referrals are 250 Leads and links after one cycle: 150 edited in PC are all mirrored by the next") {
  testing::E2eHarness h;
  // Created over the last hours, so that the edits below are well past the cursor and its overlap.
  TimePoint start = std::chrono::system_clock::now() - 3h;
  std::vector<std::string> ids;
  for (int i = 0; i < 250; ++i) {
    auto at = format_iso8601(start + std::chrono::seconds(10 * i));
    ids.push_back(h.pc.add_referral({{"type", "Independent"},
                                     {"direction", "Incoming"},
                                     {"status", "New"},
                                     {"substatus", "Pending"},
                                     {"createdDateTime", at},
                                     {"updatedDateTime", at},
                                     {"customerProfile", {{"name", "Company " + std::to_string(i)}}}}));
  }

  auto first = testing::check_once(h);
  INFO(first.output);
  auto leads = leads_by_referral(h);
  CHECK(leads.size() == 250);
  for (const auto& id : ids) CHECK(leads.contains(id));
  StateStore store(h.dir.file("state/state.db"));
  CHECK(store.links("pc-sf-leads").size() == 250);
  std::size_t linked = 0;
  for (const auto& id : ids) linked += h.pc.referral(id).contains("externalReferenceId") ? 1 : 0;
  CHECK(linked == 250);
  for (const auto& g : h.pc.server().requests())
    if (g.method == "GET") CHECK_FALSE(g.query.contains("$top"));

  // 150 edited by sellers in Partner Center: more than one page of changes since the cursor.
  for (int i = 0; i < 150; ++i)
    h.pc.edit(ids[static_cast<std::size_t>(i)], [i](json& r) { r["customerProfile"]["name"] = "Edited " + std::to_string(i); });
  auto second = testing::check_once(h);
  INFO(second.output);
  leads = leads_by_referral(h);
  int mirrored = 0;
  for (int i = 0; i < 150; ++i) {
    const auto& lead = leads[ids[static_cast<std::size_t>(i)]];
    mirrored += remote_json::string_or(lead, "Company") == "Edited " + std::to_string(i) ? 1 : 0;
  }
  CHECK(mirrored == 150);
  CHECK(leads.size() == 250);
}

TEST_CASE("e2e: a referral with nulls, wrong types, a control character in its id or a date past 2262 is quarantined: cosyncd run keeps syncing the rest") {
  testing::E2eHarness h;
  auto good = h.add_incoming_lead("Contoso");
  auto null_substatus = h.add_incoming_lead("Null Substatus");
  h.pc.edit(null_substatus, [](json& r) {
    r["substatus"] = nullptr;
    r["details"] = nullptr;
  });
  auto numeric_status = h.add_incoming_lead("Numeric Status");
  h.pc.edit(numeric_status, [](json& r) { r["status"] = 7; });
  auto object_name = h.add_incoming_lead("Object Name");
  h.pc.edit(object_name, [](json& r) { r["customerProfile"]["name"] = json{{"first", "a"}}; });
  h.pc.add_referral({{"id", "bad\nid"}, {"direction", "Incoming"}, {"customerProfile", {{"name", "Newline Id"}}}});
  h.pc.add_referral({{"direction", "Incoming"},
                     {"updatedDateTime", "9999-12-31T23:59:59Z"},
                     {"customerProfile", {{"name", "Year 9999"}}}});

  auto daemon = h.start_daemon();
  REQUIRE(daemon->wait_for_output("cycle mapping=pc-sf-leads", std::chrono::seconds(20)));
  bool synced = testing::wait_until([&] { return h.pc.referral(good).contains("externalReferenceId"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  INFO(daemon->output());
  CHECK(synced);
  CHECK_FALSE(daemon->wait_exit(std::chrono::milliseconds(0)).has_value());  // still running
  auto leads = leads_by_referral(h);
  CHECK(leads.contains(good));
  for (const auto& name : {"Newline Id", "Year 9999"})
    for (const auto& [id, lead] : leads) CHECK(remote_json::string_or(lead, "Company") != name);
  CHECK_FALSE(leads.contains(numeric_status));
  CHECK_THAT(daemon->output(), Catch::Contains("contains a control character"));
  CHECK_THAT(daemon->output(), Catch::Contains("no valid updatedDateTime"));
  CHECK_THAT(daemon->output(), Catch::Contains("no status"));

  daemon->signal(SIGTERM);
  auto status = daemon->wait_exit(std::chrono::seconds(10));
  REQUIRE(status);
  CHECK(*status == 0);

  // Each bad referral is in quarantine with its reason, under a printable id.
  StateStore store(h.dir.file("state/state.db"));
  std::map<std::string, std::string> quarantined;
  for (const auto& q : store.quarantined())
    if (q.side == "pc") quarantined[q.record_id] = q.reason;
  CHECK_THAT(quarantined[numeric_status], Catch::Contains("no status"));
  CHECK_THAT(quarantined["\"bad\\nid\""], Catch::Contains("contains a control character"));
  CHECK_FALSE(quarantined.contains(good));
}

TEST_CASE("e2e: a config that still sets partner_center.page_size runs, with a deprecation warning naming its line") {
  testing::E2eHarness h;
  h.add_incoming_lead("Contoso");
  testing::replace_in_file(h.config_path(), "partner_center:\n", "partner_center:\n  page_size: 100\n");
  int line = testing::line_of(h.config_path(), "page_size");

  auto run = testing::check_once(h);
  INFO(run.output);
  CHECK_THAT(run.output, Catch::Contains(h.config_path() + ":" + std::to_string(line) +
                                         ": partner_center.page_size: deprecated and ignored"));
  CHECK(h.crm_records().size() == 1);
}
