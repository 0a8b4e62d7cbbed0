// Salesforce OAuth 2.0 JWT bearer flow: an RS256 assertion signed with the key file, verified by
// the fake token endpoint with the public key the test registers.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "daemon/auth/jwt_bearer.hpp"
#include "daemon/cli/config.hpp"
#include "daemon/util/yaml_reader.hpp"
#include "tests/unit/connector_fixture.hpp"
#include "tests/unit/config_fixtures.hpp"
#include "tests/unit/test_files.hpp"
#include "tests/unit/failure_checks.hpp"

using namespace cosync;
using namespace std::chrono_literals;

namespace {

struct KeyPair {
  std::string private_pem;
  std::string public_pem;
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

KeyPair make_rsa_key() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  REQUIRE(key);
  BIO* priv = BIO_new(BIO_s_mem());
  BIO* pub = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  REQUIRE(PEM_write_bio_PUBKEY(pub, key) == 1);
  KeyPair k{bio_text(priv), bio_text(pub)};
  BIO_free(priv);
  BIO_free(pub);
  EVP_PKEY_free(key);
  return k;
}

struct JwtFixture : testing::ConnectorFixture {
  testing::TempDir dir;
  KeyPair key = make_rsa_key();

  auth::JwtBearerOptions options(const std::string& key_file) {
    auth::JwtBearerOptions o;
    o.token_url = token_server.url();
    o.client_id = "sf-connected-app";
    o.username = "integration@example.com";
    o.private_key_file = key_file;
    o.audience = "https://test.salesforce.com";
    return o;
  }
};

}  // namespace

TEST_CASE("salesforce_jwt: base64url has no padding and round-trips") {
  CHECK(auth::base64url_encode("") == "");
  CHECK(auth::base64url_encode("f") == "Zg");
  CHECK(auth::base64url_encode("fo") == "Zm8");
  CHECK(auth::base64url_encode("foo") == "Zm9v");
  CHECK(auth::base64url_encode("\xfb\xff") == "-_8");
  CHECK(auth::base64url_decode("-_8") == std::string("\xfb\xff"));
}

TEST_CASE_METHOD(JwtFixture, "salesforce_jwt: a signed assertion gets a token the Salesforce fake accepts") {
  token_server.add_jwt_client("sf-connected-app", key.public_pem, "https://test.salesforce.com");
  auto key_file = dir.write("sf.key", key.private_pem);
  auth::JwtBearerProvider jwt{client, options(key_file), clock, captured.log, "salesforce"};
  auto token = run(jwt.access_token());
  INFO(testing::describe(token));
  REQUIRE(token.ok());
  CHECK(token_server.is_valid_access_token(*token));

  auto claims = nlohmann::json::parse(token_server.last_jwt_claims());
  CHECK(claims["iss"] == "sf-connected-app");
  CHECK(claims["sub"] == "integration@example.com");
  CHECK(claims["aud"] == "https://test.salesforce.com");
  auto now = std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
  CHECK(claims["exp"].get<long long>() > now);
  CHECK(claims["exp"].get<long long>() <= now + 180);
  CHECK_THAT(*captured.text, !Catch::Contains(*token));
  CHECK_THAT(*captured.text, !Catch::Contains("PRIVATE KEY"));

  // The connector authenticates with it.
  connectors::SalesforceOptions o;
  o.instance_url = sf_fake.base_url();
  connectors::SalesforceConnector sf{client, jwt, o, captured.log};
  connectors::ObjectSpec spec{"Lead", {"Company"}, "PartnerCenterReferralId__c"};
  auto pulled = run(sf.pull(spec, ""));
  INFO(testing::describe(pulled));
  CHECK(pulled.ok());
}

TEST_CASE_METHOD(JwtFixture, "salesforce_jwt: a key the connected app does not know is refused") {
  token_server.add_jwt_client("sf-connected-app", make_rsa_key().public_pem, "https://test.salesforce.com");
  auth::JwtBearerProvider jwt{client, options(dir.write("sf.key", key.private_pem)), clock, captured.log, "salesforce"};
  auto token = run(jwt.access_token());
  REQUIRE_FALSE(token.ok());
  CHECK(token.failure().kind == FailureKind::auth);
  CHECK_THAT(token.failure().message, Catch::Contains("invalid_grant"));
}

