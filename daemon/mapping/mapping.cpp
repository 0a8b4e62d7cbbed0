#include "daemon/mapping/mapping.hpp"

#include <algorithm>

#include "daemon/mapping/field_transform.hpp"
#include "daemon/mapping/lead_rules.hpp"
#include "daemon/mapping/registration_rule.hpp"
#include "daemon/mapping/template_text.hpp"
#include "daemon/util/json_path.hpp"

namespace cosync::mapping {

const char* to_string(Direction d) {
  switch (d) {
    case Direction::both: return "both";
    case Direction::to_crm: return "to_crm";
    case Direction::to_pc: return "to_pc";
  }
  return "?";
}

const char* to_string(Owner o) {
  switch (o) {
    case Owner::pc: return "pc";
    case Owner::crm: return "crm";
    case Owner::newest: return "newest";
  }
  return "?";
}

namespace {

// Empty strings and missing values are the same thing to a user: no value.
nlohmann::json normalized(nlohmann::json v) {
  if (v.is_string() && v.get_ref<const std::string&>().empty()) return nullptr;
  return v;
}

}  // namespace

bool Mapping::selects(const nlohmann::json& referral, TimePoint now) const {
  return select.evaluate({&referral, nullptr, now});  // selected before any CRM record exists
}

connectors::ObjectSpec Mapping::pc_spec() const {
  connectors::ObjectSpec spec{"referrals", {}, pc_link_field};
  for (const auto& f : fields)
    for (const auto& p : f.pc_paths) spec.fields.push_back(p);
  return spec;
}

connectors::ObjectSpec Mapping::crm_spec() const {
  connectors::ObjectSpec spec{crm_object, {}, crm_link_field};
  for (const auto& f : fields) spec.fields.push_back(f.crm_field);
  spec.unlinked_records = share.has_value();
  if (share)
    for (const auto& f : share->own_fields())
      if (std::find(spec.fields.begin(), spec.fields.end(), f) == spec.fields.end()) spec.fields.push_back(f);
  if (account) spec.parent = account->lookup();
  if (leads)  // the CRM fields the acceptance policy's conditions read
    for (const auto& f : leads->crm_fields())
      if (std::find(spec.fields.begin(), spec.fields.end(), f) == spec.fields.end()) spec.fields.push_back(f);
  if (registration)  // what the registration's `when` and body read
    for (const auto& f : registration->crm_fields())
      if (std::find(spec.fields.begin(), spec.fields.end(), f) == spec.fields.end()) spec.fields.push_back(f);
  return spec;
}

connectors::ObjectSpec Mapping::crm_share_spec() const {
  auto spec = crm_spec();
  if (share)
    for (const auto& f : share->crm_paths())
      if (std::find(spec.fields.begin(), spec.fields.end(), f) == spec.fields.end()) spec.fields.push_back(f);
  return spec;
}

nlohmann::json Mapping::pc_share_body(const nlohmann::json& crm_record, const std::string& crm_id) const {
  nlohmann::json body = share ? share->referral(crm_record, crm_id) : nlohmann::json::object();
  for (const auto& f : fields) {
    if (!f.flows_to_pc()) continue;
    auto canonical = canonical_from_crm(f, crm_record);
    if (!canonical || canonical->is_null()) continue;
    for (auto& c : pc_changes(f, *canonical))
      if (c.path != "status" && c.path != "substatus" && c.path != "statusReason" && !c.value.is_null())
        json_set(body, c.path, c.value);
  }
  return body;
}

std::optional<std::size_t> FieldRule::pc_text_limit() const {
  return transform == Transform::truncate ? length : std::nullopt;
}

std::optional<std::size_t> FieldRule::crm_text_limit() const {
  auto limit = pc_text_limit();
  if (crm_max_length && (!limit || *crm_max_length < *limit)) limit = crm_max_length;
  return limit;
}

namespace {

// A value read from either side, in the canonical form of the field's transform.
nlohmann::json transformed(const FieldRule& f, nlohmann::json value) {
  switch (f.transform) {
    case Transform::date: return date_of(value);
    case Transform::number: return number_of(value);
    case Transform::none:
    case Transform::truncate: break;
  }
  return value;
}

// Text cut to what the side's field holds; other values as they are.
nlohmann::json fitted(nlohmann::json value, std::optional<std::size_t> limit) {
  if (limit && value.is_string()) return cut_text(value.get<std::string>(), *limit);
  return value;
}

}  // namespace

std::optional<nlohmann::json> Mapping::canonical_from_pc(const FieldRule& f, const nlohmann::json& referral) const {
  nlohmann::json value;
  if (f.pc_paths.size() == 1) {
    value = transformed(f, normalized(json_at(referral, f.pc_paths[0])));
  } else {
    value = nlohmann::json::array();
    for (const auto& p : f.pc_paths) value.push_back(normalized(json_at(referral, p)));
  }
  if (f.values.empty()) return value;
  for (const auto& e : f.values)
    if (e.pc == value) return value;
  return std::nullopt;
}

std::optional<nlohmann::json> Mapping::canonical_from_crm(const FieldRule& f, const nlohmann::json& record) const {
  auto value = transformed(f, normalized(json_at(record, f.crm_field)));
  if (f.values.empty()) return value;
  // The entry that flows to Partner Center decides; a value only a to_crm entry writes (in a
  // field that never flows to Partner Center) still reads as that entry's PC value.
  const ValueMapEntry* any = nullptr;
  for (const auto& e : f.values) {
    if (e.crm != value) continue;
    if (e.flows_to_pc()) return e.pc;
    if (!any) any = &e;
  }
  if (any) return any->pc;
  return std::nullopt;
}

std::vector<connectors::FieldChange> Mapping::pc_changes(const FieldRule& f, const nlohmann::json& canonical) const {
  std::vector<connectors::FieldChange> out;
  if (f.pc_paths.size() == 1) {
    nlohmann::json value = fitted(canonical, f.pc_text_limit());
    if (f.transform == Transform::date && value.is_string()) value = pc_timestamp_of_date(value.get<std::string>());
    out.push_back({f.pc_paths[0], std::move(value)});
  } else {
    for (size_t i = 0; i < f.pc_paths.size(); ++i)
      out.push_back({f.pc_paths[i], canonical.is_array() && i < canonical.size() ? canonical[i] : nlohmann::json()});
  }
  return out;
}

std::vector<connectors::FieldChange> Mapping::crm_changes(const FieldRule& f, const nlohmann::json& canonical) const {
  if (f.values.empty()) return {{f.crm_field, fitted(canonical, f.crm_text_limit())}};
  for (const auto& e : f.values)
    if (e.flows_to_crm() && e.pc == canonical) return {{f.crm_field, e.crm}};
  return {};
}

std::optional<nlohmann::json> Mapping::pc_round_trip(const FieldRule& f, const nlohmann::json& canonical) const {
  auto changes = pc_changes(f, canonical);
  if (changes.empty()) return std::nullopt;
  nlohmann::json referral = nlohmann::json::object();
  for (auto& c : changes) json_set(referral, c.path, std::move(c.value));
  return canonical_from_pc(f, referral);
}

std::optional<nlohmann::json> Mapping::crm_round_trip(const FieldRule& f, const nlohmann::json& canonical) const {
  auto changes = crm_changes(f, canonical);
  if (changes.empty()) return std::nullopt;
  nlohmann::json record = nlohmann::json::object();
  for (auto& c : changes) record[c.path] = std::move(c.value);
  return canonical_from_crm(f, record);
}

std::vector<connectors::FieldChange> Mapping::crm_fields_for_create(const nlohmann::json& referral) const {
  std::vector<connectors::FieldChange> out;
  for (const auto& f : fields) {
    if (!f.flows_to_crm()) continue;
    auto canonical = canonical_from_pc(f, referral);
    if (!canonical || canonical->is_null()) continue;
    for (auto& c : crm_changes(f, *canonical)) out.push_back(std::move(c));
  }
  for (const auto& [field, text] : create_templates) {
    std::erase_if(out, [&name = field](const connectors::FieldChange& c) { return c.path == name; });
    out.push_back({field, render_template(text, referral)});
  }
  // `assign:` routes the new lead to its owner (user, queue or team).
  if (leads && leads->assign)
    if (auto owner = leads->assign->owner_for(referral, std::chrono::system_clock::now())) {
      std::erase_if(out, [&](const connectors::FieldChange& c) { return c.path == leads->assign->field; });
      out.push_back({leads->assign->field, owner->first});
    }
  return out;
}

nlohmann::json first_value_at(const nlohmann::json& record, std::string_view path) {
  if (record.is_array()) {
    for (const auto& item : record)
      if (auto v = first_value_at(item, path); !v.is_null()) return v;
    return nullptr;
  }
  auto dot = path.find('.');
  std::string head(path.substr(0, dot));
  if (!record.is_object() || !record.contains(head)) return nullptr;
  if (dot == std::string_view::npos) return normalized(record[head]);
  return first_value_at(record[head], path.substr(dot + 1));
}

std::string render_template(const std::string& text, const nlohmann::json& referral) {
  return render_placeholders(text, [&](std::string_view path) { return json_at(referral, path); });
}

}  // namespace cosync::mapping
