#include "daemon/auth/jwt_bearer.hpp"

#include "daemon/auth/openssl_ptr.hpp"
#include "daemon/util/bounded_file.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

namespace cosync::auth {

namespace {

constexpr const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

std::string base64url_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  unsigned int buffer = 0;
  int bits = 0;
  for (unsigned char c : data) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3F];
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string out;
  unsigned int buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const char* at = std::char_traits<char>::find(kAlphabet, 64, c);
    if (!at) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned int>(at - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

Expected<std::string> sign_jwt_rs256(const std::string& claims_json, const std::string& private_key_pem,
                                     const nlohmann::json& extra_header) {
  OpensslPtr<BIO> bio(BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())));
  OpensslPtr<EVP_PKEY> key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return Failure{FailureKind::auth, "the JWT private key file holds no readable PEM private key", 0, ""};
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA)
    return Failure{FailureKind::auth, "the JWT private key is not an RSA key (RS256 needs one)", 0, ""};
  nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  header.update(extra_header);
  std::string signing_input = base64url_encode(header.dump()) + "." + base64url_encode(claims_json);
  OpensslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  std::size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1)
    return Failure{FailureKind::auth, "signing the JWT assertion failed", 0, ""};
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1)
    return Failure{FailureKind::auth, "signing the JWT assertion failed", 0, ""};
  signature.resize(length);
  return signing_input + "." + base64url_encode(signature);
}

JwtBearerProvider::JwtBearerProvider(http::HttpClient& client, JwtBearerOptions options, const Clock& clock, Log log,
                                     std::string name)
    : TokenProvider(clock, std::move(log), std::move(name), options.max_token_age),
      client_(client),
      options_(std::move(options)) {}

boost::asio::awaitable<Expected<TokenGrant>> JwtBearerProvider::acquire() {
  auto pem = read_bounded_file(options_.private_key_file, kMaxSecretFileBytes);
  if (!pem)
    co_return Failure{FailureKind::auth, "cannot read the JWT private key file " + pem.failure().message, 0, ""};
  auto exp = std::chrono::duration_cast<std::chrono::seconds>(
      (clock_.now() + options_.assertion_lifetime).time_since_epoch());
  nlohmann::json claims = {{"iss", options_.client_id},
                           {"sub", options_.username},
                           {"aud", options_.audience},
                           {"exp", exp.count()}};
  auto assertion = sign_jwt_rs256(claims.dump(), *pem);
  if (!assertion) co_return assertion.failure();
  std::vector<std::pair<std::string, std::string>> form = {
      {"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, {"assertion", *assertion}};
  co_return co_await request_token(client_, options_.token_url, form);
}

}  // namespace cosync::auth
