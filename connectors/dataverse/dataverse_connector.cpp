#include "connectors/dataverse/dataverse_connector.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "connectors/api_error.hpp"
#include "connectors/page_prefetch.hpp"
#include "connectors/page_tally.hpp"
#include "daemon/util/printable_text.hpp"
#include "daemon/auth/authorized_send.hpp"
#include "daemon/http/next_page_links.hpp"
#include "daemon/util/multipart.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"
#include "daemon/util/uuid.hpp"

namespace cosync::connectors {

namespace net = boost::asio;
constexpr const char* kRequestIdHeader = "x-ms-service-request-id";
constexpr const char* kWatermarkPrefix = "modifiedon:";

namespace {

using multipart::lowercase;

// Percent-encodes everything but unreserved characters (RFC 3986), with Boost.URL.
std::string encode(std::string_view text) { return boost::urls::encode(text, boost::urls::unreserved_chars); }

std::optional<DataverseConnector::BatchResult> parse_http_part(const std::string& text) {
  auto [head, body] = multipart::split_head(text);
  auto lines = multipart::lines_of(head);
  if (lines.empty() || !lines[0].starts_with("HTTP/")) return std::nullopt;
  auto sp = lines[0].find(' ');
  if (sp == std::string::npos) return std::nullopt;
  DataverseConnector::BatchResult r;
  const char* end = lines[0].data() + lines[0].size();
  auto [p, ec] = std::from_chars(lines[0].data() + sp + 1, end, r.status);
  // A status line is "HTTP/1.1 204 No Content": three digits, then a space or the end.
  if (ec != std::errc() || r.status < 100 || r.status > 599 || (p != end && *p != ' ')) return std::nullopt;
  r.headers = multipart::parse_header_lines(lines, 1);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  r.body = std::move(body);
  return r;
}

// Columns that hold ids: the primary key, alternate keys such as cosync_referralid, and the
// lookups' _<name>_value.
bool is_id_column(std::string_view name) {
  return name.ends_with("id") || (name.starts_with("_") && name.ends_with("_value"));
}

// A Web API body as JSON, or a failure naming `what` when it is not JSON or nests deeper than
// remote_json allows (a hostile body must not exhaust the stack).
Expected<nlohmann::json> parse_body(const std::string& body, int status, const std::string& what,
                                    const std::string& request_id) {
  auto parsed = remote_json::parse(body);
  if (!parsed.is_discarded()) return parsed;
  const std::string why = remote_json::nested_deeper_than(body, remote_json::kMaxDepth)
                              ? "a body nested deeper than " + std::to_string(remote_json::kMaxDepth) + " levels"
                              : "a body that is not JSON";
  return Failure{FailureKind::transient, what + " answered " + std::to_string(status) + " with " + why, status,
                 request_id};
}

bool is_expired_token(const Failure& f) {
  return f.message.find("0x80044352") != std::string::npos || f.message.find("full sync") != std::string::npos;
}
bool is_tracking_off(const Failure& f) { return f.message.find("0x80072491") != std::string::npos; }

// The option-set metadata types, as EntityDefinitions casts them.
constexpr std::pair<const char*, const char*> kOptionSetTypes[] = {
    {"Picklist", "PicklistAttributeMetadata"}, {"Status", "StatusAttributeMetadata"}, {"State", "StateAttributeMetadata"}};

// Text columns and the metadata type that carries their MaxLength (in characters).
// https://learn.microsoft.com/en-us/previous-versions/dynamicscrm-2016/developers-guide/gg307610(v=crm.8)
// (StringAttributeMetadata.MaxLength) and gg307614 (MemoAttributeMetadata.MaxLength, 1 to 1048576).
constexpr std::pair<const char*, const char*> kTextTypes[] = {{"String", "StringAttributeMetadata"},
                                                              {"Memo", "MemoAttributeMetadata"}};

bool is_text_type(const std::string& attribute_type) {
  for (const auto& [type, cast] : kTextTypes)
    if (attribute_type == type) return true;
  return false;
}

bool is_option_set_type(const std::string& attribute_type) {
  for (const auto& [type, cast] : kOptionSetTypes)
    if (attribute_type == type) return true;
  return false;
}

// The values of an attribute's options, from its OptionSet (local) or GlobalOptionSet.
std::vector<std::string> option_values(const nlohmann::json& attribute) {
  std::vector<std::string> values;
  for (const char* set : {"OptionSet", "GlobalOptionSet"})
    for (const auto& o : remote_json::array_at(remote_json::object_at(attribute, set), "Options"))
      if (auto value = remote_json::opt_int(o, "Value")) values.push_back(std::to_string(*value));
  return values;
}

// What writes need of a table definition: its option-set columns and the columns a create must
// leave out but an update may set (IsValidForCreate false, IsValidForUpdate true: statecode).
TableColumns columns_of(const nlohmann::json& definition) {
  TableColumns table;
  for (const auto& a : remote_json::array_at(definition, "Attributes")) {
    const std::string name = remote_json::string_or(a, "LogicalName");
    if (name.empty()) continue;
    if (is_option_set_type(remote_json::string_or(a, "AttributeType"))) table.option_columns.insert(name);
    if (!remote_json::bool_or(a, "IsValidForCreate", true) && remote_json::bool_or(a, "IsValidForUpdate", false))
      table.update_only.insert(name);
  }
  return table;
}

// The record a write answered with (Prefer: return=representation), or a GET's row.
Expected<RemoteRecord> written_record(const ObjectSpec& spec, const OptionColumns& option_set_columns, int status,
                                      const http::Headers& headers, const std::string& body, const std::string& what) {
  const std::string request_id = multipart::header_value(headers, kRequestIdHeader);
  if (status == 200 || status == 201) {
    auto row = parse_body(body, status, what, request_id);
    if (!row) return row.failure();
    std::string reason;
    auto record = parse_dataverse_row(*row, dataverse_primary_key(spec.object), option_set_columns, reason);
    if (record) return *record;
    // The record's fault, as a malformed record is for Partner Center and Salesforce: transient
    // would retry it every cycle and keep both cursors from moving.
    return Failure{FailureKind::rejected, what + " answered " + std::to_string(status) + " with a malformed row: " + reason,
                   status, request_id};
  }
  http::Response r;
  r.status = status;
  r.headers = headers;
  r.body = body;
  if (status == 204)
    return Failure{FailureKind::transient, what + " answered 204 without the row (return=representation ignored)",
                   status, request_id};
  return api_failure(r, what, kRequestIdHeader);
}

std::optional<int> close_state(const ObjectSpec& spec, const nlohmann::json& body) {
  if (spec.object != "opportunities") return std::nullopt;
  auto state = remote_json::opt_int(body, "statecode");
  return state == 1 || state == 2 ? std::optional<int>(static_cast<int>(*state)) : std::nullopt;
}

// The columns of a create by alternate key: the key itself is in the URL, not the body.
std::vector<FieldChange> without_key(const ObjectSpec& spec, const std::vector<FieldChange>& fields) {
  std::vector<FieldChange> columns;
  for (const auto& c : fields)
    if (c.path != spec.external_id_field) columns.push_back(c);
  return columns;
}

// A PATCH of `body`; `if_match` empty: none (an upsert). `answer`: Prefer: return=representation.
DataverseConnector::BatchOperation patch_operation(std::string url, const nlohmann::json& body,
                                                   const std::string& if_match, bool answer = true) {
  DataverseConnector::BatchOperation op{"PATCH", std::move(url), {{"Content-Type", "application/json; charset=utf-8"}},
                                        body.dump()};
  if (!if_match.empty()) op.headers.emplace_back("If-Match", if_match);
  if (answer) op.headers.emplace_back("Prefer", "return=representation");
  return op;
}

// A change set of one PATCH answering the written row.
DataverseConnector::BatchPart patch_part(std::string url, const nlohmann::json& body, const std::string& if_match) {
  return DataverseConnector::BatchPart{{patch_operation(std::move(url), body, if_match)}, true};
}

// A close date read from a row: a DateTime column's value, or a date alone (Date Only format).
std::optional<TimePoint> close_date_of(const nlohmann::json& row, const char* column) {
  const std::string text = remote_json::string_or(row, column);
  if (auto t = parse_iso8601(text)) return t;
  if (text.size() == 10) return parse_iso8601(text + "T00:00:00Z");
  return std::nullopt;
}

// The WinOpportunity / LoseOpportunity parameters, with the OpportunityClose filled as Dynamics'
// own close dialog fills it: actualrevenue, the deal value (Money), and actualend, the close date
// (DateTime, Edm.DateTimeOffset on the wire), else today. `row` is the opportunity as it will be.
// https://learn.microsoft.com/dynamics365/sales/developer/entities/opportunityclose
nlohmann::json close_parameters(const std::string& bind, int state, int status, const nlohmann::json& row,
                                TimePoint today) {
  nlohmann::json close = {{"subject", std::string(state == 1 ? "Won" : "Lost") + " (closed by cosync)"},
                          {"opportunityid@odata.bind", bind}};
  for (const char* value : {"actualvalue", "estimatedvalue"})
    if (const auto& revenue = remote_json::member(row, value); revenue.is_number()) {
      close["actualrevenue"] = revenue;
      break;
    }
  auto end = close_date_of(row, "actualclosedate");
  if (!end) end = close_date_of(row, "estimatedclosedate");
  close["actualend"] = format_iso8601(end.value_or(today));
  return {{"Status", status}, {"OpportunityClose", close}};
}

template <class T>
std::vector<Expected<T>> repeated(const Failure& f, std::size_t n) {
  return std::vector<Expected<T>>(n, Expected<T>(f));
}

}  // namespace

std::string dataverse_primary_key(const std::string& entity_set) {
  std::string name = entity_set;
  if (name.ends_with("ies")) name = name.substr(0, name.size() - 3) + "y";
  else if (name.ends_with("ses")) name = name.substr(0, name.size() - 2);
  else if (name.ends_with("s")) name.pop_back();
  return name + "id";
}

std::optional<int> dataverse_state_of(const std::string& entity_set, int statuscode) {
  if (entity_set == "leads") {
    if (statuscode == 1 || statuscode == 2) return 0;              // Open: New, Contacted
    if (statuscode == 3) return 1;                                 // Qualified
    if (statuscode >= 4 && statuscode <= 7) return 2;              // Disqualified
  } else if (entity_set == "opportunities") {
    if (statuscode == 1 || statuscode == 2) return 0;              // Open: In Progress, On Hold
    if (statuscode == 3) return 1;                                 // Won
    if (statuscode == 4 || statuscode == 5) return 2;              // Lost: Canceled, Out-Sold
  }
  return std::nullopt;
}

nlohmann::json dataverse_body(const std::string& entity_set, const std::vector<FieldChange>& changes,
                              const OptionColumns& option_columns) {
  nlohmann::json body = nlohmann::json::object();
  for (const auto& c : changes) body[c.path] = c.value;
  // Option-set values travel through the mapping as text ("3"); the Web API wants numbers.
  for (const auto& column : option_columns) {
    if (!body.contains(column) || !body[column].is_string()) continue;
    const std::string& text = body[column].get_ref<const std::string&>();
    int value = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && p == text.data() + text.size()) body[column] = value;
  }
  auto status = remote_json::opt_int(body, "statuscode");
  if (status && *status >= 0 && *status <= std::numeric_limits<int>::max() && !body.contains("statecode"))
    if (auto state = dataverse_state_of(entity_set, static_cast<int>(*status))) body["statecode"] = *state;
  return body;
}

