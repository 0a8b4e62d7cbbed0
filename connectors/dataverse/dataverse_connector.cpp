#include "connectors/dataverse/dataverse_connector.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "connectors/api_error.hpp"
#include "daemon/auth/authorized_send.hpp"
#include "daemon/util/time.hpp"
#include "daemon/util/uuid.hpp"

namespace cosync::connectors {

namespace net = boost::asio;
constexpr const char* kRequestIdHeader = "x-ms-service-request-id";
constexpr const char* kWatermarkPrefix = "modifiedon:";

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Percent-encodes everything but unreserved characters (RFC 3986), with Boost.URL.
std::string encode(std::string_view text) { return boost::urls::encode(text, boost::urls::unreserved_chars); }

std::string header_of(const http::Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (lower(k) == lower(std::string(name))) return v;
  return {};
}

std::pair<std::string, std::string> split_head(const std::string& text) {
  auto crlf = text.find("\r\n\r\n");
  auto lf = text.find("\n\n");
  if (crlf != std::string::npos && (lf == std::string::npos || crlf < lf)) return {text.substr(0, crlf), text.substr(crlf + 4)};
  if (lf != std::string::npos) return {text.substr(0, lf), text.substr(lf + 2)};
  return {text, {}};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return out;
}

http::Headers parse_headers(const std::vector<std::string>& lines, size_t from) {
  http::Headers headers;
  for (size_t i = from; i < lines.size(); ++i) {
    auto colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    std::string value = lines[i].substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(value.begin());
    headers.emplace_back(lines[i].substr(0, colon), value);
  }
  return headers;
}

std::string boundary_of(const std::string& content_type) {
  auto at = lower(content_type).find("boundary=");
  if (at == std::string::npos) return {};
  std::string b = content_type.substr(at + 9);
  auto semi = b.find(';');
  if (semi != std::string::npos) b = b.substr(0, semi);
  if (b.size() >= 2 && b.front() == '"' && b.back() == '"') b = b.substr(1, b.size() - 2);
  return b;
}

struct Part {
  http::Headers headers;
  std::string body;
};

std::vector<Part> split_multipart(const std::string& body, const std::string& boundary) {
  std::vector<Part> parts;
  const std::string delimiter = "--" + boundary;
  size_t pos = body.find(delimiter);
  while (pos != std::string::npos) {
    pos += delimiter.size();
    if (body.compare(pos, 2, "--") == 0) break;
    auto next = body.find(delimiter, pos);
    std::string chunk = body.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    while (!chunk.empty() && (chunk.front() == '\r' || chunk.front() == '\n')) chunk.erase(chunk.begin());
    while (!chunk.empty() && (chunk.back() == '\r' || chunk.back() == '\n')) chunk.pop_back();
    auto [head, rest] = split_head(chunk);
    parts.push_back(Part{parse_headers(lines_of(head), 0), rest});
    pos = next;
  }
  return parts;
}

std::optional<DataverseConnector::BatchResult> parse_http_part(const std::string& text) {
  auto [head, body] = split_head(text);
  auto lines = lines_of(head);
  if (lines.empty() || !lines[0].starts_with("HTTP/")) return std::nullopt;
  auto sp = lines[0].find(' ');
  if (sp == std::string::npos) return std::nullopt;
  DataverseConnector::BatchResult r;
  auto [p, ec] = std::from_chars(lines[0].data() + sp + 1, lines[0].data() + lines[0].size(), r.status);
  if (ec != std::errc()) return std::nullopt;
  r.headers = parse_headers(lines, 1);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  r.body = std::move(body);
  return r;
}

bool is_expired_token(const Failure& f) {
  return f.message.find("0x80044352") != std::string::npos || f.message.find("full sync") != std::string::npos;
}
bool is_tracking_off(const Failure& f) { return f.message.find("0x80072491") != std::string::npos; }

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

nlohmann::json dataverse_body(const std::string& entity_set, const std::vector<FieldChange>& changes) {
  nlohmann::json body = nlohmann::json::object();
  for (const auto& c : changes) body[c.path] = c.value;
  // Option-set values travel through the mapping as text ("3"); the Web API wants numbers.
  for (const char* column : {"statuscode", "statecode"}) {
    if (!body.contains(column) || !body[column].is_string()) continue;
    const std::string& text = body[column].get_ref<const std::string&>();
    int value = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && p == text.data() + text.size()) body[column] = value;
  }
  if (body.contains("statuscode") && body["statuscode"].is_number_integer() && !body.contains("statecode"))
    if (auto state = dataverse_state_of(entity_set, body["statuscode"].get<int>())) body["statecode"] = *state;
  return body;
}

