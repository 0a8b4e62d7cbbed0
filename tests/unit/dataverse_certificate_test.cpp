// Entra ID certificate credentials for the Dataverse connection: the client-credentials grant
// with a client assertion signed by the certificate's key, verified by the fake token endpoint
// against the certificate registered on the app; and the config keys that select it.
#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "daemon/auth/client_assertion.hpp"
#include "daemon/auth/client_credentials.hpp"
#include "daemon/cli/config.hpp"
#include "daemon/util/yaml_reader.hpp"
#include "tests/fakes/fake_token_server.hpp"
#include "tests/unit/connector_fixture.hpp"
#include "tests/unit/run_async.hpp"
#include "tests/unit/test_files.hpp"
#include "tests/unit/failure_checks.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// A self-signed certificate and its private key, as an app registration's would be.
struct Certificate {
  std::string certificate_pem;
  std::string private_key_pem;
};

Certificate make_certificate(const std::string& common_name) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  REQUIRE(key);
  X509* x = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(x, name);
  REQUIRE(X509_sign(x, key, EVP_sha256()) > 0);
  BIO* cert = BIO_new(BIO_s_mem());
  BIO* priv = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_X509(cert, x) == 1);
  REQUIRE(PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  Certificate c{bio_text(cert), bio_text(priv)};
  BIO_free(cert);
  BIO_free(priv);
  X509_free(x);
  EVP_PKEY_free(key);
  return c;
}


// One generated certificate for the whole file: RSA key generation is slow.
const Certificate& registered() {
  static const Certificate c = make_certificate("cosync-dataverse");
  return c;
}

struct CertificateFixture {
  ManualClock clock{std::chrono::system_clock::now()};
  fakes::FakeTokenServer server{make_server_options()};
  boost::asio::io_context io;
  CapturedLog captured = make_capturing_logger();
  http::HttpClient client{io.get_executor(), testing::fast_http_options(), captured.log};
  testing::TempDir dir;

  fakes::FakeTokenServerOptions make_server_options() {
    fakes::FakeTokenServerOptions o;
    o.clock = &clock;
    return o;
  }
  CertificateFixture() { server.add_certificate_client("dv-app", registered().certificate_pem); }

  auth::ClientCredentialsOptions options(const std::string& key_pem) {
    auth::ClientCredentialsOptions o;
    o.token_url = server.url();
    o.client_id = "dv-app";
    o.scope = "https://contoso.crm.dynamics.com/.default";
    o.certificate_file = dir.write("dataverse.crt", registered().certificate_pem);
    o.private_key_file = dir.write("dataverse.key", key_pem);
    return o;
  }
};

}  // namespace

