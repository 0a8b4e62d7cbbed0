// remote_json: parse never throws and refuses bodies nested deeper than kMaxDepth; the typed
// accessors never throw, whatever type any member holds.
#include <vector>

#include "daemon/util/remote_json.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace rj = cosync::remote_json;

namespace {

// Every accessor on `value` with `key`: none may throw, and each returns what its type says.
void read_all(const nlohmann::json& value, std::string_view key) {
  const auto& m = rj::member(value, key);
  if (auto s = rj::opt_string(value, key)) FUZZ_REQUIRE(m.is_string() && *s == m.get_ref<const std::string&>());
  (void)rj::string_or(value, key, "fallback");
  bool b = rj::bool_or(value, key, true);
  FUZZ_REQUIRE(m.is_boolean() || b);
  if (rj::opt_int(value, key)) FUZZ_REQUIRE(m.is_number());
  if (rj::opt_number(value, key)) FUZZ_REQUIRE(m.is_number());
  FUZZ_REQUIRE(rj::object_at(value, key).is_object());
  FUZZ_REQUIRE(rj::array_at(value, key).is_array());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = cosync::fuzz::text_of(data, size);
  const nlohmann::json body = rj::parse(text);
  const bool too_deep = rj::nested_deeper_than(text, rj::kMaxDepth);
  if (body.is_discarded()) return 0;
  FUZZ_REQUIRE(!too_deep);

  // Walk the tree without recursion, checking the depth bound and reading every member of
  // every object (plus a missing key) with every accessor, and every value as a non-object.
  std::vector<std::pair<const nlohmann::json*, std::size_t>> stack{{&body, 1}};
  while (!stack.empty()) {
    auto [value, depth] = stack.back();
    stack.pop_back();
    if (value->is_structured()) FUZZ_REQUIRE(depth <= rj::kMaxDepth);
    read_all(*value, "no such key");
    if (value->is_object())
      for (auto it = value->begin(); it != value->end(); ++it) read_all(*value, it.key());
    if (value->is_structured())
      for (const auto& child : *value) stack.emplace_back(&child, depth + 1);
  }
  return 0;
}
