#pragma once
// Independent remote calls started together instead of one after another, for APIs without a
// batch write (Partner Center: one JSON Patch per referral). The HTTP client bounds the requests
// in flight per host; running more workers than that only queues them there.
#include <algorithm>
#include <cstddef>
#include <exception>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cosync::connectors {

namespace detail {

// One worker: takes the next index until none is left.
template <class Work>
boost::asio::awaitable<void> take_until_done(std::size_t* next, std::size_t n, Work* work) {
  while (*next < n) {
    std::size_t i = (*next)++;
    co_await (*work)(i);
  }
}

}  // namespace detail

// Runs `work(i)` (a coroutine returning awaitable<void>) for every i in [0, n), at most `width`
// at once, in index order of starting; returns when all have finished. An exception (e.g. a
// cancellation) is rethrown once every worker has stopped; the caller's cancellation reaches all.
template <class Work>
boost::asio::awaitable<void> for_each_concurrently(std::size_t n, std::size_t width, Work work) {
  namespace net = boost::asio;
  if (n == 0) co_return;
  auto ex = co_await net::this_coro::executor;
  std::size_t next = 0;
  using Op = decltype(net::co_spawn(ex, detail::take_until_done(&next, n, &work), net::deferred));
  std::vector<Op> workers;
  for (std::size_t k = 0; k < std::clamp<std::size_t>(width, 1, n); ++k)
    workers.push_back(net::co_spawn(ex, detail::take_until_done(&next, n, &work), net::deferred));
  auto [order, errors] = co_await net::experimental::make_parallel_group(std::move(workers))
                             .async_wait(net::experimental::wait_for_all(), net::use_awaitable);
  (void)order;
  for (const auto& error : errors)
    if (error) std::rethrow_exception(error);
}

}  // namespace cosync::connectors
