#include "daemon/mapping/registration_rule.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "daemon/mapping/field_transform.hpp"
#include "daemon/mapping/referral_paths.hpp"
#include "daemon/util/json_path.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/yaml_reader.hpp"

namespace cosync::mapping {
namespace {

enum class Kind { text, number, date, boolean, choice };

// One path of the registration a partner sends (DealRegistration in the contract), and whether
// Partner Center takes a later `replace` of it (UpdateDealRegistration's path enum).
struct BodyPath {
  const char* path;
  Kind kind;
  bool replaceable;
  std::vector<std::string> choices = {};
};

const std::vector<BodyPath>& body_paths() {
  static const std::vector<BodyPath> paths = {
      {"contract.value", Kind::number, true},
      {"contract.currency", Kind::text, false},
      {"contract.startDateTime", Kind::date, true},
      {"contract.endDateTime", Kind::date, true},
      {"contract.signDateTime", Kind::date, true},
      {"contract.term", Kind::choice, true, {"Perpetual", "Finite"}},
      {"solutionDetails.id", Kind::text, false},
      {"solutionDetails.value", Kind::number, true},
      {"solutionDetails.currency", Kind::text, true},
      {"solutionDetails.isDeployedOnAzure", Kind::boolean, true},
      {"solutionDetails.primaryDeploymentOn", Kind::choice, true, {"Customer", "Partner"}},
      {"solutionDetails.pricingModel", Kind::choice, true, {"PayAsYouGo", "Other"}},
      {"solutionDetails.marketplaceTransactionDetails.isMarketplaceTransacted", Kind::boolean, true},
      {"solutionDetails.marketplaceTransactionDetails.marketplaceTransactionDateTime", Kind::date, true},
  };
  return paths;
}

const BodyPath* body_path(std::string_view path) {
  for (const auto& p : body_paths())
    if (path == p.path) return &p;
  return nullptr;
}

constexpr std::string_view kSolution = "solutionDetails.";

// The value as the registration types it, or null when it is not one (remote data: never throws).
nlohmann::json typed(const BodyPath& p, const nlohmann::json& v) {
  switch (p.kind) {
    case Kind::number: return number_of(v);
    case Kind::date: {
      auto date = date_of(v);
      return date.is_string() ? nlohmann::json(pc_timestamp_of_date(date.get<std::string>())) : nlohmann::json();
    }
    case Kind::boolean:
      if (v.is_boolean()) return v;
      if (v.is_string() && (v == "true" || v == "True")) return true;
      if (v.is_string() && (v == "false" || v == "False")) return false;
      return nullptr;
    case Kind::choice:
      if (v.is_string() && std::find(p.choices.begin(), p.choices.end(), v.get<std::string>()) != p.choices.end()) return v;
      return nullptr;
    case Kind::text:
      if (v.is_string() && !v.get_ref<const std::string&>().empty()) return v;
      if (v.is_number()) return v.dump();
      return nullptr;
  }
  return nullptr;
}

// The value at a body path of a registration as Partner Center holds it (solutionDetails[0]).
nlohmann::json value_in(const nlohmann::json& registration, std::string_view path) {
  if (!path.starts_with(kSolution)) return json_at(registration, path);
  const auto& solutions = remote_json::member(registration, "solutionDetails");
  if (!solutions.is_array() || solutions.empty()) return nullptr;
  return json_at(solutions[0], path.substr(kSolution.size()));
}

// The opportunity's own field: read with it by every pull (a related record's is not).
std::string crm_path(const YamlNode& node) {
  std::string path = node.as_string();
  if (!is_crm_identifier(path)) node.fail("'" + path + "' is not a field of the opportunity itself");
  return path;
}

// A YAML scalar as the registration value it stands for; fails when it is not one.
nlohmann::json typed_constant(const BodyPath& p, const YamlNode& node) {
  auto v = typed(p, nlohmann::json(node.as_string()));
  if (v.is_null()) {
    std::string expected = p.kind == Kind::number ? "a number" : p.kind == Kind::date ? "a date (2026-12-31)"
                           : p.kind == Kind::boolean ? "true or false" : "text";
    if (p.kind == Kind::choice) {
      expected = "one of";
      for (const auto& c : p.choices) expected += " " + c;
    }
    node.fail("expected " + expected + " for " + p.path + ", got '" + node.as_string() + "'");
  }
  return v;
}

RegistrationSource read_source(const BodyPath& p, const YamlNode& node) {
  RegistrationSource s;
  s.line = node.line();
  if (node.is_scalar()) {
    s.crm_path = crm_path(node);
    return s;
  }
  node.expect_map().allow_only({"field", "values", "value"});
  if (auto constant = node.find("value")) {
    if (node.has("field") || node.has("values")) node.fail("a constant `value:` takes no field or values");
    s.constant = typed_constant(p, *constant);
    return s;
  }
  s.crm_path = crm_path(node.get("field"));
  for (auto& [crm_value, value] : node.get("values").entries()) s.values[crm_value] = typed_constant(p, value);
  if (s.values.empty()) node.get("values").fail("must map at least one CRM value");
  return s;
}

// What a source gives for one CRM record: null when the record has no usable value.
nlohmann::json resolve(const BodyPath& p, const RegistrationSource& s, const nlohmann::json& crm) {
  if (s.constant) return *s.constant;
  auto v = first_value_at(crm, s.crm_path);
  if (s.values.empty()) return typed(p, v);
  std::string key = v.is_string() ? v.get<std::string>() : (v.is_number() || v.is_boolean()) ? v.dump() : "";
  auto it = s.values.find(key);
  return it == s.values.end() ? nlohmann::json() : it->second;
}

// `status:` key -> the referral path it reads ("statusReason" -> "registrations.0.statusReason").
std::string status_pc_path(const YamlNode& node, const std::string& key) {
  if (key == "registrationStatus") return key;
  std::string path = "registrations." + key;
  if (key.starts_with("contract") || key.starts_with("solutionDetails") || !is_known_referral_path(path))
    node.fail("'" + key + "' is not a registration status: registrationStatus, status, statusReason, "
              "registrationDateTime, id or statusHistory.<...>DateTime");
  return "registrations.0." + key;
}

FieldRule read_status_field(const std::string& key, const YamlNode& node) {
  FieldRule f;
  f.line = node.line();
  f.name = "registration." + key;
  f.pc_paths = {status_pc_path(node, key)};
  f.direction = Direction::to_crm;
  f.owner = Owner::pc;
  if (key.ends_with("DateTime")) f.transform = Transform::date;
  if (node.is_scalar()) {
    f.crm_field = crm_path(node);
  } else {
    node.expect_map().allow_only({"crm", "values"});
    f.crm_field = crm_path(node.get("crm"));
    if (auto values = node.find("values"))
      for (auto& [pc, crm] : values->entries())
        f.values.push_back({nlohmann::json(pc), nlohmann::json(crm.as_string()), crm.line(), Direction::to_crm});
    // No registration yet, or a CRM field still empty: both read as "none", not as a value the
    // map lacks (which would keep the field from ever syncing).
    if (!f.values.empty()) f.values.push_back({nullptr, nullptr, node.line(), Direction::to_crm});
  }
  return f;
}

std::vector<std::chrono::seconds> read_warnings(const YamlNode& node, std::chrono::seconds within) {
  std::vector<std::chrono::seconds> out;
  for (const auto& item : node.items()) out.push_back(item.as_seconds(std::chrono::hours(1), within));
  std::sort(out.rbegin(), out.rend());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) node.fail("lists the same lead time twice");
  return out;
}

}  // namespace

