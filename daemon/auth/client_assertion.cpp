#include "daemon/auth/client_assertion.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "daemon/auth/jwt_bearer.hpp"
#include "daemon/auth/openssl_ptr.hpp"
#include "daemon/util/bounded_file.hpp"
#include "daemon/util/uuid.hpp"

namespace cosync::auth {

namespace {

OpensslPtr<X509> read_certificate(const std::string& pem) {
  OpensslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return OpensslPtr<X509>(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

std::string digest_of(const X509* certificate, const EVP_MD* md) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  X509_digest(certificate, md, out, &length);  // over the DER encoding
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(out), length));
}

std::optional<std::string> read_file(const std::string& path) {
  auto text = read_bounded_file(path, kMaxSecretFileBytes);
  if (!text) return std::nullopt;
  return std::move(*text);
}

}  // namespace

Expected<CertificateThumbprints> certificate_thumbprints(const std::string& certificate_pem) {
  auto certificate = read_certificate(certificate_pem);
  if (!certificate) return Failure{FailureKind::auth, "the certificate file holds no readable PEM certificate", 0, ""};
  return CertificateThumbprints{digest_of(certificate.get(), EVP_sha256()), digest_of(certificate.get(), EVP_sha1())};
}

Expected<std::string> make_client_assertion(const ClientAssertionRequest& request, TimePoint now) {
  auto certificate_pem = read_file(request.certificate_file);
  if (!certificate_pem)
    return Failure{FailureKind::auth, "cannot read the certificate file " + request.certificate_file, 0, ""};
  auto key_pem = read_file(request.private_key_file);
  if (!key_pem) return Failure{FailureKind::auth, "cannot read the private key file " + request.private_key_file, 0, ""};
  auto certificate = read_certificate(*certificate_pem);
  if (!certificate)
    return Failure{FailureKind::auth, request.certificate_file + " holds no readable PEM certificate", 0, ""};
  {
    // A key of another certificate would only be refused by Entra ID with a vague error.
    OpensslPtr<BIO> bio(BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())));
    OpensslPtr<EVP_PKEY> key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (key && X509_check_private_key(certificate.get(), key.get()) != 1)
      return Failure{FailureKind::auth,
                     request.private_key_file + " is not the private key of the certificate " + request.certificate_file,
                     0, ""};
  }
  auto thumbprints = certificate_thumbprints(*certificate_pem);
  if (!thumbprints) return thumbprints.failure();
  auto seconds = [](TimePoint t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  };
  nlohmann::json claims = {{"aud", request.token_url},
                           {"iss", request.client_id},
                           {"sub", request.client_id},
                           {"jti", random_uuid()},
                           {"iat", seconds(now)},
                           {"nbf", seconds(now)},
                           {"exp", seconds(now + request.lifetime)}};
  nlohmann::json header = {{"x5t#S256", thumbprints->sha256}, {"x5t", thumbprints->sha1}};
  return sign_jwt_rs256(claims.dump(), *key_pem, header);
}

}  // namespace cosync::auth
