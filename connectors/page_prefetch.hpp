#pragma once
// A pull's next page is requested while the sink still works on the current one, so that the
// round trip of a page read overlaps the writes the sink makes for the page before (a cycle
// plans, writes and commits each page before it returns): without it the pipe idled for a whole
// page read between two pages. At most one page is read ahead: a pull holds two pages at most.
#include <tuple>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "connectors/connector.hpp"

namespace cosync::connectors {

// Hands `page` to `sink` while `next` (the request of the following page, not yet started: an
// Asio awaitable starts when awaited) runs beside it; returns the sink's answer and the fetched
// page once both have finished. A sink that answers false gets the fetched page discarded by the
// caller: it is never handed over. `next` must not refer to anything the sink changes.
template <typename Fetched>
boost::asio::awaitable<std::tuple<bool, Fetched>> hand_over_while_fetching(const PageSink& sink, PullPage& page,
                                                                           boost::asio::awaitable<Fetched> next) {
  using namespace boost::asio::experimental::awaitable_operators;
  boost::asio::awaitable<bool> handed = sink(page);
  auto both = std::move(handed) && std::move(next);  // named first (GCC 12)
  auto result = co_await std::move(both);
  co_return result;
}

}  // namespace cosync::connectors
