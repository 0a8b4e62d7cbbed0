#pragma once
// A record served twice in one pull. Pages can shift while they are read (Partner Center orders
// by updatedDateTime, so a referral changed meanwhile moves to the front and the others move
// back), so the same record can come again on a later page, possibly older than the copy already
// handed on. A streamed pull no longer holds the records to compare, so it remembers per id only
// the newest modification time handed on: a copy that is not newer is dropped, as handling a stale
// copy after the newer one would write old values. Ids are kept as 64-bit hashes (16 bytes a
// record, not the record): a collision, about 1 in 10^9 at a million records, costs one record
// skipped until the next pull reads it again.
#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "connectors/records.hpp"

namespace cosync::connectors {

class PullDedupe {
 public:
  // True when `record` is to be handed on: first seen, or modified after the copy handed on.
  bool fresh(const RemoteRecord& record) {
    auto key = static_cast<std::uint64_t>(std::hash<std::string_view>{}(record.id));
    auto [it, inserted] = newest_.emplace(key, record.modified);
    if (inserted) return true;
    if (record.modified <= it->second) return false;
    it->second = record.modified;
    return true;
  }

 private:
  std::unordered_map<std::uint64_t, TimePoint> newest_;
};

}  // namespace cosync::connectors
