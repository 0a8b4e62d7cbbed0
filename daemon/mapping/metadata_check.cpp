#include "daemon/mapping/metadata_check.hpp"

#include <cctype>

#include "daemon/util/yaml_reader.hpp"

namespace cosync::mapping {

namespace {

bool iequals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

const nlohmann::json* find_field(const nlohmann::json& describe, const std::string& name) {
  for (const auto& f : describe["fields"])
    if (f.is_object() && f.contains("name") && f["name"].is_string() && iequals(f["name"].get<std::string>(), name))
      return &f;
  return nullptr;
}

}  // namespace

void check_against_describe(const Mapping& m, const nlohmann::json& describe) {
  if (!describe.is_object() || !describe.contains("fields") || !describe["fields"].is_array())
    throw ConfigError(m.file, m.crm_connection_line, "crm.object", "no field list in the describe of " + m.crm_object);
  if (!m.crm_link_field.empty()) {
    const auto* link = find_field(describe, m.crm_link_field);
    if (!link)
      throw ConfigError(m.file, m.crm_connection_line, "crm.link_field",
                        m.crm_object + " has no field '" + m.crm_link_field + "' in this org");
  }
  for (const auto& rule : m.fields) {
    if (rule.crm_field.empty()) continue;
    const auto* field = find_field(describe, rule.crm_field);
    if (!field)
      throw ConfigError(m.file, rule.line, "crm", m.crm_object + " has no field '" + rule.crm_field + "' in this org");
    if (rule.flows_to_crm() && !field->value("updateable", false))
      throw ConfigError(m.file, rule.line, "crm",
                        m.crm_object + "." + rule.crm_field + " is not updateable, but field '" + rule.name +
                            "' writes it (direction " + to_string(rule.direction) + ")");
    if (rule.values.empty()) continue;
    const auto& picklist = field->contains("picklistValues") && (*field)["picklistValues"].is_array()
                               ? (*field)["picklistValues"]
                               : nlohmann::json::array();
    if (picklist.empty()) continue;  // not a picklist: any value goes
    for (const auto& entry : rule.values) {
      if (!entry.crm.is_string()) continue;
      bool found = false;
      for (const auto& v : picklist)
        if (v.is_object() && v.value("active", true) && v.value("value", "") == entry.crm.get<std::string>()) found = true;
      if (!found)
        throw ConfigError(m.file, rule.line, "values",
                          "'" + entry.crm.get<std::string>() + "' is not an active value of the picklist " +
                              m.crm_object + "." + rule.crm_field + " in this org");
    }
  }
}

}  // namespace cosync::mapping
