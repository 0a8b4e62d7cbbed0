// End to end, SIGHUP: cosyncd run re-reads config and mappings, validates them offline and
// against the org, and swaps them in between cycles; a broken edit is logged with file:line and
// the running configuration keeps syncing. systemd hears RELOADING=1, then READY=1.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>

#include "tests/e2e/e2e_harness.hpp"
#include "tests/e2e/e2e_helpers.hpp"

using namespace cosync;
using testing::replace_in_file;
using testing::wait_until;

namespace {

bool has_lead_named(testing::E2eHarness& h, const std::string& last_name) {
  for (const auto& lead : h.crm_records())
    if (lead.value("LastName", "") == last_name) return true;
  return false;
}

// $NOTIFY_SOCKET for the daemon started while it lives: a datagram socket in the abstract
// namespace collecting what cosyncd tells systemd.
class NotifySocket {
 public:
  NotifySocket() {
    name_ = "@cosync-test-notify-" + std::to_string(::getpid());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path + 1, name_.data() + 1, name_.size() - 1);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size()));
    ::setenv("NOTIFY_SOCKET", name_.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
  }
  // Every message received so far, in order, one per entry.
  const std::vector<std::string>& messages() {
    char buffer[1024];
    for (ssize_t n; (n = ::recv(fd_, buffer, sizeof buffer, 0)) > 0;) messages_.emplace_back(buffer, static_cast<size_t>(n));
    return messages_;
  }

 private:
  std::string name_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

}  // namespace

TEST_CASE("reload_e2e: SIGHUP swaps in an edited mapping, and a broken edit leaves the old one running") {
  testing::E2eHarness h;
  h.write_config("poll_interval: 1s\n");
  const std::string mapping = h.dir.file("mapping.yaml");
  NotifySocket notify;
  h.add_incoming_lead("Adatum");
  auto daemon = h.start_daemon();
  REQUIRE(wait_until([&] { return has_lead_named(h, "[MSFT] Adatum"); }));

  // 1. A valid edit takes effect after SIGHUP.
  replace_in_file(mapping, "LastName: \"[MSFT] {customerProfile.name}\"", "LastName: \"[Microsoft] {customerProfile.name}\"");
  daemon->signal(SIGHUP);
  REQUIRE(daemon->wait_for_output("configuration reloaded from " + h.config_path(), std::chrono::seconds(20)));
  h.add_incoming_lead("Litware");
  CHECK(wait_until([&] { return has_lead_named(h, "[Microsoft] Litware"); }));
  CHECK(wait_until([&] {
    auto m = notify.messages();
    return std::find_if(m.begin(), m.end(), [](const std::string& s) { return s.starts_with("RELOADING=1"); }) != m.end();
  }));
  {
    auto m = notify.messages();
    auto reloading = std::find_if(m.begin(), m.end(), [](const std::string& s) { return s.starts_with("RELOADING=1"); });
    REQUIRE(reloading != m.end());
    CHECK_THAT(*reloading, Catch::Contains("MONOTONIC_USEC="));
    CHECK(std::find(reloading, m.end(), "READY=1") != m.end());  // and ready again after it
    CHECK(std::find(m.begin(), reloading, "READY=1") != reloading);  // ready at start
  }

  // 2. An edit the org rejects (a Status value it does not have): logged with file:line, old kept.
  replace_in_file(mapping, "crm: \"Working - Contacted\"", "crm: \"Working - Qualified\"");
  daemon->signal(SIGHUP);
  REQUIRE(daemon->wait_for_output("reload rejected", std::chrono::seconds(20)));
  CHECK_THAT(daemon->output(), Catch::Contains(mapping + ":"));
  CHECK_THAT(daemon->output(), Catch::Contains("'Working - Qualified' is not an active value"));
  h.add_incoming_lead("Northwind");
  CHECK(wait_until([&] { return has_lead_named(h, "[Microsoft] Northwind"); }));

  // 3. A file that does not even parse: rejected offline, old kept.
  replace_in_file(mapping, "crm: \"Working - Qualified\"", "crm: \"Working - Contacted\"");
  replace_in_file(mapping, "direction: to_crm", "direction: sideways");
  daemon->signal(SIGHUP);
  REQUIRE(wait_until([&] {
    auto out = daemon->output();
    return out.find("expected both, to_crm or to_pc, got 'sideways'") != std::string::npos;
  }));
  CHECK_THAT(daemon->output(), Catch::Contains("reload rejected: configuration error: " + mapping + ":"));
  h.add_incoming_lead("Fabrikam");
  CHECK(wait_until([&] { return has_lead_named(h, "[Microsoft] Fabrikam"); }));

  daemon->signal(SIGTERM);
  auto status = daemon->wait_exit(std::chrono::seconds(10));
  INFO(daemon->output());
  REQUIRE(status);
  CHECK(*status == 0);
}
