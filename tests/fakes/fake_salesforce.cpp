#include "tests/fakes/fake_salesforce.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <stdexcept>

#include "daemon/util/time.hpp"
#include "tests/fakes/soql.hpp"

namespace cosync::fakes {

using nlohmann::json;

namespace {

constexpr size_t kCollectionLimit = 200;

json error_entry(const FakeSalesforce::Error& e) {
  return {{"message", e.message}, {"errorCode", e.code}, {"fields", e.fields}};
}

FakeResponse sf_error(const FakeSalesforce::Error& e) {
  if (!e.body.is_null()) return FakeResponse::json(e.status, e.body);
  return FakeResponse::json(e.status, json::array({error_entry(e)}));
}

FakeResponse sf_error(int status, std::string code, std::string message) {
  return sf_error(FakeSalesforce::Error{status, std::move(code), std::move(message), {}, {}});
}

FakeSalesforce::Error invalid(std::string code, std::string message, std::vector<std::string> fields = {}) {
  return FakeSalesforce::Error{400, std::move(code), std::move(message), std::move(fields), {}};
}

std::string error_code_for(int status) {
  switch (status) {
    case 401: return "INVALID_SESSION_ID";
    case 403: return "REQUEST_LIMIT_EXCEEDED";
    case 404: return "NOT_FOUND";
    case 503: return "SERVER_UNAVAILABLE";
    default: return status >= 500 ? "UNKNOWN_EXCEPTION" : "INVALID_REQUEST";
  }
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 1;
  while (pos <= path.size()) {
    auto slash = path.find('/', pos);
    std::string part = path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    if (!part.empty()) out.push_back(part);
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return out;
}

// The 3-character case-safe suffix Salesforce appends to a 15-character id.
std::string id_suffix(const std::string& id15) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
  std::string suffix;
  for (int chunk = 0; chunk < 3; ++chunk) {
    int flags = 0;
    for (int i = 0; i < 5; ++i)
      if (std::isupper(static_cast<unsigned char>(id15[static_cast<size_t>(chunk * 5 + i)]))) flags |= 1 << i;
    suffix += alphabet[flags];
  }
  return suffix;
}

std::string display_name(const json& row) {
  for (auto field : {"Name", "Company", "LastName"})
    if (row.contains(field) && row[field].is_string()) return row[field].get<std::string>();
  return {};
}

bool blank(const json& v) { return v.is_null() || (v.is_string() && v.get<std::string>().empty()); }

std::string as_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string ascii_lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool is_ascii(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// The Id literals a condition requires a row to hold one of (Id = 'x' or Id IN (...), alone or in
// an AND), so that a read by ids looks those rows up instead of testing every row; nullopt when
// it requires none. ASCII only: SOQL's = ignores case, and the index folds ASCII alone.
std::optional<std::vector<std::string>> required_ids(const SoqlExpr& e) {
  if (e.field == "Id" && (e.kind == SoqlExpr::Kind::in || (e.kind == SoqlExpr::Kind::compare && e.op == "="))) {
    std::vector<std::string> ids;
    for (const auto& v : e.values) {
      if (v.kind != SoqlLiteral::Kind::string || !v.value.is_string() || !is_ascii(v.value.get<std::string>()))
        return std::nullopt;
      ids.push_back(v.value.get<std::string>());
    }
    return ids;
  }
  if (e.kind == SoqlExpr::Kind::all_of)
    for (const auto& child : e.children)
      if (auto ids = required_ids(child)) return ids;
  return std::nullopt;
}

// Whether `fields` holds a non-blank value for each of `keys`.
bool has_values(const json& fields, const std::vector<std::string>& keys) {
  for (const auto& k : keys)
    if (!fields.contains(k) || blank(fields[k])) return false;
  return true;
}

// The live row other than `self_id` whose `keys` all hold the values `fields` has for them, among
// the rows at `candidates` (in creation order).
std::optional<std::string> same_values(const FakeSalesforce::Table& table, const std::vector<size_t>& candidates,
                                       const json& fields, const std::vector<std::string>& keys,
                                       const std::string& self_id) {
  for (size_t position : candidates) {
    const json& row = table.rows[position];
    if (row["Id"] == self_id || row.value("IsDeleted", false)) continue;
    bool same = true;
    for (const auto& k : keys) same = same && row.contains(k) && as_text(row[k]) == as_text(fields[k]);
    if (same) return row["Id"].get<std::string>();
  }
  return std::nullopt;
}

}  // namespace

FakeSalesforce::FakeSalesforce(FakeSalesforceOptions options)
    : clock_(options.clock ? *options.clock : system_clock_),
      options_(std::move(options)),
      server_([this](const FakeRequest& r) { return handle(r); }, options_.port) {
  define_object("Lead", default_lead_schema());
  define_object("Opportunity", default_opportunity_schema());
  define_object("Account", default_account_schema());
  define_object("CampaignMember", default_campaign_member_schema());
}

void FakeSalesforce::define_object(const std::string& name, SObjectSchema schema) {
  std::lock_guard lock(mu_);
  Table& table = tables_[name];
  table.name = name;
  table.schema = std::move(schema);
  table.declared = true;
}

void FakeSalesforce::emit(const std::string& line) const {
  if (options_.on_event) options_.on_event("fake-salesforce: " + line);
}

// Strictly increasing, so that SystemModstamp cursors always see a write as new.
std::string FakeSalesforce::next_stamp() {
  auto now = std::chrono::floor<std::chrono::milliseconds>(clock_.now());
  if (now <= last_stamp_) now = std::chrono::floor<std::chrono::milliseconds>(last_stamp_) + std::chrono::milliseconds(1);
  last_stamp_ = now;
  std::string text = format_iso8601(now);  // ...000Z
  text.pop_back();
  return text + "+0000";  // as Salesforce sends it
}

std::string FakeSalesforce::new_id(const std::string& prefix) {
  static const char* digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string body;
  for (long n = next_id_++; n > 0; n /= 62) body.insert(body.begin(), digits[n % 62]);
  std::string id15 = prefix.substr(0, 3) + "5g" + std::string(10 - std::min<size_t>(10, body.size()), '0') + body;
  return id15 + id_suffix(id15);
}

FakeSalesforce::Table* FakeSalesforce::find_table(const std::string& name) {
  for (auto& [key, table] : tables_)
    if (iequals(key, name)) return &table;
  return nullptr;
}

FakeSalesforce::Table& FakeSalesforce::table_for_write(const std::string& name) {
  if (auto* table = find_table(name)) return *table;
  Table& table = tables_[name];
  table.name = name;
  return table;
}

// A 15-character id names the row whose 18-character id starts with it (the suffix only makes
// it case-safe): its 18-character form is the same 15 characters with their suffix.
json* FakeSalesforce::find_row(Table& table, const std::string& id) {
  if (const json* row = find_exact(table, id)) return const_cast<json*>(row);
  if (id.size() != 15) return nullptr;
  const json* row = find_exact(table, id + id_suffix(id));
  return row && row->value("Id", "").starts_with(id) ? const_cast<json*>(row) : nullptr;
}

const json* FakeSalesforce::find_exact(const Table& table, const std::string& id) const {
  for (; table.rows_by_id < table.rows.size(); ++table.rows_by_id) index_row(table, table.rows_by_id);
  auto it = table.by_id.find(id);
  if (it == table.by_id.end() || it->second >= table.rows.size()) return nullptr;
  const json& row = table.rows[it->second];
  return row.value("Id", "") == id ? &row : nullptr;
}

void FakeSalesforce::index_row(const Table& table, size_t position) {
  const json& row = table.rows[position];
  if (auto id = row.find("Id"); id != row.end() && id->is_string()) table.by_id[id->get<std::string>()] = position;
  for (auto& [field, index] : table.by_value) {
    auto value = row.find(field);
    if (value == row.end()) continue;
    auto& positions = index[ascii_lower(as_text(*value))];
    if (std::find(positions.begin(), positions.end(), position) == positions.end()) positions.push_back(position);
  }
}

std::vector<size_t> FakeSalesforce::rows_with(const Table& table, const std::string& field, const std::string& value,
                                              bool exact) {
  auto [index, built] = table.by_value.try_emplace(field);
  if (built)
    for (size_t i = 0; i < table.rows.size(); ++i)
      if (auto v = table.rows[i].find(field); v != table.rows[i].end())
        index->second[ascii_lower(as_text(*v))].push_back(i);
  std::vector<size_t> out;
  if (auto it = index->second.find(ascii_lower(value)); it != index->second.end())
    for (size_t position : it->second) {
      if (position >= table.rows.size() || !table.rows[position].contains(field)) continue;
      std::string text = as_text(table.rows[position][field]);
      if (exact ? text == value : ascii_lower(text) == ascii_lower(value)) out.push_back(position);
    }
  std::sort(out.begin(), out.end());
  return out;
}

std::string FakeSalesforce::url_of(const Table& table, const std::string& id) const {
  return data_path() + "/sobjects/" + table.name + "/" + id;
}

json FakeSalesforce::project(const Table& table, const json& row, const std::vector<std::string>& fields) const {
  json out = {{"attributes", {{"type", table.name}, {"url", url_of(table, row["Id"])}}}};
  if (fields.empty()) {
    for (const auto& f : SObjectSchema::system_fields()) out[f] = row.value(f, json());
    for (const auto& f : table.schema.fields) out[f] = row.value(f, json());
    for (auto it = row.begin(); it != row.end(); ++it) out[it.key()] = it.value();
  } else {
    for (const auto& f : fields) {
      auto dot = f.find('.');
      if (dot == std::string::npos) {
        out[f] = row.contains(f) ? row[f] : json();
        continue;
      }
      // SOQL relationship query ("Relationship Queries", SOQL and SOSL Reference,
      // https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_relationships.htm):
      // the parent's fields come nested under the relationship name, with its attributes; null when unset.
      std::string rel = f.substr(0, dot), field = f.substr(dot + 1);
      auto lookup = lookup_field(table, rel);
      const json* parent = lookup && row.contains(*lookup) && row[*lookup].is_string()
                               ? related_row(row[*lookup].get<std::string>()) : nullptr;
      if (!parent) {
        if (!out.contains(rel)) out[rel] = json();
        continue;
      }
      if (!out[rel].is_object()) out[rel] = {{"attributes", {{"type", rel}}}};
      out[rel][field] = parent->contains(field) ? (*parent)[field] : json();
    }
  }
  return out;
}

std::optional<std::string> FakeSalesforce::lookup_field(const Table& table, const std::string& relationship) const {
  // Standard lookups drop "Id" (AccountId -> Account); custom ones swap __c for __r.
  std::string field = relationship.ends_with("__r") ? relationship.substr(0, relationship.size() - 3) + "__c"
                                                     : relationship + "Id";
  if (!table.declared) return field;
  return table.schema.resolve(field);
}

const json* FakeSalesforce::related_row(const std::string& id) const {
  for (const auto& [name, table] : tables_)
    if (const json* row = find_exact(table, id)) return row;
  return nullptr;
}

std::optional<FakeSalesforce::Error> FakeSalesforce::check_fields(const Table& table, json& fields, bool create,
                                                                  const std::string& self_id, bool check_unique) const {
  if (!fields.is_object()) return invalid("JSON_PARSER_ERROR", "The request body must be a JSON object");
  fields.erase("attributes");
  json canonical = json::object();
  const auto& schema = table.schema;
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    std::string name = it.key();
    if (table.declared) {
      auto resolved = schema.resolve(name);
      if (!resolved)
        return invalid("INVALID_FIELD", "No such column '" + name + "' on sobject of type " + table.name, {name});
      name = *resolved;
    }
    if (SObjectSchema::system_fields().count(name) || iequals(name, "Id"))
      return invalid("INVALID_FIELD_FOR_INSERT_UPDATE",
                     "Unable to create/update fields: " + name +
                         ". Please check the security settings of this field and verify that it is read/write "
                         "for your profile or permission set.",
                     {name});
    canonical[name] = it.value();
  }
  if (create)
    for (auto it = schema.defaults.begin(); it != schema.defaults.end(); ++it)
      if (!canonical.contains(it.key())) canonical[it.key()] = it.value();
  std::vector<std::string> missing;
  for (const auto& f : schema.required)
    if ((create && !canonical.contains(f)) || (canonical.contains(f) && blank(canonical[f]))) missing.push_back(f);
  if (!missing.empty()) {
    std::string list;
    for (const auto& f : missing) list += (list.empty() ? "" : ", ") + f;
    return invalid("REQUIRED_FIELD_MISSING", "Required fields are missing: [" + list + "]", missing);
  }
  auto excluded = [&](const std::string& field, const std::string& value) {
    auto it = schema.not_for_record_type.find(field);
    return it != schema.not_for_record_type.end() && it->second.count(value) > 0;
  };
  for (const auto& [field, values] : schema.picklists)
    if (canonical.contains(field) && !canonical[field].is_null() &&
        (!canonical[field].is_string() || !values.count(canonical[field].get<std::string>()) ||
         excluded(field, canonical[field].get<std::string>())))
      return invalid("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                     field + ": bad value for restricted picklist field: " + as_text(canonical[field]), {field});
  if (check_unique)
    for (const auto& [field, unique] : schema.external_ids) {
      if (!unique || !canonical.contains(field) || blank(canonical[field])) continue;
      for (size_t position : rows_with(table, field, as_text(canonical[field])))
        if (const json& row = table.rows[position]; row["Id"] != self_id && !row.value("IsDeleted", false))
          return invalid("DUPLICATE_VALUE",
                         "duplicate value found: " + field + " duplicates value on record with id: " +
                             row["Id"].get<std::string>(),
                         {field});
    }
  if (check_unique && !schema.unique_together.empty() && has_values(canonical, schema.unique_together)) {
    std::vector<size_t> candidates;  // the rows sharing the rarest of the values
    for (size_t k = 0; k < schema.unique_together.size(); ++k) {
      auto rows = rows_with(table, schema.unique_together[k], as_text(canonical[schema.unique_together[k]]));
      if (k == 0 || rows.size() < candidates.size()) candidates = std::move(rows);
    }
    if (auto twin = same_values(table, candidates, canonical, schema.unique_together, self_id))
      return invalid("DUPLICATE_VALUE", "Already a campaign member. (duplicate of record with id: " + *twin + ")", {});
  }
  fields = std::move(canonical);
  return std::nullopt;
}

std::variant<FakeSalesforce::Saved, FakeSalesforce::Error> FakeSalesforce::create_row(Table& table, json fields,
                                                                                      bool check_unique) {
  if (auto error = check_fields(table, fields, true, {}, check_unique)) return *error;
  std::string stamp = next_stamp();
  std::string id = new_id(table.declared ? table.schema.key_prefix : "a00");
  fields["Id"] = id;
  fields["CreatedDate"] = stamp;
  fields["LastModifiedDate"] = stamp;
  fields["SystemModstamp"] = stamp;
  fields["IsDeleted"] = false;
  table.rows.push_back(std::move(fields));
  index_row(table, table.rows.size() - 1);
  return Saved{id, true};
}

std::variant<FakeSalesforce::Saved, FakeSalesforce::Error> FakeSalesforce::update_row(Table& table, const std::string& id,
                                                                                      json fields) {
  json* row = find_row(table, id);
  if (!row) return Error{404, "NOT_FOUND", "The requested resource does not exist", {}, {}};
  if (row->value("IsDeleted", false)) return Error{404, "ENTITY_IS_DELETED", "entity is deleted", {}, {}};
  if (auto error = check_fields(table, fields, false, (*row)["Id"], true)) return *error;
  for (auto it = fields.begin(); it != fields.end(); ++it) (*row)[it.key()] = it.value();
  std::string stamp = next_stamp();
  (*row)["LastModifiedDate"] = stamp;
  (*row)["SystemModstamp"] = stamp;
  index_row(table, static_cast<size_t>(row - table.rows.data()));
  return Saved{(*row)["Id"], false};
}

std::variant<FakeSalesforce::Saved, FakeSalesforce::Error> FakeSalesforce::upsert_row(Table& table,
                                                                                      const std::string& field_name,
                                                                                      const std::string& value,
                                                                                      json fields) {
  std::string field = field_name;
  if (table.declared) {
    auto resolved = table.schema.resolve(field_name);
    if (!resolved || !table.schema.external_ids.count(*resolved))
      return Error{404, "NOT_FOUND",
                   "Provided external ID field does not exist or is not accessible: " + field_name, {}, {}};
    field = *resolved;
  }
  std::vector<json*> matches;
  for (size_t position : rows_with(table, field, value))
    if (!table.rows[position].value("IsDeleted", false)) matches.push_back(&table.rows[position]);
  if (matches.size() > 1) {
    json urls = json::array();
    for (auto* row : matches) urls.push_back(url_of(table, (*row)["Id"]));
    return Error{300, "MULTIPLE_CHOICES", "more than one record found for external id field", {}, urls};
  }
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it)
      if (iequals(it.key(), field)) {
        fields.erase(it);
        break;
      }
    fields[field] = value;
  }
  if (matches.empty()) return create_row(table, std::move(fields));
  return update_row(table, (*matches.front())["Id"], std::move(fields));
}

