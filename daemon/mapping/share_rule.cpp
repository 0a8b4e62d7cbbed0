#include "daemon/mapping/share_rule.hpp"

#include <set>

#include "daemon/mapping/field_transform.hpp"
#include "daemon/mapping/mapping.hpp"
#include "daemon/mapping/referral_paths.hpp"
#include "daemon/mapping/template_text.hpp"
#include "daemon/util/json_path.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/yaml_reader.hpp"

namespace cosync::mapping {

const char* to_string(DealType type) {
  switch (type) {
    case DealType::private_deal: return "private";
    case DealType::partner_led: return "partner-led";
    case DealType::co_sell: return "co-sell";
  }
  return "?";
}

namespace {

// Values Microsoft's contract enumerates for inviteContext.assistanceRequestCode.
const std::set<std::string> kHelpCodes = {"GeneralOrOther",   "CustomerTechnicalArchitecture",
                                          "ProofOfConceptOrDemo", "QuotesOrLicensing",
                                          "PostSalesCustomerSuccess", "WorkloadSpecificValueProposition"};
const std::set<std::string> kContactKeys = {"firstName", "lastName", "email", "phoneNumber"};

// A CRM path: a field of the record, or one reached through relationships ("Account.Name",
// Dataverse "parentaccountid.name"): names joined by dots, at most 5 deep as SOQL allows.
bool is_crm_path(std::string_view path) {
  int depth = 0;
  while (true) {
    auto dot = path.find('.');
    if (!is_crm_identifier(path.substr(0, dot)) || ++depth > 5) return false;
    if (dot == std::string_view::npos) return true;
    path.remove_prefix(dot + 1);
  }
}

struct Placeholder {
  std::string path;
  std::string filter;  // "", "date" or "country"
};

// The {path} / {path|filter} placeholders of a CRM template; `error` says what is wrong, if anything.
std::vector<Placeholder> placeholders(const std::string& text, std::string& error) {
  std::vector<Placeholder> out;
  for (std::size_t open = text.find('{'); open != std::string::npos; open = text.find('{', open + 1)) {
    std::size_t close = text.find('}', open);
    if (close == std::string::npos || text.find('{', open + 1) < close) {
      error = "unclosed '{' at position " + std::to_string(open + 1) + " (write {Field} or {Field|date})";
      return out;
    }
    Placeholder p{text.substr(open + 1, close - open - 1), ""};
    if (auto bar = p.path.find('|'); bar != std::string::npos) {
      p.filter = p.path.substr(bar + 1);
      p.path.resize(bar);
    }
    if (p.filter != "" && p.filter != "date" && p.filter != "country") error = "unknown filter |" + p.filter + " (date or country)";
    else if (!is_crm_path(p.path)) error = "{" + p.path + "} is not a CRM field (Field, or Relationship.Field)";
    if (!error.empty()) return out;
    out.push_back(std::move(p));
  }
  return out;
}

std::string crm_template(const YamlNode& node) {
  std::string text = node.as_string(), error;
  placeholders(text, error);
  if (!error.empty()) node.fail(error);
  return text;
}

// Renders a CRM template (related records read through relationship paths, arrays looked into).
std::string render(const std::string& text, const nlohmann::json& crm) {
  return render_placeholders(text, [&](std::string_view path) { return first_value_at(crm, path); });
}

std::string crm_field_name(const YamlNode& node) {
  std::string name = node.as_string();
  if (!is_crm_identifier(name)) node.fail("'" + name + "' is not a CRM field name");
  return name;
}

DealType deal_type_named(const YamlNode& node) {
  std::string v = node.as_string();
  if (v == "private") return DealType::private_deal;
  if (v == "partner-led") return DealType::partner_led;
  if (v == "co-sell") return DealType::co_sell;
  node.fail("expected private, partner-led or co-sell, got '" + v + "'");
}

void read_deal_type(const YamlNode& node, ShareRule& s) {
  if (node.is_scalar()) {
    s.deal_type_default = deal_type_named(node);
    return;
  }
  node.expect_map().allow_only({"field", "values", "default"});
  s.deal_type_field = crm_field_name(node.get("field"));
  for (auto& [value, type] : node.get("values").entries()) s.deal_types[value] = deal_type_named(type);
  if (s.deal_types.empty()) node.get("values").fail("must map at least one CRM value to a deal type");
  // What a record whose field holds no listed value is shared as: the least shared by default.
  s.deal_type_default = DealType::private_deal;
  if (auto d = node.find("default")) s.deal_type_default = deal_type_named(*d);
}

void read_help(const YamlNode& node, ShareRule& s) {
  node.expect_map().allow_only({"code", "notes"});
  if (auto code = node.find("code")) {
    s.help_code = code->as_string();
    if (!kHelpCodes.contains(s.help_code)) code->fail("'" + s.help_code + "' is not an assistanceRequestCode of Partner Center");
  }
  if (auto notes = node.find("notes")) s.help_notes = crm_template(*notes);
}

void read_consent(const YamlNode& node, ShareRule& s) {
  node.expect_map().allow_only({"field", "require"});
  s.consent_field = crm_field_name(node.get("field"));
  if (auto r = node.find("require")) s.require_consent = r->as_bool();
}

void read_templates(const YamlNode& node, std::map<std::string, std::string>& out, const std::set<std::string>* keys) {
  for (auto& [key, text] : node.entries()) {
    if (keys && !keys->contains(key)) text.fail("expected one of firstName, lastName, email, phoneNumber");
    if (!keys && !is_known_referral_path(key)) text.fail("'" + key + "' is not a field of a Partner Center referral");
    out[key] = crm_template(text);
  }
}

void read_solutions(const YamlNode& node, ShareRule& s) {
  node.expect_map().allow_only({"field", "values"});
  s.solution_field = crm_field_name(node.get("field"));
  for (auto& [value, id] : node.get("values").entries()) s.solutions[value] = id.as_string();
}

// A team member from its templates; the keys whose value renders empty are left out.
nlohmann::json rendered(const std::map<std::string, std::string>& member, const nlohmann::json& crm) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, text] : member)
    if (std::string value = render(text, crm); !value.empty()) out[key] = value;
  return out;
}

