#include "daemon/cli/config.hpp"

#include <boost/url/parse.hpp>
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <unistd.h>

#include "daemon/mapping/lead_rules.hpp"
#include "daemon/util/yaml_reader.hpp"

namespace cosync::app {
namespace {

namespace fs = std::filesystem;

// Relative paths in a config file are relative to the file's own directory; the result is
// absolute, so that logs name the real file whatever the working directory.
std::string resolve_path(const std::string& config_file, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return fs::absolute(fs::path(config_file).parent_path() / path).lexically_normal().string();
}

std::chrono::milliseconds ms(std::chrono::seconds s) { return std::chrono::duration_cast<std::chrono::milliseconds>(s); }

// Ranges of the duration keys: none may be zero where zero stops the daemon from working, none
// so large that it overflows (or means "never" by accident).
using std::chrono::seconds;
constexpr seconds kMinute{60}, kHour{3600}, kDay{86400};
constexpr seconds kOverlapMax = 7 * kDay;

bool is_loopback_host(const boost::urls::url_view& u) {
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4: return u.host_ipv4_address().to_bytes()[0] == 127;
    case boost::urls::host_type::ipv6: return u.host_ipv6_address().is_loopback();
    case boost::urls::host_type::name: return u.host_name() == "localhost" || u.host_name() == "localhost.";
    default: return false;
  }
}

// A base or token URL, checked now rather than at the first request: absolute https (plain
// http only to this machine, for tests and local proxies), with a host and no credentials.
std::string url_at(const YamlNode& node) {
  std::string url = node.as_string();
  auto parsed = boost::urls::parse_absolute_uri(url);
  // Checked first, so that no message below echoes a password written into the URL.
  if (parsed && parsed->has_userinfo()) node.fail("credentials in URLs are not supported");
  if (!parsed && url.find('@') != std::string::npos)
    node.fail("expected an absolute URL such as https://host/path (the value is not shown: it may hold credentials)");
  if (!parsed) node.fail("expected an absolute URL such as https://host/path, got '" + url + "'");
  const auto& u = *parsed;
  if (u.scheme_id() != boost::urls::scheme::https && u.scheme_id() != boost::urls::scheme::http)
    node.fail("expected an https:// URL, got '" + url + "'");
  if (!u.has_authority() || u.encoded_host().empty()) node.fail("the URL has no host: '" + url + "'");
  if (u.has_port() && (u.port().empty() || u.port_number() == 0)) node.fail("invalid port in '" + url + "'");
  if (u.scheme_id() == boost::urls::scheme::http && !is_loopback_host(u))
    node.fail("plain http:// is allowed only to a loopback host (127.0.0.1, ::1, localhost); use https://");
  return url;
}

std::string url_or(const YamlNode& parent, std::string_view key, std::string fallback) {
  auto node = parent.find(key);
  return node ? url_at(*node) : std::move(fallback);
}

// CRM names are case-insensitive (Salesforce API names, Dataverse logical names).
bool same_crm_name(const std::string& a, const std::string& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y)); });
}

// The state directory, checked before anything is written: an existing directory, or one that
// can be created under an existing, writable directory.
void check_state_dir(const YamlNode& node, const std::string& dir) {
  std::error_code ec;
  auto status = fs::status(dir, ec);
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) node.fail(dir + " exists and is not a directory");
    if (::access(dir.c_str(), W_OK | X_OK) != 0) node.fail(dir + " is not writable by this user");
    return;
  }
  fs::path parent = fs::path(dir).parent_path();
  while (!parent.empty() && !fs::exists(parent, ec) && parent != parent.parent_path()) parent = parent.parent_path();
  if (!fs::is_directory(parent, ec)) node.fail("cannot create " + dir + ": " + parent.string() + " is not a directory");
  if (::access(parent.c_str(), W_OK | X_OK) != 0)
    node.fail("cannot create " + dir + ": " + parent.string() + " is not writable by this user");
}

void read_http(const YamlNode& node, http::ClientOptions& http) {
  node.expect_map().allow_only(
      {"timeout", "max_attempts", "ca_file", "max_in_flight_per_host", "max_retry_after", "max_body_mib"});
  if (auto v = node.find("timeout")) http.timeout = ms(v->as_seconds(seconds(1), kHour));
  if (auto v = node.find("max_attempts")) http.max_attempts = static_cast<int>(v->as_int(1, 20));
  if (auto v = node.find("ca_file")) http.ca_file = v->readable_file(FileAccess::plain);
  if (auto v = node.find("max_in_flight_per_host")) http.max_in_flight_per_host = static_cast<std::size_t>(v->as_int(1, 64));
  if (auto v = node.find("max_retry_after")) http.max_retry_after = ms(v->as_seconds(seconds(1), kDay));
  // Raise it only for an org whose legitimate pages are larger (wide memo columns); the unit's
  // MemoryMax= must grow with it (a page costs many times its size once parsed).
  if (auto v = node.find("max_body_mib")) http.max_body_bytes = static_cast<std::size_t>(v->as_int(1, 256)) << 20;
}

