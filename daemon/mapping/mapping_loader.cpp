// Reads a mapping file into a Mapping, validating everything before anything runs.
#include <set>

#include "connectors/partner_center/referral_contract.hpp"
#include "daemon/mapping/lead_rules.hpp"
#include "daemon/mapping/mapping.hpp"
#include "daemon/mapping/referral_paths.hpp"
#include "daemon/mapping/registration_rule.hpp"
#include "daemon/util/yaml_reader.hpp"

namespace cosync::mapping {
namespace {

std::vector<std::string> string_or_list(const YamlNode& node) {
  std::vector<std::string> out;
  if (node.is_sequence()) {
    for (const auto& item : node.items()) out.push_back(item.as_string());
  } else {
    out.push_back(node.as_string());
  }
  if (out.empty()) node.fail("must not be empty");
  for (const auto& s : out)
    if (s.empty()) node.fail("must not be empty");
  return out;
}

// A CRM object or field name: it is put into SOQL queries and OData URLs as it is.
std::string crm_name(const YamlNode& node) {
  std::string name = node.as_string();
  if (!is_crm_identifier(name))
    node.fail("'" + name + "' is not a CRM object or field name (letters, digits and _, starting with a letter)");
  return name;
}

std::string referral_path(const YamlNode& node, const std::string& path) {
  if (!is_known_referral_path(path)) node.fail("'" + path + "' is not a field of a Partner Center referral");
  return path;
}

std::string template_text(const YamlNode& node) {
  std::string text = node.as_string();
  if (auto problem = template_problem(text); !problem.empty()) node.fail(problem);
  return text;
}

nlohmann::json value_of(const YamlNode& node, size_t expected_count) {
  auto values = string_or_list(node);
  if (values.size() != expected_count)
    node.fail("expected " + std::to_string(expected_count) + " value(s), one per pc path, got " + std::to_string(values.size()));
  if (expected_count == 1) return values[0];
  return nlohmann::json(values);
}

Direction direction_of(const YamlNode& node) {
  std::string v = node.as_string();
  if (v == "both") return Direction::both;
  if (v == "to_crm") return Direction::to_crm;
  if (v == "to_pc") return Direction::to_pc;
  node.fail("expected both, to_crm or to_pc, got '" + v + "'");
}

void read_transform(const YamlNode& node, FieldRule& f) {
  if (auto t = node.find("transform")) {
    std::string v = t->as_string();
    if (v == "date") f.transform = Transform::date;
    else if (v == "number") f.transform = Transform::number;
    else if (v == "truncate") f.transform = Transform::truncate;
    else t->fail("expected date, number or truncate, got '" + v + "'");
    if (node.has("values")) t->fail("a field with a values map takes its values from the map, not a transform");
  }
  if (auto length = node.find("length")) {
    if (f.transform != Transform::truncate) length->fail("is only used with transform: truncate");
    // Salesforce long text areas hold up to 131,072 characters; Dataverse multiline text 1,048,576.
    f.length = static_cast<std::size_t>(length->as_int(1, 1048576));
  }
}

// Each direction the field flows in must find exactly one entry for every value its source side
// may hold: the same Partner Center value twice could become either CRM value, the same CRM value
// twice could be read back as either Partner Center value (and then written over the referral's
// real one), and a value with no entry in a direction would be read but never written.
void check_value_map(const FieldRule& f, const std::vector<YamlNode>& entries) {
  for (std::size_t j = 0; j < f.values.size(); ++j) {
    const auto& e = f.values[j];
    const auto& node = entries[j];
    if ((e.direction == Direction::to_crm && !f.flows_to_crm()) || (e.direction == Direction::to_pc && !f.flows_to_pc()))
      node.get("direction").fail(std::string("the field is direction: ") + to_string(f.direction) + ", so an entry " +
                                 to_string(e.direction) + " is never used");
    bool crm_found = false, pc_found = false;
    for (std::size_t k = 0; k < f.values.size(); ++k) {
      const auto& other = f.values[k];
      crm_found = crm_found || (other.pc == e.pc && other.flows_to_crm());
      pc_found = pc_found || (other.crm == e.crm && other.flows_to_pc());
      if (k >= j) continue;
      if (f.flows_to_crm() && e.flows_to_crm() && other.flows_to_crm() && other.pc == e.pc)
        node.get("pc").fail(e.pc.dump() + " is mapped twice (also in values[" + std::to_string(k) +
                            "]): which CRM value it means is ambiguous; keep one entry, or make one direction: to_pc");
      if (f.flows_to_pc() && e.flows_to_pc() && other.flows_to_pc() && other.crm == e.crm)
        node.get("crm").fail(e.crm.dump() + " is mapped twice (also in values[" + std::to_string(k) +
                             "]): which Partner Center value it means is ambiguous; keep one entry, or make one "
                             "direction: to_crm (or the field direction: to_crm)");
    }
    if (f.flows_to_crm() && !crm_found)
      node.get("pc").fail(e.pc.dump() + " has no entry that writes it to the CRM; add one, or make the field "
                          "direction: to_pc");
    if (f.flows_to_pc() && !pc_found)
      node.get("crm").fail(e.crm.dump() + " has no entry that writes it to Partner Center; add one, or make the "
                           "field direction: to_crm");
  }
}

void read_value_map(const YamlNode& values, FieldRule& f) {
  auto entries = values.items();
  for (const auto& entry : entries) {
    entry.expect_map().allow_only({"pc", "crm", "direction"});
    auto crm = entry.get("crm");
    ValueMapEntry e{value_of(entry.get("pc"), f.pc_paths.size()), crm.as_string(), crm.line()};
    if (auto d = entry.find("direction")) e.direction = direction_of(*d);
    f.values.push_back(std::move(e));
  }
  if (f.values.empty()) values.fail("must list at least one pc/crm pair");
  check_value_map(f, entries);
}

FieldRule read_field(const YamlNode& node) {
  node.expect_map().allow_only({"name", "pc", "crm", "direction", "owner", "values", "transform", "length"});
  FieldRule f;
  f.line = node.line();
  f.name = node.string("name");
  f.pc_paths = string_or_list(node.get("pc"));
  for (const auto& p : f.pc_paths) referral_path(node.get("pc"), p);
  f.crm_field = crm_name(node.get("crm"));
  if (auto d = node.find("direction")) f.direction = direction_of(*d);
  if (auto o = node.find("owner")) {
    std::string v = o->as_string();
    if (v == "pc") f.owner = Owner::pc;
    else if (v == "crm") f.owner = Owner::crm;
    else if (v == "newest") f.owner = Owner::newest;
    else o->fail("expected pc, crm or newest, got '" + v + "'");
  }
  if (f.pc_paths.size() > 1 && !node.has("values"))
    node.get("pc").fail("several pc paths need a values map to combine them");
  read_transform(node, f);
  if (auto values = node.find("values")) read_value_map(*values, f);
  if (f.flows_to_pc()) {
    for (const auto& p : f.pc_paths)
      if (!connectors::is_patchable_referral_path(p))
        node.get("pc").fail("Partner Center does not accept writes to " + p + "; use direction: to_crm");
  }
  return f;
}

AccountRule read_account(const YamlNode& node) {
  node.expect_map().allow_only({"match", "from", "create", "lookup_field", "object", "fields"});
  AccountRule a;
  a.line = node.line();
  std::string match = node.string("match");
  if (match == "name") a.match_by = AccountRule::MatchBy::name;
  else if (match == "website") a.match_by = AccountRule::MatchBy::website;
  else node.get("match").fail("expected name or website (its domain), got '" + match + "'");
  a.from = referral_path(node.get("from"), node.string("from"));
  if (auto v = node.find("create")) a.create = v->as_bool();
  // lookup_field and object are overrides: without them the connector's defaults apply
  // (load_config, apply_parent_defaults).
  if (auto v = node.find("lookup_field")) a.lookup_field = crm_name(*v);
  a.lookup_line = node.find("lookup_field") ? node.get("lookup_field").line() : a.line;
  if (auto v = node.find("object")) a.object = crm_name(*v);
  if (auto fields = node.find("fields")) {
    if (!a.create) fields->fail("fields of a created account need create: true");
    for (auto& [field, text] : fields->entries()) {
      if (!is_crm_identifier(field)) text.fail("'" + field + "' is not a CRM field name");
      a.fields[field] = template_text(text);
      a.field_lines[field] = text.line();
    }
  }
  return a;
}

// The registration's `status:` fields are mapped fields like any other (to_crm): the merge
// mirrors them, so a quiet cycle writes nothing.
void add_registration(const YamlNode& node, Mapping& m, std::set<std::string>& names, std::set<std::string>& crm_fields) {
  auto rule = std::make_shared<RegistrationRule>(load_registration(node));
  for (const auto& f : rule->status_fields) {
    if (!crm_fields.insert(f.crm_field).second || f.crm_field == m.crm_link_field)
      node.get("status").fail("CRM field '" + f.crm_field + "' is already mapped");
    names.insert(f.name);
    m.fields.push_back(f);
  }
  m.registration = std::move(rule);
}

}  // namespace

Mapping load_mapping(const std::string& path) {
  auto root = YamlNode::load_file(path);
  root.expect_map().allow_only({"name", "crm", "pc", "select", "create", "fields", "on_crm_delete",
                                "close_reason", "share", "won_hold", "accept", "decline", "expiry", "stale", "assign", "campaign",
                                "registration"});
  Mapping m;
  m.file = path;
  m.name = root.string("name");

  auto crm = root.get("crm");
  crm.expect_map().allow_only({"connection", "object", "link_field", "account"});
  m.crm_connection = crm.string("connection");
  m.crm_connection_line = crm.get("connection").line();
  m.crm_object = crm_name(crm.get("object"));
  m.crm_object_line = crm.get("object").line();
  m.crm_link_field = crm_name(crm.get("link_field"));
  m.crm_link_field_line = crm.get("link_field").line();
  if (auto account = crm.find("account")) m.account = read_account(*account);

  if (auto pc = root.find("pc")) {
    pc->expect_map().allow_only({"link_field"});
    m.pc_link_field = pc->string_or("link_field", m.pc_link_field);
    if (!connectors::is_patchable_referral_path(m.pc_link_field))
      pc->get("link_field").fail("Partner Center does not accept writes to " + m.pc_link_field);
  }

  if (auto policy = root.find("on_crm_delete")) {
    std::string v = policy->as_string();
    if (v == "ignore") m.on_crm_delete = DeletePolicy::ignore;
    else if (v == "unlink") m.on_crm_delete = DeletePolicy::unlink;
    else if (v == "close") m.on_crm_delete = DeletePolicy::close;
    else policy->fail("expected ignore, unlink or close, got '" + v + "'");
  }
  if (auto reason = root.find("close_reason")) {
    // Sent as the referral's statusReason, which the contract types as a string with no documented
    // limit: one short line keeps it readable in Partner Center and catches a pasted paragraph early.
    constexpr std::size_t kMaxCloseReason = 250;
    m.close_reason = reason->as_string();
    if (m.on_crm_delete != DeletePolicy::close) reason->fail("is only used with on_crm_delete: close");
    if (m.close_reason.empty()) reason->fail("must not be empty");
    if (m.close_reason.size() > kMaxCloseReason)
      reason->fail("must be at most " + std::to_string(kMaxCloseReason) + " bytes, got " +
                   std::to_string(m.close_reason.size()));
    for (unsigned char c : m.close_reason)
      if (c < 0x20 || c == 0x7f) reason->fail("must be one line of text without control characters");
  }
  if (auto select = root.find("select")) {
    // A referral is selected before any CRM record exists, so select reads the referral only; a
    // key without pc. is a referral path, the syntax from before conditions (`status: [New]`).
    const ConditionScope scope{true, false, true, "a referral is selected before any CRM record exists"};
    m.select = load_condition(*select, scope);
  }
  if (auto create = root.find("create")) {
    for (auto& [field, text] : create->entries()) {
      // A Dataverse lookup is set on create through its navigation property: campaignid@odata.bind.
      std::string_view column = field;
      if (column.ends_with("@odata.bind")) column.remove_suffix(std::string_view("@odata.bind").size());
      if (!is_crm_identifier(column)) text.fail("'" + field + "' is not a CRM field name");
      m.create_templates[field] = template_text(text);
      m.create_lines[field] = text.line();
    }
  }

  if (auto share = root.find("share")) m.share = load_share(*share);
  // Partner Center may reject the registration of a deal won earlier than 72 hours after the
  // referral was created: a longer wait may be configured, never a shorter one.
  if (auto hold = root.find("won_hold")) m.won_hold = hold->as_seconds(std::chrono::hours(72), std::chrono::hours(24 * 365));

  std::set<std::string> names, crm_fields;
  for (const auto& node : root.get("fields").items()) {
    auto f = read_field(node);
    if (!names.insert(f.name).second) node.get("name").fail("field name '" + f.name + "' is used twice");
    if (!crm_fields.insert(f.crm_field).second) node.get("crm").fail("CRM field '" + f.crm_field + "' is mapped twice");
    if (f.crm_field == m.crm_link_field) node.get("crm").fail("the link field cannot also be a mapped field");
    m.fields.push_back(std::move(f));
  }
  if (m.fields.empty()) root.get("fields").fail("must list at least one field");
  if (auto registration = root.find("registration")) add_registration(*registration, m, names, crm_fields);
  load_lead_rules(root, m);
  return m;
}

}  // namespace cosync::mapping