std::string FakeSalesforce::insert(const std::string& object, json fields) {
  std::lock_guard lock(mu_);
  Table& table = table_for_write(object);
  json system = json::object();
  for (const auto& f : SObjectSchema::system_fields())
    if (fields.is_object() && fields.contains(f) && f != "Id") {
      system[f] = fields[f];
      fields.erase(f);
    }
  auto result = create_row(table, std::move(fields), false);
  if (auto* error = std::get_if<Error>(&result)) throw std::invalid_argument(error->code + ": " + error->message);
  std::string id = std::get<Saved>(result).id;
  json* row = find_row(table, id);
  row->update(system);
  index_row(table, static_cast<size_t>(row - table.rows.data()));
  return id;
}

json FakeSalesforce::record(const std::string& object, const std::string& id) const {
  std::lock_guard lock(mu_);
  auto* self = const_cast<FakeSalesforce*>(this);
  Table* table = self->find_table(object);
  json* row = table ? self->find_row(*table, id) : nullptr;
  return row ? *row : json();
}

std::vector<json> FakeSalesforce::records(const std::string& object) const {
  std::lock_guard lock(mu_);
  Table* table = const_cast<FakeSalesforce*>(this)->find_table(object);
  return table ? table->rows : std::vector<json>{};
}

void FakeSalesforce::edit(const std::string& object, const std::string& id, json fields) {
  std::lock_guard lock(mu_);
  Table* table = find_table(object);
  json* row = table ? find_row(*table, id) : nullptr;
  if (!row) throw std::out_of_range("FakeSalesforce::edit: no " + object + " " + id);
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    auto name = table->declared ? table->schema.resolve(it.key()) : std::optional<std::string>(it.key());
    (*row)[name.value_or(it.key())] = it.value();
  }
  std::string stamp = next_stamp();
  (*row)["LastModifiedDate"] = stamp;
  (*row)["SystemModstamp"] = stamp;
  index_row(*table, static_cast<size_t>(row - table->rows.data()));
}