std::optional<RemoteRecord> parse_dataverse_row(const nlohmann::json& row, const std::string& primary_key,
                                                std::string& reason) {
  if (!row.is_object()) {
    reason = "row is not a JSON object";
    return std::nullopt;
  }
  RemoteRecord r;
  if (row.contains("@odata.context") && row["@odata.context"].is_string() &&
      row["@odata.context"].get_ref<const std::string&>().find("$deletedEntity") != std::string::npos) {
    if (!row.contains("id") || !row["id"].is_string()) {
      reason = "$deletedEntity without an id";
      return std::nullopt;
    }
    r.id = row["id"].get<std::string>();
    r.deleted = true;
    r.fields = {{primary_key, r.id}};
    return r;
  }
  if (row.contains(primary_key) && row[primary_key].is_string()) r.id = row[primary_key].get<std::string>();
  if (r.id.empty()) {
    reason = "row without " + primary_key;
    return std::nullopt;
  }
  if (row.contains("@odata.etag") && row["@odata.etag"].is_string()) r.version = row["@odata.etag"].get<std::string>();
  if (r.version.empty()) {
    reason = "row " + r.id + " has no @odata.etag";
    return std::nullopt;
  }
  auto modified = row.contains("modifiedon") && row["modifiedon"].is_string()
                      ? parse_iso8601(row["modifiedon"].get_ref<const std::string&>())
                      : std::nullopt;
  if (!modified) {
    reason = "row " + r.id + " has no valid modifiedon";
    return std::nullopt;
  }
  r.modified = *modified;
  r.fields = nlohmann::json::object();
  for (auto it = row.begin(); it != row.end(); ++it) {
    if (it.key().find('@') != std::string::npos) continue;  // annotations
    // Option sets as text, the form value maps use ("3"), so that they compare with the mapping.
    if ((it.key() == "statuscode" || it.key() == "statecode") && it.value().is_number_integer())
      r.fields[it.key()] = std::to_string(it.value().get<int>());
    else
      r.fields[it.key()] = it.value();
  }
  return r;
}

std::string build_batch_body(const std::vector<DataverseConnector::BatchOperation>& ops, const std::string& boundary) {
  std::string out;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const auto& op = ops[i];
    std::string cs = "changeset_" + boundary + "_" + std::to_string(i + 1);
    out += "--" + boundary + "\r\nContent-Type: multipart/mixed;boundary=" + cs + "\r\n\r\n";
    out += "--" + cs + "\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: " +
           std::to_string(i + 1) + "\r\n\r\n";
    out += op.method + " " + op.url + " HTTP/1.1\r\n";
    for (const auto& [k, v] : op.headers) out += k + ": " + v + "\r\n";
    out += "\r\n" + op.body + "\r\n--" + cs + "--\r\n";
  }
  out += "--" + boundary + "--\r\n";
  return out;
}

