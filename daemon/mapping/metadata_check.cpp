#include "daemon/mapping/metadata_check.hpp"

#include <algorithm>
#include <cctype>

namespace cosync::mapping {

namespace {

bool iequals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

const connectors::FieldMetadata* find_field(const connectors::ObjectMetadata& meta, const std::string& name) {
  for (const auto& f : meta.fields)
    if (iequals(f.name, name)) return &f;
  return nullptr;
}

// Collects every mismatch of one mapping file, so that `cosyncd check` can list them all.
class Checker {
 public:
  Checker(const Mapping& m, MetadataCheck& out) : m_(m), out_(out) {}

  // The field, or nullptr after recording that the object lacks it.
  const connectors::FieldMetadata* field(const connectors::ObjectMetadata& meta, const std::string& name, int line,
                                         const std::string& key) {
    const auto* f = find_field(meta, name);
    if (!f) error(line, key, meta.object + " has no field '" + name + "' in this org");
    return f;
  }
  void must_create(const connectors::ObjectMetadata& meta, const connectors::FieldMetadata& f, int line,
                   const std::string& key, const std::string& why) {
    if (!f.createable) error(line, key, meta.object + "." + f.name + " is not createable, but " + why);
  }
  void must_update(const connectors::ObjectMetadata& meta, const connectors::FieldMetadata& f, int line,
                   const std::string& key, const std::string& why) {
    if (!f.updateable) error(line, key, meta.object + "." + f.name + " is not updateable, but " + why);
  }
  void error(int line, const std::string& key, const std::string& message) {
    out_.errors.emplace_back(m_.file, line, key, message);
  }

 private:
  const Mapping& m_;
  MetadataCheck& out_;
};

bool allowed(const connectors::FieldMetadata& f, const std::string& value) {
  if (f.allowed_values.empty()) return true;  // not a picklist / option set: any value goes
  return std::find(f.allowed_values.begin(), f.allowed_values.end(), value) != f.allowed_values.end();
}

void check_account(const Mapping& m, const AccountRule& a, const connectors::ObjectMetadata& meta,
                   const connectors::ObjectMetadata* parent, Checker& check) {
  if (const auto* lookup = check.field(meta, a.lookup_field, a.lookup_line, "crm.account.lookup_field"))
    check.must_create(meta, *lookup, a.lookup_line, "crm.account.lookup_field",
                      "crm.account sets it on every " + m.crm_object + " created from a referral");
  if (!parent) return;
  const int match_line = a.line;
  if (const auto* match = check.field(*parent, a.match_field(), match_line, "crm.account.match"); match && a.create)
    check.must_create(*parent, *match, match_line, "crm.account.match", "a created account gets the match value");
  for (const auto& [name, text] : a.fields) {
    int line = a.field_lines.count(name) ? a.field_lines.at(name) : a.line;
    if (const auto* f = check.field(*parent, name, line, "crm.account.fields." + name))
      check.must_create(*parent, *f, line, "crm.account.fields." + name, "crm.account.fields sets it");
  }
}

}  // namespace

MetadataCheck check_against_metadata(const Mapping& m, const connectors::ObjectMetadata& meta,
                                     const connectors::ObjectMetadata* parent) {
  MetadataCheck out;
  Checker check(m, out);
  if (!meta.change_tracking)
    out.warnings.push_back(m.file + ": " + m.crm_object +
                           " has change tracking off: changes are found by a modified-on query instead "
                           "(slower, and deletions are not seen); turn change tracking on for the table");
  if (!m.crm_link_field.empty())
    if (const auto* link = check.field(meta, m.crm_link_field, m.crm_link_field_line, "crm.link_field"))
      check.must_create(meta, *link, m.crm_link_field_line, "crm.link_field",
                        "every record created from a referral carries the referral id in it");
  for (std::size_t i = 0; i < m.fields.size(); ++i) {
    const auto& rule = m.fields[i];
    const std::string key = "fields[" + std::to_string(i) + "]";
    const auto* field = check.field(meta, rule.crm_field, rule.line, key + ".crm");
    if (!field) continue;
    // Text longer than the field holds is cut on its way there rather than rejected (see merge).
    rule.crm_max_length = field->max_length;
    if (rule.flows_to_crm()) {
      std::string why = "field '" + rule.name + "' writes it (direction " + to_string(rule.direction) + ")";
      check.must_update(meta, *field, rule.line, key + ".crm", why);
      if (!m.create_templates.count(rule.crm_field))
        check.must_create(meta, *field, rule.line, key + ".crm", why + ", also on create");
    }
    for (std::size_t j = 0; j < rule.values.size(); ++j) {
      const auto& entry = rule.values[j];
      if (entry.crm.is_string() && !allowed(*field, entry.crm.get<std::string>()))
        check.error(entry.line ? entry.line : rule.line, key + ".values[" + std::to_string(j) + "].crm",
                    "'" + entry.crm.get<std::string>() + "' is not an active value of the picklist " + m.crm_object +
                        "." + rule.crm_field + " in this org");
    }
  }
  for (const auto& [name, text] : m.create_templates) {
    int line = m.create_lines.count(name) ? m.create_lines.at(name) : m.crm_object_line;
    // A Dataverse lookup is set through its navigation property ("campaignid@odata.bind").
    constexpr std::string_view kBind = "@odata.bind";
    const std::string column = name.ends_with(kBind) ? name.substr(0, name.size() - kBind.size()) : name;
    const auto* f = check.field(meta, column, line, "create." + name);
    if (!f) continue;
    check.must_create(meta, *f, line, "create." + name, "the create template sets it");
    // A constant (no {placeholder}) written to a picklist must be one of its values.
    if (text.find('{') == std::string::npos && !allowed(*f, text))
      check.error(line, "create." + name,
                  "'" + text + "' is not an active value of the picklist " + m.crm_object + "." + name + " in this org");
  }
  if (m.account) check_account(m, *m.account, meta, parent, check);
  if (m.share) {
    // What the share reads of the record itself (fields of related records are the org's
    // relationships: a wrong one fails the share's read, quarantining the record with the reason).
    for (const auto& name : m.share->own_fields()) check.field(meta, name, m.share->line, "share");
    if (const auto* link = find_field(meta, m.crm_link_field))
      check.must_update(meta, *link, m.crm_link_field_line, "crm.link_field",
                        "a shared record gets the new referral's id in it");
  }
  return out;
}

}  // namespace cosync::mapping