void FakeSalesforce::set_next_records_origin(std::string origin) {
  std::lock_guard lock(mu_);
  next_records_origin_ = std::move(origin);
}

void FakeSalesforce::set_batch_size(int n) {
  std::lock_guard lock(mu_);
  options_.batch_size = n;
}

void FakeSalesforce::serve_raw_records(const std::string& object, std::vector<json> records) {
  std::lock_guard lock(mu_);
  raw_records_[object] = std::move(records);
}

int FakeSalesforce::api_requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

int FakeSalesforce::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

FakeResponse FakeSalesforce::handle(const FakeRequest& request) {
  int used;
  {
    std::lock_guard lock(mu_);
    used = ++requests_;
  }
  auto response = [&]() -> FakeResponse {
    if (auto fault = faults_.take([](int status) {
          return json::array({{{"message", "Injected failure"}, {"errorCode", error_code_for(status)}}}).dump();
        }))
      return *fault;
    auto auth = request.header("Authorization");
    if (!auth.starts_with("Bearer ") || (options_.validate_token && !options_.validate_token(auth.substr(7))))
      return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid");
    auto segments = split_path(request.path);
    if (segments.size() < 3 || segments[0] != "services" || segments[1] != "data" ||
        segments[2] != options_.api_version)
      return sf_error(404, "NOT_FOUND", "The requested resource does not exist");
    return route(request, std::vector<std::string>(segments.begin() + 3, segments.end()));
  }();
  // Every answer carries the server's Date (RFC 9110 section 6.6.1): the connector anchors its
  // pull cursor on it.
  response.headers.emplace_back("Date", format_http_date(clock_.now()));
  response.headers.emplace_back("Sforce-Limit-Info",
                                "api-usage=" + std::to_string(used) + "/" + std::to_string(options_.daily_api_limit));
  return response;
}

