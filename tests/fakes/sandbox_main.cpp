// cosync-fakes: the fake token endpoint, Partner Center and Salesforce together, with seed data,
// for the sandbox (a full sync with no accounts). Prints one line per write the daemon makes.
//   cosync-fakes --token-port P1 --pc-port P2 --sf-port P3 [--dv-port P4] [--state-dir DIR]
// --dv-port also starts the fake Dataverse (Dynamics 365), for config/examples/sandbox-dataverse.yaml.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>

#include "tests/fakes/fake_dataverse.hpp"
#include "tests/fakes/fake_partner_center.hpp"
#include "tests/fakes/fake_salesforce.hpp"
#include "tests/fakes/fake_token_server.hpp"

namespace {

using namespace cosync::fakes;

constexpr const char* kRefreshToken = "sandbox-refresh-token";

void print_line(const std::string& line) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

constexpr const char* kUsage =
    "usage: cosync-fakes --token-port P1 --pc-port P2 --sf-port P3 [--dv-port P4] [--state-dir DIR]\n";

int usage(const char* error) {
  std::fprintf(stderr, "cosync-fakes: %s\n%s", error, kUsage);
  return 2;
}

bool parse_port(const char* text, unsigned short& port) {
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (!end || *end != '\0' || value < 0 || value > 65535) return false;
  port = static_cast<unsigned short>(value);
  return true;
}

// Mode 0600 from the start: the refresh token is a secret.
bool write_secret(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
  return ::close(fd) == 0 && ok;
}

void seed_partner_center(FakePartnerCenter& pc) {
  struct Seed {
    const char* name;
    const char* country;
    double value;
    const char* notes;
  };
  for (const auto& s : {Seed{"Contoso", "US", 120000, "Migrating 300 VMs to Azure; wants a landing-zone partner."},
                        Seed{"Fabrikam", "DE", 45000, "Looking for Microsoft 365 Copilot adoption help."},
                        Seed{"Northwind Traders", "GB", 80000, "Data platform modernisation on Microsoft Fabric."}}) {
    pc.add_referral({{"name", s.name},
                     {"type", "Independent"},
                     {"direction", "Incoming"},
                     {"status", "New"},
                     {"substatus", "Pending"},
                     {"customerProfile", {{"name", s.name}, {"address", {{"country", s.country}}}}},
                     {"details", {{"dealValue", s.value}, {"currency", "USD"}, {"notes", s.notes}}}});
  }
  // Shared by the partner with Microsoft: outgoing, so it must not become a CRM lead.
  pc.add_referral({{"name", "Tailspin Toys (outgoing)"},
                   {"type", "Independent"},
                   {"direction", "Outgoing"},
                   {"customerProfile", {{"name", "Tailspin Toys"}, {"address", {{"country", "US"}}}}},
                   {"details", {{"dealValue", 30000}, {"currency", "USD"}, {"notes", "Partner-created; do not sync."}}}});
}

// An opportunity a seller flagged for co-sell: the shipped opportunity mapping's share: block
// turns it into a referral (README "Sharing co-sell opportunities").
void seed_dataverse(FakeDataverse& dv) {
  auto account = dv.insert("accounts", {{"name", "Wide World Importers"}, {"address1_city", "Seattle"},
                                        {"address1_country", "United States"}});
  dv.insert("opportunities", {{"name", "Wide World Importers: Azure data platform"},
                              {"estimatedvalue", 95000},
                              {"_parentaccountid_value", account},
                              {"cosync_offering", "Contoso Cloud Platform"},
                              {"cosync_cosell_type", "Co-sell"},
                              {"cosync_customerconsent", false},
                              {"cosync_sharewithmicrosoft", true},
                              {"stepname", "Architecture workshop booked"}});
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short token_port = 0, pc_port = 0, sf_port = 0, dv_port = 0;
  bool with_dataverse = false;
  std::string state_dir;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc) return usage(("missing value for " + arg).c_str());
    const char* value = argv[++i];
    if (arg == "--token-port") {
      if (!parse_port(value, token_port)) return usage("bad --token-port");
    } else if (arg == "--pc-port") {
      if (!parse_port(value, pc_port)) return usage("bad --pc-port");
    } else if (arg == "--sf-port") {
      if (!parse_port(value, sf_port)) return usage("bad --sf-port");
    } else if (arg == "--dv-port") {
      if (!parse_port(value, dv_port)) return usage("bad --dv-port");
      with_dataverse = true;
    } else if (arg == "--state-dir") {
      state_dir = value;
    } else {
      return usage(("unknown option " + arg).c_str());
    }
  }

  try {
    FakeTokenServerOptions token_options;
    token_options.port = token_port;
    token_options.on_event = print_line;
    FakeTokenServer tokens(token_options);

    FakeSalesforceOptions sf_options;
    sf_options.port = sf_port;
    sf_options.validate_token = tokens.validator();
    sf_options.on_event = print_line;
    FakeSalesforce salesforce(sf_options);

    FakePartnerCenterOptions pc_options;
    pc_options.port = pc_port;
    pc_options.validate_token = tokens.validator();
    pc_options.on_event = print_line;
    FakePartnerCenter partner_center(pc_options);

    TokenClientOptions sandbox_client;
    sandbox_client.omit_expires_in = true;  // Salesforce-style
    sandbox_client.instance_url = salesforce.base_url();
    tokens.add_client("sandbox-client", "sandbox-secret", sandbox_client);
    tokens.add_refresh_token(kRefreshToken);
    if (!state_dir.empty() && !write_secret(state_dir + "/pc_refresh_token", kRefreshToken)) {
      std::fprintf(stderr, "cosync-fakes: cannot write %s/pc_refresh_token: %s\n", state_dir.c_str(),
                   std::strerror(errno));
      return 1;
    }
    seed_partner_center(partner_center);

    std::unique_ptr<FakeDataverse> dataverse;
    if (with_dataverse) {
      FakeDataverseOptions dv_options;
      dv_options.port = dv_port;
      dv_options.validate_token = tokens.validator();
      dv_options.on_event = print_line;
      dataverse = std::make_unique<FakeDataverse>(dv_options);
      seed_dataverse(*dataverse);
    }

    print_line("fake-token-server: " + tokens.url());
    print_line("fake-partner-center: " + partner_center.base_url());
    print_line("fake-salesforce: " + salesforce.base_url());
    if (dataverse) print_line("fake-dataverse: " + dataverse->base_url());
    print_line("fakes ready");

    boost::asio::io_context ioc;
    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { ioc.stop(); });
    ioc.run();
    print_line("fakes stopping");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cosync-fakes: %s\n", e.what());
    return 1;
  }
  return 0;
}