PartnerCenterConfig read_partner_center(const YamlNode& node, const std::string& file, const std::string& state_dir,
                                        std::vector<std::string>& warnings) {
  node.expect_map().allow_only({"base_url", "page_size", "overlap", "full_sweep", "auth"});
  PartnerCenterConfig pc;
  pc.api.base_url = url_or(node, "base_url", pc.api.base_url);
  // Accepted but ignored: $top is the total to retrieve, and Partner Center pages by itself.
  if (auto v = node.find("page_size"))
    warnings.push_back(ConfigError(v->file(), v->line(), v->key(),
                                   "deprecated and ignored (Partner Center pages by itself with @odata.nextLink); "
                                   "remove it").what());
  if (auto v = node.find("overlap")) pc.api.overlap = v->as_seconds(seconds(0), kOverlapMax);
  pc.api.full_sweep = std::chrono::hours(24);
  if (auto v = node.find("full_sweep")) pc.api.full_sweep = v->as_seconds(seconds(0), 365 * kDay);  // 0s: never
  auto a = node.get("auth");
  a.expect_map().allow_only({"tenant", "token_url", "device_code_url", "client_id", "client_secret",
                             "client_secret_file", "scope", "refresh_token_file"});
  // Entra ID endpoints of the partner's tenant, unless given explicitly (tests, sovereign clouds).
  std::string tenant = a.string_or("tenant", "");
  std::string authority = "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0";
  if (tenant.empty() && !a.find("token_url")) a.get("tenant");  // fails: one of the two is needed
  pc.auth.token_url = url_or(a, "token_url", authority + "/token");
  if (a.find("device_code_url")) pc.device_code_url = url_at(a.get("device_code_url"));
  else if (!tenant.empty()) pc.device_code_url = authority + "/devicecode";
  else if (pc.auth.token_url.ends_with("/token"))
    pc.device_code_url = pc.auth.token_url.substr(0, pc.auth.token_url.size() - 6) + "/devicecode";
  pc.auth.client_id = a.string("client_id");
  pc.auth.client_secret = a.secret("client_secret", false).value_or("");
  pc.auth.scope = a.string_or("scope", "https://api.partner.microsoft.com/.default offline_access");
  auto token_file = a.find("refresh_token_file");
  pc.auth.refresh_token_file = token_file ? resolve_path(file, token_file->as_string()) : state_dir + "/pc_refresh_token";
  return pc;
}

SalesforceConfig read_salesforce(const YamlNode& node) {
  node.allow_only({"type", "instance_url", "api_version", "overlap", "query_batch_size", "max_api_usage_percent",
                   "limit_pause", "auth"});
  SalesforceConfig sf;
  sf.api.instance_url = url_at(node.get("instance_url"));
  sf.api.api_version = node.string_or("api_version", sf.api.api_version);
  if (auto v = node.find("overlap")) sf.api.overlap = v->as_seconds(seconds(0), kOverlapMax);
  // Sforce-Query-Options batchSize: Salesforce accepts 200 to 2000.
  if (auto v = node.find("query_batch_size")) sf.api.query_batch_size = static_cast<int>(v->as_int(200, 2000));
  if (auto v = node.find("max_api_usage_percent")) sf.api.max_api_usage = static_cast<double>(v->as_int(1, 100)) / 100.0;
  if (auto v = node.find("limit_pause")) sf.api.limit_pause = v->as_seconds(seconds(1), kDay);
  auto a = node.get("auth");
  a.expect_map().allow_only({"flow", "token_url", "client_id", "client_secret", "client_secret_file", "username",
                             "private_key_file", "audience", "max_token_age"});
  if (auto flow = a.find("flow")) {
    std::string f = flow->as_string();
    if (f == "jwt_bearer") sf.jwt_bearer = true;
    else if (f != "client_credentials") flow->fail("expected client_credentials or jwt_bearer, got '" + f + "'");
  }
  sf.auth.token_url = url_at(a.get("token_url"));
  sf.auth.client_id = a.string("client_id");
  if (auto v = a.find("max_token_age")) sf.auth.max_token_age = v->as_seconds(kMinute, kDay);
  if (sf.jwt_bearer) {
    for (const char* key : {"client_secret", "client_secret_file"})
      if (auto v = a.find(key)) v->fail("not used by the jwt_bearer flow (it signs with private_key_file)");
    sf.jwt.token_url = sf.auth.token_url;
    sf.jwt.client_id = sf.auth.client_id;
    sf.jwt.max_token_age = sf.auth.max_token_age;
    sf.jwt.username = a.string("username");
    if (auto v = a.find("audience")) {
      sf.jwt.audience = v->as_string();
      if (sf.jwt.audience != "https://login.salesforce.com" && sf.jwt.audience != "https://test.salesforce.com")
        v->fail("expected https://login.salesforce.com or https://test.salesforce.com");
    }
    sf.jwt.private_key_file = a.get("private_key_file").readable_file(FileAccess::secret);
  } else {
    for (const char* key : {"username", "private_key_file", "audience"})
      if (auto v = a.find(key)) v->fail("only used by flow: jwt_bearer");
    sf.auth.client_secret = *a.secret("client_secret");
  }
  return sf;
}