std::optional<std::vector<DataverseConnector::BatchResult>> parse_batch_response(const std::string& content_type,
                                                                                  const std::string& body) {
  std::string boundary = boundary_of(content_type);
  if (boundary.empty()) return std::nullopt;
  std::vector<DataverseConnector::BatchResult> out;
  for (const auto& part : split_multipart(body, boundary)) {
    std::string type = lower(header_of(part.headers, "Content-Type"));
    if (type.starts_with("multipart/mixed")) {
      for (const auto& inner : split_multipart(part.body, boundary_of(header_of(part.headers, "Content-Type")))) {
        auto r = parse_http_part(inner.body);
        if (!r) return std::nullopt;
        out.push_back(std::move(*r));
      }
    } else {
      auto r = parse_http_part(part.body);
      if (!r) return std::nullopt;
      out.push_back(std::move(*r));
    }
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

std::string DataverseConnector::row_url(const ObjectSpec& spec, const std::string& id) const {
  return service_root() + "/" + spec.object + "(" + encode(id) + ")?$select=" + select(spec);
}

std::string DataverseConnector::key_url(const ObjectSpec& spec, const std::string& external_id) const {
  std::string quoted;
  for (char c : external_id) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return service_root() + "/" + spec.object + "(" + spec.external_id_field + "='" + encode(quoted) + "')?$select=" +
         select(spec);
}

net::awaitable<Expected<http::Response>> DataverseConnector::call(http::Method method, const std::string& url,
                                                                  std::string body, http::Headers extra) {
  http::Request req;
  req.method = method;
  req.url = url;
  req.headers = {{"Accept", "application/json"}, {"OData-MaxVersion", "4.0"}, {"OData-Version", "4.0"}};
  if (!body.empty() && header_of(extra, "Content-Type").empty())
    req.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  for (auto& h : extra) req.headers.push_back(std::move(h));
  req.body = std::move(body);
  // PATCH with If-Match or by alternate key repeats to the same result (or a 412), and a $batch
  // of such operations too: all safe to retry after a 429 or 5xx.
  if (method == http::Method::patch || (method == http::Method::post && url.ends_with("/$batch"))) req.idempotent = true;
  co_return co_await auth::authorized_send(client_, tokens_, std::move(req));
}

net::awaitable<Expected<PullResult>> DataverseConnector::read_pages(const ObjectSpec& spec, std::string url,
                                                                    bool track_changes, bool& tracking_applied,
                                                                    std::string& delta_link) {
  PullResult result;
  std::set<std::string> seen;
  const std::string key = dataverse_primary_key(spec.object);
  std::string prefer = "odata.maxpagesize=" + std::to_string(options_.page_size);
  if (track_changes) prefer = "odata.track-changes," + prefer;
  const std::string what = "GET " + spec.object;
  tracking_applied = false;
  while (!url.empty()) {
    http::Headers headers = {{"Prefer", prefer}};
    auto res = co_await call(http::Method::get, url, {}, std::move(headers));
    if (!res) co_return res.failure();
    if (res->status != 200) co_return api_failure(*res, what, kRequestIdHeader);
    auto body = nlohmann::json::parse(res->body, nullptr, false);
    if (!body.is_object() || !body.contains("value") || !body["value"].is_array())
      co_return Failure{FailureKind::transient, what + " answered 200 with a malformed body", 200,
                        res->header(kRequestIdHeader)};
    for (const auto& row : body["value"]) {
      std::string reason;
      auto record = parse_dataverse_row(row, key, reason);
      if (!record) {
        result.malformed.push_back({row.is_object() && row.contains(key) && row[key].is_string() ? row[key].get<std::string>() : "",
                                    reason});
        continue;
      }
      if (!seen.insert(record->id).second) {
        // A later entry for the same row supersedes the earlier one.
        std::erase_if(result.records, [&](const RemoteRecord& r) { return r.id == record->id; });
      }
      result.records.push_back(std::move(*record));
    }
    url.clear();
    if (body.contains("@odata.nextLink") && body["@odata.nextLink"].is_string()) {
      url = body["@odata.nextLink"].get<std::string>();
    } else if (body.contains("@odata.deltaLink") && body["@odata.deltaLink"].is_string()) {
      delta_link = body["@odata.deltaLink"].get<std::string>();
      tracking_applied = true;
    }
  }
  co_return result;
}

net::awaitable<Expected<PullResult>> DataverseConnector::pull(const ObjectSpec& spec, const std::string& cursor) {
  bool tracking = false;
  std::string delta_link;
  if (!cursor.empty() && !cursor.starts_with(kWatermarkPrefix)) {
    auto changes = co_await read_pages(spec, cursor, true, tracking, delta_link);
    if (changes) {
      changes->cursor = tracking ? delta_link : cursor;
      log_->debug("dataverse: {} changed {} rows since the last delta link", spec.object, changes->records.size());
      co_return std::move(*changes);
    }
    if (!is_expired_token(changes.failure()) && !is_tracking_off(changes.failure())) co_return changes.failure();
    log_->warn("dataverse: the delta link of {} is no longer valid ({}): reading the whole table again (full sync)",
               spec.object, changes.failure().message);
  }
  if (cursor.empty() || !cursor.starts_with(kWatermarkPrefix)) {
    // First sync (or a full one): the whole table, asking for change tracking.
    const std::string url = service_root() + "/" + spec.object + "?$select=" + select(spec);
    auto all = co_await read_pages(spec, url, true, tracking, delta_link);
    if (!all) co_return all.failure();
    if (tracking) {
      all->cursor = delta_link;
      co_return std::move(*all);
    }
    TimePoint newest{};
    for (const auto& r : all->records) newest = std::max(newest, r.modified);
    all->cursor = std::string(kWatermarkPrefix) + (newest == TimePoint{} ? "" : format_iso8601(newest));
    log_->warn("dataverse: change tracking is off for {} (no delta link answered): falling back to a modifiedon "
               "watermark query with a {}s overlap; turn on 'Track changes' for the table to sync by delta links",
               spec.object, options_.overlap.count());
    co_return std::move(*all);
  }
  // The watermark fallback: rows modified since the newest seen, minus an overlap.
  auto since = parse_iso8601(cursor.substr(std::string_view(kWatermarkPrefix).size()));
  std::string url = service_root() + "/" + spec.object + "?$select=" + select(spec);
  if (since) url += "&$filter=" + encode("modifiedon ge " + format_iso8601(*since - options_.overlap));
  url += "&$orderby=" + encode("modifiedon asc");
  auto changed = co_await read_pages(spec, url, false, tracking, delta_link);
  if (!changed) co_return changed.failure();
  TimePoint newest = since.value_or(TimePoint{});
  for (const auto& r : changed->records) newest = std::max(newest, r.modified);
  changed->cursor = std::string(kWatermarkPrefix) + (newest == TimePoint{} ? "" : format_iso8601(newest));
  co_return std::move(*changed);
}

net::awaitable<Expected<RemoteRecord>> DataverseConnector::get(const ObjectSpec& spec, const std::string& id) {
  auto res = co_await call(http::Method::get, row_url(spec, id));
  if (!res) co_return res.failure();
  if (res->status != 200) co_return api_failure(*res, "GET " + spec.object + "(" + id + ")", kRequestIdHeader);
  std::string reason;
  auto record = parse_dataverse_row(nlohmann::json::parse(res->body, nullptr, false), dataverse_primary_key(spec.object),
                                    reason);
  if (!record) co_return Failure{FailureKind::transient, "malformed " + spec.object + " row: " + reason, 200, ""};
  co_return *record;
}

namespace {

// The record a write answered with (Prefer: return=representation).
Expected<RemoteRecord> written_record(const ObjectSpec& spec, int status, const http::Headers& headers,
                                      const std::string& body, const std::string& what) {
  if (status == 200 || status == 201) {
    std::string reason;
    auto record = parse_dataverse_row(nlohmann::json::parse(body, nullptr, false), dataverse_primary_key(spec.object),
                                      reason);
    if (record) return *record;
    return Failure{FailureKind::transient, what + " answered " + std::to_string(status) + " with a malformed row: " + reason,
                   status, ""};
  }
  http::Response r;
  r.status = status;
  r.headers = headers;
  r.body = body;
  if (status == 204)
    return Failure{FailureKind::transient, what + " answered 204 without the row (return=representation ignored)",
                   status, ""};
  return api_failure(r, what, kRequestIdHeader);
}

std::optional<int> close_state(const ObjectSpec& spec, const nlohmann::json& body) {
  if (spec.object != "opportunities" || !body.contains("statecode") || !body["statecode"].is_number_integer())
    return std::nullopt;
  int state = body["statecode"].get<int>();
  return state == 1 || state == 2 ? std::optional<int>(state) : std::nullopt;
}

}  // namespace

net::awaitable<Expected<RemoteRecord>> DataverseConnector::update(const ObjectSpec& spec, const RemoteRecord& current,
                                                                  const std::vector<FieldChange>& changes) {
  auto body = dataverse_body(spec.object, changes);
  if (auto state = close_state(spec, body)) {
    int status = body.contains("statuscode") && body["statuscode"].is_number_integer() ? body["statuscode"].get<int>()
                                                                                        : (*state == 1 ? 3 : 4);
    co_return co_await close_opportunity(spec, current, changes, *state, status);
  }
  http::Headers headers = {{"If-Match", current.version.empty() ? "*" : current.version},
                           {"Prefer", "return=representation"}};
  const std::string what = "PATCH " + spec.object + "(" + current.id + ")";
  auto res = co_await call(http::Method::patch, row_url(spec, current.id), body.dump(), std::move(headers));
  if (!res) co_return res.failure();
  co_return written_record(spec, res->status, res->headers, res->body, what);
}

net::awaitable<Expected<RemoteRecord>> DataverseConnector::close_opportunity(const ObjectSpec& spec,
                                                                             const RemoteRecord& current,
                                                                             std::vector<FieldChange> changes,
                                                                             int state, int status) {
  // The close actions take no If-Match: compare the row's etag first, as a precondition.
  auto fresh = co_await get(spec, current.id);
  if (!fresh) co_return fresh.failure();
  if (!current.version.empty() && fresh->version != current.version)
    co_return Failure{FailureKind::conflict, spec.object + " " + current.id + " changed since it was read", 412, ""};
  std::erase_if(changes, [](const FieldChange& c) { return c.path == "statecode" || c.path == "statuscode"; });
  if (!changes.empty()) {
    auto patched = co_await update(spec, *fresh, changes);
    if (!patched) co_return patched.failure();
  }
  const std::string action = state == 1 ? "WinOpportunity" : "LoseOpportunity";
  nlohmann::json body = {
      {"Status", status},
      {"OpportunityClose",
       {{"subject", std::string(state == 1 ? "Won" : "Lost") + " (closed by cosync)"},
        {"opportunityid@odata.bind", "/opportunities(" + current.id + ")"}}}};
  auto res = co_await call(http::Method::post, service_root() + "/" + action, body.dump());
  if (!res) co_return res.failure();
  if (res->status != 204 && res->status != 200)
    co_return api_failure(*res, action + " " + current.id, kRequestIdHeader);
  log_->info("dataverse: opportunity {} closed through {} (status {})", current.id, action, status);
  co_return co_await get(spec, current.id);
}

net::awaitable<Expected<RemoteRecord>> DataverseConnector::upsert(const ObjectSpec& spec, const std::string& external_id,
                                                                  const std::vector<FieldChange>& fields) {
  std::vector<FieldChange> columns;
  for (const auto& c : fields)
    if (c.path != spec.external_id_field) columns.push_back(c);
  auto body = dataverse_body(spec.object, columns);
  http::Headers headers = {{"Prefer", "return=representation"}};
  auto res = co_await call(http::Method::patch, key_url(spec, external_id), body.dump(), std::move(headers));
  if (!res) co_return res.failure();
  co_return written_record(spec, res->status, res->headers, res->body,
                           "upsert " + spec.object + " by " + spec.external_id_field);
}

net::awaitable<std::vector<Expected<DataverseConnector::BatchResult>>> DataverseConnector::send_batch(
    const std::vector<BatchOperation>& ops) {
  std::vector<Expected<BatchResult>> out;
  const std::string boundary = "batch_" + random_uuid();
  http::Headers headers = {{"Content-Type", "multipart/mixed;boundary=" + boundary},
                           {"Prefer", "odata.continue-on-error"}};
  auto res = co_await call(http::Method::post, service_root() + "/$batch", build_batch_body(ops, boundary),
                           std::move(headers));
  if (!res) {
    for (std::size_t i = 0; i < ops.size(); ++i) out.push_back(res.failure());
    co_return out;
  }
  if (res->status != 200) {
    auto f = api_failure(*res, "POST $batch", kRequestIdHeader);
    for (std::size_t i = 0; i < ops.size(); ++i) out.push_back(f);
    co_return out;
  }
  auto parsed = parse_batch_response(res->header("Content-Type"), res->body);
  if (!parsed) {
    Failure f{FailureKind::transient, "POST $batch answered 200 with a malformed multipart body", 200,
              res->header(kRequestIdHeader)};
    for (std::size_t i = 0; i < ops.size(); ++i) out.push_back(f);
    co_return out;
  }
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (i < parsed->size()) out.push_back((*parsed)[i]);
    else out.push_back(Failure{FailureKind::transient, "POST $batch: operation " + std::to_string(i + 1) + " not executed", 0, ""});
  }
  co_return out;
}

net::awaitable<std::vector<Expected<RemoteRecord>>> DataverseConnector::update_many(
    const ObjectSpec& spec, const std::vector<UpdateRequest>& requests) {
  std::vector<std::optional<Expected<RemoteRecord>>> results(requests.size());
  std::vector<std::size_t> batched;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (close_state(spec, dataverse_body(spec.object, requests[i].changes)))
      results[i] = co_await update(spec, requests[i].current, requests[i].changes);  // an action, not a PATCH
    else
      batched.push_back(i);
  }
  for (std::size_t begin = 0; begin < batched.size(); begin += options_.batch_size) {
    std::size_t end = std::min(batched.size(), begin + options_.batch_size);
    std::vector<BatchOperation> ops;
    for (std::size_t k = begin; k < end; ++k) {
      const auto& r = requests[batched[k]];
      BatchOperation op;
      op.method = "PATCH";
      op.url = row_url(spec, r.current.id);
      op.headers = {{"Content-Type", "application/json; charset=utf-8"},
                    {"If-Match", r.current.version.empty() ? "*" : r.current.version},
                    {"Prefer", "return=representation"}};
      op.body = dataverse_body(spec.object, r.changes).dump();
      ops.push_back(std::move(op));
    }
    auto answers = co_await send_batch(ops);
    for (std::size_t k = begin; k < end; ++k) {
      auto& a = answers[k - begin];
      const std::string what = "PATCH " + spec.object + "(" + requests[batched[k]].current.id + ") in $batch";
      results[batched[k]] = a ? written_record(spec, a->status, a->headers, a->body, what) : Expected<RemoteRecord>(a.failure());
    }
  }
  std::vector<Expected<RemoteRecord>> out;
  for (auto& r : results) out.push_back(r ? std::move(*r) : Expected<RemoteRecord>(Failure{FailureKind::fatal, "no result", 0, ""}));
  co_return out;
}