FakeResponse FakeSalesforce::route(const FakeRequest& request, const std::vector<std::string>& s) {
  const std::string& m = request.method;
  if (!s.empty() && (s[0] == "query" || s[0] == "queryAll") && m == "GET") {
    if (s.size() == 1) return query(request, s[0] == "queryAll");
    if (s.size() == 2) return next_batch(s[1]);
  }
  if (!s.empty() && s[0] == "composite" && s.size() >= 2 && s[1] == "sobjects") return collections(request, s);
  if (s.size() < 2 || s[0] != "sobjects") return sf_error(404, "NOT_FOUND", "The requested resource does not exist");

  std::lock_guard lock(mu_);
  json body;
  if (m == "POST" || m == "PATCH") {
    body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return sf_error(400, "JSON_PARSER_ERROR", "The request body is not a valid JSON object");
  }
  if (s.size() == 2) {  // /sobjects/{Obj}
    if (m != "POST") return sf_error(405, "METHOD_NOT_ALLOWED", "HTTP Method '" + m + "' not allowed. Allowed are POST");
    Table& table = table_for_write(s[1]);
    auto result = create_row(table, std::move(body));
    if (auto* error = std::get_if<Error>(&result)) return sf_error(*error);
    auto& saved = std::get<Saved>(result);
    ++writes_;
    emit("created " + table.name + " " + saved.id + " \"" + display_name(*find_row(table, saved.id)) + "\"");
    return FakeResponse::json(201, {{"id", saved.id}, {"success", true}, {"errors", json::array()}});
  }
  Table* table = find_table(s[1]);
  if (!table) return sf_error(404, "NOT_FOUND", "The requested resource does not exist");
  if (s.size() == 3 && s[2] == "describe" && m == "GET") return FakeResponse::json(200, describe(*table));
  if (s.size() == 3) {  // /sobjects/{Obj}/{id}
    const std::string& id = s[2];
    if (m == "GET") {
      json* row = find_row(*table, id);
      if (!row || row->value("IsDeleted", false))
        return sf_error(404, "NOT_FOUND", "The requested resource does not exist");
      std::vector<std::string> fields;
      std::string list = request.param("fields");
      for (size_t pos = 0; !list.empty() && pos <= list.size();) {
        auto comma = list.find(',', pos);
        std::string name = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        pos = comma == std::string::npos ? list.size() + 1 : comma + 1;
        auto resolved = table->declared ? table->schema.resolve(name) : std::optional<std::string>(name);
        if (!resolved)
          return sf_error(400, "INVALID_FIELD", "No such column '" + name + "' on entity '" + table->name + "'");
        fields.push_back(*resolved);
      }
      return FakeResponse::json(200, project(*table, *row, fields));
    }
    if (m == "PATCH") {
      auto result = update_row(*table, id, body);
      if (auto* error = std::get_if<Error>(&result)) return sf_error(*error);
      ++writes_;
      std::string changed;
      for (auto it = body.begin(); it != body.end(); ++it)
        if (it.key() != "attributes") changed += (changed.empty() ? "" : ", ") + it.key();
      emit("updated " + table->name + " " + std::get<Saved>(result).id + " " + changed);
      return FakeResponse{204, {}, {}};
    }
    if (m == "DELETE") {
      json* row = find_row(*table, id);
      if (!row) return sf_error(404, "NOT_FOUND", "The requested resource does not exist");
      if (row->value("IsDeleted", false)) return sf_error(404, "ENTITY_IS_DELETED", "entity is deleted");
      (*row)["IsDeleted"] = true;
      std::string stamp = next_stamp();
      (*row)["LastModifiedDate"] = stamp;
      (*row)["SystemModstamp"] = stamp;
      ++writes_;
      emit("deleted " + table->name + " " + (*row)["Id"].get<std::string>());
      return FakeResponse{204, {}, {}};
    }
    return sf_error(405, "METHOD_NOT_ALLOWED", "HTTP Method '" + m + "' not allowed");
  }
  if (s.size() == 4) {  // /sobjects/{Obj}/{ExtIdField}/{value}
    if (m == "GET") {
      auto field = table->declared ? table->schema.resolve(s[2]) : std::optional<std::string>(s[2]);
      if (!field) return sf_error(404, "NOT_FOUND", "The requested resource does not exist");
      std::vector<json*> matches;
      for (size_t position : rows_with(*table, *field, s[3]))
        if (!table->rows[position].value("IsDeleted", false)) matches.push_back(&table->rows[position]);
      if (matches.empty()) return sf_error(404, "NOT_FOUND", "The requested resource does not exist");
      if (matches.size() > 1) {
        json urls = json::array();
        for (auto* row : matches) urls.push_back(url_of(*table, (*row)["Id"]));
        return FakeResponse::json(300, urls);
      }
      return FakeResponse::json(200, project(*table, *matches.front(), {}));
    }
    if (m != "PATCH") return sf_error(405, "METHOD_NOT_ALLOWED", "HTTP Method '" + m + "' not allowed");
    auto result = upsert_row(*table, s[2], s[3], body);
    if (auto* error = std::get_if<Error>(&result)) return sf_error(*error);
    auto& saved = std::get<Saved>(result);
    ++writes_;
    emit(std::string(saved.created ? "created " : "updated ") + table->name + " " + saved.id + " \"" +
         display_name(*find_row(*table, saved.id)) + "\" (upsert " + s[2] + "=" + s[3] + ")");
    json reply = {{"id", saved.id}, {"success", true}, {"errors", json::array()}, {"created", saved.created}};
    return FakeResponse::json(saved.created ? 201 : 200, reply);
  }
  return sf_error(404, "NOT_FOUND", "The requested resource does not exist");
}

