#pragma once
// The notification sender against a real state database, a manual clock and fakes on loopback.
#include <boost/asio/io_context.hpp>

#include "daemon/cli/notify/sender.hpp"
#include "daemon/store/state_store.hpp"
#include "tests/unit/connector_fixture.hpp"
#include "tests/unit/test_files.hpp"

namespace cosync::testing {

// An "accepted" event as the engine writes it, with the CRM owner and a partner team member.
inline OutboxEvent accepted_event(const std::string& referral_id = "ref-1") {
  nlohmann::json payload = {
      {"event", "accepted"},
      {"referral_id", referral_id},
      {"crm_id", "00Q1"},
      {"mapping", "leads"},
      {"pc", {{"id", referral_id}, {"customerProfile", {{"name", "Contoso"}, {"address", {{"country", "US"}}}}},
              {"team", {{{"email", "partner@example.com"}, {"firstName", "Pat"}}}}}},
      {"crm", {{"Status", "Working - Contacted"}, {"Owner", {{"Email", "owner@example.com"}, {"Name", "Olga Owner"}}}}},
      {"people", {{"crm_owner", {{"Email", "owner@example.com"}, {"Name", "Olga Owner"}}}}}};
  return {0, "2026-01-01T00:00:00Z", "leads", referral_id, "00Q1", "accepted", payload};
}

struct NotifyFixture {
  ManualClock clock{std::chrono::system_clock::now()};
  TempDir dir;
  StateStore store{dir.file("state.db")};
  boost::asio::io_context io;
  CapturedLog captured = make_capturing_logger();

  // A rule on "accepted" through `sink`, with a template file.
  notify::NotificationRule rule(const std::string& sink, std::vector<std::string> to = {"{people.crm_owner.Email}"}) {
    notify::NotificationRule r;
    r.name = "introduction";
    r.on = "accepted";
    r.sink = sink;
    r.to = std::move(to);
    r.subject = "Introduction: {pc.customerProfile.name}";
    r.body = "Hello {people.crm_owner.Name},\nreferral {referral_id} was accepted.\n";
    return r;
  }
  std::unique_ptr<notify::Sender> sender(notify::NotificationConfig config) {
    return std::make_unique<notify::Sender>(std::move(config), store, io.get_executor(), fast_http_options(), clock,
                                            captured.log);
  }
  // One pass of the sender, to completion.
  void deliver(notify::Sender& s) {
    std::exception_ptr error;
    boost::asio::co_spawn(io, s.deliver_due(), [&](std::exception_ptr e) { error = e; });
    io.restart();
    io.run();
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace cosync::testing