TEST_CASE_METHOD(CertificateFixture, "dataverse certificate: a signed client assertion gets a token from Entra ID") {
  auth::ClientCredentialsProvider tokens(client, options(registered().private_key_pem), clock, captured.log, "dynamics");
  auto token = testing::run_async(io, tokens.access_token());
  INFO((token.ok() ? std::string("ok") : token.failure().message));
  REQUIRE(token.ok());
  CHECK(server.is_valid_access_token(*token));
  // The request Entra ID documents: client_assertion_type jwt-bearer, no client_secret.
  REQUIRE(server.server().requests().size() == 1);
  const auto& form = fakes::decode_form(server.server().requests()[0].body);
  CHECK(form.at("grant_type") == "client_credentials");
  CHECK(form.at("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  CHECK(form.at("scope") == "https://contoso.crm.dynamics.com/.default");
  CHECK_FALSE(form.contains("client_secret"));
  // The header names the certificate by its SHA-256 (and SHA-1) thumbprint.
  auto header = json::parse(server.last_assertion_header());
  CHECK(header["alg"] == "RS256");
  CHECK(header["x5t#S256"] == auth::certificate_thumbprints(registered().certificate_pem)->sha256);
  CHECK(header["x5t"].is_string());
  // Neither the assertion nor the key reach the log.
  CHECK(captured.text->find(form.at("client_assertion")) == std::string::npos);
  CHECK(captured.text->find("PRIVATE KEY") == std::string::npos);

  SECTION("each token request signs a new assertion") {
    server.expire_all_access_tokens();
    tokens.invalidate();
    auto again = testing::run_async(io, tokens.access_token());
    REQUIRE(again.ok());
    REQUIRE(server.server().requests().size() == 2);
    CHECK(fakes::decode_form(server.server().requests()[1].body).at("client_assertion") != form.at("client_assertion"));
  }
}

TEST_CASE_METHOD(CertificateFixture, "dataverse certificate: an assertion signed with another key is refused") {
  auto other = make_certificate("someone-else");
  SECTION("the key of another certificate is named before anything is sent") {
    auth::ClientCredentialsProvider tokens(client, options(other.private_key_pem), clock, captured.log, "dynamics");
    auto token = testing::run_async(io, tokens.access_token());
    REQUIRE_FALSE(token.ok());
    CHECK(token.failure().kind == FailureKind::auth);
    CHECK_THAT(token.failure().message, Catch::Contains("is not the private key of the certificate"));
    CHECK(server.server().requests().empty());
  }
  SECTION("a certificate the app does not have is refused by the token endpoint") {
    auto o = options(other.private_key_pem);
    o.certificate_file = dir.write("other.crt", other.certificate_pem);
    auth::ClientCredentialsProvider tokens(client, o, clock, captured.log, "dynamics");
    auto token = testing::run_async(io, tokens.access_token());
    REQUIRE_FALSE(token.ok());
    CHECK(token.failure().kind == FailureKind::auth);
    CHECK_THAT(token.failure().message, Catch::Contains("AADSTS700027"));
    CHECK(server.tokens_issued() == 0);
  }
  SECTION("an assertion for another audience is refused") {
    auth::ClientAssertionRequest request;
    request.client_id = "dv-app";
    request.token_url = "https://login.microsoftonline.com/other/oauth2/v2.0/token";
    request.certificate_file = dir.write("a.crt", registered().certificate_pem);
    request.private_key_file = dir.write("a.key", registered().private_key_pem);
    auto assertion = auth::make_client_assertion(request, clock.now());
    REQUIRE(assertion.ok());
    std::vector<std::pair<std::string, std::string>> form = {
        {"grant_type", "client_credentials"},
        {"client_id", "dv-app"},
        {"client_assertion_type", auth::kClientAssertionType},
        {"client_assertion", *assertion}};
    auto token = testing::run_async(io, auth::request_token(client, server.url(), form));
    testing::check_fails_with(token, "audience");
    CHECK(server.tokens_issued() == 0);
  }
}

TEST_CASE("dataverse certificate: config takes certificate_file + private_key_file instead of a client secret") {
  testing::TempDir dir;
  dir.write("leads.yaml", "name: dv-leads\ncrm:\n  connection: dynamics\n  object: leads\n  link_field: cosync_referralid\n"
                          "fields:\n  - name: company\n    pc: customerProfile.name\n    crm: companyname\n    direction: to_crm\n");
  auto config = [&](const std::string& auth) {
    return dir.write("cosync.yaml", "state_dir: state\npartner_center:\n  auth:\n    token_url: http://127.0.0.1:2/token\n"
                                    "    client_id: pc\nconnections:\n  dynamics:\n    type: dataverse\n"
                                    "    url: https://contoso.crm.dynamics.com\n    auth:\n      tenant: t1\n"
                                    "      client_id: dv-app\n" + auth + "mappings:\n  - leads.yaml\n");
  };
  auto error_of = [](const std::string& path) -> std::string {
    try {
      app::load_config(path);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  dir.write("certs/dv.crt", "a certificate\n");  // both are checked at load: regular files, the key private
  dir.write_secret("certs/dv.key", "a private key\n");
  auto c = app::load_config(config("      certificate_file: certs/dv.crt\n      private_key_file: certs/dv.key\n"));
  const auto& auth = c.dataverse.at("dynamics").auth;
  CHECK(auth.certificate_file == dir.file("certs/dv.crt"));  // relative to the YAML file
  CHECK(auth.private_key_file == dir.file("certs/dv.key"));
  CHECK(auth.client_secret.empty());

  auto both = error_of(config("      client_secret: s\n      certificate_file: dv.crt\n      private_key_file: dv.key\n"));
  CHECK_THAT(both, Catch::Contains("cosync.yaml:13") && Catch::Contains("client_secret") && Catch::Contains("not both"));
  auto no_key = error_of(config("      certificate_file: dv.crt\n"));
  CHECK_THAT(no_key, Catch::Contains("private_key_file"));
  auto neither = error_of(config(""));
  CHECK_THAT(neither, Catch::Contains("client_secret"));
}