FakeResponse FakeSalesforce::query(const FakeRequest& request, bool include_deleted) {
  if (!request.query.count("q")) return sf_error(400, "MALFORMED_QUERY", "The query parameter q is required");
  auto parsed = parse_soql(request.query.at("q"));
  if (auto* error = std::get_if<std::string>(&parsed)) return sf_error(400, "MALFORMED_QUERY", *error);
  auto& q = std::get<SoqlQuery>(parsed);

  size_t batch = static_cast<size_t>(std::max(1, options_.batch_size));
  auto query_options = request.header("Sforce-Query-Options");
  if (auto at = query_options.find("batchSize="); at != std::string::npos) {
    int n = 0;
    auto begin = query_options.data() + at + 10;
    auto [p, ec] = std::from_chars(begin, query_options.data() + query_options.size(), n);
    if (ec != std::errc() || n <= 0) return sf_error(400, "INVALID_QUERY_OPTIONS", "batchSize must be positive");
    // A request, not a promise: Salesforce may answer with fewer (batch_size caps it here).
    batch = std::min(batch, static_cast<size_t>(n));
  }

  for (auto& child : q.children) {
    if (child.relationship != "Tasks" && child.relationship != "Events")
      return sf_error(400, "INVALID_TYPE", "Didn't understand relationship '" + child.relationship +
                                               "' in FROM part of query call.");
    if (child.where) soql_resolve_today(*child.where, std::chrono::floor<std::chrono::days>(clock_.now()));
  }
  std::lock_guard lock(mu_);
  Table* table = find_table(q.object);
  if (!table) return sf_error(400, "INVALID_TYPE", "sObject type '" + q.object + "' is not supported.");
  if (table->declared)
    for (auto* field : q.field_refs()) {
      if (auto dot = field->find('.'); dot != std::string::npos) {
        if (!lookup_field(*table, field->substr(0, dot)))
          return sf_error(400, "INVALID_FIELD", "Didn't understand relationship '" + field->substr(0, dot) +
                                                    "' in field path. If you are attempting to use a custom "
                                                    "relationship, be sure to append the '__r' after the custom "
                                                    "relationship name.");
        continue;
      }
      auto resolved = table->schema.resolve(*field);
      if (!resolved)
        return sf_error(400, "INVALID_FIELD", "No such column '" + *field + "' on entity '" + table->name +
                                                  "'. If you are attempting to use a custom field, be sure to "
                                                  "append the '__c' after the custom field name.");
      *field = *resolved;
    }
  std::vector<const json*> rows;
  auto consider = [&](const json& row) {
    if ((include_deleted || !row.value("IsDeleted", false)) && (!q.where || soql_matches(*q.where, row)))
      rows.push_back(&row);
  };
  if (auto ids = q.where ? required_ids(*q.where) : std::nullopt) {
    std::vector<size_t> positions;  // the rows that may hold one of the ids, in creation order
    for (const auto& id : *ids) {
      auto found = rows_with(*table, "Id", id, false);
      positions.insert(positions.end(), found.begin(), found.end());
    }
    std::sort(positions.begin(), positions.end());
    positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
    for (size_t position : positions) consider(table->rows[position]);
  } else {
    for (const auto& row : table->rows) consider(row);
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const json* a, const json* b) { return soql_before(q.order_by, *a, *b); });
  size_t offset = std::min(rows.size(), static_cast<size_t>(q.offset.value_or(0)));
  size_t end = q.limit ? std::min(rows.size(), offset + static_cast<size_t>(*q.limit)) : rows.size();

  Cursor cursor{{}, batch};
  for (size_t i = offset; i < end; ++i) {
    cursor.records.push_back(project(*table, *rows[i], q.fields));
    for (const auto& child : q.children)
      cursor.records.back()[child.relationship] = child_records(child, (*rows[i])["Id"].get<std::string>());
  }
  if (auto raw = raw_records_.find(table->name); raw != raw_records_.end())
    cursor.records.insert(cursor.records.end(), raw->second.begin(), raw->second.end());
  json body = {{"totalSize", cursor.records.size()}, {"done", true}, {"records", json::array()}};
  for (size_t i = 0; i < cursor.records.size() && i < batch; ++i) body["records"].push_back(cursor.records[i]);
  if (cursor.records.size() > batch) {
    char locator[32];
    std::snprintf(locator, sizeof locator, "01gFAKE%08ld", next_cursor_++);
    body["done"] = false;
    body["nextRecordsUrl"] = next_records_origin_ + data_path() + "/query/" + locator + "-" + std::to_string(batch);
    cursors_[locator] = std::move(cursor);
  }
  return FakeResponse::json(200, body);
}

