#pragma once
// Checks a mapping against the CRM object's metadata (Salesforce describe): every mapped field
// exists, is updateable where the mapping writes it, and every CRM value of a value map is in
// the field's picklist. A mismatch would otherwise show up as a quarantined record per write.
#include <nlohmann/json.hpp>

#include "daemon/mapping/mapping.hpp"

namespace cosync::mapping {

// `describe` is the object's DescribeSObjectResult ({"fields":[{"name","updateable",
// "picklistValues":[{"value","active"}]}]}). Throws ConfigError naming the mapping file and the
// line of the offending field rule.
void check_against_describe(const Mapping& m, const nlohmann::json& describe);

}  // namespace cosync::mapping
