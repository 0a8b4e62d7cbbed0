#include "daemon/cli/backup.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

namespace cosync::app {
namespace {

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

Db open(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  Db owned(db);
  if (rc != SQLITE_OK) throw std::runtime_error(path + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  sqlite3_busy_timeout(db, 5000);  // the daemon may hold the write lock for a moment
  return owned;
}

// The whole database in one step: one read transaction, so one consistent snapshot.
void copy(sqlite3* source, sqlite3* target) {
  for (int attempt = 0;; ++attempt) {
    sqlite3_backup* backup = sqlite3_backup_init(target, "main", source, "main");
    if (!backup) throw std::runtime_error(sqlite3_errmsg(target));
    int rc = sqlite3_backup_step(backup, -1);
    sqlite3_backup_finish(backup);
    if (rc == SQLITE_DONE) return;
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || attempt == 50) throw std::runtime_error(sqlite3_errstr(rc));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string integrity(sqlite3* db) {
  sqlite3_stmt* stmt = nullptr;
  std::string result = "no answer";
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
    result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  return result;
}

}  // namespace

int command_backup(const Config& config, const std::string& file, std::ostream& out, std::ostream& err) {
  const std::string source_path = config.state_db_path();
  if (!std::filesystem::exists(source_path)) {
    err << "cosyncd: backup: no state database at " << source_path << " yet: cosyncd has not run\n";
    return 1;
  }
  // Created here, empty, owner-only and never over an existing file (O_EXCL): the copy holds the
  // links and the audit trail.
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    err << "cosyncd: backup: cannot create " << file << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  ::close(fd);
  try {
    auto source = open(source_path, SQLITE_OPEN_READONLY);
    auto target = open(file, SQLITE_OPEN_READWRITE);
    copy(source.get(), target.get());
    // A backup is a single file: no WAL beside it.
    sqlite3_exec(target.get(), "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr);
    if (auto check = integrity(target.get()); check != "ok") throw std::runtime_error("integrity check: " + check);
  } catch (const std::exception& e) {
    std::filesystem::remove(file);
    err << "cosyncd: backup of " << source_path << " failed: " << e.what() << "\n";
    return 1;
  }
  out << "backed up " << source_path << " to " << file << " (" << std::filesystem::file_size(file) << " bytes)\n";
  return 0;
}

}  // namespace cosync::app