// "Using Relationship Queries" (SOQL and SOSL Reference,
// https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_relationships_query_using.htm):
// a parent-to-child subquery nests the children under the relationship (the child's plural name)
// as a QueryResult, null when there is none. Tasks and Events point to a Lead through WhoId.
json FakeSalesforce::child_records(const SoqlChildQuery& child, const std::string& parent_id) {
  Table* table = find_table(child.relationship.substr(0, child.relationship.size() - 1));  // Tasks -> Task
  if (!table) return nullptr;
  json records = json::array();
  for (size_t position : rows_with(*table, "WhoId", parent_id))
    if (const json& row = table->rows[position]; row.value("WhoId", json()) == parent_id && !row.value("IsDeleted", false) &&
        (!child.where || soql_matches(*child.where, row)))
      records.push_back(project(*table, row, child.fields));
  if (records.empty()) return nullptr;
  return {{"totalSize", records.size()}, {"done", true}, {"records", records}};
}

FakeResponse FakeSalesforce::next_batch(const std::string& locator_and_offset) {
  auto dash = locator_and_offset.rfind('-');
  std::string locator = locator_and_offset.substr(0, dash);
  size_t offset = 0;
  if (dash != std::string::npos) {
    auto text = locator_and_offset.substr(dash + 1);
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), offset);
    if (ec != std::errc() || p != text.data() + text.size()) dash = std::string::npos;
  }
  std::lock_guard lock(mu_);
  auto it = cursors_.find(locator);
  if (dash == std::string::npos || it == cursors_.end() || offset > it->second.records.size())
    return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
  const Cursor& cursor = it->second;
  json body = {{"totalSize", cursor.records.size()}, {"done", true}, {"records", json::array()}};
  size_t end = std::min(cursor.records.size(), offset + cursor.batch);
  for (size_t i = offset; i < end; ++i) body["records"].push_back(cursor.records[i]);
  if (end < cursor.records.size()) {
    body["done"] = false;
    body["nextRecordsUrl"] = next_records_origin_ + data_path() + "/query/" + locator + "-" + std::to_string(end);
  }
  return FakeResponse::json(200, body);
}

