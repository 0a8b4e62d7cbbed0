// cosync's own health as notification events (daemon/cli/notify/health_events.*), the outbox
// pruning that keeps the state database from growing forever, and the previews `plan` prints.
#include <catch2/catch.hpp>

#include "daemon/cli/notify/health_events.hpp"
#include "daemon/cli/notify/preview.hpp"
#include "daemon/util/time.hpp"
#include "tests/unit/notify_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> keys(const StateStore& store) {
  std::vector<std::string> out;
  for (const auto& e : store.events()) out.push_back(e.event);
  return out;
}

// An event written now on the fixture's clock (the pruning reads its time).
OutboxEvent event_now(const ManualClock& clock, const std::string& referral, const std::string& key = "accepted") {
  auto e = testing::accepted_event(referral);
  e.at = format_iso8601(clock.now());
  e.event = key;
  return e;
}

const Failure kRefused{FailureKind::auth, "AADSTS70008: the refresh token has expired", 400, ""};

}  // namespace

TEST_CASE_METHOD(testing::NotifyFixture, "notify health: a refused sign-in is one event per outage, then one recovery") {
  notify::HealthWatch watch(store, clock, captured.log);
  watch.sign_in(std::nullopt);
  CHECK(store.events().empty());
  watch.sign_in(Failure{FailureKind::transient, "connection refused", 0, ""});  // a network outage is no sign-in failure
  CHECK(store.events().empty());
  watch.sign_in(kRefused);
  watch.sign_in(kRefused);
  REQUIRE(keys(store) == std::vector<std::string>{"sign_in_failing"});
  CHECK_THAT(store.events()[0].payload["reason"].get<std::string>(), Catch::Contains("AADSTS70008"));
  // A restart during the outage remembers it (the outbox says so).
  notify::HealthWatch restarted(store, clock, captured.log);
  restarted.sign_in(kRefused);
  CHECK(store.events().size() == 1);
  restarted.sign_in(std::nullopt);
  restarted.sign_in(std::nullopt);
  CHECK(keys(store) == std::vector<std::string>{"sign_in_failing", "sign_in_recovered"});
  restarted.sign_in(kRefused);
  CHECK(keys(store) == std::vector<std::string>{"sign_in_failing", "sign_in_recovered", "sign_in_failing"});
}

TEST_CASE_METHOD(testing::NotifyFixture, "notify health: quarantine rising past the threshold is one event per rise") {
  notify::HealthWatch watch(store, clock, captured.log);
  watch.configure({5, 0});
  watch.quarantine("leads", 7);  // the first count seen: no rise known
  watch.quarantine("leads", 3);
  watch.quarantine("leads", 5);
  CHECK(store.events().empty());
  watch.quarantine("leads", 6);
  watch.quarantine("leads", 9);
  watch.quarantine("opportunities", 0);
  REQUIRE(keys(store) == std::vector<std::string>{"quarantine_growing"});
  CHECK(store.events()[0].mapping == "leads");
  CHECK_THAT(store.events()[0].payload["reason"].get<std::string>(), Catch::Contains("6 record(s)") && Catch::Contains("above 5"));
  watch.quarantine("leads", 2);
  watch.quarantine("leads", 8);  // a second rise
  CHECK(store.events().size() == 2);
}

TEST_CASE_METHOD(testing::NotifyFixture, "notify health: quarantine growing N cycles in a row is one event, across restarts") {
  notify::HealthWatch watch(store, clock, captured.log);
  watch.configure({0, 3});
  for (std::size_t count : {0, 1, 2, 2, 3, 4}) watch.quarantine("leads", count);
  CHECK(store.events().empty());  // the streak broke at 2, 2
  // A new process (`cosyncd once` from a timer) continues the trend the state database keeps.
  notify::HealthWatch next(store, clock, captured.log);
  next.configure({0, 3});
  next.quarantine("leads", 5);
  next.quarantine("leads", 6);
  REQUIRE(keys(store) == std::vector<std::string>{"quarantine_growing"});
  CHECK_THAT(store.events()[0].payload["reason"].get<std::string>(), Catch::Contains("3 cycles in a row"));
}

TEST_CASE_METHOD(testing::NotifyFixture, "notify: sent deliveries and old events are pruned from the outbox") {
  notify::NotificationConfig config;
  notify::SinkConfig command;
  command.type = notify::SinkType::command;
  command.command.argv = {"/bin/sh", "-c", "cat >/dev/null"};
  config.sinks["script"] = command;
  config.rules.push_back(rule("script", {"owner@example.com"}));
  config.keep_sent = 24h;
  config.keep_events = 48h;
  auto s = sender(config);
  store.add_event(event_now(clock, "ref-1"));
  store.add_event(event_now(clock, "ref-2", "lost"));  // no rule wants it: no delivery
  deliver(*s);
  REQUIRE(store.deliveries("sent").size() == 1);
  // A failing rule's delivery is kept however old: `notifications retry` needs it.
  config.sinks["script"].command.argv = {"/bin/sh", "-c", "cat >/dev/null; exit 1"};
  config.max_attempts = 1;
  s->configure(config);
  store.add_event(event_now(clock, "ref-3"));
  deliver(*s);
  REQUIRE(store.deliveries("failed").size() == 1);
  CHECK(store.events().size() == 3);

  clock.advance(25h);  // the sent delivery is past keep_sent, the events are not past keep_events
  deliver(*s);
  CHECK(store.deliveries("sent").empty());
  CHECK(store.deliveries("failed").size() == 1);
  CHECK(store.events().size() == 3);

  clock.advance(30min);  // pruned at most hourly
  store.add_event(event_now(clock, "ref-4"));
  clock.advance(24h);
  deliver(*s);
  std::vector<std::string> left;
  for (const auto& e : store.events()) left.push_back(e.pc_id);
  CHECK(left == std::vector<std::string>{"ref-3", "ref-4"});  // ref-3: its failed delivery; ref-4: pending
}

TEST_CASE("notify preview: what each rule that wants an event would send, and why it would fail") {
  notify::NotificationConfig config;
  notify::SinkConfig mail;
  mail.type = notify::SinkType::smtp;
  config.sinks["mail"] = mail;
  notify::NotificationRule owner;
  owner.name = "introduction";
  owner.on = "accepted";
  owner.sink = "mail";
  owner.to = {"{people.crm_owner.Email}"};
  owner.subject = "Introduction: {pc.customerProfile.name}";
  auto nobody = owner;
  nobody.name = "to-nobody";
  nobody.to = {"{crm.NoSuchField}"};
  auto other = owner;
  other.name = "on-won";
  other.on = "won";
  config.rules = {owner, nobody, other};
  auto payload = testing::accepted_event().payload;
  auto previews = notify::preview(config, payload, TimePoint{});
  REQUIRE(previews.size() == 2);  // on-won does not want an accepted event
  CHECK(previews[0].rule == "introduction");
  CHECK(previews[0].to == std::vector<std::string>{"owner@example.com"});
  CHECK(previews[0].subject == "Introduction: Contoso");
  CHECK(previews[0].problem.empty());
  CHECK(previews[1].rule == "to-nobody");
  CHECK_THAT(previews[1].problem, Catch::Contains("no recipient"));
}
