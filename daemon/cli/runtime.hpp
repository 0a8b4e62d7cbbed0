#pragma once
// Wires the configured connections, token providers, state store and sync engines onto one
// io_context, and runs cycles: once, or every poll interval until SIGTERM/SIGINT.
#include <memory>

#include "daemon/cli/config.hpp"
#include "daemon/engine/sync_engine.hpp"
#include "daemon/util/clock.hpp"
#include "daemon/util/log.hpp"

namespace cosync::app {

class Runtime {
 public:
  Runtime(Config config, Log log, const Clock& clock);
  ~Runtime();

  // Exit statuses: 0 all synced, 1 something failed and will be retried, 3 records were
  // quarantined.
  int run_once();
  // Runs until SIGTERM or SIGINT; finishes the record in flight, commits, returns 0.
  int run_forever();
  // A dry run of every mapping: what would change, with no write anywhere.
  std::vector<engine::PlannedChange> plan();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cosync::app
