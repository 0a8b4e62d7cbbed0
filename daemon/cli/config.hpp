#pragma once
// The daemon's configuration file (see config/examples/sandbox.yaml): connections, HTTP and
// logging settings, state directory and the list of mapping files.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "connectors/dataverse/dataverse_connector.hpp"
#include "connectors/partner_center/partner_center_connector.hpp"
#include "connectors/salesforce/salesforce_connector.hpp"
#include "daemon/auth/client_credentials.hpp"
#include "daemon/auth/jwt_bearer.hpp"
#include "daemon/auth/refresh_token.hpp"
#include "daemon/cli/metrics_config.hpp"
#include "daemon/cli/notify/notify_config.hpp"
#include "daemon/mapping/mapping.hpp"

namespace cosync::app {

struct PartnerCenterConfig {
  connectors::PartnerCenterOptions api;
  auth::RefreshTokenOptions auth;
  std::string device_code_url;  // for `cosyncd login partner-center`
};

struct SalesforceConfig {
  connectors::SalesforceOptions api;
  auth::ClientCredentialsOptions auth;  // flow: client_credentials (the default)
  bool jwt_bearer = false;              // flow: jwt_bearer
  auth::JwtBearerOptions jwt;
};

struct DataverseConfig {
  connectors::DataverseOptions api;
  auth::ClientCredentialsOptions auth;  // Entra ID client credentials, scope <url>/.default
  std::size_t max_concurrency = 4;      // requests in flight (the service allows 52 per user)
};

struct Config {
  std::string file;
  std::string state_dir;
  LogOptions log;
  std::chrono::seconds poll_interval{60};
  std::chrono::seconds audit_retention{90 * 86400};
  http::ClientOptions http;
  PartnerCenterConfig partner_center;
  std::map<std::string, SalesforceConfig> salesforce;  // by connection name
  std::map<std::string, DataverseConfig> dataverse;    // by connection name
  std::vector<mapping::Mapping> mappings;
  MetricsOptions metrics;  // `metrics.listen` (off when absent)
  notify::NotificationConfig notifications;  // `notifications:` (README "Notifications")
  // Valid but worth fixing ("file:line: key: message", e.g. a deprecated key); logged at start.
  std::vector<std::string> warnings;

  std::string state_db_path() const { return state_dir + "/state.db"; }
};

// Reads and validates the configuration and every mapping file it names, completely, before
// anything runs. Throws ConfigError ("file:line: key: message").
Config load_config(const std::string& path);

}  // namespace cosync::app
