#pragma once
// Runs a coroutine to completion on a test's io_context and returns its result; an exception
// thrown inside is rethrown here.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <optional>
#include <string>

#include "daemon/util/expected.hpp"

namespace cosync::testing {

template <class T>
T run_async(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
  std::optional<T> result;
  std::exception_ptr error;
  auto wrapper = [](boost::asio::awaitable<T> t, std::optional<T>& out) -> boost::asio::awaitable<void> {
    out.emplace(co_await std::move(t));
  };
  boost::asio::co_spawn(io, wrapper(std::move(task), result), [&](std::exception_ptr e) { error = e; });
  io.restart();
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

// For INFO(): the failure's message, or "ok".
template <class T>
std::string describe(const Expected<T>& e) {
  return e.ok() ? "ok" : std::string(to_string(e.failure().kind)) + ": " + e.failure().message;
}

}  // namespace cosync::testing
