#pragma once
// Checks a mapping against the CRM object's metadata (Salesforce describe, Dataverse
// EntityDefinitions, both as connectors::ObjectMetadata): every mapped field exists, is
// updateable where the mapping writes it and createable where a create sets it, and every CRM
// value of a value map is one the field allows. A mismatch would otherwise show up as a
// quarantined record per write, long after start.
#include <string>
#include <vector>

#include "connectors/records.hpp"
#include "daemon/mapping/mapping.hpp"
#include "daemon/util/yaml_reader.hpp"

namespace cosync::mapping {

struct MetadataCheck {
  std::vector<ConfigError> errors;    // every mismatch, each naming the mapping file, line and key
  std::vector<std::string> warnings;  // works, but worse than it could (e.g. change tracking off)
  bool ok() const { return errors.empty(); }
};

// Also records each mapped field's length in the org on its FieldRule (crm_max_length).
// `parent` is the metadata of the object an account lookup resolves (Salesforce Account), when
// the mapping has one; nullptr skips the checks of that object's fields.
MetadataCheck check_against_metadata(const Mapping& m, const connectors::ObjectMetadata& meta,
                                     const connectors::ObjectMetadata* parent = nullptr);

}  // namespace cosync::mapping