std::optional<RemoteRecord> parse_dataverse_row(const nlohmann::json& row, const std::string& primary_key,
                                                const OptionColumns& option_columns, std::string& reason) {
  if (!row.is_object()) {
    reason = "row is not a JSON object";
    return std::nullopt;
  }
  RemoteRecord r;
  if (remote_json::string_or(row, "@odata.context").find("$deletedEntity") != std::string::npos) {
    r.id = remote_json::string_or(row, "id");
    if (r.id.empty()) {
      reason = "$deletedEntity without an id";
      return std::nullopt;
    }
    if (has_control_character(r.id)) {
      reason = "$deletedEntity id '" + printable_id(r.id) + "' contains a control character";
      return std::nullopt;
    }
    r.deleted = true;
    r.fields = {{primary_key, r.id}};
    return r;
  }
  r.id = remote_json::string_or(row, primary_key);
  if (r.id.empty()) {
    reason = "row without " + primary_key;
    return std::nullopt;
  }
  if (has_control_character(r.id)) {
    reason = "row " + primary_key + " '" + printable_id(r.id) + "' contains a control character";
    return std::nullopt;
  }
  r.version = remote_json::string_or(row, "@odata.etag");
  if (r.version.empty() || has_control_character(r.version)) {  // it goes back in If-Match
    reason = "row " + r.id + (r.version.empty() ? " has no @odata.etag" : " has an @odata.etag with a control character");
    return std::nullopt;
  }
  auto modified = parse_iso8601(remote_json::string_or(row, "modifiedon"));
  if (!modified) {
    reason = "row " + r.id + " has no valid modifiedon";
    return std::nullopt;
  }
  r.modified = *modified;
  r.fields = nlohmann::json::object();
  for (auto it = row.begin(); it != row.end(); ++it) {
    if (it.key().find('@') != std::string::npos) continue;  // annotations
    const auto& value = it.value();
    if (is_id_column(it.key()) && value.is_string() && has_control_character(value.get_ref<const std::string&>())) {
      reason = "row " + r.id + " has " + it.key() + " '" + printable_id(value.get_ref<const std::string&>()) +
               "', which contains a control character";
      return std::nullopt;
    }
    // Option sets as text, the form value maps use ("3"), so that they compare with the mapping.
    auto option = option_columns.contains(it.key()) ? remote_json::opt_int(row, it.key()) : std::nullopt;
    r.fields[it.key()] = option ? nlohmann::json(std::to_string(*option)) : value;
  }
  return r;
}

