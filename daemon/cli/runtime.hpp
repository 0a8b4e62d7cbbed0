#pragma once
// Wires the configured connections, token providers, state store and sync engines onto one
// io_context, and runs cycles: once, or every poll interval until SIGTERM/SIGINT, reloading the
// configuration on SIGHUP.
#include <iosfwd>
#include <map>
#include <string>
#include <vector>
#include <memory>

#include "daemon/cli/config.hpp"
#include "daemon/engine/sync_engine.hpp"
#include "daemon/util/clock.hpp"
#include "daemon/util/log.hpp"

namespace cosync::app {

// Exit status of a configuration error, also when the org's metadata does not fit a mapping.
constexpr int kExitConfig = 78;

class Runtime {
 public:
  Runtime(Config config, Log log, const Clock& clock);
  ~Runtime();

  // Each first checks every mapping against its CRM's metadata and returns kExitConfig on a
  // mismatch, having written nothing (not even the state database).
  // Exit statuses: 0 all synced, 1 something failed and will be retried, 3 records were
  // quarantined.
  int run_once();
  // Runs until SIGTERM or SIGINT: no record starts after it, the requests in flight get 2 s to
  // finish and commit, then every request and Retry-After wait is cancelled; returns 0. An
  // exception escaping one mapping's cycle is logged and the daemon goes on. SIGHUP
  // reloads config and mappings between cycles; a new config that fails validation is logged
  // and the running one kept.
  int run_forever();
  // A dry run of every mapping: what would change, with no write anywhere. Returns 0 or
  // kExitConfig.
  int plan(std::vector<engine::PlannedChange>& changes);
  // For the reports: each mapping's referrals that Partner Center changed since its last cycle,
  // read-only ("mapping" -> referral id -> referral). Returns 0, kExitConfig, or 1 when a pull
  // failed (the others are filled in; `failures` says why).
  int pc_changes_since_last_cycle(std::map<std::string, std::map<std::string, nlohmann::json>>& changes,
                                  std::vector<std::string>& failures);
  // `cosyncd check`'s online phase: a token and a describe per mapping; prints every mismatch.
  // 0 valid, kExitConfig mismatch, 1 the check could not run (network, credentials).
  int check_metadata(std::ostream& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cosync::app
