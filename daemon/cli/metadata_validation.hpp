#pragma once
// The online half of validating a configuration: each mapping's CRM object is described (Salesforce
// describe, Dataverse EntityDefinitions) and the mapping checked against it. Run at start, on
// reload, by `cosyncd check`, and again each cycle for a mapping whose check could not run.
#include <boost/asio/awaitable.hpp>
#include <map>
#include <string>
#include <vector>

#include "connectors/connector.hpp"
#include "daemon/mapping/metadata_check.hpp"

namespace cosync::app {

enum class MetadataVerdict {
  valid,     // the org has what the mapping needs
  mismatch,  // it does not: a configuration error (`errors`)
  deferred,  // the check could not run (network, 5xx, 429, token): the mapping waits, retried each cycle
  skipped,   // the CRM connector has no metadata to describe: nothing to check
};
const char* to_string(MetadataVerdict v);

struct MetadataResult {
  MetadataVerdict verdict = MetadataVerdict::valid;
  std::vector<ConfigError> errors;    // mismatch: every one, each naming mapping file, line and key
  std::vector<std::string> warnings;  // valid, but worth knowing (e.g. change tracking off)
  std::string reason;                 // deferred or skipped: why
};

// Describes each object once per pass, whichever mappings share it.
class MetadataValidator {
 public:
  boost::asio::awaitable<MetadataResult> validate(const mapping::Mapping& m, connectors::Connector& crm);

 private:
  boost::asio::awaitable<Expected<connectors::ObjectMetadata>> describe(connectors::Connector& crm,
                                                                        const std::string& object);
  std::map<std::pair<connectors::Connector*, std::string>, Expected<connectors::ObjectMetadata>> cache_;
};

}  // namespace cosync::app
