// crm.account: the parent account of a CRM record created from a referral, as a typed part of
// the create request (connectors::ParentMatch) that a connector with a parent lookup resolves.
#include "daemon/mapping/mapping.hpp"
#include "daemon/util/yaml_reader.hpp"

namespace cosync::mapping {

connectors::ParentLookup AccountRule::lookup() const {
  return connectors::ParentLookup{lookup_field, object, match_field(), match_by == MatchBy::website};
}

connectors::ParentMatch AccountRule::match(const nlohmann::json& referral) const {
  connectors::ParentMatch p;
  auto value = first_value_at(referral, from);
  if (value.is_string()) p.value = value.get<std::string>();  // anything else: nothing to look for
  if (create) {
    p.create.emplace();
    for (const auto& [field, text] : fields) p.create->push_back({field, render_template(text, referral)});
  }
  return p;
}

std::string AccountRule::describe(const connectors::ParentMatch& p) const {
  std::string by = match_field().empty() ? (match_by == MatchBy::name ? "name" : "website") : match_field();
  std::string text = "match " + by + (match_by == MatchBy::website ? " domain of '" : " = '") + p.value + "'";
  return text + (p.create ? " (create if none)" : " (must exist)");
}

connectors::UpsertRequest Mapping::crm_create_request(const nlohmann::json& referral) const {
  connectors::UpsertRequest request;
  auto id = first_value_at(referral, "id");
  if (id.is_string()) request.external_id = id.get<std::string>();
  request.fields = crm_fields_for_create(referral);
  if (account) request.parent = account->match(referral);
  return request;
}

std::vector<connectors::FieldChange> Mapping::crm_create_preview(const connectors::UpsertRequest& request) const {
  auto lines = request.fields;
  if (request.parent && account) {
    std::string field = account->lookup_field.empty() ? "(parent account)" : account->lookup_field;
    lines.push_back({field, account->describe(*request.parent)});
  }
  return lines;
}

void apply_parent_defaults(Mapping& m, const connectors::ParentDefaults& defaults) {
  if (!m.account) return;
  AccountRule& a = *m.account;
  if (a.lookup_field.empty()) a.lookup_field = defaults.field;
  if (a.object.empty()) a.object = defaults.object;
  if (a.name_field.empty()) a.name_field = defaults.name_field;
  if (a.website_field.empty()) a.website_field = defaults.website_field;
  // The lookup writes the field on every create: nothing else may write it too.
  std::string key = a.lookup_line == a.line ? "crm.account" : "crm.account.lookup_field";
  if (m.create_templates.contains(a.lookup_field))
    throw ConfigError(m.file, m.create_lines.at(a.lookup_field), "create." + a.lookup_field,
                      "crm.account sets " + a.lookup_field + " on a create: it cannot also have a template");
  for (std::size_t i = 0; i < m.fields.size(); ++i)
    if (m.fields[i].crm_field == a.lookup_field)
      throw ConfigError(m.file, m.fields[i].line, "fields[" + std::to_string(i) + "].crm",
                        "the account lookup field " + a.lookup_field + " (" + key + ") cannot also be a mapped field");
}

}  // namespace cosync::mapping
