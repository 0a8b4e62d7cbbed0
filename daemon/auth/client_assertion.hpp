#pragma once
// Entra ID certificate credentials: instead of a client secret, the client-credentials grant
// carries a JWT the app signs with its certificate's private key
// (client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer). The header
// names the certificate by its thumbprints (x5t#S256: SHA-256, x5t: SHA-1, of the DER, base64url);
// the claims are aud = the token endpoint, iss = sub = the client id, a fresh jti, nbf/iat = now
// and a short exp. Microsoft's "certificate credentials" page documents the format.
#include <chrono>
#include <string>

#include "daemon/util/clock.hpp"
#include "daemon/util/expected.hpp"

namespace cosync::auth {

constexpr const char* kClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

struct CertificateThumbprints {
  std::string sha256;  // base64url, the x5t#S256 header
  std::string sha1;    // base64url, the x5t header
};

// The thumbprints of the first certificate in a PEM text; a Failure (kind auth) when there is none.
Expected<CertificateThumbprints> certificate_thumbprints(const std::string& certificate_pem);

struct ClientAssertionRequest {
  std::string client_id;
  std::string token_url;         // the audience
  std::string certificate_file;  // PEM, the certificate registered on the app
  std::string private_key_file;  // PEM, its private key (RSA)
  std::chrono::seconds lifetime{300};
};

// Reads both files (at every call, so a renewed certificate is picked up) and signs the
// assertion; the private key must belong to the certificate.
Expected<std::string> make_client_assertion(const ClientAssertionRequest& request, TimePoint now);

}  // namespace cosync::auth
