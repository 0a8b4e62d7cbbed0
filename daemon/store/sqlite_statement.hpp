#pragma once
// A prepared SQLite statement with RAII finalization and typed binding, and a cache that keeps
// statements prepared for the life of a connection (preparing the same SQL on every call was
// half of the store's CPU in a bulk sync).
#include <cstddef>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <sqlite3.h>

namespace cosync {

// Prepared statements of one connection, by SQL text. A statement in use is taken out, so the
// same SQL used again while it runs (a nested query) gets a second one. finalize_all() before
// the connection closes.
class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  ~StatementCache() { finalize_all(); }
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  sqlite3* db() const { return db_; }

  sqlite3_stmt* take(const char* sql) {
    {
      std::lock_guard lock(mutex_);
      auto it = free_.find(std::string_view(sql));
      if (it != free_.end() && !it->second.empty()) {
        sqlite3_stmt* stmt = it->second.back();
        it->second.pop_back();
        return stmt;
      }
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      sqlite3_finalize(stmt);
      throw std::runtime_error(std::string("state DB: cannot prepare statement: ") + sqlite3_errmsg(db_));
    }
    return stmt;
  }

  // Back for the next call: reset (a statement left mid-step would hold a read lock) and unbound
  // (bound text is copied, nothing dangles, but no value may leak into the next call).
  void give_back(sqlite3_stmt* stmt) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    std::string_view sql = sqlite3_sql(stmt);
    std::lock_guard lock(mutex_);
    auto it = free_.find(sql);
    if (it == free_.end()) it = free_.emplace(std::string(sql), std::vector<sqlite3_stmt*>{}).first;
    it->second.push_back(stmt);
  }

  void finalize_all() {
    std::lock_guard lock(mutex_);
    for (auto& [sql, stmts] : free_)
      for (sqlite3_stmt* stmt : stmts) sqlite3_finalize(stmt);
    free_.clear();
  }

 private:
  sqlite3* db_;
  std::mutex mutex_;
  // Looked up by the SQL text without copying it into a std::string (twice per statement run).
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>, TextHash, std::equal_to<>> free_;
};

// Bytes bound as a BLOB (e.g. a packed payload), not as text.
struct SqlBlob {
  const std::string& bytes;
};

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("state DB: cannot prepare statement: ") + sqlite3_errmsg(db));
  }
  // Borrowed from `cache`, given back (reset) when done.
  SqliteStatement(StatementCache& cache, const char* sql) : db_(cache.db()), stmt_(cache.take(sql)), cache_(&cache) {}
  SqliteStatement(StatementCache& cache, const std::string& sql) : SqliteStatement(cache, sql.c_str()) {}
  ~SqliteStatement() {
    if (cache_)
      cache_->give_back(stmt_);
    else
      sqlite3_finalize(stmt_);
  }
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
  void bind_one(int i, const SqlBlob& v) {
    sqlite3_bind_blob(stmt_, i, v.bytes.data(), static_cast<int>(v.bytes.size()), SQLITE_TRANSIENT);
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  StatementCache* cache_ = nullptr;
};

}  // namespace cosync
