#include "tests/fakes/fake_dataverse.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <functional>
#include <regex>
#include <stdexcept>
#include <utility>

#include "daemon/util/multipart.hpp"
#include "daemon/util/time.hpp"
#include "tests/fakes/random_ids.hpp"

namespace cosync::fakes {

using nlohmann::json;
using Result = FakeDataverse::Result;

namespace {

Result error(int status, const std::string& code, const std::string& message) {
  json body = {{"error", {{"code", code}, {"message", message}}}};
  return Result{status, {{"Content-Type", "application/json; odata.metadata=minimal"}, {"OData-Version", "4.0"}},
                body.dump()};
}

Result json_result(int status, const json& body) {
  return Result{status, {{"Content-Type", "application/json; odata.metadata=minimal"}, {"OData-Version", "4.0"}},
                body.dump()};
}

std::string lower(std::string s) { return multipart::lowercase(std::move(s)); }

std::string header_of(const HeaderList& headers, std::string_view name) { return find_header(headers, name); }

struct Prefer {
  bool track_changes = false;
  bool representation = false;
  bool continue_on_error = false;
  int max_page_size = 0;
};

Prefer parse_prefer(const HeaderList& headers) {
  Prefer p;
  for (const auto& [name, value] : headers) {
    if (lower(name) != "prefer") continue;
    std::string v = lower(value);
    p.track_changes |= v.find("odata.track-changes") != std::string::npos;
    p.representation |= v.find("return=representation") != std::string::npos;
    p.continue_on_error |= v.find("odata.continue-on-error") != std::string::npos;
    auto at = v.find("odata.maxpagesize=");
    if (at != std::string::npos) {
      const char* begin = v.data() + at + 18;
      std::from_chars(begin, v.data() + v.size(), p.max_page_size);
    }
  }
  return p;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int value = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out += static_cast<char>(value);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string seconds_iso(TimePoint t) {
  std::string text = format_iso8601(t);  // 2024-05-01T10:20:30.123Z
  return text.substr(0, 19) + "Z";        // Dataverse: whole seconds
}

std::string status_text(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 412: return "Precondition Failed";
    case 429: return "Too Many Requests";
    default: return "Status";
  }
}

using multipart::boundary_of;
using multipart::lines_of;
using multipart::split_head;
using Part = multipart::Part;

std::string render_http_part(const Result& r, const std::string& content_id) {
  std::string out = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n";
  if (!content_id.empty()) out += "Content-ID: " + content_id + "\r\n";
  out += "\r\nHTTP/1.1 " + std::to_string(r.status) + " " + status_text(r.status) + "\r\n";
  for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
  out += "\r\n" + r.body + "\r\n";
  return out;
}

std::vector<std::string> expand_select(const std::string& expand, const std::string& navigation);

// One comparison of a string $filter: `<column> eq '<value>'` or `contains(<column>,'<value>')`.
struct StringTerm {
  std::string column;
  bool contains = false;
  std::string value;
};

// A $filter of string comparisons joined by `or`, as "Filter rows using OData" describes them
// (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/filter-rows):
// eq and contains(), a single quote inside a literal doubled ('O''Brien'). nullopt with `why`
// for anything else, as the service refuses a malformed literal (an undoubled quote) with 400.
std::optional<std::vector<StringTerm>> parse_string_filter(const std::string& f, std::string& why) {
  std::vector<StringTerm> terms;
  std::size_t i = 0;
  auto skip_spaces = [&] {
    while (i < f.size() && f[i] == ' ') ++i;
  };
  auto identifier = [&] {
    std::string name;
    while (i < f.size() && (std::isalnum(static_cast<unsigned char>(f[i])) || f[i] == '_')) name += f[i++];
    return name;
  };
  auto literal = [&]() -> std::optional<std::string> {
    if (i >= f.size() || f[i] != '\'') return std::nullopt;
    std::string value;
    for (++i; i < f.size(); ++i) {
      if (f[i] != '\'') value += f[i];
      else if (i + 1 < f.size() && f[i + 1] == '\'') value += f[i++];
      else return ++i, value;
    }
    return std::nullopt;  // unterminated
  };
  while (true) {
    skip_spaces();
    StringTerm t;
    if (f.compare(i, 9, "contains(") == 0) {
      i += 9;
      t.contains = true;
      t.column = identifier();
      if (i >= f.size() || f[i++] != ',') return why = "expected ',' at position " + std::to_string(i), std::nullopt;
      auto v = literal();
      if (!v || i >= f.size() || f[i++] != ')') return why = "bad literal near position " + std::to_string(i), std::nullopt;
      t.value = *v;
    } else {
      t.column = identifier();
      skip_spaces();
      if (f.compare(i, 3, "eq ") != 0) return why = "expected 'eq' at position " + std::to_string(i), std::nullopt;
      i += 3;
      skip_spaces();
      auto v = literal();
      if (!v) return why = "bad literal near position " + std::to_string(i), std::nullopt;
      t.value = *v;
    }
    if (t.column.empty()) return why = "expected a property name", std::nullopt;
    terms.push_back(std::move(t));
    skip_spaces();
    if (i == f.size()) return terms;
    if (f.compare(i, 3, "or ") != 0) return why = "expected 'or' at position " + std::to_string(i), std::nullopt;
    i += 3;
  }
}

// Whether a row satisfies one of the terms, comparing as the service does: ignoring case.
bool matches_any(const std::vector<StringTerm>& terms, const json& row) {
  for (const auto& t : terms) {
    const auto& v = row.contains(t.column) ? row[t.column] : json();
    if (!v.is_string()) continue;
    std::string text = lower(v.get<std::string>()), wanted = lower(t.value);
    if (t.contains ? text.find(wanted) != std::string::npos : text == wanted) return true;
  }
  return false;
}

// "a($select=x,y),b" -> {"a($select=x,y)", "b"}: the items of an $expand, commas inside () kept.
std::vector<std::string> expand_items(const std::string& text) {
  std::vector<std::string> out(1);
  int depth = 0;
  for (char c : text) {
    depth += c == '(' ? 1 : c == ')' ? -1 : 0;
    if (c == ',' && depth == 0) out.emplace_back();
    else out.back() += c;
  }
  return out;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size() && !text.empty()) {
    auto comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

FakeDataverse::Column col(std::string type, bool writable = true) {
  FakeDataverse::Column c;
  c.type = std::move(type);
  c.valid_for_create = c.valid_for_update = writable;
  return c;
}

FakeDataverse::Column status_col(std::map<int, std::string> options, std::map<int, int> state) {
  FakeDataverse::Column c = col("Status");
  c.options = std::move(options);
  c.status_state = std::move(state);
  return c;
}

FakeDataverse::Column options_col(std::string type, std::map<int, std::string> options) {
  FakeDataverse::Column c = col(std::move(type));
  c.options = std::move(options);
  return c;
}

// statecode: a row is created in its first state (Open) and moved by an update (IsValidForCreate
// false, IsValidForUpdate true, as the lead and opportunity definitions say:
// https://learn.microsoft.com/dynamics365/sales/developer/entities/lead, StateCode).
FakeDataverse::Column state_col(std::map<int, std::string> options) {
  FakeDataverse::Column c = options_col("State", std::move(options));
  c.valid_for_create = false;
  return c;
}

std::map<std::string, FakeDataverse::Column> common_columns(const std::string& key) {
  return {{key, col("Uniqueidentifier", false)},      {"createdon", col("DateTime", false)},
          {"modifiedon", col("DateTime", false)},     {"versionnumber", col("BigInt", false)},
          {"cosync_referralid", col("String")},       {"description", col("Memo")}};
}

// A table with the columns every mapped table has (its key, timestamps, version, link, description).
FakeDataverse::Table table_with_common_columns(std::string entity_set, std::string logical_name, std::string key) {
  FakeDataverse::Table t;
  t.entity_set = std::move(entity_set);
  t.logical_name = std::move(logical_name);
  t.key = std::move(key);
  t.columns = common_columns(t.key);
  return t;
}

FakeDataverse::Table lead_table() {
  auto t = table_with_common_columns("leads", "lead", "leadid");
  for (const char* c : {"subject", "firstname", "lastname", "companyname", "emailaddress1", "address1_country"})
    t.columns[c] = col("String");
  t.columns["subject"].max_length = 300;  // lead.subject (Topic) in a standard org
  t.columns["revenue"] = col("Money");
  t.columns["leadsourcecode"] =
      options_col("Picklist", {{1, "Advertisement"}, {2, "Employee Referral"}, {3, "External Referral"},
                               {4, "Partner"}, {5, "Public Relations"}, {6, "Seminar"}, {7, "Trade Show"},
                               {8, "Web"}, {9, "Word of Mouth"}, {10, "Other"}});
  // The owner (a user or a team: the lead's ownerid is an Owner lookup, set on create with
  // "ownerid@odata.bind": "/teams(<guid>)" or "/systemusers(<guid>)"; lead table reference:
  // https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/lead).
  t.columns["_ownerid_value"] = col("Lookup", false);
  // The source campaign (lookup to campaign), so conversion can be reported per campaign.
  t.columns["_campaignid_value"] = col("Lookup", false);
  t.columns["statecode"] = state_col({{0, "Open"}, {1, "Qualified"}, {2, "Disqualified"}});
  t.columns["statuscode"] = status_col(
      {{1, "New"}, {2, "Contacted"}, {3, "Qualified"}, {4, "Lost"}, {5, "Cannot Contact"},
       {6, "No Longer Interested"}, {7, "Canceled"}},
      {{1, 0}, {2, 0}, {3, 1}, {4, 2}, {5, 2}, {6, 2}, {7, 2}});
  return t;
}

FakeDataverse::Table opportunity_table() {
  auto t = table_with_common_columns("opportunities", "opportunity", "opportunityid");
  for (const char* c : {"name", "stepname"}) t.columns[c] = col("String");
  t.columns["estimatedvalue"] = col("Money");
  t.columns["actualvalue"] = col("Money");
  t.columns["estimatedclosedate"] = col("DateTime");
  t.columns["actualclosedate"] = col("DateTime");
  t.columns["closeprobability"] = col("Integer");
  t.columns["salesstage"] = options_col("Picklist", {{0, "Qualify"}, {1, "Develop"}, {2, "Propose"}, {3, "Close"}});
  // Lookups: read as _<name>_value, written as <name>@odata.bind; $expand=<name>(...) reads the row.
  t.columns["_parentaccountid_value"] = col("Lookup", false);
  t.columns["_parentcontactid_value"] = col("Lookup", false);
  // The owning user (a row of systemusers): the opportunity table's owninguser single-valued
  // navigation property (Dataverse table reference, opportunity:
  // https://learn.microsoft.com/en-us/power-apps/developer/data-platform/reference/entities/opportunity).
  t.columns["_owninguser_value"] = col("Lookup", false);
  // A partner's own columns for co-sell sharing (the shipped mapping's share: block).
  t.columns["cosync_sharewithmicrosoft"] = col("Boolean");
  t.columns["cosync_customerconsent"] = col("Boolean");
  t.columns["cosync_cosell_type"] = col("String");
  t.columns["cosync_offering"] = col("String");
  t.columns["cosync_region"] = col("String");
  // ... and for the deal registration's review (the shipped mapping's registration.status).
  t.columns["cosync_registrationstatus"] = col("String");
  t.columns["cosync_registrationreason"] = col("String");
  t.columns["cosync_registrationapproved"] = col("DateTime");
  t.columns["statecode"] = state_col({{0, "Open"}, {1, "Won"}, {2, "Lost"}});
  t.columns["statuscode"] = status_col({{1, "In Progress"}, {2, "On Hold"}, {3, "Won"}, {4, "Canceled"}, {5, "Out-Sold"}},
                                       {{1, 0}, {2, 0}, {3, 1}, {4, 2}, {5, 2}});
  return t;
}

// The related tables a share reads through lookups (Web API: single-valued navigation properties
// parentaccountid and parentcontactid of opportunity).
FakeDataverse::Table account_table() {
  auto t = table_with_common_columns("accounts", "account", "accountid");
  for (const char* c : {"name", "address1_city", "address1_country", "websiteurl"}) t.columns[c] = col("String");
  t.columns["statecode"] = state_col({{0, "Active"}, {1, "Inactive"}});
  t.columns["statuscode"] = status_col({{1, "Active"}, {2, "Inactive"}}, {{1, 0}, {2, 1}});
  return t;
}

FakeDataverse::Table contact_table() {
  auto t = table_with_common_columns("contacts", "contact", "contactid");
  for (const char* c : {"firstname", "lastname", "emailaddress1", "telephone1"}) t.columns[c] = col("String");
  t.columns["statecode"] = state_col({{0, "Active"}, {1, "Inactive"}});
  t.columns["statuscode"] = status_col({{1, "Active"}, {2, "Inactive"}}, {{1, 0}, {2, 1}});
  return t;
}

// Users own rows (systemuser: firstname, lastname, internalemailaddress, the user's primary e-mail;
// https://learn.microsoft.com/en-us/power-apps/developer/data-platform/reference/entities/systemuser).
FakeDataverse::Table systemuser_table() {
  auto t = table_with_common_columns("systemusers", "systemuser", "systemuserid");
  for (const char* c : {"firstname", "lastname", "internalemailaddress"}) t.columns[c] = col("String");
  // (A real systemuser has isdisabled rather than a state; the fake's rows all carry one.)
  t.columns["statecode"] = state_col({{0, "Active"}, {1, "Inactive"}});
  t.columns["statuscode"] = status_col({{1, "Active"}, {2, "Inactive"}}, {{1, 0}, {2, 1}});
  return t;
}

// Marketing campaigns (campaign: name; https://learn.microsoft.com/dynamics365/developer/reference/entities/campaign).
FakeDataverse::Table campaign_table() {
  auto t = table_with_common_columns("campaigns", "campaign", "campaignid");
  t.columns["name"] = col("String");
  return t;
}

// Teams own rows as users do (team: name; https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/team).
FakeDataverse::Table team_table() {
  auto t = table_with_common_columns("teams", "team", "teamid");
  t.columns["name"] = col("String");
  return t;
}

int default_status_for(const FakeDataverse::Column& status, int state) {
  for (const auto& [s, st] : status.status_state)
    if (st == state) return s;
  return -1;
}

}  // namespace

FakeDataverse::FakeDataverse(FakeDataverseOptions options)
    : clock_(options.clock ? *options.clock : system_clock_),
      options_(std::move(options)),
      server_([this](const FakeRequest& r) { return handle(r); }, options_.port) {
  tables_["leads"] = lead_table();
  tables_["opportunities"] = opportunity_table();
  tables_["accounts"] = account_table();
  tables_["contacts"] = contact_table();
  tables_["systemusers"] = systemuser_table();
  tables_["teams"] = team_table();
  tables_["campaigns"] = campaign_table();
}

void FakeDataverse::emit(const std::string& line) const {
  if (options_.on_event) options_.on_event("fake-dataverse: " + line);
}

std::string FakeDataverse::url(const std::string& path_and_query) const {
  return base_url() + service_root() + "/" + path_and_query;
}

FakeDataverse::Table* FakeDataverse::table_by_set(const std::string& entity_set) {
  auto it = tables_.find(entity_set);
  return it == tables_.end() ? nullptr : &it->second;
}

json* FakeDataverse::find_row(Table& table, const std::string& id) {
  for (auto& row : table.rows)
    if (row[table.key] == lower(id)) return &row;
  return nullptr;
}

void FakeDataverse::stamp(Table&, json& row) {
  row["versionnumber"] = ++version_;
  row["modifiedon"] = seconds_iso(clock_.now());
}

std::optional<Result> FakeDataverse::check_columns(const Table& table, const json& columns, bool api,
                                                   const json* existing) const {
  if (!columns.is_object()) return error(400, "0x80048d19", "Error identified in Payload provided by the user for Entity :'" + table.entity_set + "'");
  for (auto it = columns.begin(); it != columns.end(); ++it) {
    if (it.key().find('@') != std::string::npos) continue;  // annotations, e.g. @odata.bind
    auto c = table.columns.find(it.key());
    if (c == table.columns.end())
      return error(400, "0x80060888",
                   "Could not find a property named '" + it.key() + "' on type 'Microsoft.Dynamics.CRM." +
                       table.logical_name + "'.");
    const Column& column = c->second;
    // The table definition is enforced as the service does, in its error shape
    // {"error":{"code":"0x...","message":"..."}} (Troubleshoot Dataverse Web API client errors:
    // https://learn.microsoft.com/troubleshoot/power-platform/power-apps/dataverse/web-api-client-errors).
    if (api && !existing && !column.valid_for_create)
      return error(400, "0x80048d19",
                   "Error identified in Payload provided by the user for Entity :'" + table.entity_set +
                       "', Property '" + it.key() + "': the attribute is not valid for create (IsValidForCreate is false).");
    if (api && existing && !column.valid_for_update)
      return error(400, "0x80040203", "The property '" + it.key() + "' of '" + table.logical_name + "' is read-only.");
    const json& v = it.value();
    if (v.is_null()) continue;
    if (column.type == "Boolean") {
      if (!v.is_boolean())
        return error(400, "0x80048d19", "Error identified in Payload provided by the user for Entity :'" +
                                            table.entity_set + "', Property '" + it.key() + "': a boolean was expected.");
      continue;
    }
    bool numeric = column.type == "Money" || column.type == "Integer" || column.type == "BigInt" ||
                   column.type == "Picklist" || column.type == "State" || column.type == "Status";
    if (numeric && !v.is_number())
      return error(400, "0x80048d19",
                   "Error identified in Payload provided by the user for Entity :'" + table.entity_set +
                       "', Property '" + it.key() + "': cannot convert the literal '" + v.dump() + "' to the expected type 'Edm." +
                       (column.type == "Money" ? "Decimal" : "Int32") + "'.");
    if (!numeric && !v.is_string())
      return error(400, "0x80048d19",
                   "Error identified in Payload provided by the user for Entity :'" + table.entity_set +
                       "', Property '" + it.key() + "': a string was expected.");
    if (!column.options.empty() && (!v.is_number_integer() || !column.options.count(v.get<int>())))
      return error(400, "0x8004431a",
                   "A validation error occurred. The value " + v.dump() + " of '" + it.key() + "' on record of type '" +
                       table.logical_name + "' is outside the valid range.");
  }
  // statecode and statuscode must agree (statuscode options each belong to one state).
  if (!table.columns.contains("statuscode")) return std::nullopt;  // a table without state (team)
  const Column& status = table.columns.at("statuscode");
  int state = columns.contains("statecode") ? columns["statecode"].get<int>()
                                             : (existing ? existing->value("statecode", 0) : 0);
  int status_value = columns.contains("statuscode") && !columns["statuscode"].is_null()
                         ? columns["statuscode"].get<int>()
                         : (columns.contains("statecode") ? default_status_for(status, state)
                                                          : (existing ? existing->value("statuscode", 1) : 1));
  auto owner = status.status_state.find(status_value);
  if (owner == status.status_state.end() || owner->second != state)
    return error(400, "0x8004431a",
                 std::to_string(status_value) + " is not a valid status code for state code " + table.logical_name +
                     "State." + table.columns.at("statecode").options.at(state) + " on " + table.logical_name + ".");
  if (api && table.logical_name == "opportunity" && state != 0 && (!existing || existing->value("statecode", 0) != state))
    return error(400, "0x80040203",
                 "Cannot close the opportunity by setting its state: use the WinOpportunity or LoseOpportunity action.");
  return std::nullopt;
}

json FakeDataverse::project(const Table& table, const json& row, const std::vector<std::string>& select) const {
  json out = {{"@odata.etag", "W/\"" + std::to_string(row.value("versionnumber", 0L)) + "\""}};
  if (select.empty()) {
    for (auto it = row.begin(); it != row.end(); ++it) out[it.key()] = it.value();
    for (const auto& [name, c] : table.columns)
      if (!out.contains(name)) out[name] = nullptr;
  } else {
    for (const auto& c : select) out[c] = row.contains(c) ? row[c] : json();
    out[table.key] = row[table.key];
  }
  return out;
}

// "Retrieve related table rows by expanding navigation properties" (Dataverse Web API,
// https://learn.microsoft.com/en-us/power-apps/developer/data-platform/webapi/retrieve-related-entities-expand-navigation-properties):
// a single-valued navigation property expands to the related row (its $select columns), or null.
std::optional<Result> FakeDataverse::expand_lookups(const Table& table, const json& row, const std::string& expand,
                                                    json& out) {
  for (const auto& item : expand_items(expand)) {
    std::string navigation = item.substr(0, item.find('('));
    if (!table.columns.count("_" + navigation + "_value"))
      return error(400, "0x80060888", "Could not find a property named '" + navigation + "' on type 'Microsoft.Dynamics.CRM." +
                                          table.logical_name + "'.");
    auto id = row.value("_" + navigation + "_value", json());
    out[navigation] = nullptr;
    if (!id.is_string()) continue;
    for (auto& [set, other] : tables_)
      if (json* related = find_row(other, id.get<std::string>())) {
        std::vector<std::string> columns = expand_select(item, navigation);
        out[navigation] = project(other, *related, columns);
        out[navigation].erase("@odata.etag");
      }
  }
  return std::nullopt;
}

std::string FakeDataverse::insert(const std::string& entity_set, json columns) {
  std::lock_guard lock(mu_);
  Table* table = table_by_set(entity_set);
  if (!table) throw std::invalid_argument("FakeDataverse: no table " + entity_set);
  if (auto e = check_columns(*table, columns, false, nullptr)) throw std::invalid_argument(e->body);
  json row = columns;
  std::string id = row.contains(table->key) ? row[table->key].get<std::string>() : random_guid();
  row[table->key] = id;
  if (table->columns.contains("statecode")) {  // a team has no state
    if (!row.contains("statecode")) row["statecode"] = 0;
    if (!row.contains("statuscode")) row["statuscode"] = 1;
  }
  row["createdon"] = seconds_iso(clock_.now());
  stamp(*table, row);
  table->rows.push_back(std::move(row));
  return id;
}

void FakeDataverse::edit(const std::string& entity_set, const std::string& id, json columns) {
  std::lock_guard lock(mu_);
  Table* table = table_by_set(entity_set);
  json* row = table ? find_row(*table, id) : nullptr;
  if (!row) throw std::out_of_range("FakeDataverse::edit: no " + entity_set + " " + id);
  if (auto e = check_columns(*table, columns, false, row)) throw std::invalid_argument(e->body);
  for (auto it = columns.begin(); it != columns.end(); ++it) (*row)[it.key()] = it.value();
  stamp(*table, *row);
}

void FakeDataverse::remove(const std::string& entity_set, const std::string& id) {
  std::lock_guard lock(mu_);
  Table* table = table_by_set(entity_set);
  if (!table || !find_row(*table, id)) throw std::out_of_range("FakeDataverse::remove: no " + entity_set + " " + id);
  std::erase_if(table->rows, [&](const json& r) { return r[table->key] == lower(id); });
  table->deleted.emplace_back(++version_, lower(id));
}

json FakeDataverse::row(const std::string& entity_set, const std::string& id) const {
  std::lock_guard lock(mu_);
  auto* self = const_cast<FakeDataverse*>(this);
  Table* table = self->table_by_set(entity_set);
  json* r = table ? self->find_row(*table, id) : nullptr;
  return r ? *r : json();
}

std::vector<json> FakeDataverse::rows(const std::string& entity_set) const {
  std::lock_guard lock(mu_);
  auto it = tables_.find(entity_set);
  return it == tables_.end() ? std::vector<json>{} : it->second.rows;
}

std::vector<json> FakeDataverse::opportunity_closes() const {
  std::lock_guard lock(mu_);
  return closes_;
}

void FakeDataverse::set_change_tracking(const std::string& entity_set, bool on) {
  std::lock_guard lock(mu_);
  if (Table* t = table_by_set(entity_set)) t->change_tracking = on;
}

void FakeDataverse::add_column(const std::string& entity_set, const std::string& name, const std::string& type) {
  std::lock_guard lock(mu_);
  if (Table* t = table_by_set(entity_set)) t->columns[name] = col(type);
}

void FakeDataverse::add_status_reason(const std::string& entity_set, int value, const std::string& label, int state) {
  std::lock_guard lock(mu_);
  Table* t = table_by_set(entity_set);
  if (!t || !t->columns.contains("statuscode")) return;
  t->columns["statuscode"].options[value] = label;
  t->columns["statuscode"].status_state[value] = state;
}

void FakeDataverse::expire_delta_tokens() {
  std::lock_guard lock(mu_);
  expired_below_ = version_ + 1;
}

void FakeDataverse::rewrite_next_batch_answer(std::function<std::string(std::string)> rewrite) {
  std::lock_guard lock(mu_);
  rewrite_batch_ = std::move(rewrite);
}

int FakeDataverse::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

FakeResponse FakeDataverse::handle(const FakeRequest& request) {
  if (auto fault = faults_.take([](int status) {
        if (status == 429)
          return error(429, "0x80072322",
                       "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
              .body;
        return error(status, "0x80040216", "An unexpected error occurred.").body;
      }))
    return *fault;
  if (options_.validate_token) {
    std::string auth = request.header("Authorization");
    if (!auth.starts_with("Bearer ") || !options_.validate_token(std::string_view(auth).substr(7))) {
      auto r = error(401, "0x80072560", "The user is not a member of the organization.");
      return FakeResponse{401, {{"Content-Type", "application/json"}, {"WWW-Authenticate", "Bearer authorization_uri=https://login.microsoftonline.com/common/oauth2/authorize"}}, r.body};
    }
  }
  std::lock_guard lock(mu_);
  const bool is_batch = request.method == "POST" && request.path == service_root() + "/$batch";
  Result r = is_batch ? batch(request) : execute(request.method, request.path, request.query, request.headers, request.body);
  if (is_batch && rewrite_batch_) r.body = std::exchange(rewrite_batch_, nullptr)(std::move(r.body));
  return FakeResponse{r.status, r.headers, r.body};
}

Result FakeDataverse::list(Table& table, const std::map<std::string, std::string>& query, const HeaderList& headers) {
  Prefer prefer = parse_prefer(headers);
  auto param = [&](const std::string& name) {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  };
  std::string select_text = param("$select");
  auto select = split_list(select_text);
  for (const auto& c : select)
    if (!table.columns.count(c))
      return error(400, "0x80060888",
                   "Could not find a property named '" + c + "' on type 'Microsoft.Dynamics.CRM." + table.logical_name + "'.");

  // $skiptoken is a paging cookie naming the snapshot and the page: "<snapshot>.<page>", so that
  // each page's link differs, as the service's cookies do.
  const std::string skiptoken = param("$skiptoken");
  std::string snapshot_id = skiptoken.substr(0, skiptoken.find('.'));
  if (skiptoken.empty()) {
    Snapshot snap;
    std::string filter = param("$filter");
    std::string delta = param("$deltatoken");
    bool tracking = prefer.track_changes && table.change_tracking && filter.empty();
    if (!delta.empty()) {
      if (!table.change_tracking)
        return error(400, "0x80072491", "Change tracking is not enabled for entity " + table.logical_name + ".");
      long since = 0;
      std::from_chars(delta.data(), delta.data() + delta.size(), since);
      if (since < expired_below_)
        return error(400, "0x80044352", "Version stamp associated with the client has expired. Please perform a full sync.");
      std::vector<std::pair<long, json>> changed;
      for (const auto& row : table.rows)
        if (row.value("versionnumber", 0L) > since) changed.emplace_back(row.value("versionnumber", 0L), project(table, row, select));
      for (const auto& [version, id] : table.deleted)
        if (version > since)
          changed.emplace_back(version, json{{"@odata.context", url("$metadata#" + table.entity_set + "/$deletedEntity")},
                                             {"id", id},
                                             {"reason", "deleted"}});
      std::sort(changed.begin(), changed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (auto& [v, r] : changed) snap.rows.push_back(std::move(r));
      tracking = true;
    } else {
      std::vector<json> rows = table.rows;
      static const std::regex re(R"(modifiedon (ge|gt) (\S+))");
      std::smatch m;
      if (!filter.empty() && !std::regex_search(filter, m, re)) {
        // A lookup by string columns (the account lookup: name eq '...' or ...).
        std::string why;
        auto terms = parse_string_filter(filter, why);
        if (!terms) return error(400, "0x80060888", "Syntax error in $filter: " + why);
        for (const auto& t : *terms)
          if (!table.columns.count(t.column))
            return error(400, "0x80060888", "Could not find a property named '" + t.column +
                                                "' on type 'Microsoft.Dynamics.CRM." + table.logical_name + "'.");
        std::erase_if(rows, [&](const json& r) { return !matches_any(*terms, r); });
      } else if (!filter.empty()) {
        auto since = parse_iso8601(m[2].str());
        if (!since) return error(400, "0x80060888", "The query parameter $filter has an invalid value: " + m[2].str());
        bool strict = m[1] == "gt";
        std::erase_if(rows, [&](const json& r) {
          auto t = parse_iso8601(r.value("modifiedon", ""));
          return !t || (strict ? *t <= *since : *t < *since);
        });
      }
      if (!filter.empty() || lower(param("$orderby")).starts_with("modifiedon"))
        std::stable_sort(rows.begin(), rows.end(), [](const json& a, const json& b) {
          return std::make_pair(a.value("modifiedon", ""), a.value("versionnumber", 0L)) <
                 std::make_pair(b.value("modifiedon", ""), b.value("versionnumber", 0L));
        });
      for (const auto& r : rows) snap.rows.push_back(project(table, r, select));
    }
    if (tracking)
      snap.delta_link = url(table.entity_set + "?$select=" + url_encode(select_text) + "&$deltatoken=" +
                            url_encode(std::to_string(version_) + "!" + format_iso8601(clock_.now())));
    int size = prefer.max_page_size > 0 ? std::min(prefer.max_page_size, options_.max_page_size) : options_.max_page_size;
    snap.page = static_cast<std::size_t>(std::max(1, size));
    snapshot_id = std::to_string(next_snapshot_++);
    snapshots_[snapshot_id] = std::move(snap);
  }
  auto it = snapshots_.find(snapshot_id);
  if (it == snapshots_.end() || (!skiptoken.empty() && skiptoken != snapshot_id + "." + std::to_string(it->second.served + 1)))
    return error(400, "0x80040203", "Invalid paging cookie.");
  Snapshot& snap = it->second;
  ++snap.served;
  std::size_t take = std::min(snap.page, snap.rows.size());
  json body = {{"@odata.context", url("$metadata#" + table.entity_set + "(" + select_text + ")" +
                                      (snap.delta_link.empty() ? "" : "/$delta"))},
               {"value", json::array()}};
  for (std::size_t i = 0; i < take; ++i) body["value"].push_back(std::move(snap.rows[i]));
  snap.rows.erase(snap.rows.begin(), snap.rows.begin() + static_cast<std::ptrdiff_t>(take));
  std::string applied;
  if (!snap.delta_link.empty()) applied = "odata.track-changes";
  if (prefer.max_page_size > 0) applied += std::string(applied.empty() ? "" : ",") + "odata.maxpagesize=" + std::to_string(snap.page);
  if (!snap.rows.empty()) {
    body["@odata.nextLink"] = url(table.entity_set + "?$select=" + url_encode(select_text) + "&$skiptoken=" + snapshot_id + "." +
                                  std::to_string(snap.served + 1));
  } else {
    if (!snap.delta_link.empty()) body["@odata.deltaLink"] = snap.delta_link;
    snapshots_.erase(it);
  }
  auto result = json_result(200, body);
  if (!applied.empty()) result.headers.emplace_back("Preference-Applied", applied);
  return result;
}

namespace {

// A MetadataId that stays the same for the same name, as a real definition's does.
std::string stable_guid(const std::string& name) {
  char text[40];
  auto h = std::hash<std::string>{}(name);
  std::snprintf(text, sizeof text, "%08x-%04x-4%03x-8%03x-%012llx", static_cast<unsigned>(h >> 32),
                static_cast<unsigned>((h >> 16) & 0xffff), static_cast<unsigned>(h & 0xfff),
                static_cast<unsigned>((h >> 20) & 0xfff), static_cast<unsigned long long>(h & 0xffffffffffffULL));
  return text;
}

// StringAttributeMetadata, PicklistAttributeMetadata, ... (the derived type of each column).
std::string metadata_type(const std::string& attribute_type) {
  return (attribute_type == "Uniqueidentifier" ? std::string("UniqueIdentifier") : attribute_type) + "AttributeMetadata";
}

// Which properties of a definition $select keeps (all when there is no $select).
bool selected(const std::vector<std::string>& select, const std::string& property) {
  return select.empty() || std::find(select.begin(), select.end(), property) != select.end();
}

// The $select inside an $expand item: "Attributes($select=A,B)" -> {A, B}.
std::vector<std::string> expand_select(const std::string& expand, const std::string& navigation) {
  auto at = expand.find(navigation + "(");
  if (at == std::string::npos) return {};
  auto close = expand.find(')', at);
  std::string inner = expand.substr(at + navigation.size() + 1, close - at - navigation.size() - 1);
  if (!inner.starts_with("$select=")) return {};
  return split_list(inner.substr(8));
}

bool expands(const std::string& expand, const std::string& navigation) {
  for (const auto& item : split_list(expand))  // "OptionSet($select=Options)" or "OptionSet"
    if (item == navigation || item.starts_with(navigation + "(")) return true;
  return false;
}

// A column as the table definition names it: a lookup read as _parentaccountid_value is the
// attribute parentaccountid, which a create or update sets through its @odata.bind (the
// opportunity definition: https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/opportunity).
std::pair<std::string, FakeDataverse::Column> as_attribute(const std::string& name, const FakeDataverse::Column& c) {
  if (c.type != "Lookup" || !name.starts_with("_") || !name.ends_with("_value")) return {name, c};
  FakeDataverse::Column attribute = c;
  attribute.valid_for_create = attribute.valid_for_update = true;
  return {name.substr(1, name.size() - 7), attribute};
}

}  // namespace

json FakeDataverse::attribute_definition(const std::string& name, const Column& c, const std::vector<std::string>& select,
                                         const std::string& expand) const {
  json a = {{"@odata.type", "#Microsoft.Dynamics.CRM." + metadata_type(c.type)}, {"MetadataId", stable_guid(name)}};
  if (selected(select, "LogicalName")) a["LogicalName"] = name;
  if (selected(select, "AttributeType")) a["AttributeType"] = c.type;
  if (selected(select, "IsValidForCreate")) a["IsValidForCreate"] = c.valid_for_create;
  if (selected(select, "IsValidForUpdate")) a["IsValidForUpdate"] = c.valid_for_update;
  // OptionSet and GlobalOptionSet are navigation properties: present only when expanded.
  if (!c.options.empty() && expands(expand, "OptionSet")) {
    json options = json::array();
    for (const auto& [v, label] : c.options) {
      json o = {{"Value", v},
                {"Label",
                 {{"LocalizedLabels", json::array({{{"Label", label}, {"LanguageCode", 1033}}})},
                  {"UserLocalizedLabel", {{"Label", label}, {"LanguageCode", 1033}}}}}};
      if (auto s = c.status_state.find(v); s != c.status_state.end()) o["State"] = s->second;
      options.push_back(o);
    }
    a["OptionSet"] = {{"MetadataId", stable_guid(name + ".options")}, {"IsGlobal", false}, {"OptionSetType", c.type},
                      {"Options", options}};
  }
  if (!c.options.empty() && expands(expand, "GlobalOptionSet")) a["GlobalOptionSet"] = nullptr;  // local option sets
  // StringAttributeMetadata.MaxLength, MemoAttributeMetadata.MaxLength (1 to 1048576):
  // https://learn.microsoft.com/en-us/previous-versions/dynamicscrm-2016/developers-guide/gg307610(v=crm.8)
  if ((c.type == "String" || c.type == "Memo") && !select.empty() && selected(select, "MaxLength"))
    a["MaxLength"] = c.max_length ? c.max_length : c.type == "String" ? 100 : 2000;
  return a;
}

json FakeDataverse::entity_definition(const Table& table, const std::vector<std::string>& select,
                                      const std::string& expand) const {
  json e = {{"MetadataId", stable_guid(table.logical_name)}};
  if (selected(select, "LogicalName")) e["LogicalName"] = table.logical_name;
  if (selected(select, "EntitySetName")) e["EntitySetName"] = table.entity_set;
  if (selected(select, "PrimaryIdAttribute")) e["PrimaryIdAttribute"] = table.key;
  if (selected(select, "ChangeTrackingEnabled")) e["ChangeTrackingEnabled"] = table.change_tracking;
  if (expands(expand, "Attributes")) {
    e["Attributes"] = json::array();
    for (const auto& [column, definition] : table.columns) {
      const auto [name, c] = as_attribute(column, definition);
      e["Attributes"].push_back(attribute_definition(name, c, expand_select(expand, "Attributes"), ""));
    }
  }
  return e;
}

Result FakeDataverse::entity_definitions(const std::string& rest, const std::map<std::string, std::string>& query) {
  auto param = [&](const std::string& name) { return query.count(name) ? query.at(name) : std::string(); };
  const auto select = split_list(param("$select"));
  const std::string expand = param("$expand");
  static const std::regex shape(
      R"(EntityDefinitions(?:\(LogicalName='([a-z_0-9]+)'\))?(/Attributes(?:/Microsoft\.Dynamics\.CRM\.([A-Za-z]+))?)?)");
  std::smatch m;
  if (!std::regex_match(rest, m, shape))
    return error(404, "0x80060888", "Resource not found for the segment '" + rest + "'.");
  if (!m[1].matched) {
    if (m[2].matched) return error(400, "0x80060888", "Attributes need one entity: EntityDefinitions(LogicalName='...').");
    // The collection, filtered by EntitySetName or LogicalName (what a metadata query can filter on).
    std::string filter = param("$filter");
    static const std::regex by(R"((EntitySetName|LogicalName) eq '([^']*)')");
    std::smatch f;
    if (!filter.empty() && !std::regex_match(filter, f, by))
      return error(400, "0x80060888", "Unsupported $filter in this fake: " + filter);
    json value = json::array();
    for (const auto& [set, table] : tables_)
      if (filter.empty() || (f[1] == "EntitySetName" ? table.entity_set : table.logical_name) == f[2].str())
        value.push_back(entity_definition(table, select, expand));
    return json_result(200, {{"@odata.context", url("$metadata#EntityDefinitions")}, {"value", value}});
  }
  const Table* table = nullptr;
  for (const auto& [set, t] : tables_)
    if (t.logical_name == m[1].str()) table = &t;
  if (!table) return error(404, "0x80040217", "Could not find entity with name '" + m[1].str() + "'.");
  if (!m[2].matched) return json_result(200, entity_definition(*table, select, expand));
  const std::string cast = m[3].matched ? m[3].str() : "";
  if (!cast.empty() && !cast.ends_with("AttributeMetadata"))
    return error(400, "0x80060888", "The type 'Microsoft.Dynamics.CRM." + cast + "' is not an attribute metadata type.");
  json value = json::array();
  for (const auto& [column, definition] : table->columns) {
    const auto [name, c] = as_attribute(column, definition);
    // A cast keeps the attributes of that type (EnumAttributeMetadata: every option set).
    bool of_type = cast.empty() || cast == metadata_type(c.type) || (cast == "EnumAttributeMetadata" && !c.options.empty());
    if (!of_type) continue;
    if (cast.empty() && (expands(expand, "OptionSet") || expands(expand, "GlobalOptionSet")))
      return error(400, "0x80060888", "Could not find a property named 'OptionSet' on type 'Microsoft.Dynamics.CRM.AttributeMetadata'.");
    // MaxLength belongs to the String and Memo types: the base type has no such property.
    if ((cast.empty() || cast == "EnumAttributeMetadata") && std::find(select.begin(), select.end(), "MaxLength") != select.end())
      return error(400, "0x80060888", "Could not find a property named 'MaxLength' on type 'Microsoft.Dynamics.CRM.AttributeMetadata'.");
    value.push_back(attribute_definition(name, c, select, expand));
  }
  return json_result(200, {{"@odata.context", url("$metadata#EntityDefinitions('" + table->logical_name + "')/Attributes" +
                                                  (cast.empty() ? "" : "/Microsoft.Dynamics.CRM." + cast))},
                           {"value", value}});
}

Result FakeDataverse::close_opportunity(const std::string& action, const std::string& body_text) {
  auto body = json::parse(body_text, nullptr, false);
  if (!body.is_object() || !body.contains("OpportunityClose") || !body["OpportunityClose"].is_object() ||
      !body.contains("Status") || !body["Status"].is_number_integer())
    return error(400, "0x80040203", action + " requires OpportunityClose and Status.");
  const auto& close = body["OpportunityClose"];
  std::string bind = close.value("opportunityid@odata.bind", "");
  // By id, or by an alternate key as any @odata.bind may be (the row created earlier in the
  // same change set): /opportunities(<guid>) or /opportunities(cosync_referralid='<value>').
  static const std::regex by_id(R"(^/?opportunities\(([0-9a-fA-F-]+)\)$)");
  static const std::regex by_key(R"(^/?opportunities\(([a-z_0-9]+)='(.*)'\)$)");
  std::smatch m;
  Table& table = tables_.at("opportunities");
  json* row = nullptr;
  std::string id;
  if (std::regex_match(bind, m, by_id)) {
    id = m[1].str();
    row = find_row(table, id);
  } else if (std::regex_match(bind, m, by_key) && m[1].str() == table.alternate_key) {
    std::string value;
    const std::string quoted = percent_decode(m[2].str());
    for (size_t i = 0; i < quoted.size(); ++i) {
      value += quoted[i];
      if (quoted[i] == '\'' && i + 1 < quoted.size() && quoted[i + 1] == '\'') ++i;  // '' is a quote
    }
    id = table.alternate_key + "='" + value + "'";
    for (auto& r : table.rows)
      if (r.value(table.alternate_key, "") == value) row = &r;
  } else {
    return error(400, "0x80040203", "OpportunityClose must bind opportunityid@odata.bind to /opportunities(<id>).");
  }
  if (!row) return error(404, "0x80040217", "opportunity With Id = " + id + " Does Not Exist");
  // The OpportunityClose columns Dynamics' close dialog fills: actualrevenue (Money) and actualend
  // (DateTime, Edm.DateTimeOffset on the wire); https://learn.microsoft.com/dynamics365/sales/developer/entities/opportunityclose
  if (close.contains("actualrevenue") && !close["actualrevenue"].is_number())
    return error(400, "0x80048d19", "Error identified in Payload provided by the user for Entity :'opportunityclose', "
                                    "Property 'actualrevenue': cannot convert the literal '" + close["actualrevenue"].dump() +
                                        "' to the expected type 'Edm.Decimal'.");
  if (close.contains("actualend") && (!close["actualend"].is_string() || !parse_iso8601(close["actualend"].get<std::string>())))
    return error(400, "0x80048d19", "Error identified in Payload provided by the user for Entity :'opportunityclose', "
                                    "Property 'actualend': cannot convert the literal '" + close["actualend"].dump() +
                                        "' to the expected type 'Edm.DateTimeOffset'.");
  if (row->value("statecode", 0) != 0) return error(400, "0x80040203", "The opportunity is already closed.");
  int status = body["Status"].get<int>();
  int state = action == "WinOpportunity" ? 1 : 2;
  const auto& status_state = table.columns.at("statuscode").status_state;
  auto owner = status_state.find(status);
  if (owner == status_state.end() || owner->second != state)
    return error(400, "0x8004431a", std::to_string(status) + " is not a valid status code for " + action + ".");
  (*row)["statecode"] = state;
  (*row)["statuscode"] = status;
  // Closing copies the close's revenue and date to the opportunity (its actual close date is today
  // when the close names none).
  (*row)["actualclosedate"] = close.contains("actualend") ? seconds_iso(*parse_iso8601(close["actualend"].get<std::string>()))
                                                          : seconds_iso(clock_.now());
  if (close.contains("actualrevenue")) (*row)["actualvalue"] = close["actualrevenue"];
  stamp(table, *row);
  json record = close;
  record["activityid"] = random_guid();
  record["action"] = action;
  closes_.push_back(record);
  ++writes_;
  emit(action + " opportunity " + (*row)[table.key].get<std::string>());
  return Result{204, {{"OData-Version", "4.0"}}, ""};
}

Result FakeDataverse::execute(const std::string& method, const std::string& path,
                              const std::map<std::string, std::string>& query, const HeaderList& headers,
                              const std::string& body) {
  const std::string root = service_root() + "/";
  if (!path.starts_with(root)) return error(404, "0x80060888", "Resource not found for the segment '" + path + "'.");
  std::string rest = path.substr(root.size());
  if (rest == "WinOpportunity" || rest == "LoseOpportunity") {
    if (method != "POST") return error(405, "0x80060888", "Method not allowed.");
    return close_opportunity(rest, body);
  }
  if (rest.starts_with("EntityDefinitions")) {
    if (method != "GET") return error(405, "0x80060888", "Method not allowed.");
    return entity_definitions(rest, query);
  }

  auto paren = rest.find('(');
  std::string set = rest.substr(0, paren);
  Table* table = table_by_set(set);
  if (!table) return error(404, "0x80060888", "Resource not found for the segment '" + set + "'.");
  Prefer prefer = parse_prefer(headers);
  auto select = split_list(query.count("$select") ? query.at("$select") : "");
  if (paren == std::string::npos) {
    if (method == "GET") return list(*table, query, headers);
    if (method != "POST") return error(405, "0x80060888", "Method not allowed.");
    auto columns = json::parse(body, nullptr, false);
    if (auto e = check_columns(*table, columns, true, nullptr)) return *e;
    if (auto e = bind_lookups(*table, columns)) return *e;
    json row = columns;
    std::string id = random_guid();
    row[table->key] = id;
    if (!row.contains("statecode")) row["statecode"] = 0;
    if (!row.contains("statuscode")) row["statuscode"] = 1;
    row["createdon"] = seconds_iso(clock_.now());
    stamp(*table, row);
    table->rows.push_back(row);
    ++writes_;
    emit("created " + table->logical_name + " " + id);
    if (prefer.representation) return json_result(201, project(*table, row, select));
    return Result{204, {{"OData-EntityId", url(set + "(" + id + ")")}}, ""};
  }
  if (rest.back() != ')') return error(404, "0x80060888", "Resource not found for the segment '" + rest + "'.");
  std::string key = rest.substr(paren + 1, rest.size() - paren - 2);
  json* row = nullptr;
  std::optional<std::string> alternate;  // upsert by the alternate key
  if (auto eq = key.find('='); eq != std::string::npos) {
    std::string column = key.substr(0, eq);
    std::string quoted = key.substr(eq + 1);
    if (column != table->alternate_key)
      return error(400, "0x80060888",
                   "The key '" + column + "' is not an alternate key defined for entity " + table->logical_name + ".");
    if (quoted.size() < 2 || quoted.front() != '\'' || quoted.back() != '\'')
      return error(400, "0x80060888", "Bad key literal: " + quoted);
    std::string value;
    for (size_t i = 1; i + 1 < quoted.size(); ++i) {
      value += quoted[i];
      if (quoted[i] == '\'' && i + 2 < quoted.size() && quoted[i + 1] == '\'') ++i;  // '' is a quote
    }
    alternate = value;
    for (auto& r : table->rows)
      if (r.value(table->alternate_key, "") == value) row = &r;
  } else {
    row = find_row(*table, key);
  }
  std::string if_match = header_of(headers, "If-Match");
  std::string if_none_match = header_of(headers, "If-None-Match");
  if (method == "GET") {
    if (!row) return error(404, "0x80040217", table->logical_name + " With Id = " + key + " Does Not Exist");
    json out = project(*table, *row, select);
    if (query.count("$expand"))
      if (auto e = expand_lookups(*table, *row, query.at("$expand"), out)) return *e;
    return json_result(200, out);
  }
  if (method == "DELETE") {
    if (!row) return error(404, "0x80040217", table->logical_name + " With Id = " + key + " Does Not Exist");
    std::string id = (*row)[table->key];
    std::erase_if(table->rows, [&](const json& r) { return r[table->key] == id; });
    table->deleted.emplace_back(++version_, id);
    ++writes_;
    return Result{204, {}, ""};
  }
  if (method != "PATCH") return error(405, "0x80060888", "Method not allowed.");
  auto columns = json::parse(body, nullptr, false);
  if (row) {
    if (if_none_match == "*")
      return error(412, "0x80040237", "A record with matching key values already exists.");
    std::string etag = "W/\"" + std::to_string(row->value("versionnumber", 0L)) + "\"";
    if (!if_match.empty() && if_match != "*" && if_match != etag)
      return error(412, "0x80060882", "The version of the existing record doesn't match the RowVersion property provided.");
    if (auto e = check_columns(*table, columns, true, row)) return *e;
    if (auto e = bind_lookups(*table, columns)) return *e;
    if (alternate && columns.contains(table->alternate_key) && columns[table->alternate_key] != *alternate)
      return error(400, "0x80060888", "The alternate key value in the body differs from the one in the URL.");
    for (auto it = columns.begin(); it != columns.end(); ++it) (*row)[it.key()] = it.value();
    if (columns.contains("statecode") && !columns.contains("statuscode"))
      (*row)["statuscode"] = default_status_for(table->columns.at("statuscode"), columns["statecode"].get<int>());
    stamp(*table, *row);
    ++writes_;
    emit("updated " + table->logical_name + " " + (*row)[table->key].get<std::string>() + " " + columns.dump());
    if (prefer.representation) return json_result(200, project(*table, *row, select));
    return Result{204, {{"OData-EntityId", url(set + "(" + (*row)[table->key].get<std::string>() + ")")}}, ""};
  }
  // No such row: PATCH creates it (upsert), unless If-Match asks for an update only.
  if (!if_match.empty()) return error(404, "0x80040217", table->logical_name + " With Id = " + key + " Does Not Exist");
  if (auto e = check_columns(*table, columns, true, nullptr)) return *e;
    if (auto e = bind_lookups(*table, columns)) return *e;
  json created = columns;
  std::string id = alternate ? random_guid() : lower(key);
  created[table->key] = id;
  if (alternate) created[table->alternate_key] = *alternate;
  if (!created.contains("statecode")) created["statecode"] = 0;
  if (!created.contains("statuscode")) created["statuscode"] = 1;
  created["createdon"] = seconds_iso(clock_.now());
  stamp(*table, created);
  table->rows.push_back(created);
  ++writes_;
  emit("created " + table->logical_name + " " + id + (alternate ? " for " + table->alternate_key + "=" + *alternate : ""));
  if (prefer.representation) return json_result(201, project(*table, created, select));
  return Result{204, {{"OData-EntityId", url(set + "(" + id + ")")}}, ""};
}

// "<navigation>@odata.bind": "/accounts(<guid>)" on a create or update sets the lookup, read back
// as _<navigation>_value ("Associate table rows on create", Create a table row using the Web API:
// https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-entity-web-api;
// "Associate with a single-valued navigation property" on update). The row bound to must exist.
std::optional<Result> FakeDataverse::bind_lookups(const Table& table, json& columns) {
  if (!columns.is_object()) return std::nullopt;
  static const std::regex target(R"(^(?:https?://[^/]+/api/data/v[0-9.]+)?/?([a-z_]+)\(([0-9a-fA-F-]{36})\)$)");
  std::vector<std::string> binds;
  for (auto it = columns.begin(); it != columns.end(); ++it)
    if (it.key().ends_with("@odata.bind")) binds.push_back(it.key());
  for (const auto& key : binds) {
    const std::string navigation = key.substr(0, key.size() - std::string_view("@odata.bind").size());
    const std::string lookup = "_" + navigation + "_value";
    if (!table.columns.count(lookup))
      return error(400, "0x80060888", "An undeclared property '" + navigation +
                                          "' which only has property annotations in the payload but no property value "
                                          "was found in the payload.");
    const json& value = columns[key];
    std::smatch m;
    const std::string text = value.is_string() ? value.get<std::string>() : std::string();
    if (!std::regex_match(text, m, target))
      return error(400, "0x80060888", "The value '" + value.dump() + "' of " + key + " is not a valid entity reference.");
    Table* related = table_by_set(m[1].str());
    if (!related || !find_row(*related, m[2].str()))
      return error(404, "0x80040217", (related ? related->logical_name : m[1].str()) + " With Id = " + m[2].str() +
                                          " Does Not Exist");
    columns.erase(key);
    columns[lookup] = lower(m[2].str());
  }
  return std::nullopt;
}

Result FakeDataverse::batch(const FakeRequest& request) {
  std::string boundary = boundary_of(request.header("Content-Type"));
  if (!lower(request.header("Content-Type")).starts_with("multipart/mixed") || boundary.empty())
    return error(400, "0x80048d19", "The batch request must have a Content-Type of multipart/mixed with a boundary.");
  bool continue_on_error = parse_prefer(request.headers).continue_on_error;
  // At most 1000 requests in one batch (Execute batch operations using the Web API).
  auto parts = multipart::split(request.body, boundary, 1000);
  if (!parts) return error(400, "0x80048d19", "The batch request body is not valid: " + parts.failure().message);

  // One operation of a part: "METHOD URL HTTP/1.1", headers, body.
  auto run = [&](const Part& part) -> Result {
    auto [head, body] = split_head(part.body);
    auto lines = lines_of(head);
    if (lines.empty()) return error(400, "0x80048d19", "Empty request in batch.");
    auto sp1 = lines[0].find(' ');
    auto sp2 = lines[0].rfind(' ');
    if (sp1 == std::string::npos || sp2 == sp1) return error(400, "0x80048d19", "Bad request line: " + lines[0]);
    std::string method = lines[0].substr(0, sp1);
    std::string target = lines[0].substr(sp1 + 1, sp2 - sp1 - 1);
    if (auto scheme = target.find("://"); scheme != std::string::npos) {
      auto slash = target.find('/', scheme + 3);
      target = slash == std::string::npos ? "/" : target.substr(slash);
    } else if (!target.starts_with("/")) {
      target = service_root() + "/" + target;
    }
    auto q = target.find('?');
    std::string path = percent_decode(target.substr(0, q));
    auto query = q == std::string::npos ? std::map<std::string, std::string>{} : decode_form(target.substr(q + 1));
    if (path == service_root() + "/$batch") return error(400, "0x80048d19", "A batch cannot contain a batch.");
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    return execute(method, path, query, multipart::parse_header_lines(lines, 1), body);
  };

  const std::string response_boundary = "batchresponse_" + random_guid();
  std::string out;
  for (const auto& part : *parts) {
    std::string type = header_of(part.headers, "Content-Type");
    bool failed = false;
    if (lower(type).starts_with("multipart/mixed")) {
      // A change set: all or nothing. A failing operation changes nothing itself, so only a
      // change set of several operations needs the state saved for the rollback.
      auto split_ops = multipart::split(part.body, boundary_of(type));
      if (!split_ops) {
        out += "--" + response_boundary + "\r\n" +
               render_http_part(error(400, "0x80048d19", "The change set is not valid: " + split_ops.failure().message), "");
        if (!continue_on_error) break;
        continue;
      }
      const auto& ops = *split_ops;
      std::optional<std::map<std::string, Table>> saved_tables;
      auto saved_version = version_;
      auto saved_closes = closes_;
      auto saved_writes = writes_;
      if (ops.size() > 1) saved_tables = tables_;
      std::vector<std::pair<std::string, Result>> results;
      for (const auto& op : ops) {
        Result r = run(op);
        std::string content_id = header_of(op.headers, "Content-ID");
        if (r.status >= 400) {
          if (saved_tables) tables_ = std::move(*saved_tables);
          version_ = saved_version;
          closes_ = std::move(saved_closes);
          writes_ = saved_writes;
          out += "--" + response_boundary + "\r\n" + render_http_part(r, content_id);
          failed = true;
          break;
        }
        results.emplace_back(content_id, std::move(r));
      }
      if (!failed) {
        std::string cs = "changesetresponse_" + random_guid();
        out += "--" + response_boundary + "\r\nContent-Type: multipart/mixed; boundary=" + cs + "\r\n\r\n";
        for (const auto& [id, r] : results) out += "--" + cs + "\r\n" + render_http_part(r, id);
        out += "--" + cs + "--\r\n";
      }
    } else {
      Result r = run(part);
      failed = r.status >= 400;
      out += "--" + response_boundary + "\r\n" + render_http_part(r, header_of(part.headers, "Content-ID"));
    }
    if (failed && !continue_on_error) break;
  }
  out += "--" + response_boundary + "--\r\n";
  return Result{200, {{"Content-Type", "multipart/mixed; boundary=" + response_boundary}, {"OData-Version", "4.0"}}, out};
}

}  // namespace cosync::fakes