bool no_text(const nlohmann::json& v) { return v.is_null() || (v.is_string() && v.get<std::string>().empty()); }

}  // namespace

ShareRule load_share(const YamlNode& node) {
  node.expect_map().allow_only({"when", "name", "name_limit", "deal_type", "help", "consent", "contact", "team", "body",
                                "solutions", "tags"});
  ShareRule s;
  s.line = node.line();
  // The opportunity is shared before any referral exists: `when` reads the CRM record only.
  const ConditionScope scope{false, true, false, "an opportunity is shared before any referral exists"};
  s.when = load_condition(node.get("when"), scope);
  s.name = crm_template(node.get("name"));
  if (auto limit = node.find("name_limit")) s.name_limit = static_cast<std::size_t>(limit->as_int(40, 1000));
  if (auto d = node.find("deal_type")) read_deal_type(*d, s);
  if (auto h = node.find("help")) read_help(*h, s);
  if (auto c = node.find("consent")) read_consent(*c, s);
  if (auto c = node.find("contact")) {
    if (s.consent_field.empty()) c->fail("a customer contact is sent only with consent: add consent.field");
    read_templates(*c, s.contact, &kContactKeys);
  }
  if (auto t = node.find("team")) read_templates(*t, s.team, &kContactKeys);
  if (auto b = node.find("body")) read_templates(*b, s.body, nullptr);
  if (auto sol = node.find("solutions")) read_solutions(*sol, s);
  if (auto tags = node.find("tags"))
    for (const auto& t : tags->items()) s.tags.push_back(crm_template(t));
  return s;
}

std::vector<std::string> ShareRule::crm_paths() const {
  std::set<std::string> paths;
  auto add = [&](const std::string& text) {
    std::string error;  // none: every template was checked when the mapping was loaded
    for (auto& p : placeholders(text, error)) paths.insert(p.path);
  };
  add(name);
  add(help_notes);
  for (const auto& [k, t] : contact) add(t);
  for (const auto& [k, t] : team) add(t);
  for (const auto& [k, t] : body) add(t);
  for (const auto& t : tags) add(t);
  for (const auto& f : own_fields()) paths.insert(f);
  paths.insert("Id");
  return {paths.begin(), paths.end()};
}

