#pragma once
// A prepared SQLite statement with RAII finalization and typed binding.
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>

#include <sqlite3.h>

namespace cosync {

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("state DB: cannot prepare statement: ") + sqlite3_errmsg(db));
  }
  ~SqliteStatement() { sqlite3_finalize(stmt_); }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  template <class... Args>
  SqliteStatement& bind(const Args&... args) {
    int i = 0;
    (bind_one(++i, args), ...);
    return *this;
  }

  // Advances to the next row; false when done.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("state DB: ") + sqlite3_errmsg(db_));
  }
  void run() {
    while (step()) {
    }
  }

  // Read with its length: a remote id may hold a NUL byte, and a C string would cut it there.
  std::string text(int column) const {
    auto p = sqlite3_column_text(stmt_, column);
    if (!p) return "";
    return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  long long integer(int column) const { return sqlite3_column_int64(stmt_, column); }

 private:
  void bind_one(int i, const std::string& v) { sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  void bind_one(int i, const char* v) { sqlite3_bind_text(stmt_, i, v, -1, SQLITE_TRANSIENT); }
  void bind_one(int i, long long v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind_one(int i, int v) { sqlite3_bind_int64(stmt_, i, v); }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace cosync
