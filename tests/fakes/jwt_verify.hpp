#pragma once
// RS256 JWT verification for the fake token endpoint (Salesforce's JWT bearer flow, Entra ID's
// certificate client assertions). Independent of the daemon's signing code, so a test cannot
// pass because both share a bug.
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

namespace cosync::fakes {

// The claims of `jwt` when its header says RS256 and its signature verifies with the PEM public
// key; otherwise an error text.
std::variant<nlohmann::json, std::string> verify_jwt_rs256(const std::string& jwt, const std::string& public_key_pem);
// The JOSE header of a compact JWT; null when unreadable.
nlohmann::json jwt_header(const std::string& jwt);
// The public key (PEM) of a PEM certificate; empty when unreadable.
std::string certificate_public_key(const std::string& certificate_pem);
// base64url SHA-256 / SHA-1 of the certificate's DER (the x5t#S256 / x5t headers); empty when unreadable.
std::string certificate_thumbprint(const std::string& certificate_pem, bool sha256);

}  // namespace cosync::fakes