TEST_CASE_METHOD(JwtFixture, "salesforce_jwt: the wrong audience is refused, a missing key file is named") {
  token_server.add_jwt_client("sf-connected-app", key.public_pem, "https://login.salesforce.com");
  auth::JwtBearerProvider jwt{client, options(dir.write("sf.key", key.private_pem)), clock, captured.log, "salesforce"};
  auto token = run(jwt.access_token());
  testing::check_fails_with(token, "audience");

  auth::JwtBearerProvider missing{client, options(dir.file("nope.key")), clock, captured.log, "salesforce"};
  auto none = run(missing.access_token());
  REQUIRE_FALSE(none.ok());
  CHECK(none.failure().kind == FailureKind::auth);
  CHECK_THAT(none.failure().message, Catch::Contains("nope.key"));
  auth::JwtBearerProvider garbage{client, options(dir.write("bad.key", "not a key")), clock, captured.log, "salesforce"};
  auto bad = run(garbage.access_token());
  testing::check_fails_with(bad, "no readable PEM private key");
}

TEST_CASE("salesforce_jwt: config selects the flow under connections.NAME.auth") {
  testing::TempDir dir;
  dir.write("leads.yaml", testing::kLeadsMapping);
  auto config = [&](const std::string& auth) {
    return dir.write("cosync.yaml", "state_dir: state\n"
                                    "partner_center:\n"
                                    "  auth:\n"
                                    "    token_url: http://127.0.0.1:2/token\n"
                                    "    client_id: pc-client\n"
                                    "connections:\n"
                                    "  salesforce:\n"
                                    "    type: salesforce\n"
                                    "    instance_url: http://127.0.0.1:3\n"
                                    "    max_api_usage_percent: 70\n"
                                    "    auth:\n"
                                    "      token_url: http://127.0.0.1:2/token\n"
                                    "      client_id: sf-client\n" +
                                        auth + "mappings:\n  - leads.yaml\n");
  };
  dir.write_secret("keys/sf.pem", "a private key\n");  // checked at load: a private, regular file
  auto c = app::load_config(config("      flow: jwt_bearer\n      username: u@example.com\n"
                                   "      private_key_file: keys/sf.pem\n      audience: https://test.salesforce.com\n"));
  const auto& sf = c.salesforce.at("salesforce");
  CHECK(sf.jwt_bearer);
  CHECK(sf.jwt.client_id == "sf-client");
  CHECK(sf.jwt.username == "u@example.com");
  CHECK(sf.jwt.private_key_file == dir.file("keys/sf.pem"));
  CHECK(sf.jwt.audience == "https://test.salesforce.com");
  CHECK(sf.api.max_api_usage == Approx(0.7));

  ::setenv("COSYNC_TEST_JWT_SECRET", "s3cret", 1);  // secrets are never inline
  auto plain = app::load_config(config("      client_secret: ${COSYNC_TEST_JWT_SECRET}\n"));
  CHECK_FALSE(plain.salesforce.at("salesforce").jwt_bearer);
  CHECK(plain.salesforce.at("salesforce").api.max_api_usage == Approx(0.7));

  auto error_of = [&](const std::string& auth) -> std::string {
    try {
      app::load_config(config(auth));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  CHECK_THAT(error_of("      flow: password\n"), Catch::Contains("expected client_credentials or jwt_bearer"));
  CHECK_THAT(error_of("      flow: jwt_bearer\n      username: u\n      private_key_file: k\n"
                      "      audience: https://example.com\n"),
             Catch::Contains("expected https://login.salesforce.com or https://test.salesforce.com"));
  CHECK_THAT(error_of("      flow: jwt_bearer\n      private_key_file: k\n"), Catch::Contains("username"));
}
