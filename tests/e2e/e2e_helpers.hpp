#pragma once
// Small helpers of the end-to-end tests that change files under a running cosyncd and wait for it.
#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace cosync::testing {

// Polls `done` until it holds or `timeout` passes; its last answer.
inline bool wait_until(const std::function<bool()>& done, std::chrono::seconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Replaces the first `from` in the file with `to`; throws when the file has no `from`.
inline void replace_in_file(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = read_text(path);
  auto at = text.find(from);
  if (at == std::string::npos) throw std::invalid_argument(path + " has no '" + from + "'");
  std::ofstream(path) << text.replace(at, from.size(), to);
}

// The 1-based number of the first line containing `needle`, or 0.
inline int line_of(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n)
    if (line.find(needle) != std::string::npos) return n;
  return 0;
}

}  // namespace cosync::testing