// GET /sobjects/{Obj}/describe: the fields with their updateable flag and picklist values, in
// the shape of Salesforce's DescribeSObjectResult (the parts a client reads).
json FakeSalesforce::describe(const Table& table) const {
  json fields = json::array();
  auto add = [&](const std::string& name, bool system) {
    json f = {{"name", name},
              {"updateable", !system},
              {"createable", !system},
              {"nillable", !table.schema.required.count(name)},
              {"externalId", table.schema.external_ids.count(name) > 0},
              {"type", "string"},
              {"length", 255},
              {"picklistValues", json::array()}};
    // DescribeFieldResult length: the maximum size in Unicode characters; 0 for non-text fields.
    // https://developer.salesforce.com/docs/platform/apex-ref/references/apex-ref/apex-methods-system-fields-describe.html
    if (auto it = table.schema.lengths.find(name); it != table.schema.lengths.end()) {
      f["length"] = it->second;
      if (it->second > 255) f["type"] = "textarea";
    }
    if (system) f["length"] = 0;
    if (auto it = table.schema.picklists.find(name); it != table.schema.picklists.end()) {
      f["type"] = "picklist";
      for (const auto& v : it->second)
        f["picklistValues"].push_back({{"active", true}, {"defaultValue", false}, {"label", v}, {"validFor", nullptr},
                                       {"value", v}});
      if (auto inactive = table.schema.inactive_picklist_values.find(name);
          inactive != table.schema.inactive_picklist_values.end())
        for (const auto& v : inactive->second)
          f["picklistValues"].push_back({{"active", false}, {"defaultValue", false}, {"label", v},
                                         {"validFor", nullptr}, {"value", v}});
    }
    fields.push_back(f);
  };
  for (const auto& f : SObjectSchema::system_fields()) add(f, true);
  for (const auto& f : table.schema.fields) add(f, false);
  return {{"name", table.name}, {"keyPrefix", table.schema.key_prefix}, {"updateable", true}, {"createable", true},
          {"fields", fields}};
}

