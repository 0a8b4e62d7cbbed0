// Reads a mapping file into a Mapping, validating everything before anything runs.
#include <set>

#include "connectors/partner_center/partner_center_connector.hpp"
#include "daemon/mapping/mapping.hpp"
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

nlohmann::json value_of(const YamlNode& node, size_t expected_count) {
  auto values = string_or_list(node);
  if (values.size() != expected_count)
    node.fail("expected " + std::to_string(expected_count) + " value(s), one per pc path, got " + std::to_string(values.size()));
  if (expected_count == 1) return values[0];
  return nlohmann::json(values);
}

FieldRule read_field(const YamlNode& node) {
  node.expect_map().allow_only({"name", "pc", "crm", "direction", "owner", "values"});
  FieldRule f;
  f.line = node.line();
  f.name = node.string("name");
  f.pc_paths = string_or_list(node.get("pc"));
  f.crm_field = node.string("crm");
  if (auto d = node.find("direction")) {
    std::string v = d->as_string();
    if (v == "both") f.direction = Direction::both;
    else if (v == "to_crm") f.direction = Direction::to_crm;
    else if (v == "to_pc") f.direction = Direction::to_pc;
    else d->fail("expected both, to_crm or to_pc, got '" + v + "'");
  }
  if (auto o = node.find("owner")) {
    std::string v = o->as_string();
    if (v == "pc") f.owner = Owner::pc;
    else if (v == "crm") f.owner = Owner::crm;
    else if (v == "newest") f.owner = Owner::newest;
    else o->fail("expected pc, crm or newest, got '" + v + "'");
  }
  if (f.pc_paths.size() > 1 && !node.has("values"))
    node.get("pc").fail("several pc paths need a values map to combine them");
  if (auto values = node.find("values")) {
    for (const auto& entry : values->items()) {
      entry.expect_map().allow_only({"pc", "crm"});
      f.values.push_back({value_of(entry.get("pc"), f.pc_paths.size()), entry.string("crm")});
    }
    if (f.values.empty()) values->fail("must list at least one pc/crm pair");
  }
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
  a.from = node.string("from");
  if (auto v = node.find("create")) a.create = v->as_bool();
  a.lookup_field = node.string_or("lookup_field", a.lookup_field);
  a.lookup_line = node.find("lookup_field") ? node.get("lookup_field").line() : a.line;
  a.object = node.string_or("object", a.object);
  if (auto fields = node.find("fields")) {
    if (!a.create) fields->fail("fields of a created account need create: true");
    for (auto& [field, text] : fields->entries()) {
      a.fields[field] = text.as_string();
      a.field_lines[field] = text.line();
    }
  }
  return a;
}

}  // namespace

Mapping load_mapping(const std::string& path) {
  auto root = YamlNode::load_file(path);
  root.expect_map().allow_only({"name", "crm", "pc", "select", "create", "fields", "on_crm_delete",
                                "close_reason"});
  Mapping m;
  m.file = path;
  m.name = root.string("name");

  auto crm = root.get("crm");
  crm.expect_map().allow_only({"connection", "object", "link_field", "account"});
  m.crm_connection = crm.string("connection");
  m.crm_connection_line = crm.get("connection").line();
  m.crm_object = crm.string("object");
  m.crm_object_line = crm.get("object").line();
  m.crm_link_field = crm.string("link_field");
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
    for (auto& [key, value] : select->entries()) {
      Selector s{key, {}};
      for (auto& v : string_or_list(value)) s.any_of.emplace_back(v);
      m.select.push_back(std::move(s));
    }
  }
  if (auto create = root.find("create")) {
    for (auto& [field, text] : create->entries()) {
      m.create_templates[field] = text.as_string();
      m.create_lines[field] = text.line();
      if (m.account && field == m.account->lookup_field)
        text.fail("crm.account sets " + field + " on a create: it cannot also have a template");
    }
  }

  std::set<std::string> names, crm_fields;
  for (const auto& node : root.get("fields").items()) {
    auto f = read_field(node);
    if (!names.insert(f.name).second) node.get("name").fail("field name '" + f.name + "' is used twice");
    if (!crm_fields.insert(f.crm_field).second) node.get("crm").fail("CRM field '" + f.crm_field + "' is mapped twice");
    if (f.crm_field == m.crm_link_field) node.get("crm").fail("the link field cannot also be a mapped field");
    if (m.account && f.crm_field == m.account->lookup_field)
      node.get("crm").fail("the account lookup field cannot also be a mapped field");
    m.fields.push_back(std::move(f));
  }
  if (m.fields.empty()) root.get("fields").fail("must list at least one field");
  return m;
}

}  // namespace cosync::mapping
