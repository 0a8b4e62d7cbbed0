// Referral status transitions become events in the notification outbox, committed with the
// merge that saw them, once.
#include <catch2/catch.hpp>

#include "tests/engine/engine_fixture.hpp"

using namespace cosync;
using nlohmann::json;

TEST_CASE_METHOD(testing::EngineFixture,
                 "referral events: a seller accepting the lead in the CRM puts one 'accepted' event in the outbox") {
  auto id = pc_fake.add_referral({{"customerProfile", {{"name", "Contoso"}}}, {"status", "New"}, {"substatus", "Pending"}});
  cycle();
  REQUIRE_FALSE(lead_of(id).empty());
  auto events = store.undispatched_events(10);
  REQUIRE(events.size() == 1);  // created: the lead was received, no transition yet
  CHECK(events[0].event == "received");
  CHECK(events[0].crm_id == lead_of(id));
  CHECK(events[0].payload["pc"]["customerProfile"]["name"] == "Contoso");

  sf_fake.edit("Lead", lead_of(id), {{"Status", "Working - Contacted"}});
  cycle();
  CHECK(pc_fake.referral(id)["status"] == "Active");
  events = store.undispatched_events(10);
  REQUIRE(events.size() == 2);
  CHECK(events[1].event == "accepted");
  CHECK(events[1].pc_id == id);
  CHECK(events[1].crm_id == lead_of(id));
  CHECK(events[1].payload["referral_id"] == id);
  CHECK(events[1].payload["crm"]["Status"] == "Working - Contacted");
  CHECK(events[1].payload["pc"]["customerProfile"]["name"] == "Contoso");
  CHECK(events[1].payload["people"].contains("partner_team"));
  CHECK(events[1].payload["reason"].get<std::string>().find("New -> Active/Accepted") != std::string::npos);

  // The shadow now holds Active: the next cycles see no transition.
  cycle();
  cycle();
  CHECK(store.undispatched_events(10).size() == 2);

  clock.advance(std::chrono::hours(73));  // Partner Center closes as Won no earlier than 72 h after creation
  sf_fake.edit("Lead", lead_of(id), {{"Status", "Closed - Converted"}});
  cycle();
  events = store.undispatched_events(10);
  REQUIRE(events.size() == 3);
  CHECK(events[2].event == "won");
}

TEST_CASE_METHOD(testing::EngineFixture, "referral events: a status change made in Partner Center is an event too") {
  auto id = pc_fake.add_referral({{"customerProfile", {{"name", "Fabrikam"}}}, {"status", "New"}, {"substatus", "Pending"}});
  cycle();
  REQUIRE_FALSE(lead_of(id).empty());
  pc_fake.edit(id, [](json& r) {
    r["status"] = "Closed";
    r["substatus"] = "Lost";
  });
  cycle();
  auto events = store.undispatched_events(10);
  REQUIRE(events.size() == 2);
  CHECK(events[0].event == "received");
  CHECK(events[1].event == "lost");
}
