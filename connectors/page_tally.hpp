#pragma once
// A pull's sink that notes, on the way to the caller's, the newest modification time and the
// number of records handed over: what a connector's next cursor and its log line need, now
// that it no longer holds the records to count at the end.
#include <algorithm>
#include <cstddef>

#include "connectors/connector.hpp"

namespace cosync::connectors {

// `sink`, `newest` and `pulled` must outlive the pull the returned sink is given to.
inline PageSink tallying(const PageSink& sink, TimePoint& newest, std::size_t& pulled) {
  return [&sink, &newest, &pulled](PullPage& page) -> boost::asio::awaitable<bool> {
    for (const auto& r : page.records) newest = std::max(newest, r.modified);
    pulled += page.records.size();
    bool more = co_await sink(page);  // named first (GCC 12)
    co_return more;
  };
}

}  // namespace cosync::connectors
