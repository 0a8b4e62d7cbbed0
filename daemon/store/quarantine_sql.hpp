#pragma once
// The statements run per quarantined record. Each finds its row through an index (the unique key
// (mapping, side, record_id), or quarantine_due), never by scanning the table: 100,000 malformed
// records are quarantined in one cycle. A test checks each with EXPLAIN QUERY PLAN.
#include <string>

namespace cosync::quarantine_sql {

inline constexpr const char* kColumns =
    "id, mapping, side, record_id, reason, request_id, attempts, first_seen, last_seen, next_retry";

inline constexpr const char* kUpsert =
    "INSERT INTO quarantine (mapping, side, record_id, reason, request_id, next_retry) VALUES (?,?,?,?,?,?) "
    "ON CONFLICT(mapping, side, record_id) DO UPDATE SET reason=excluded.reason, "
    "request_id=excluded.request_id, next_retry=excluded.next_retry, attempts=attempts+1, "
    "last_seen=strftime('%Y-%m-%dT%H:%M:%fZ','now') RETURNING attempts";
inline constexpr const char* kAttempts = "SELECT attempts FROM quarantine WHERE mapping=? AND side=? AND record_id=?";
inline constexpr const char* kRelease = "DELETE FROM quarantine WHERE mapping=? AND side=? AND record_id=?";
// Once per cycle: the entries whose retry time has come.
inline const std::string kDue =
    std::string("SELECT ") + kColumns + " FROM quarantine WHERE mapping=? AND next_retry<=? ORDER BY id";

}  // namespace cosync::quarantine_sql
