#pragma once
// Random identifiers for the fakes (tokens, GUIDs, eTags), thread-safe.
#include <string>

namespace cosync::fakes {

std::string random_hex(int digits);
// "8-4-4-4-12" lowercase hex, like the GUIDs Microsoft APIs use.
std::string random_guid();

}  // namespace cosync::fakes