RegistrationRule load_registration(const YamlNode& node) {
  node.expect_map().allow_only({"when", "register_within", "warn_before", "body", "status"});
  RegistrationRule r;
  r.line = node.line();
  // Registered once the referral is Closed/Won: `when` reads the CRM opportunity's own values.
  const ConditionScope scope{false, true, false, "eligibility is decided on the CRM opportunity"};
  if (auto when = node.find("when")) r.when = load_condition(*when, scope);
  if (auto within = node.find("register_within"))
    r.register_within = within->as_seconds(std::chrono::hours(24), std::chrono::hours(365 * 24));
  if (auto warn = node.find("warn_before")) r.warn_before = read_warnings(*warn, r.register_within);
  auto body = node.get("body");
  for (auto& [path, source] : body.entries()) {
    const BodyPath* p = body_path(path);
    if (!p) source.fail("'" + path + "' is not a field of a deal registration (contract.value, solutionDetails.id, ...)");
    r.body[path] = read_source(*p, source);
  }
  if (r.body.empty()) body.fail("must give at least one registration value");
  if (auto status = node.find("status")) {
    std::set<std::string> fields;
    for (auto& [key, target] : status->entries()) {
      r.status_fields.push_back(read_status_field(key, target));
      if (!fields.insert(r.status_fields.back().crm_field).second)
        target.fail("CRM field '" + r.status_fields.back().crm_field + "' receives two registration values");
    }
  }
  return r;
}

