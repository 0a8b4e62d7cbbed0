#include "tests/fakes/random_ids.hpp"

#include <mutex>
#include <random>

namespace cosync::fakes {

std::string random_hex(int digits) {
  static std::mutex mu;
  static std::mt19937_64 engine{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::lock_guard lock(mu);
  std::string out;
  for (int i = 0; i < digits; ++i) out += hex[engine() & 15];
  return out;
}

std::string random_guid() {
  return random_hex(8) + "-" + random_hex(4) + "-" + random_hex(4) + "-" + random_hex(4) + "-" + random_hex(12);
}

}  // namespace cosync::fakes
