// The notification sender: events become deliveries per rule, sent through webhook, Graph and
// command sinks against in-process receivers, retried with backoff, failed after max_attempts.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "daemon/util/time.hpp"
#include "daemon/util/yaml_reader.hpp"
#include "tests/fakes/http_test_server.hpp"
#include "tests/unit/notify_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

notify::SinkConfig webhook_sink(const std::string& url, const std::string& format) {
  notify::SinkConfig s;
  s.name = "teams";
  s.type = notify::SinkType::webhook;
  s.webhook.url = url;
  s.webhook.format = format;
  return s;
}

// A Graph sink sending as cosync@contoso.com with the token server's client "app".
notify::SinkConfig graph_sink(const fakes::FakeTokenServer& tokens, const fakes::HttpTestServer& graph) {
  notify::SinkConfig mail;
  mail.type = notify::SinkType::graph;
  mail.graph = {"cosync@contoso.com", graph.base_url() + "/v1.0", {tokens.url(), "app", "secret", "", 3600s}};
  return mail;
}

// A Graph endpoint that accepts every sendMail, and the token server its sink signs in to.
struct AcceptingGraph {
  fakes::FakeTokenServer tokens;
  fakes::HttpTestServer graph{[](const fakes::FakeRequest&) { return fakes::FakeResponse{202, {}, ""}; }};
  AcceptingGraph() { tokens.add_client("app", "secret"); }
  notify::NotificationConfig config(notify::NotificationRule rule) {
    notify::NotificationConfig c;
    c.sinks["mail"] = graph_sink(tokens, graph);
    c.rules.push_back(std::move(rule));
    return c;
  }
};

}  // namespace

TEST_CASE_METHOD(testing::NotifyFixture, "notify: an event reaches a Teams webhook once, with its Message-ID") {
  fakes::HttpTestServer teams([](const fakes::FakeRequest&) { return fakes::FakeResponse{200, {}, "1"}; });
  notify::NotificationConfig config;
  config.sinks["teams"] = webhook_sink(teams.base_url() + "/hook", "teams");
  config.rules.push_back(rule("teams", {}));
  auto s = sender(config);
  store.add_event(testing::accepted_event());
  deliver(*s);
  auto posts = teams.requests("POST", "/hook");
  REQUIRE(posts.size() == 1);
  auto body = json::parse(posts[0].body);
  CHECK(body["@type"] == "MessageCard");
  CHECK(body["title"] == "Introduction: Contoso");
  CHECK(body["text"] == "Hello Olga Owner,\nreferral ref-1 was accepted.\n");
  auto sent = store.deliveries("sent");
  REQUIRE(sent.size() == 1);
  CHECK(posts[0].header("Idempotency-Key") == sent[0].message_id);
  CHECK(sent[0].message_id.ends_with("@cosync>"));
  deliver(*s);
  CHECK(teams.count("POST") == 1);  // sent once
}

TEST_CASE_METHOD(testing::NotifyFixture, "notify: a rule's when: and on: decide which events it sends") {
  fakes::HttpTestServer hook([](const fakes::FakeRequest&) { return fakes::FakeResponse{204, {}, ""}; });
  notify::NotificationConfig config;
  config.sinks["teams"] = webhook_sink(hook.base_url(), "json");
  auto r = rule("teams", {});
  r.when = mapping::load_condition(YamlNode::load_string("pc.customerProfile.address.country: DE\n", "t.yaml"),
                                   mapping::ConditionScope{});
  config.rules.push_back(r);
  auto s = sender(config);
  store.add_event(testing::accepted_event("us-deal"));  // country US: not wanted
  auto won = testing::accepted_event("de-deal");
  won.payload["pc"]["customerProfile"]["address"]["country"] = "DE";
  store.add_event(won);
  auto other = testing::accepted_event("de-won");
  other.event = "won";
  store.add_event(other);
  deliver(*s);
  REQUIRE(hook.count("POST") == 1);
  auto body = json::parse(hook.requests("POST")[0].body);
  CHECK(body["event"]["referral_id"] == "de-deal");
  CHECK(body["message_id"] == store.deliveries("sent").at(0).message_id);
  CHECK(store.undispatched_events(10).empty());
}

TEST_CASE_METHOD(testing::NotifyFixture,
                 "notify: a receiver that is down gets the message later, with backoff, and gives up after max_attempts") {
  std::atomic<int> status{503};
  fakes::HttpTestServer hook([&](const fakes::FakeRequest&) { return fakes::FakeResponse{status.load(), {}, ""}; });
  notify::NotificationConfig config;
  config.sinks["teams"] = webhook_sink(hook.base_url(), "slack");
  config.rules.push_back(rule("teams", {}));
  config.retry = 60s;
  config.max_attempts = 3;
  auto s = sender(config);
  store.add_event(testing::accepted_event());
  deliver(*s);
  auto pending = store.deliveries("pending");
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].attempts == 1);
  CHECK(pending[0].next_attempt == format_iso8601(clock.now() + 60s));
  deliver(*s);
  CHECK(hook.count("POST") == 1);  // not due yet
  clock.advance(61s);
  deliver(*s);
  CHECK(hook.count("POST") == 2);
  CHECK(store.deliveries("pending").at(0).next_attempt == format_iso8601(clock.now() + 120s));  // doubled
  clock.advance(121s);
  deliver(*s);
  REQUIRE(store.deliveries("failed").size() == 1);
  CHECK(store.deliveries("failed")[0].last_error.find("503") != std::string::npos);

  // `notifications retry` revives it; the receiver is back.
  status = 200;
  CHECK(store.retry_delivery_now(store.deliveries("failed")[0].id));
  deliver(*s);
  CHECK(store.deliveries("sent").size() == 1);
  // What /metrics counts: two retried attempts, one given up, then the one sent.
  CHECK(s->counts().failed_attempts == 2);
  CHECK(s->counts().given_up == 1);
  CHECK(s->counts().sent == 1);
  CHECK(json::parse(hook.requests("POST").back().body)["text"] ==
        "*Introduction: Contoso*\nHello Olga Owner,\nreferral ref-1 was accepted.\n");
}

