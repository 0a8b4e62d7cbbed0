#include "tests/fakes/jwt_verify.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>

namespace cosync::fakes {

namespace {

std::optional<std::string> b64url_decode(const std::string& text) {
  std::string out;
  unsigned int buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return std::nullopt;  // '+', '/', '=' are not base64url
    buffer = (buffer << 6) | static_cast<unsigned int>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

std::string b64url_encode(const unsigned char* data, std::size_t size) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  for (std::size_t i = 0; i < size; i += 3) {
    unsigned int chunk = static_cast<unsigned int>(data[i]) << 16;
    if (i + 1 < size) chunk |= static_cast<unsigned int>(data[i + 1]) << 8;
    if (i + 2 < size) chunk |= data[i + 2];
    out += alphabet[(chunk >> 18) & 63];
    out += alphabet[(chunk >> 12) & 63];
    if (i + 1 < size) out += alphabet[(chunk >> 6) & 63];
    if (i + 2 < size) out += alphabet[chunk & 63];
  }
  return out;
}

std::unique_ptr<X509, decltype(&X509_free)> read_x509(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  return {bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr, &X509_free};
}

}  // namespace

nlohmann::json jwt_header(const std::string& jwt) {
  auto dot = jwt.find('.');
  auto header = dot == std::string::npos ? std::nullopt : b64url_decode(jwt.substr(0, dot));
  return header ? nlohmann::json::parse(*header, nullptr, false) : nlohmann::json();
}

std::string certificate_public_key(const std::string& certificate_pem) {
  auto certificate = read_x509(certificate_pem);
  if (!certificate) return {};
  EVP_PKEY* key = X509_get0_pubkey(certificate.get());
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), &BIO_free);
  if (!key || !out || PEM_write_bio_PUBKEY(out.get(), key) != 1) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string certificate_thumbprint(const std::string& certificate_pem, bool sha256) {
  auto certificate = read_x509(certificate_pem);
  if (!certificate) return {};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(certificate.get(), sha256 ? EVP_sha256() : EVP_sha1(), digest, &length) != 1) return {};
  return b64url_encode(digest, length);
}

std::variant<nlohmann::json, std::string> verify_jwt_rs256(const std::string& jwt, const std::string& public_key_pem) {
  auto first = jwt.find('.');
  auto second = first == std::string::npos ? std::string::npos : jwt.find('.', first + 1);
  if (second == std::string::npos || jwt.find('.', second + 1) != std::string::npos)
    return std::string("the assertion is not a JWS compact serialization (header.payload.signature)");
  auto header = b64url_decode(jwt.substr(0, first));
  auto payload = b64url_decode(jwt.substr(first + 1, second - first - 1));
  auto signature = b64url_decode(jwt.substr(second + 1));
  if (!header || !payload || !signature) return std::string("the assertion is not base64url");
  auto h = nlohmann::json::parse(*header, nullptr, false);
  if (!h.is_object() || h.value("alg", "") != "RS256") return std::string("the assertion's alg is not RS256");
  auto claims = nlohmann::json::parse(*payload, nullptr, false);
  if (!claims.is_object()) return std::string("the assertion's claims are not a JSON object");

  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr, &EVP_PKEY_free);
  if (!key) return std::string("the registered public key is unreadable");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::string signed_part = jwt.substr(0, second);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()), signature->size(),
                       reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) != 1)
    return std::string("the assertion's signature does not verify");
  return claims;
}

}  // namespace cosync::fakes
