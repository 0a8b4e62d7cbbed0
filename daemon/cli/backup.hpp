#pragma once
// `cosyncd backup FILE`: a consistent copy of the state database, taken with SQLite's online
// backup API while the daemon may be writing (WAL: the copy is one read snapshot; the daemon is
// not blocked). The copy is checked (PRAGMA integrity_check) before it is reported done.
#include <ostream>
#include <string>

#include "daemon/cli/config.hpp"

namespace cosync::app {

// 0 done; 1 the database is missing, FILE exists, or the copy failed (said on `err`).
int command_backup(const Config& config, const std::string& file, std::ostream& out, std::ostream& err);

}  // namespace cosync::app