net::awaitable<std::vector<Expected<RemoteRecord>>> DataverseConnector::upsert_many(
    const ObjectSpec& spec, const std::vector<UpsertRequest>& requests) {
  std::vector<Expected<RemoteRecord>> out;
  for (std::size_t begin = 0; begin < requests.size(); begin += options_.batch_size) {
    std::size_t end = std::min(requests.size(), begin + options_.batch_size);
    std::vector<BatchOperation> ops;
    for (std::size_t i = begin; i < end; ++i) {
      std::vector<FieldChange> columns;
      for (const auto& c : requests[i].fields)
        if (c.path != spec.external_id_field) columns.push_back(c);
      BatchOperation op;
      op.method = "PATCH";
      op.url = key_url(spec, requests[i].external_id);
      op.headers = {{"Content-Type", "application/json; charset=utf-8"}, {"Prefer", "return=representation"}};
      op.body = dataverse_body(spec.object, columns).dump();
      ops.push_back(std::move(op));
    }
    auto answers = co_await send_batch(ops);
    for (std::size_t i = begin; i < end; ++i) {
      auto& a = answers[i - begin];
      const std::string what = "upsert " + spec.object + " by " + spec.external_id_field + " in $batch";
      out.push_back(a ? written_record(spec, a->status, a->headers, a->body, what) : Expected<RemoteRecord>(a.failure()));
    }
  }
  co_return out;
}

}  // namespace cosync::connectors