// sObject Collections: POST (create), PATCH (update by id), PATCH .../{Obj}/{ExtIdField} (upsert).
FakeResponse FakeSalesforce::collections(const FakeRequest& request, const std::vector<std::string>& s) {
  const std::string& m = request.method;
  bool is_upsert = s.size() == 4 && m == "PATCH";
  if (!((s.size() == 2 && (m == "POST" || m == "PATCH")) || is_upsert))
    return sf_error(404, "NOT_FOUND", "The requested resource does not exist");
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("records") || !body["records"].is_array())
    return sf_error(400, "JSON_PARSER_ERROR", "The request body needs a records array");
  const json& records = body["records"];
  if (records.size() > kCollectionLimit)
    return sf_error(400, "EXCEEDED_ID_LIMIT", "record limit exceeded: the maximum is 200");
  bool all_or_none = body.value("allOrNone", false);

  std::lock_guard lock(mu_);
  // For an allOrNone rollback (a copy of every table: only when asked for).
  std::optional<std::map<std::string, Table>> saved_tables;
  if (all_or_none) saved_tables = tables_;
  json results = json::array();
  std::vector<std::string> lines;
  bool failed = false;
  for (const auto& record : records) {
    json fields = record;
    std::string type = is_upsert ? s[2] : "";
    if (fields.is_object() && fields.contains("attributes") && fields["attributes"].contains("type"))
      type = fields["attributes"]["type"].get<std::string>();
    std::variant<Saved, Error> result = Error{400, "INVALID_TYPE", "Each record needs attributes.type", {}, {}};
    if (fields.is_object() && !type.empty()) {
      Table& table = table_for_write(type);
      if (is_upsert) {
        auto field = table.declared ? table.schema.resolve(s[3]) : std::optional<std::string>(s[3]);
        json value = field && fields.contains(*field) ? fields[*field] : json();
        if (value.is_null())
          result = Error{400, "MISSING_ARGUMENT", s[3] + " not specified", {s[3]}, {}};
        else
          result = upsert_row(table, s[3], as_text(value), fields);
        // Per record, several matches are DUPLICATE_EXTERNAL_ID naming them (a single upsert answers 300).
        if (auto* error = std::get_if<Error>(&result); error && error->status == 300) {
          std::string ids;
          for (const auto& url : error->body)
            ids += (ids.empty() ? "" : ", ") + url.get<std::string>().substr(url.get<std::string>().rfind('/') + 1);
          result = Error{400, "DUPLICATE_EXTERNAL_ID",
                         s[3] + ": more than one record found for external id field: [" + ids + "]", {s[3]}, {}};
        }
      } else if (m == "POST") {
        result = create_row(table, fields);
      } else {
        std::string id = fields.value("id", fields.value("Id", ""));
        fields.erase("id");
        fields.erase("Id");
        result = id.empty() ? std::variant<Saved, Error>(Error{400, "MISSING_ARGUMENT", "Id not specified in an update call", {"Id"}, {}})
                            : update_row(table, id, fields);
      }
      if (auto* saved = std::get_if<Saved>(&result))
        lines.push_back(std::string(saved->created ? "created " : "updated ") + table.name + " " + saved->id +
                        " \"" + display_name(*find_row(table, saved->id)) + "\" (collection)");
    }
    if (auto* error = std::get_if<Error>(&result)) {
      failed = true;
      results.push_back({{"success", false},
                         {"errors", json::array({{{"statusCode", error->code}, {"message", error->message}, {"fields", error->fields}}})}});
    } else {
      auto& saved = std::get<Saved>(result);
      json r = {{"id", saved.id}, {"success", true}, {"errors", json::array()}};
      if (is_upsert) r["created"] = saved.created;
      results.push_back(r);
    }
  }
  if (failed && all_or_none) {
    tables_ = std::move(*saved_tables);
    for (auto& r : results)
      if (r["success"] == true)
        r = {{"success", false},
             {"errors", json::array({{{"statusCode", "ALL_OR_NONE_OPERATION_ROLLED_BACK"},
                                      {"message", "Record rolled back because not all records were valid and the "
                                                  "request was using AllOrNone header"},
                                      {"fields", json::array()}}})}};
    return FakeResponse::json(200, results);
  }
  writes_ += static_cast<int>(lines.size());
  for (const auto& line : lines) emit(line);
  return FakeResponse::json(200, results);
}

}  // namespace cosync::fakes
