#pragma once
// RS256 JWT verification for the fake token endpoint (Salesforce's JWT bearer flow). Independent
// of the daemon's signing code, so a test cannot pass because both share a bug.
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

namespace cosync::fakes {

// The claims of `jwt` when its header says RS256 and its signature verifies with the PEM public
// key; otherwise an error text.
std::variant<nlohmann::json, std::string> verify_jwt_rs256(const std::string& jwt, const std::string& public_key_pem);

}  // namespace cosync::fakes