std::vector<std::string> ShareRule::own_fields() const {
  std::vector<std::string> out;
  for (const auto& f : {deal_type_field, consent_field, solution_field})
    if (!f.empty()) out.push_back(f);
  for (const auto& p : when.paths(true)) out.push_back(p);
  return out;
}

bool ShareRule::selects(const nlohmann::json& crm, TimePoint now) const { return when.evaluate({nullptr, &crm, now}); }

DealType ShareRule::deal_type(const nlohmann::json& crm) const {
  if (deal_type_field.empty()) return deal_type_default;
  auto v = first_value_at(crm, deal_type_field);
  auto it = v.is_string() ? deal_types.find(v.get<std::string>()) : deal_types.end();
  return it == deal_types.end() ? deal_type_default : it->second;
}

bool ShareRule::has_consent(const nlohmann::json& crm) const {
  if (consent_field.empty()) return false;
  auto v = first_value_at(crm, consent_field);
  return v.is_boolean() && v.get<bool>();
}

std::string ShareRule::referral_name(const nlohmann::json& crm, const std::string& crm_id) const {
  std::string text = render(name, crm);
  if (text_length(text) <= name_limit) return text;
  // Cut before the CRM id so that it stays whole at the end (people search Partner Center by it).
  if (text.ends_with(crm_id) && text_length(crm_id) + 1 < name_limit) {
    std::string head = text.substr(0, text.size() - crm_id.size());
    return cut_text(head, name_limit - text_length(crm_id) - 1) + "…" + crm_id;
  }
  return cut_text(text, name_limit);
}

nlohmann::json ShareRule::referral(const nlohmann::json& crm, const std::string& crm_id) const {
  nlohmann::json r = nlohmann::json::object();
  for (const auto& [path, text] : body) {
    std::string value = render(text, crm);
    if (!value.empty()) json_set(r, path, value);
  }
  r["name"] = referral_name(crm, crm_id);
  DealType type = deal_type(crm);
  r["type"] = type == DealType::co_sell ? "Shared" : "Independent";
  bool consent = has_consent(crm);
  r["consent"] = {{"consentToShareReferralWithMicrosoftSellers", type != DealType::private_deal},
                  {"consentToContact", consent}};
  if (type == DealType::co_sell) {
    r["inviteContext"] = {{"assistanceRequestCode", help_code}};
    if (std::string notes = render(help_notes, crm); !notes.empty()) r["inviteContext"]["notes"] = notes;
  }
  if (consent)
    if (auto member = rendered(contact, crm); !member.empty())
      r["customerProfile"]["team"] = nlohmann::json::array({member});
  if (auto seller = rendered(team, crm); !seller.empty()) r["team"] = nlohmann::json::array({seller});
  if (!solution_field.empty()) {
    auto v = first_value_at(crm, solution_field);
    auto it = v.is_string() ? solutions.find(v.get<std::string>()) : solutions.end();
    if (it != solutions.end()) json_set(r, "details.requirements.solutions", nlohmann::json::array({{{"id", it->second}}}));
  }
  nlohmann::json tag_list = nlohmann::json::array();
  for (const auto& t : tags)
    if (std::string value = render(t, crm); !value.empty()) tag_list.push_back({{"tag", value}});
  if (!tag_list.empty()) r["tags"] = tag_list;
  if (!r.contains("details")) r["details"] = nlohmann::json::object();  // required, even empty
  r["externalReferenceId"] = crm_id;
  return r;
}

std::string share_problem(const nlohmann::json& referral) {
  if (no_text(json_at(referral, "name"))) return "the share's name is empty";
  if (no_text(json_at(referral, "customerProfile.name")))
    return "no customer name: share.body.customerProfile.name is empty for this record";
  return "";
}

DealType deal_type_of_referral(const nlohmann::json& referral) {
  auto shared = json_at(referral, "consent.consentToShareReferralWithMicrosoftSellers");
  if (!shared.is_boolean() || !shared.get<bool>()) return DealType::private_deal;
  bool help = remote_json::string_or(remote_json::member(referral, "inviteContext"), "assistanceRequestCode") != "";
  return remote_json::string_or(referral, "type") == "Shared" || help ? DealType::co_sell : DealType::partner_led;
}

}  // namespace cosync::mapping