bool RegistrationRule::selects(const nlohmann::json& crm, TimePoint now) const {
  return when.evaluate({nullptr, &crm, now});
}

std::vector<std::string> RegistrationRule::crm_fields() const {
  std::set<std::string> out;
  for (const auto& p : when.paths(true))
    if (p.find('.') == std::string::npos) out.insert(p);  // a related record's field is not pulled
  for (const auto& [path, s] : body)
    if (!s.crm_path.empty()) out.insert(s.crm_path);
  return {out.begin(), out.end()};
}

nlohmann::json RegistrationRule::registration(const nlohmann::json& crm) const {
  nlohmann::json r = {{"type", "AzureIPCoSell"}};
  nlohmann::json solution = nlohmann::json::object();
  for (const auto& [path, source] : body) {
    const BodyPath* p = body_path(path);
    auto v = p ? resolve(*p, source, crm) : nlohmann::json();
    if (v.is_null()) continue;
    if (path.starts_with(kSolution)) json_set(solution, std::string_view(path).substr(kSolution.size()), std::move(v));
    else json_set(r, path, std::move(v));
  }
  if (!solution.empty()) r["solutionDetails"] = nlohmann::json::array({solution});
  return r;
}

std::map<std::string, nlohmann::json> RegistrationRule::changes(const nlohmann::json& crm,
                                                                const nlohmann::json& current) const {
  std::map<std::string, nlohmann::json> out;
  for (const auto& [path, source] : body) {
    const BodyPath* p = body_path(path);
    if (!p || !p->replaceable) continue;
    auto wanted = resolve(*p, source, crm);
    if (!wanted.is_null() && typed(*p, value_in(current, path)) != wanted) out[registration_replace_path(path)] = wanted;
  }
  return out;
}

std::string registration_replace_path(const std::string& body_path_text) {
  const BodyPath* p = body_path(body_path_text);
  if (!p || !p->replaceable) return "";
  std::string_view path = body_path_text;
  if (path.starts_with(kSolution)) return "registrations.0.solutionDetails.0." + std::string(path.substr(kSolution.size()));
  return "registrations.0." + body_path_text;
}

bool referral_closed_won(const nlohmann::json& referral) {
  return remote_json::string_or(referral, "status") == "Closed" && remote_json::string_or(referral, "substatus") == "Won";
}

bool registration_editable(const nlohmann::json& registration) {
  std::string status;
  for (char c : remote_json::string_or(registration, "status"))
    if (std::isalpha(static_cast<unsigned char>(c))) status += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // A registration just added may not carry a status yet: still under review.
  return status.empty() || status == "reviewpending" || status == "actionrequired";
}

}  // namespace cosync::mapping
