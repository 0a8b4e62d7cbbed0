// Configuration that used to be accepted and then misbehaved at run time (issue 17, items 5, 8,
// 9 and 10): each is refused when the files are loaded, as a ConfigError naming file:line: key
// (exit 78 before anything is touched).
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>

#include "daemon/cli/config.hpp"
#include "daemon/util/yaml_reader.hpp"
#include "tests/unit/config_fixtures.hpp"
#include "tests/unit/test_files.hpp"

using namespace cosync;

namespace {

const std::string& kMapping = testing::kLeadsMapping;

struct Files {
  testing::TempDir dir;
  Files() {
    ::setenv("COSYNC_TEST_REFUSAL_SECRET", "s3cret", 1);  // the secret of the refusal configs
    dir.write("leads.yaml", kMapping);
  }
  // A config with `top` at line 2 (after state_dir) and `secret` as the Salesforce secret line.
  std::string config(const std::string& top = "", const std::string& secret = "client_secret: ${COSYNC_TEST_REFUSAL_SECRET}",
                     const std::string& mappings = "  - leads.yaml\n") const {
    return dir.write("cosync.yaml", testing::config_text(top, secret, mappings));
  }
  std::string mapping(const std::string& text, const std::string& name = "leads.yaml") const {
    return dir.write(name, text);
  }
  // The mapping with `fields` (a YAML list) instead of its one field.
  std::string mapping_fields(const std::string& fields) const {
    return mapping(kMapping.substr(0, kMapping.find("fields:\n")) + "fields:\n" + fields);
  }
};

std::string error_of(const std::string& path) { return testing::config_error_of(path); }

// Loads on another thread: a file that never ends must be refused, not read forever.
std::string error_within_seconds(const std::string& path) {
  auto result = std::async(std::launch::async, [path] { return error_of(path); });
  REQUIRE(result.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  return result.get();
}

}  // namespace

TEST_CASE("config refusal: durations are range-checked per key instead of overflowing") {
  Files f;
  // 146000d * 86400 fits in 64 bits but overflowed the milliseconds and time points it fed.
  auto huge = f.config("poll_interval: 146000d\n");
  CHECK_THAT(error_of(huge), Catch::StartsWith(huge + ":2: poll_interval: must be between 1s and 7d, got '146000d'"));
  auto wraps = f.config("poll_interval: 9223372036854775807d\n");
  CHECK_THAT(error_of(wraps), Catch::StartsWith(wraps + ":2: poll_interval: must be between"));
  auto too_big_for_stoll = f.config("audit_retention: 99999999999999999999s\n");
  CHECK_THAT(error_of(too_big_for_stoll), Catch::StartsWith(too_big_for_stoll + ":2: audit_retention: expected a duration"));
  auto negative = f.config("poll_interval: -5s\n");
  CHECK_THAT(error_of(negative), Catch::StartsWith(negative + ":2: poll_interval: expected a duration"));
  auto overlap = f.config("http: { timeout: 10s }\n", "client_secret: ${COSYNC_TEST_REFUSAL_SECRET}\n    overlap: 3650d");
  CHECK_THAT(error_of(overlap), Catch::Contains("connections.salesforce.overlap: must be between 0s and 7d"));
  CHECK(app::load_config(f.config("poll_interval: 7d\naudit_retention: 3650d\n")).audit_retention ==
        std::chrono::hours(24 * 3650));
}

TEST_CASE("config refusal: zero timeouts and retention are refused") {
  Files f;
  auto timeout = f.config("http:\n  timeout: 0s\n");
  CHECK_THAT(error_of(timeout), Catch::StartsWith(timeout + ":3: http.timeout: must be between 1s and 1h"));
  auto retry = f.config("http: { max_retry_after: 0 }\n");
  CHECK_THAT(error_of(retry), Catch::StartsWith(retry + ":2: http.max_retry_after: must be between 1s"));
  auto retention = f.config("audit_retention: 0d\n");
  CHECK_THAT(error_of(retention), Catch::StartsWith(retention + ":2: audit_retention: must be between 1h and 3650d"));
  auto token_age = f.config("", "client_secret: ${COSYNC_TEST_REFUSAL_SECRET}\n      max_token_age: 0s");
  CHECK_THAT(error_of(token_age), Catch::Contains(":15: connections.salesforce.auth.max_token_age: must be between 1m"));
}

TEST_CASE("config refusal: a state_dir that is a file, or cannot be created, is a config error") {
  Files f;
  f.dir.write("state", "not a directory\n");
  auto path = f.config();
  CHECK_THAT(error_of(path), Catch::StartsWith(path + ":1: state_dir: " + f.dir.file("state") + " exists and is not a directory"));
  auto under_file = f.dir.write("c.yaml", "state_dir: state/sub\n");
  CHECK_THAT(error_of(under_file), Catch::StartsWith(under_file + ":1: state_dir: cannot create"));
}

TEST_CASE("config refusal: a key given twice is refused, not first-wins") {
  Files f;
  auto top = f.config("poll_interval: 10s\npoll_interval: 1s\n");
  CHECK_THAT(error_of(top), Catch::StartsWith(top + ":3: poll_interval: key given twice"));
  auto nested = f.config("http:\n  timeout: 5s\n  max_attempts: 3\n  timeout: 50s\n");
  CHECK_THAT(error_of(nested), Catch::StartsWith(nested + ":5: http.timeout: key given twice"));
  auto mapping = f.mapping(kMapping + "    crm: Name\n");
  CHECK_THAT(error_of(f.config()), Catch::StartsWith(mapping + ":11: fields[0].crm: key given twice"));
}

TEST_CASE("config refusal: secret and YAML files must be regular files under a size cap") {
  Files f;
  auto zero_secret = f.config("", "client_secret_file: /dev/zero");
  CHECK_THAT(error_within_seconds(zero_secret),
             Catch::StartsWith(zero_secret + ":14: connections.salesforce.auth.client_secret_file: ") &&
                 Catch::Contains("/dev/zero: not a regular file"));
  auto zero_mapping = f.config("", "client_secret: ${COSYNC_TEST_REFUSAL_SECRET}", "  - /dev/zero\n");
  CHECK_THAT(error_within_seconds(zero_mapping), Catch::Contains("/dev/zero: not a regular file"));
  ::mkfifo(f.dir.file("fifo").c_str(), 0600);
  auto fifo = f.config("", "client_secret_file: fifo");
  CHECK_THAT(error_within_seconds(fifo), Catch::Contains("fifo: not a regular file"));

  f.dir.write_secret("big_secret", std::string((1 << 20) + 1, 'x'));
  auto big = f.config("", "client_secret_file: big_secret");
  CHECK_THAT(error_of(big), Catch::Contains("big_secret: larger than 1048576 bytes"));
  auto big_mapping = f.mapping(kMapping + "# " + std::string(5 << 20, 'x') + "\n");
  CHECK_THAT(error_of(f.config()), Catch::StartsWith(big_mapping + ":0: ") && Catch::Contains("larger than"));
  CHECK_THAT(error_of("/dev/zero"), Catch::StartsWith("/dev/zero:0: /dev/zero: not a regular file"));
}

TEST_CASE("config refusal: a secret file others can read, or the group can write, is refused like ssh does") {
  Files f;
  auto secret = f.dir.write("secret", "from-file\n");
  auto path = f.config("", "client_secret_file: secret");
  for (mode_t mode : {0644, 0604, 0620, 0660, 0666}) {
    ::chmod(secret.c_str(), mode);
    INFO(std::oct << mode);
    CHECK_THAT(error_of(path), Catch::StartsWith(path + ":14: connections.salesforce.auth.client_secret_file: ") &&
                                   Catch::Contains("must not be readable by others nor writable by its group"));
  }
  for (mode_t mode : {0600, 0640, 0400, 0440}) {
    ::chmod(secret.c_str(), mode);
    INFO(std::oct << mode);
    CHECK(app::load_config(path).salesforce.at("salesforce").auth.client_secret == "from-file");
  }
}

TEST_CASE("config refusal: a private key file is checked when the config loads") {
  Files f;
  auto key = f.dir.write("sf.key", "a key\n");
  auto path = f.config("", "flow: jwt_bearer\n      username: u@example.com\n      private_key_file: sf.key");
  CHECK_THAT(error_of(path), Catch::Contains(":16: connections.salesforce.auth.private_key_file: ") &&
                                 Catch::Contains("must not be readable by others"));
  ::chmod(key.c_str(), 0600);
  CHECK(app::load_config(path).salesforce.at("salesforce").jwt.private_key_file == key);
  auto missing = f.config("", "flow: jwt_bearer\n      username: u@example.com\n      private_key_file: none.key");
  CHECK_THAT(error_of(missing), Catch::Contains(":16: connections.salesforce.auth.private_key_file: ") &&
                                    Catch::Contains("cannot read the file"));
}

TEST_CASE("config refusal: a client_secret written inline is refused: ${ENV} is not inline") {
  Files f;
  auto path = f.config("", "client_secret: s3cret");
  CHECK_THAT(error_of(path), Catch::StartsWith(path + ":14: connections.salesforce.auth.client_secret: secrets are never written inline"));
  auto mixed = f.config("", "client_secret: pre-${COSYNC_TEST_REFUSAL_SECRET}");
  CHECK_THAT(error_of(mixed), Catch::Contains("secrets are never written inline"));
  CHECK(app::load_config(f.config()).salesforce.at("salesforce").auth.client_secret == "s3cret");
}

TEST_CASE("config refusal: base URLs must be URLs, and plain http only to loopback") {
  Files f;
  auto not_url = f.dir.write("a.yaml", "state_dir: state\npartner_center:\n  base_url: api.partner.microsoft.com/v1.0\n");
  CHECK_THAT(error_of(not_url), Catch::StartsWith(not_url + ":3: partner_center.base_url: expected an absolute URL"));
  auto plain = f.dir.write("b.yaml", "state_dir: state\npartner_center:\n  base_url: http://api.partner.microsoft.com/v1.0\n");
  CHECK_THAT(error_of(plain), Catch::StartsWith(plain + ":3: partner_center.base_url: plain http:// is allowed only to a loopback host"));
  auto ftp = f.dir.write("c.yaml", "state_dir: state\npartner_center:\n  base_url: ftp://example.com/x\n");
  CHECK_THAT(error_of(ftp), Catch::StartsWith(ftp + ":3: partner_center.base_url: expected an https:// URL"));
  auto token = f.config("", "client_secret: ${COSYNC_TEST_REFUSAL_SECRET}");
  std::string text = "state_dir: state\npartner_center:\n  base_url: http://[::1]:1\n  auth:\n    token_url: http://10.0.0.1/token\n";
  auto token_url = f.dir.write("d.yaml", text);
  CHECK_THAT(error_of(token_url), Catch::StartsWith(token_url + ":5: partner_center.auth.token_url: plain http://"));
  CHECK(error_of(token).empty());  // http://127.0.0.1 and https:// are fine
}

TEST_CASE("config refusal: a URL with credentials is refused without echoing them") {
  Files f;
  // A wrong scheme used to be reported first, with the whole URL, password and all.
  auto bad_scheme = f.dir.write("a.yaml", "state_dir: state\npartner_center:\n  base_url: htps://admin:pw@example.com/x\n");
  CHECK_THAT(error_of(bad_scheme), Catch::StartsWith(bad_scheme + ":3: partner_center.base_url: credentials in URLs"));
  auto unparsed = f.dir.write("b.yaml", "state_dir: state\npartner_center:\n  base_url: https://admin:p w@example.com/x\n");
  CHECK_THAT(error_of(unparsed), Catch::StartsWith(unparsed + ":3: partner_center.base_url: expected an absolute URL"));
  for (const auto& file : {bad_scheme, unparsed}) {
    CHECK_THAT(error_of(file), !Catch::Contains("pw") && !Catch::Contains("p w"));
  }
}

TEST_CASE("config refusal: two mappings linking the same CRM object through the same field are refused") {
  Files f;
  auto second = f.mapping("name: leads-2\n" + kMapping.substr(kMapping.find("crm:")), "leads2.yaml");
  auto path = f.config("", "client_secret: ${COSYNC_TEST_REFUSAL_SECRET}", "  - leads.yaml\n  - leads2.yaml\n");
  CHECK_THAT(error_of(path), Catch::StartsWith(second + ":5: crm.link_field: mapping 'leads' (") &&
                                 Catch::Contains("already links Lead records through Ref__c"));
  auto text = "name: leads-2\n" + kMapping.substr(kMapping.find("crm:"));
  f.mapping(text.replace(text.find("Ref__c"), 6, "Ref2__c"), "leads2.yaml");
  CHECK(app::load_config(path).mappings.size() == 2);
}