DataverseConfig read_dataverse(const YamlNode& node) {
  node.allow_only({"type", "url", "api_version", "page_size", "batch_size", "max_concurrency", "overlap", "auth"});
  DataverseConfig dv;
  dv.api.url = url_at(node.get("url"));
  while (dv.api.url.ends_with("/")) dv.api.url.pop_back();
  dv.api.api_version = node.string_or("api_version", dv.api.api_version);
  if (dv.api.api_version.starts_with("v")) dv.api.api_version.erase(0, 1);
  if (auto v = node.find("page_size")) dv.api.page_size = static_cast<int>(v->as_int(1, 5000));
  if (auto v = node.find("batch_size")) dv.api.batch_size = static_cast<std::size_t>(v->as_int(1, 1000));
  if (auto v = node.find("max_concurrency")) dv.max_concurrency = static_cast<std::size_t>(v->as_int(1, 52));
  if (auto v = node.find("overlap")) dv.api.overlap = v->as_seconds(seconds(0), kOverlapMax);
  auto a = node.get("auth");
  a.expect_map().allow_only({"tenant", "token_url", "client_id", "client_secret", "client_secret_file",
                             "certificate_file", "private_key_file", "scope", "max_token_age"});
  // Entra ID of the org's tenant unless token_url is given (tests, sovereign clouds).
  std::string tenant = a.string_or("tenant", "");
  if (tenant.empty() && !a.find("token_url")) a.get("tenant");  // fails: one of the two is needed
  dv.auth.token_url = url_or(a, "token_url", "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/token");
  dv.auth.client_id = a.string("client_id");
  // A client secret, or a certificate (certificate_file + private_key_file): exactly one.
  if (auto cert = a.find("certificate_file")) {
    for (const char* key : {"client_secret", "client_secret_file"})
      if (auto v = a.find(key)) v->fail("give either client_secret[_file] or certificate_file + private_key_file, not both");
    auto key = a.get("private_key_file");
    dv.auth.certificate_file = cert->readable_file(FileAccess::plain);
    dv.auth.private_key_file = key.readable_file(FileAccess::secret);
  } else {
    if (auto v = a.find("private_key_file")) v->fail("needs certificate_file (the certificate registered on the app)");
    dv.auth.client_secret = *a.secret("client_secret");
  }
  dv.auth.scope = a.string_or("scope", dv.api.url + "/.default");
  if (auto v = a.find("max_token_age")) dv.auth.max_token_age = v->as_seconds(kMinute, kDay);
  return dv;
}

// What the connector a connection builds can do, known from its type before anything connects.
struct ConnectionKind {
  const char* type;
  connectors::Capabilities capabilities;
};
ConnectionKind kind_of(const Config& c, const std::string& connection) {
  if (c.dataverse.contains(connection)) return {"dataverse", connectors::DataverseConnector::supported()};
  return {"salesforce", connectors::SalesforceConnector::supported()};
}

// crm.account needs a connector that looks up parents; its defaults fill what the mapping leaves.
void use_parent_lookup(const Config& c, mapping::Mapping& m) {
  auto kind = kind_of(c, m.crm_connection);
  if (!kind.capabilities.parent_lookup)
    throw ConfigError(m.file, m.account->line, "crm.account",
                      "connection '" + m.crm_connection + "' is of type " + kind.type +
                          ", whose connector cannot look up or create a parent account; remove crm.account, or "
                          "use a connection whose connector can (salesforce)");
  mapping::apply_parent_defaults(m, *kind.capabilities.parent_lookup);
}