std::string build_batch_body(const std::vector<DataverseConnector::BatchPart>& parts, const std::string& boundary) {
  std::ostringstream out;
  int content_id = 0;
  auto write_operation = [&](const DataverseConnector::BatchOperation& op) {
    out << "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: " << ++content_id
        << "\r\n\r\n" << op.method << " " << op.url << " HTTP/1.1\r\n";
    for (const auto& [k, v] : op.headers) out << k << ": " << v << "\r\n";
    out << "\r\n" << op.body << "\r\n";
  };
  for (std::size_t i = 0; i < parts.size(); ++i) {
    out << "--" << boundary << "\r\n";
    if (!parts[i].change_set) {
      for (const auto& op : parts[i].operations) write_operation(op);
      continue;
    }
    const std::string cs = "changeset_" + boundary + "_" + std::to_string(i + 1);
    out << "Content-Type: multipart/mixed;boundary=" << cs << "\r\n\r\n";
    for (const auto& op : parts[i].operations) {
      out << "--" << cs << "\r\n";
      write_operation(op);
    }
    out << "--" << cs << "--\r\n";
  }
  out << "--" << boundary << "--\r\n";
  return out.str();
}

std::optional<std::vector<std::vector<DataverseConnector::BatchResult>>> parse_batch_response(
    const std::string& content_type, const std::string& body, std::string* why) {
  auto fail = [&](std::string reason) {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  if (!lowercase(content_type).starts_with("multipart/mixed")) return fail("Content-Type is not multipart/mixed");
  auto parts = multipart::split(body, multipart::boundary_of(content_type));
  if (!parts) return fail(parts.failure().message);
  std::vector<std::vector<DataverseConnector::BatchResult>> out;
  for (const auto& part : *parts) {
    const std::string type = multipart::header_value(part.headers, "Content-Type");
    std::vector<DataverseConnector::BatchResult> results;
    if (lowercase(type).starts_with("multipart/mixed")) {  // a change set's answers
      auto inner = multipart::split(part.body, multipart::boundary_of(type));
      if (!inner) return fail("change set " + std::to_string(out.size() + 1) + ": " + inner.failure().message);
      for (const auto& operation : *inner) {
        auto r = parse_http_part(operation.body);
        if (!r) return fail("change set " + std::to_string(out.size() + 1) + " has an answer without an HTTP status line");
        results.push_back(std::move(*r));
      }
    } else {
      auto r = parse_http_part(part.body);
      if (!r) return fail("part " + std::to_string(out.size() + 1) + " has no HTTP status line");
      results.push_back(std::move(*r));
    }
    out.push_back(std::move(results));
  }
  return out;
}

DataverseConnector::DataverseConnector(http::HttpClient& client, auth::TokenProvider& tokens, DataverseOptions options,
                                       Log log)
    : client_(client),
      tokens_(tokens),
      options_(std::move(options)),
      log_(std::move(log)),
      clock_(options_.clock ? *options_.clock : system_clock_) {
  while (!options_.url.empty() && options_.url.back() == '/') options_.url.pop_back();
  options_.batch_size = std::clamp<std::size_t>(options_.batch_size, 1, 1000);
}

std::string DataverseConnector::service_root() const { return options_.url + "/api/data/v" + options_.api_version; }

std::string DataverseConnector::select(const ObjectSpec& spec) const {
  std::vector<std::string> columns;
  auto add = [&](const std::string& c) {
    if (!c.empty() && c.find('.') == std::string::npos && std::find(columns.begin(), columns.end(), c) == columns.end())
      columns.push_back(c);
  };
  for (const auto& f : spec.fields) add(f);
  add(spec.external_id_field);
  add("modifiedon");
  std::string list;
  for (const auto& c : columns) list += (list.empty() ? "" : ",") + c;
  return list;
}

std::string DataverseConnector::expand(const ObjectSpec& spec) const {
  // Columns of related rows ("parentaccountid.name"): the lookup's single-valued navigation
  // property expanded with its own $select ("Retrieve related table rows by expanding navigation
  // properties"). Only a single row's read asks for them: change tracking takes no $expand.
  std::map<std::string, std::vector<std::string>> related;
  for (const auto& f : spec.fields)
    if (auto dot = f.find('.'); dot != std::string::npos && f.find('.', dot + 1) == std::string::npos)
      related[f.substr(0, dot)].push_back(f.substr(dot + 1));
  std::string out;
  for (const auto& [navigation, columns] : related) {
    out += (out.empty() ? "" : ",") + navigation + "($select=";
    for (std::size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + columns[i];
    out += ")";
  }
  return out;
}

std::string DataverseConnector::row_url(const ObjectSpec& spec, const std::string& id) const {
  return service_root() + "/" + spec.object + "(" + encode(id) + ")?$select=" + select(spec);
}

std::string DataverseConnector::key_segment(const ObjectSpec& spec, const std::string& external_id) const {
  std::string quoted;
  for (char c : external_id) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return spec.object + "(" + spec.external_id_field + "='" + encode(quoted) + "')";
}

std::string DataverseConnector::key_url(const ObjectSpec& spec, const std::string& external_id) const {
  return service_root() + "/" + key_segment(spec, external_id) + "?$select=" + select(spec);
}

net::awaitable<Expected<http::Response>> DataverseConnector::call(http::Method method, const std::string& url,
                                                                  std::string body, http::Headers extra) {
  http::Request req;
  req.method = method;
  req.url = url;
  req.headers = {{"Accept", "application/json"}, {"OData-MaxVersion", "4.0"}, {"OData-Version", "4.0"}};
  if (!body.empty() && multipart::header_value(extra, "Content-Type").empty())
    req.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  for (auto& h : extra) req.headers.push_back(std::move(h));
  req.body = std::move(body);
  // PATCH with If-Match or by alternate key repeats to the same result (or a 412), and a $batch
  // of such operations too: all safe to retry after a 429 or 5xx.
  if (method == http::Method::patch || (method == http::Method::post && url.ends_with("/$batch"))) req.idempotent = true;
  co_return co_await auth::authorized_send(client_, tokens_, std::move(req));
}

Expected<std::string> DataverseConnector::delta_link_url(const std::string& link) const {
  // The same guard as a next-page link: this org's origin only (the request carries our token).
  auto url = http::NextPageLinks(service_root() + "/", 2).follow(link);
  if (!url) return Failure{FailureKind::fatal, "the delta link is not followed: " + url.failure().message, 0, ""};
  return url;
}

net::awaitable<std::optional<Failure>> DataverseConnector::read_pages(const ObjectSpec& spec, std::string url,
                                                                     bool track_changes, bool& tracking_applied,
                                                                     std::string& delta_link, const PageSink& sink) {
  auto table = co_await table_columns(spec.object);
  if (!table) co_return table.failure();
  const std::string key = dataverse_primary_key(spec.object);
  std::string prefer = "odata.maxpagesize=" + std::to_string(options_.page_size);
  if (track_changes) prefer = "odata.track-changes," + prefer;
  const std::string what = "GET " + spec.object;
  tracking_applied = false;
  http::NextPageLinks links(url, options_.max_pages);
  // Named, not braced temporaries passed to the coroutine (GCC 12).
  auto fetch = [this, &prefer](const std::string& page_url) {
    http::Headers headers = {{"Prefer", prefer}};
    std::string no_body;
    return call(http::Method::get, page_url, std::move(no_body), std::move(headers));
  };
  auto res = co_await fetch(url);
  while (true) {
    if (!res) co_return res.failure();
    const std::string request_id = res->header(kRequestIdHeader);
    if (res->status != 200) co_return api_failure(*res, what, kRequestIdHeader);
    auto body = parse_body(res->body, 200, what, request_id);
    if (!body) co_return body.failure();
    res->body.clear();
    res->body.shrink_to_fit();
    const auto& next = remote_json::member(*body, "@odata.nextLink");
    if (!remote_json::member(*body, "value").is_array() || !(next.is_null() || next.is_string()))
      co_return Failure{FailureKind::transient, what + " answered 200 with a malformed body", 200, request_id};
    // Pages go to the sink in the order served: a later entry for a row (a later page) is handled
    // after the earlier one, so it supersedes it as when the pull was collected.
    PullPage page;
    std::set<std::string> seen;
    for (const auto& row : remote_json::array_at(*body, "value")) {
      std::string reason;
      auto record = parse_dataverse_row(row, key, table->option_columns, reason);
      if (!record) {
        page.malformed.push_back({printable_id(remote_json::string_or(row, key, remote_json::string_or(row, "id"))), reason});
        continue;
      }
      if (!seen.insert(record->id).second) {
        // A later entry for the same row supersedes the earlier one.
        std::erase_if(page.records, [&](const RemoteRecord& r) { return r.id == record->id; });
      }
      page.records.push_back(std::move(*record));
    }
    Expected<std::string> next_url = std::string();
    if (next.is_string()) {
      next_url = links.follow(next.get_ref<const std::string&>());
    } else if (auto delta = remote_json::opt_string(*body, "@odata.deltaLink")) {
      auto resolved = delta_link_url(*delta);
      if (!resolved) co_return Failure{FailureKind::fatal, what + ": " + resolved.failure().message, 200, request_id};
      delta_link = std::move(*resolved);
      tracking_applied = true;
    }
    *body = nlohmann::json();  // the page's JSON is not kept while the sink works on it
    if (next_url && !next_url->empty()) {
      // The next page is read while the sink works on this one; a stop discards it unseen.
      url = std::move(*next_url);
      auto fetching = fetch(url);
      auto handed = co_await hand_over_while_fetching(sink, page, std::move(fetching));
      if (!std::get<0>(handed)) co_return Failure{FailureKind::transient, what + ": stopped by the caller", 0, ""};
      res = std::move(std::get<1>(handed));
      continue;
    }
    bool more = co_await sink(page);  // named first (GCC 12); a page read is handed over in any case
    if (!more) co_return Failure{FailureKind::transient, what + ": stopped by the caller", 0, ""};
    if (!next_url) co_return Failure{FailureKind::fatal, what + ": " + next_url.failure().message, 200, request_id};
    co_return std::nullopt;
  }
}

net::awaitable<Expected<std::string>> DataverseConnector::pull_pages(const ObjectSpec& spec, const std::string& cursor,
                                                                    const PageSink& sink) {
  bool tracking = false;
  std::string delta_link;
  TimePoint newest{};
  std::size_t pulled = 0;
  PageSink count = tallying(sink, newest, pulled);
  if (!cursor.empty() && !cursor.starts_with(kWatermarkPrefix)) {
    auto link = delta_link_url(cursor);
    if (!link) {
      // Stored by an earlier pull against another org URL: this org never issued it.
      log_->warn("dataverse: the stored delta link of {} is not on {} ({}): reading the whole table again (full sync)",
                 spec.object, options_.url, link.failure().message);
    } else {
      auto failed = co_await read_pages(spec, *link, true, tracking, delta_link, count);
      if (!failed) {
        log_->debug("dataverse: {} changed {} rows since the last delta link", spec.object, pulled);
        co_return tracking ? delta_link : cursor;
      }
      if (!is_expired_token(*failed) && !is_tracking_off(*failed)) co_return std::move(*failed);
      log_->warn("dataverse: the delta link of {} is no longer valid ({}): reading the whole table again (full sync)",
                 spec.object, failed->message);
    }
  }
  if (cursor.empty() || !cursor.starts_with(kWatermarkPrefix)) {
    // First sync (or a full one): the whole table, asking for change tracking.
    const std::string url = service_root() + "/" + spec.object + "?$select=" + select(spec);
    newest = TimePoint{};
    auto failed = co_await read_pages(spec, url, true, tracking, delta_link, count);
    if (failed) co_return std::move(*failed);
    if (tracking) co_return delta_link;
    log_->warn("dataverse: change tracking is off for {} (no delta link answered): falling back to a modifiedon "
               "watermark query with a {}s overlap; turn on 'Track changes' for the table to sync by delta links",
               spec.object, options_.overlap.count());
    co_return std::string(kWatermarkPrefix) + (newest == TimePoint{} ? "" : format_iso8601(newest));
  }
  // The watermark fallback: rows modified since the newest seen, minus an overlap.
  auto since = parse_iso8601(cursor.substr(std::string_view(kWatermarkPrefix).size()));
  std::string url = service_root() + "/" + spec.object + "?$select=" + select(spec);
  if (since) url += "&$filter=" + encode("modifiedon ge " + format_iso8601(*since - options_.overlap));
  url += "&$orderby=" + encode("modifiedon asc");
  newest = since.value_or(TimePoint{});
  auto failed = co_await read_pages(spec, url, false, tracking, delta_link, count);
  if (failed) co_return std::move(*failed);
  co_return std::string(kWatermarkPrefix) + (newest == TimePoint{} ? "" : format_iso8601(newest));
}

net::awaitable<Expected<RemoteRecord>> DataverseConnector::get(const ObjectSpec& spec, const std::string& id) {
  auto table = co_await table_columns(spec.object);
  if (!table) co_return table.failure();
  std::string url = row_url(spec, id);
  if (std::string related = expand(spec); !related.empty()) url += "&$expand=" + encode(related);
  auto res = co_await call(http::Method::get, url);
  if (!res) co_return res.failure();
  if (res->status != 200) co_return api_failure(*res, "GET " + spec.object + "(" + id + ")", kRequestIdHeader);
  co_return written_record(spec, table->option_columns, res->status, res->headers, res->body,
                           "GET " + spec.object + "(" + id + ")");
}

net::awaitable<Expected<nlohmann::json>> DataverseConnector::entity_definition(const std::string& entity_set) {
  // EntityDefinitions has LogicalName, not EntitySetName, as its key: filter by the set name.
  std::string quoted;
  for (char c : entity_set) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  const std::string url =
      service_root() + "/EntityDefinitions?$select=LogicalName,EntitySetName,ChangeTrackingEnabled&$filter=" +
      encode("EntitySetName eq '" + quoted + "'") + "&$expand=" +
      encode("Attributes($select=LogicalName,AttributeType,IsValidForCreate,IsValidForUpdate)");
  auto tables = co_await get_values(url, "GET EntityDefinitions of " + entity_set);
  if (!tables) co_return tables.failure();
  if (tables->empty() || !remote_json::member((*tables)[0], "Attributes").is_array())
    co_return Failure{FailureKind::not_found, "Dataverse has no table with the entity set name '" + entity_set + "'",
                      404, ""};
  co_return (*tables)[0];
}

net::awaitable<Expected<nlohmann::json>> DataverseConnector::get_values(const std::string& url, const std::string& what) {
  auto res = co_await call(http::Method::get, url);
  if (!res) co_return res.failure();
  if (res->status != 200) co_return api_failure(*res, what, kRequestIdHeader);
  auto body = parse_body(res->body, 200, what, res->header(kRequestIdHeader));
  if (!body) co_return body.failure();
  if (!remote_json::member(*body, "value").is_array())
    co_return Failure{FailureKind::transient, what + " answered 200 with a malformed body", 200,
                      res->header(kRequestIdHeader)};
  co_return std::move((*body)["value"]);
}

net::awaitable<Expected<TableColumns>> DataverseConnector::table_columns(const std::string& entity_set) {
  if (auto known = table_columns_.find(entity_set); known != table_columns_.end()) co_return known->second;
  auto definition = co_await entity_definition(entity_set);
  if (!definition) co_return definition.failure();
  co_return table_columns_[entity_set] = columns_of(*definition);
}

net::awaitable<Expected<ObjectMetadata>> DataverseConnector::describe_object(const std::string& entity_set) {
  auto definition = co_await entity_definition(entity_set);
  if (!definition) co_return definition.failure();
  ObjectMetadata meta;
  meta.object = entity_set;
  meta.change_tracking = remote_json::bool_or(*definition, "ChangeTrackingEnabled", false);
  const std::string logical_name = remote_json::string_or(*definition, "LogicalName");
  std::set<std::string> types;
  for (const auto& a : remote_json::array_at(*definition, "Attributes")) {
    FieldMetadata f;
    f.name = remote_json::string_or(a, "LogicalName");
    if (f.name.empty()) continue;
    f.updateable = remote_json::bool_or(a, "IsValidForUpdate", false);
    f.createable = remote_json::bool_or(a, "IsValidForCreate", false);
    if (std::string type = remote_json::string_or(a, "AttributeType"); is_option_set_type(type) || is_text_type(type))
      types.insert(type);
    meta.fields.push_back(std::move(f));
  }
  table_columns_[entity_set] = columns_of(*definition);
  // Options are navigation properties of the derived attribute types: one cast query per type.
  for (const auto& [type, cast] : kOptionSetTypes) {
    if (!types.contains(type)) continue;
    const std::string url = service_root() + "/EntityDefinitions(LogicalName='" + encode(logical_name) +
                            "')/Attributes/Microsoft.Dynamics.CRM." + cast + "?$select=LogicalName&$expand=" +
                            encode("OptionSet($select=Options),GlobalOptionSet($select=Options)");
    auto attributes = co_await get_values(url, std::string("GET ") + cast + " of " + logical_name);
    if (!attributes) co_return attributes.failure();
    for (const auto& a : *attributes) {
      const std::string name = remote_json::string_or(a, "LogicalName");
      for (auto& f : meta.fields)
        if (!name.empty() && f.name == name) f.allowed_values = option_values(a);
    }
  }
  // MaxLength is a property of the derived String and Memo types only: one cast query each.
  for (const auto& [type, cast] : kTextTypes) {
    if (!types.contains(type)) continue;
    const std::string url = service_root() + "/EntityDefinitions(LogicalName='" + encode(logical_name) +
                            "')/Attributes/Microsoft.Dynamics.CRM." + cast + "?$select=LogicalName,MaxLength";
    auto attributes = co_await get_values(url, std::string("GET ") + cast + " of " + logical_name);
    if (!attributes) co_return attributes.failure();
    for (const auto& a : *attributes) {
      const std::string name = remote_json::string_or(a, "LogicalName");
      const auto& length = remote_json::member(a, "MaxLength");
      if (name.empty() || !length.is_number_unsigned() || length.get<std::uint64_t>() == 0) continue;
      for (auto& f : meta.fields)
        if (f.name == name) f.max_length = static_cast<std::size_t>(length.get<std::uint64_t>());
    }
  }
  co_return meta;
}

net::awaitable<Expected<RemoteRecord>> DataverseConnector::update(const ObjectSpec& spec, const RemoteRecord& current,
                                                                  const std::vector<FieldChange>& changes) {
  auto table = co_await table_columns(spec.object);
  if (!table) co_return table.failure();
  auto body = dataverse_body(spec.object, changes, table->option_columns);
  if (close_state(spec, body)) {
    // Closing takes an action: the same $batch as many closes, with one record.
    std::vector<UpdateRequest> one{UpdateRequest{current, changes}};
    auto results = co_await update_many(spec, one);
    co_return std::move(results.front());
  }
  http::Headers headers = {{"If-Match", current.version.empty() ? "*" : current.version},
                           {"Prefer", "return=representation"}};
  const std::string what = "PATCH " + spec.object + "(" + current.id + ")";
  auto res = co_await call(http::Method::patch, row_url(spec, current.id), body.dump(), std::move(headers));
  if (!res) co_return res.failure();
  co_return written_record(spec, table->option_columns, res->status, res->headers, res->body, what);
}

std::vector<DataverseConnector::BatchPart> DataverseConnector::close_parts(const ObjectSpec& spec,
                                                                           const RemoteRecord& current,
                                                                           std::vector<FieldChange> changes,
                                                                           const OptionColumns& option_set_columns,
                                                                           int state, int status) const {
  // The close actions take no If-Match: a PATCH with If-Match in the same change set is the
  // precondition (a moved row fails the change set with 412, the action is rolled back). It
  // carries the other changes, or else writes back the statuscode the row was read with.
  std::erase_if(changes, [](const FieldChange& c) { return c.path == "statecode" || c.path == "statuscode"; });
  auto guard = dataverse_body(spec.object, changes, option_set_columns);
  if (guard.empty()) {
    auto read = dataverse_body(spec.object, {{"statuscode", remote_json::member(current.fields, "statuscode")}},
                               option_set_columns);
    if (remote_json::opt_int(read, "statuscode")) guard["statuscode"] = read["statuscode"];
  }
  nlohmann::json row = current.fields.is_object() ? current.fields : nlohmann::json::object();
  for (auto it = guard.begin(); it != guard.end(); ++it) row[it.key()] = it.value();
  const http::Headers json_type = {{"Content-Type", "application/json; charset=utf-8"}};
  BatchOperation patch = patch_operation(service_root() + "/" + spec.object + "(" + encode(current.id) + ")", guard,
                                         current.version.empty() ? "*" : current.version, false);
  BatchOperation act{"POST", service_root() + "/" + (state == 1 ? "WinOpportunity" : "LoseOpportunity"), json_type,
                     close_parameters("/opportunities(" + current.id + ")", state, status, row, clock_.now()).dump()};
  BatchOperation read{"GET", row_url(spec, current.id), {}, ""};
  return {BatchPart{{std::move(patch), std::move(act)}, true}, BatchPart{{std::move(read)}, false}};
}

std::vector<DataverseConnector::BatchPart> DataverseConnector::upsert_parts(const ObjectSpec& spec,
                                                                            const std::string& external_id,
                                                                            const std::vector<FieldChange>& fields,
                                                                            const TableColumns& table) const {
  auto create = dataverse_body(spec.object, without_key(spec, fields), table.option_columns);
  // What a create may not carry (IsValidForCreate false: statecode) is set right after it, in the
  // same change set, so the row never exists half written.
  nlohmann::json after = nlohmann::json::object();
  for (const auto& column : table.update_only)
    if (create.contains(column)) {
      after[column] = create[column];
      create.erase(column);
    }
  // A row is created in state 0 (Open / Active); the status of another state is only valid once
  // the row is in that state, so it moves with its statecode.
  const auto state = remote_json::opt_int(after, "statecode");
  if (state == 0) after.erase("statecode");
  else if (state && create.contains("statuscode")) {
    after["statuscode"] = create["statuscode"];
    create.erase("statuscode");
  }
  const std::string url = key_url(spec, external_id);
  if (after.empty()) return {patch_part(url, create, "")};
  BatchPart change_set{{patch_operation(url, create, "", false)}, true};
  auto close = close_state(spec, after);
  if (!close) {
    change_set.operations.push_back(patch_operation(url, after, "*"));  // the row exists now
    return {std::move(change_set)};
  }
  // An opportunity closes only through its action, bound to the row by the same alternate key.
  const int status = remote_json::opt_int(after, "statuscode").value_or(*close == 1 ? 3 : 4);
  after.erase("statecode");
  after.erase("statuscode");
  if (!after.empty()) change_set.operations.push_back(patch_operation(url, after, "*", false));
  nlohmann::json row = create;
  row.update(after);
  change_set.operations.push_back(BatchOperation{
      "POST", service_root() + "/" + (*close == 1 ? "WinOpportunity" : "LoseOpportunity"),
      {{"Content-Type", "application/json; charset=utf-8"}},
      close_parameters("/" + key_segment(spec, external_id), *close, static_cast<int>(status), row, clock_.now()).dump()});
  return {std::move(change_set), BatchPart{{BatchOperation{"GET", url, {}, ""}}, false}};
}

net::awaitable<Expected<RemoteRecord>> DataverseConnector::upsert(const ObjectSpec& spec, const std::string& external_id,
                                                                  const std::vector<FieldChange>& fields) {
  auto table = co_await table_columns(spec.object);
  if (!table) co_return table.failure();
  auto parts = upsert_parts(spec, external_id, fields, *table);
  if (parts.size() > 1 || parts[0].operations.size() > 1) {
    // More than one write: the same $batch as many upserts, with one record.
    std::vector<UpsertRequest> one{UpsertRequest{external_id, fields}};
    auto results = co_await upsert_many(spec, one);
    co_return std::move(results.front());
  }
  const BatchOperation& op = parts[0].operations[0];
  http::Headers headers = {{"Prefer", "return=representation"}};
  auto res = co_await call(http::Method::patch, op.url, op.body, std::move(headers));
  if (!res) co_return res.failure();
  co_return written_record(spec, table->option_columns, res->status, res->headers, res->body,
                           "upsert " + spec.object + " by " + spec.external_id_field);
}

net::awaitable<std::vector<Expected<std::vector<DataverseConnector::BatchResult>>>> DataverseConnector::send_batch(
    const std::vector<BatchPart>& parts) {
  using PartResults = std::vector<BatchResult>;
  const std::string boundary = "batch_" + random_uuid();
  http::Headers headers = {{"Content-Type", "multipart/mixed;boundary=" + boundary},
                           {"Prefer", "odata.continue-on-error"}};
  auto res = co_await call(http::Method::post, service_root() + "/$batch", build_batch_body(parts, boundary),
                           std::move(headers));
  if (!res) co_return repeated<PartResults>(res.failure(), parts.size());
  if (res->status != 200) co_return repeated<PartResults>(api_failure(*res, "POST $batch", kRequestIdHeader), parts.size());
  const std::string request_id = res->header(kRequestIdHeader);
  std::string why;
  auto parsed = parse_batch_response(res->header("Content-Type"), res->body, &why);
  if (parsed && parsed->size() > parts.size()) why = "more answers than the " + std::to_string(parts.size()) + " parts sent";
  if (!parsed || parsed->size() > parts.size())
    co_return repeated<PartResults>(
        Failure{FailureKind::transient, "POST $batch answered 200 with a malformed multipart body: " + why, 200, request_id},
        parts.size());
  // A part the service did not answer (it stopped early) fails alone, as does one whose answers
  // do not match its operations: a change set answers each, or one failure when rolled back.
  std::vector<Expected<PartResults>> out = repeated<PartResults>(
      Failure{FailureKind::transient, "POST $batch: part not executed", 0, request_id}, parts.size());
  for (std::size_t i = 0; i < parsed->size(); ++i) {
    auto& answers = (*parsed)[i];
    const bool rolled_back = answers.size() == 1 && answers[0].status >= 400;
    if (answers.size() == parts[i].operations.size() || rolled_back)
      out[i] = Expected<PartResults>(std::move(answers));
    else
      out[i] = Failure{FailureKind::transient,
                       "POST $batch: part " + std::to_string(i + 1) + " answered " + std::to_string(answers.size()) +
                           " results for " + std::to_string(parts[i].operations.size()) + " operations",
                       200, request_id};
  }
  co_return out;
}

namespace {

// The record after its write: a failed operation of any part fails it; otherwise the last
// operation's answer (the written row, or the row read back after a close) is the record.
Expected<RemoteRecord> record_result(const ObjectSpec& spec, const OptionColumns& option_set_columns,
                                     const std::vector<Expected<std::vector<DataverseConnector::BatchResult>>>& answers,
                                     const std::string& what) {
  for (const auto& a : answers) {
    if (!a) return a.failure();
    for (const auto& r : a.value())
      if (r.status >= 400) return written_record(spec, option_set_columns, r.status, r.headers, r.body, what);
  }
  if (answers.empty() || answers.back().value().empty())
    return Failure{FailureKind::transient, what + ": no answer in the $batch response", 0, ""};
  const auto& last = answers.back().value().back();
  return written_record(spec, option_set_columns, last.status, last.headers, last.body, what);
}

}  // namespace

std::size_t DataverseConnector::RecordParts::operations() const {
  std::size_t n = 0;
  for (const auto& p : parts) n += p.operations.size();
  return n;
}

net::awaitable<std::vector<Expected<RemoteRecord>>> DataverseConnector::send_records(
    const ObjectSpec& spec, const OptionColumns& option_set_columns, std::vector<RecordParts> records,
    std::size_t request_count) {
  std::vector<Expected<RemoteRecord>> results(request_count, Failure{FailureKind::fatal, "no result", 0, ""});
  // At most batch_size operations per request; a record's parts never straddle two requests.
  std::size_t begin = 0;
  while (begin < records.size()) {
    std::size_t end = begin, operations = 0;
    while (end < records.size() && (end == begin || operations + records[end].operations() <= options_.batch_size))
      operations += records[end++].operations();
    std::vector<BatchPart> parts;
    for (std::size_t k = begin; k < end; ++k)
      for (const auto& p : records[k].parts) parts.push_back(p);
    auto answers = co_await send_batch(parts);
    std::size_t at = 0;
    for (std::size_t k = begin; k < end; ++k) {
      const auto count = static_cast<std::ptrdiff_t>(records[k].parts.size());
      std::vector<Expected<std::vector<BatchResult>>> own(answers.begin() + static_cast<std::ptrdiff_t>(at),
                                                          answers.begin() + static_cast<std::ptrdiff_t>(at) + count);
      at += records[k].parts.size();
      results[records[k].request] = record_result(spec, option_set_columns, own, records[k].what);
    }
    begin = end;
  }
  co_return results;
}

net::awaitable<std::vector<Expected<RemoteRecord>>> DataverseConnector::update_many(
    const ObjectSpec& spec, const std::vector<UpdateRequest>& requests) {
  auto table = co_await table_columns(spec.object);
  if (!table) co_return repeated<RemoteRecord>(table.failure(), requests.size());
  std::vector<RecordParts> records;
  std::size_t closes = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    auto body = dataverse_body(spec.object, r.changes, table->option_columns);
    RecordParts record;
    record.request = i;
    if (auto state = close_state(spec, body)) {
      const auto status = remote_json::opt_int(body, "statuscode").value_or(*state == 1 ? 3 : 4);
      record.parts = close_parts(spec, r.current, r.changes, table->option_columns, *state, static_cast<int>(status));
      record.what = std::string(*state == 1 ? "WinOpportunity " : "LoseOpportunity ") + r.current.id + " in $batch";
      ++closes;
    } else {
      record.parts.push_back(patch_part(row_url(spec, r.current.id), body,
                                        r.current.version.empty() ? "*" : r.current.version));
      record.what = "PATCH " + spec.object + "(" + r.current.id + ") in $batch";
    }
    records.push_back(std::move(record));
  }
  auto results = co_await send_records(spec, table->option_columns, std::move(records), requests.size());
  if (closes > 0) {
    std::size_t closed = 0;
    for (const auto& r : results) closed += r.ok() ? 1 : 0;
    log_->info("dataverse: {} opportunities closed through WinOpportunity / LoseOpportunity in $batch ({} of {} writes ok)",
               closes, closed, results.size());
  }
  co_return results;
}

net::awaitable<std::vector<Expected<RemoteRecord>>> DataverseConnector::upsert_many(
    const ObjectSpec& spec, const std::vector<UpsertRequest>& requests_in) {
  auto table = co_await table_columns(spec.object);
  if (!table) co_return repeated<RemoteRecord>(table.failure(), requests_in.size());
  // The account of each create first: found or created, then bound (dataverse_parent_lookup.cpp).
  std::vector<UpsertRequest> requests = requests_in;
  std::vector<std::optional<Expected<RemoteRecord>>> settled(requests.size());
  const ParentLookup parent = with_dataverse_defaults(spec.parent.value_or(ParentLookup{}));  // named: GCC 12
  co_await resolve_parents(parent, requests, settled);
  std::vector<RecordParts> records;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (settled[i]) continue;  // its account could not be settled
    RecordParts record;
    record.request = i;
    record.parts = upsert_parts(spec, requests[i].external_id, requests[i].fields, *table);
    record.what = "upsert " + spec.object + " by " + spec.external_id_field + " in $batch";
    records.push_back(std::move(record));
  }
  auto results = co_await send_records(spec, table->option_columns, std::move(records), requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i)
    if (settled[i]) results[i] = std::move(*settled[i]);
  co_return results;
}

}  // namespace cosync::connectors