TEST_CASE_METHOD(testing::NotifyFixture, "notify: a mail whose recipients are all empty is failed at once") {
  AcceptingGraph m365;
  auto s = sender(m365.config(rule("mail", {"{crm.NoSuchField}"})));
  store.add_event(testing::accepted_event());
  deliver(*s);
  REQUIRE(store.deliveries("failed").size() == 1);
  CHECK(store.deliveries("failed")[0].last_error.find("no recipient") != std::string::npos);
  CHECK(m365.graph.count("POST") == 0);
}

TEST_CASE_METHOD(testing::NotifyFixture,
                 "notify: Graph sendMail from the configured mailbox with a client-credentials token") {
  fakes::FakeTokenServer tokens;
  tokens.add_client("app", "secret");
  // https://learn.microsoft.com/en-us/graph/api/user-sendmail: POST /users/{id | userPrincipalName}/sendMail,
  // 202 Accepted with no body.
  fakes::HttpTestServer graph([&](const fakes::FakeRequest& r) {
    auto auth = r.header("Authorization");
    if (!auth.starts_with("Bearer ") || !tokens.is_valid_access_token(auth.substr(7)))
      return fakes::FakeResponse::json(401, {{"error", {{"code", "InvalidAuthenticationToken"}}}});
    return fakes::FakeResponse{202, {}, ""};
  });
  notify::NotificationConfig config;
  config.sinks["mail"] = graph_sink(tokens, graph);
  config.rules.push_back(rule("mail", {"{people.crm_owner.Email}", "alliances@example.com"}));
  config.rules.back().cc = {"{pc.team.email}"};
  auto s = sender(config);
  store.add_event(testing::accepted_event());
  deliver(*s);
  auto posts = graph.requests("POST", "/v1.0/users/cosync@contoso.com/sendMail");
  REQUIRE(posts.size() == 1);
  auto body = json::parse(posts[0].body);
  CHECK(body["message"]["subject"] == "Introduction: Contoso");
  CHECK(body["message"]["body"]["contentType"] == "Text");
  CHECK(body["message"]["toRecipients"] ==
        json::parse(R"([{"emailAddress":{"address":"owner@example.com"}},{"emailAddress":{"address":"alliances@example.com"}}])"));
  CHECK(body["message"]["ccRecipients"][0]["emailAddress"]["address"] == "partner@example.com");
  CHECK(body["message"]["internetMessageId"] == store.deliveries("sent").at(0).message_id);
  CHECK(tokens.tokens_issued() == 1);
}

TEST_CASE_METHOD(testing::NotifyFixture, "notify: a command gets the message and its event as JSON on stdin") {
  auto out = dir.file("received.json");
  notify::NotificationConfig config;
  notify::SinkConfig command;
  command.type = notify::SinkType::command;
  command.command.argv = {"/bin/sh", "-c", "cat > " + out};
  config.sinks["script"] = command;
  config.rules.push_back(rule("script", {"{people.crm_owner.Email}"}));
  auto s = sender(config);
  store.add_event(testing::accepted_event());
  deliver(*s);
  REQUIRE(store.deliveries("sent").size() == 1);
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  auto received = json::parse(text.str());
  CHECK(received["subject"] == "Introduction: Contoso");
  CHECK(received["to"] == json::array({"owner@example.com"}));
  CHECK(received["event"]["referral_id"] == "ref-1");
  CHECK(received["message_id"] == store.deliveries("sent").at(0).message_id);

  // A command that fails is retried.
  config.sinks["script"].command.argv = {"/bin/sh", "-c", "cat >/dev/null; exit 3"};
  auto failing = sender(config);
  store.add_event(testing::accepted_event("ref-2"));
  deliver(*failing);
  REQUIRE(store.deliveries("pending").size() == 1);
  CHECK(store.deliveries("pending")[0].last_error.find("exited with status 3") != std::string::npos);
}

TEST_CASE_METHOD(testing::NotifyFixture, "notify: a rule with an HTML template sends Graph an HTML body") {
  // https://learn.microsoft.com/en-us/graph/api/user-sendmail: the message's body is an itemBody,
  // contentType text or html.
  AcceptingGraph m365;
  auto with_html = rule("mail");
  with_html.html = "<p>Hello {people.crm_owner.Name}</p>";
  auto s = sender(m365.config(with_html));
  store.add_event(testing::accepted_event());
  deliver(*s);
  auto posts = m365.graph.requests("POST", "/v1.0/users/cosync@contoso.com/sendMail");
  REQUIRE(posts.size() == 1);
  auto body = json::parse(posts[0].body);
  CHECK(body["message"]["body"] == json{{"contentType", "HTML"}, {"content", "<p>Hello Olga Owner</p>"}});
}