// `stale: {progress: activities}` needs a connector that counts a record's completed activities:
// only Salesforce's does (connectors/salesforce/salesforce_activities.hpp).
void check_activity_count(const Config& c, const mapping::Mapping& m) {
  if (!m.leads || !m.leads->stale || m.leads->stale->progress != mapping::StaleRules::Progress::activities) return;
  auto kind = kind_of(c, m.crm_connection);
  if (std::string_view(kind.type) != "salesforce")
    throw ConfigError(m.file, m.leads->stale->progress_line, "stale.progress",
                      "connection '" + m.crm_connection + "' is of type " + kind.type +
                          ", whose connector does not count activities yet; use field:<a touch counter column> "
                          "(e.g. a rollup of the completed activities) or status");
}

}  // namespace

Config load_config(const std::string& path) {
  auto root = YamlNode::load_file(path);
  root.expect_map().allow_only({"state_dir", "poll_interval", "audit_retention", "log", "http", "partner_center",
                                "connections", "mappings", "notifications", "metrics"});
  Config c;
  c.file = path;
  c.state_dir = resolve_path(path, root.string("state_dir"));
  check_state_dir(root.get("state_dir"), c.state_dir);
  if (auto v = root.find("poll_interval")) c.poll_interval = v->as_seconds(seconds(1), 7 * kDay);
  if (auto v = root.find("audit_retention")) c.audit_retention = v->as_seconds(kHour, 3650 * kDay);
  if (auto log = root.find("log")) {
    log->expect_map().allow_only({"level", "format"});
    if (auto level = log->find("level")) {
      c.log.level = level->as_string();
      if (!is_valid_log_level(c.log.level)) level->fail("expected trace, debug, info, warn, error, critical or off");
    }
    if (auto format = log->find("format")) {
      std::string f = format->as_string();
      if (f == "text") c.log.format = LogFormat::text;
      else if (f == "json") c.log.format = LogFormat::json;
      else format->fail("expected text or json, got '" + f + "'");
    }
  }
  if (auto http = root.find("http")) read_http(*http, c.http);
  c.partner_center = read_partner_center(root.get("partner_center"), path, c.state_dir, c.warnings);

  if (auto connections = root.find("connections")) {
    for (auto& [name, node] : connections->entries()) {
      node.expect_map();
      auto type = node.get("type");
      if (type.as_string() == "dataverse") {
        c.dataverse.emplace(name, read_dataverse(node));
        continue;
      }
      if (type.as_string() != "salesforce") type.fail("expected salesforce or dataverse");
      c.salesforce.emplace(name, read_salesforce(node));
    }
  }

  auto mappings = root.get("mappings");
  for (const auto& item : mappings.items()) {
    auto mapping = mapping::load_mapping(resolve_path(path, item.as_string()));
    if (!c.salesforce.contains(mapping.crm_connection) && !c.dataverse.contains(mapping.crm_connection))
      throw ConfigError(mapping.file, mapping.crm_connection_line, "crm.connection",
                        "no connection named '" + mapping.crm_connection + "' in " + path);
    if (mapping.account) use_parent_lookup(c, mapping);
    check_activity_count(c, mapping);
    for (const auto& other : c.mappings) {
      if (other.name == mapping.name) item.fail("two mappings are named '" + mapping.name + "'");
      // Both would create and claim the same records, each overwriting the other's link.
      if (other.crm_connection == mapping.crm_connection && same_crm_name(other.crm_object, mapping.crm_object) &&
          same_crm_name(other.crm_link_field, mapping.crm_link_field))
        throw ConfigError(mapping.file, mapping.crm_link_field_line, "crm.link_field",
                          "mapping '" + other.name + "' (" + other.file + ") already links " + mapping.crm_object +
                              " records through " + mapping.crm_link_field + " on connection '" +
                              mapping.crm_connection + "'; give each mapping its own link field");
    }
    c.mappings.push_back(std::move(mapping));
  }
  if (c.mappings.empty()) mappings.fail("must list at least one mapping file");
  if (auto n = root.find("notifications")) c.notifications = notify::read_notifications(*n);
  if (auto m = root.find("metrics")) c.metrics = read_metrics(*m);
  return c;
}

}  // namespace cosync::app
