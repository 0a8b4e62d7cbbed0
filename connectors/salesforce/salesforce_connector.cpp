#include "connectors/salesforce/salesforce_connector.hpp"

#include <algorithm>
#include <boost/url/url.hpp>
#include <charconv>
#include <cstdio>
#include <set>
#include <sstream>

#include "connectors/activity_count.hpp"
#include "connectors/api_error.hpp"
#include "connectors/page_prefetch.hpp"
#include "connectors/page_tally.hpp"
#include "connectors/pull_dedupe.hpp"
#include "connectors/salesforce/salesforce_activities.hpp"
#include "daemon/auth/authorized_send.hpp"
#include "daemon/http/next_page_links.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"

namespace cosync::connectors {

namespace net = boost::asio;
// Salesforce sends no request id header; errors are identified by errorCode and message.
constexpr const char* kRequestIdHeader = "";
// nextRecordsUrl pages one query may take: 2 million records at the smallest batch size (200),
// far more than one pull of an org; a server that keeps inventing new links stops here.
constexpr std::size_t kMaxQueryPages = 10000;

SalesforceConnector::SalesforceConnector(http::HttpClient& client, auth::TokenProvider& tokens, SalesforceOptions options,
                                         Log log)
    : client_(client),
      tokens_(tokens),
      options_(std::move(options)),
      log_(std::move(log)),
      clock_(options_.clock ? *options_.clock : system_clock_) {
  while (!options_.instance_url.empty() && options_.instance_url.back() == '/') options_.instance_url.pop_back();
}

std::string SalesforceConnector::data_path() const { return "/services/data/v" + options_.api_version; }

std::string SalesforceConnector::sobject_path(const ObjectSpec& spec, const std::string& id) const {
  boost::urls::url u(options_.instance_url);
  u.set_path(data_path());
  u.segments().push_back("sobjects");
  u.segments().push_back(spec.object);
  if (!id.empty()) u.segments().push_back(id);
  return std::string(u.buffer());
}

namespace {

std::string select_list(const ObjectSpec& spec, bool all_fields) {
  std::vector<std::string> fields = {"Id", "SystemModstamp"};
  auto add = [&](const std::string& f) {
    if (!f.empty() && std::find(fields.begin(), fields.end(), f) == fields.end()) fields.push_back(f);
  };
  if (all_fields) {
    add("IsDeleted");
    for (const auto& f : spec.fields) {
      if (f != kCompletedActivitiesField) add(f);
      else  // not a field: counted by relationship subqueries (salesforce_activities.hpp)
        for (const auto& q : completed_activity_subqueries()) add(q);
    }
    add(spec.external_id_field);
  }
  std::string list;
  for (size_t i = 0; i < fields.size(); ++i) list += (i ? ", " : "") + fields[i];
  return list;
}

}  // namespace

std::string soql_quote(const std::string& text, bool like) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\\' || c == '\'' || (like && (c == '%' || c == '_'))) out += '\\';
    out += c;
  }
  return out + "'";
}

std::string build_ids_soql(const ObjectSpec& spec, const std::vector<std::string>& ids, bool all_fields) {
  std::string soql = "SELECT " + select_list(spec, all_fields) + " FROM " + spec.object + " WHERE Id IN (";
  for (size_t i = 0; i < ids.size(); ++i) soql += (i ? "," : "") + soql_quote(ids[i]);
  return soql + ")";
}

std::optional<ApiUsage> parse_limit_info(std::string_view header) {
  auto at = header.find("api-usage=");
  // "per-app-api-usage=" also contains "api-usage=": take the org's, the one not preceded by '-'.
  while (at != std::string_view::npos && at > 0 && header[at - 1] == '-') at = header.find("api-usage=", at + 1);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = header.substr(at + 10);
  ApiUsage u;
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto [p1, e1] = std::from_chars(rest.data(), rest.data() + slash, u.used);
  auto [p2, e2] = std::from_chars(rest.data() + slash + 1, rest.data() + rest.size(), u.limit);
  if (e1 != std::errc() || e2 != std::errc() || p1 != rest.data() + slash || u.limit <= 0) return std::nullopt;
  return u;
}

Failure collection_error(const nlohmann::json& errors, const std::string& what) {
  std::string code, message;
  std::vector<std::string> fields;
  if (errors.is_array() && !errors.empty()) {
    const auto& first = errors[0];
    code = remote_json::opt_string(first, "statusCode").value_or(remote_json::string_or(first, "errorCode"));
    message = remote_json::string_or(first, "message");
    for (const auto& f : remote_json::array_at(first, "fields"))
      if (f.is_string()) fields.push_back(f.get<std::string>());
  }
  FailureKind kind = FailureKind::rejected;
  if (code == "UNABLE_TO_LOCK_ROW" || code == "REQUEST_LIMIT_EXCEEDED" || code == "SERVER_UNAVAILABLE" ||
      code == "UNKNOWN_EXCEPTION" || code == "ALL_OR_NONE_OPERATION_ROLLED_BACK" || code.empty())
    kind = FailureKind::transient;
  else if (code == "ENTITY_IS_DELETED" || code == "NOT_FOUND")
    kind = FailureKind::not_found;
  std::string text = what + " failed: " + (code.empty() ? "no error detail" : code) +
                     (message.empty() ? "" : ": " + message.substr(0, 300));
  if (!fields.empty()) {
    text += " (fields:";
    for (const auto& f : fields) text += " " + f;
    text += ")";
  }
  if (code == "DUPLICATE_EXTERNAL_ID") text += ": several records hold this external id; merge or clear the duplicates";
  return Failure{kind, text, 200, ""};
}

std::string build_pull_soql(const ObjectSpec& spec, const std::string& since) {
  std::string soql = "SELECT " + select_list(spec, true) + " FROM " + spec.object;
  std::vector<std::string> where;
  if (!since.empty()) where.push_back("SystemModstamp >= " + since);
  // Only records tied to Partner Center belong to a mapping that has an external-id field.
  if (!spec.external_id_field.empty() && !spec.unlinked_records) where.push_back(spec.external_id_field + " != null");
  for (size_t i = 0; i < where.size(); ++i) soql += (i ? " AND " : " WHERE ") + where[i];
  soql += " ORDER BY SystemModstamp, Id";
  return soql;
}

std::optional<std::string> written_id(const nlohmann::json& result) {
  auto id = remote_json::opt_string(result, "id");
  if (!remote_json::bool_or(result, "success", false) || !id || id->empty() || has_control_character(*id))
    return std::nullopt;
  return id;
}

std::optional<RemoteRecord> parse_sobject(const nlohmann::json& body, std::string& reason,
                                          const std::string& external_id_field) {
  if (!body.is_object()) {
    reason = "record is not a JSON object";
    return std::nullopt;
  }
  RemoteRecord r;
  r.id = remote_json::string_or(body, "Id");
  if (r.id.empty()) {
    reason = "record without an Id";
    return std::nullopt;
  }
  // An id goes into URLs, SOQL, logs and the state DB; Salesforce's never hold control characters.
  if (has_control_character(r.id)) {
    reason = "record Id '" + printable_id(r.id) + "' contains a control character";
    return std::nullopt;
  }
  if (!external_id_field.empty()) {
    auto external_id = remote_json::opt_string(body, external_id_field);
    if (external_id && has_control_character(*external_id)) {
      reason = "record " + r.id + " has " + external_id_field + " '" + printable_id(*external_id) +
               "', which contains a control character";
      return std::nullopt;
    }
  }
  r.version = remote_json::string_or(body, "SystemModstamp");
  auto modified = parse_iso8601(r.version);
  if (!modified) {
    reason = "record " + r.id + " has no valid SystemModstamp";
    return std::nullopt;
  }
  r.modified = *modified;
  r.deleted = remote_json::bool_or(body, "IsDeleted", false);
  r.fields = body;
  r.fields.erase("attributes");
  count_completed_activities(r.fields);
  return r;
}

std::string SalesforceConnector::api_usage() const {
  if (!usage_.known()) return {};
  return std::to_string(usage_.used) + "/" + std::to_string(usage_.limit);
}

net::awaitable<Expected<http::Response>> SalesforceConnector::call(http::Method method, const std::string& path_or_url,
                                                                   std::string body, bool essential, bool query) {
  // Paused after REQUEST_LIMIT_EXCEEDED: nothing goes out until the pause ends (no hammering).
  if (now() < paused_until_)
    co_return Failure{FailureKind::transient,
                      "salesforce API paused until " + format_iso8601(paused_until_) + " (daily request limit; " +
                          "api-usage=" + api_usage() + ")",
                      0, ""};
  // Above the configured share only essential calls go out, and a non-essential probe once per
  // pause, so that the usage is learnt again when the rolling window frees allowance.
  if (!essential && usage_.known() && usage_.share() >= options_.max_api_usage) {
    if (now() < next_probe_)
      co_return Failure{FailureKind::transient,
                        "salesforce api-usage=" + api_usage() + " is at or above " +
                            std::to_string(static_cast<int>(options_.max_api_usage * 100 + 0.5)) +
                            "% of the daily allowance: non-essential calls stopped",
                        0, ""};
    next_probe_ = now() + options_.limit_pause;  // this call is the probe; the next waits again
  }
  http::Request req;
  req.method = method;
  req.url = path_or_url.starts_with("/") ? options_.instance_url + path_or_url : path_or_url;
  req.headers = {{"Accept", "application/json"}};
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  if (query) req.headers.emplace_back("Sforce-Query-Options", "batchSize=" + std::to_string(options_.query_batch_size));
  req.body = std::move(body);
  // PATCH by id or by external id sets the same values again when repeated.
  if (method == http::Method::patch) req.idempotent = true;
  auto res = co_await auth::authorized_send(client_, tokens_, std::move(req));
  if (!res) co_return res;
  if (auto u = parse_limit_info(res->header("Sforce-Limit-Info"))) {
    bool crossed = usage_.share() < options_.max_api_usage && u->share() >= options_.max_api_usage;
    usage_ = *u;
    if (crossed) {
      next_probe_ = now() + options_.limit_pause;
      log_->warn("salesforce: api-usage={} reached {}% of the org's daily allowance: pulls and describes stop, "
                 "writes of work already pulled continue",
                 api_usage(), static_cast<int>(options_.max_api_usage * 100 + 0.5));
    }
  }
  if (res->status == 403 && res->body.find("REQUEST_LIMIT_EXCEEDED") != std::string::npos) {
    paused_until_ = now() + options_.limit_pause;
    next_probe_ = paused_until_;
    log_->error("salesforce: REQUEST_LIMIT_EXCEEDED (api-usage={}): the org's daily API allowance is used up; "
                "this connection makes no calls until {}",
                api_usage().empty() ? "unknown" : api_usage(), format_iso8601(paused_until_));
    co_return Failure{FailureKind::transient,
                      "salesforce answered 403 REQUEST_LIMIT_EXCEEDED; paused until " + format_iso8601(paused_until_),
                      403, ""};
  }
  co_return res;
}

net::awaitable<std::optional<Failure>> SalesforceConnector::query_pages(const std::string& soql, bool include_deleted,
                                                                       bool essential, const std::string& what,
                                                                       const std::string& external_id_field,
                                                                       std::optional<TimePoint>* served_at,
                                                                       const PageSink& sink) {
  boost::urls::url u(options_.instance_url);
  u.set_path(data_path() + (include_deleted ? "/queryAll" : "/query"));
  u.params().append({"q", soql});
  std::string next = std::string(u.buffer());
  // nextRecordsUrl comes from the answer: it must not take the bearer token to another origin.
  http::NextPageLinks links(next, kMaxQueryPages);
  PullDedupe dedupe;  // a query locator serves a snapshot; a record twice is still handed on once
  auto res = co_await call(http::Method::get, next, {}, essential, true);
  while (true) {
    if (!res) co_return res.failure();
    if (res->status != 200) co_return api_failure(*res, what, kRequestIdHeader);
    if (served_at) *served_at = parse_http_date(res->header("Date"));
    served_at = nullptr;  // the first page's answer only
    auto body = remote_json::parse(res->body);
    res->body.clear();
    res->body.shrink_to_fit();
    const auto& records = remote_json::member(body, "records");
    if (!records.is_array())
      co_return Failure{FailureKind::transient,
                        what + " answered 200 with a malformed body (" +
                            (body.is_discarded() ? "not JSON, or nested deeper than " +
                                                       std::to_string(remote_json::kMaxDepth) + " levels"
                                                 : "no records array") +
                            ")",
                        200, ""};
    PullPage page;
    for (const auto& item : records) {
      std::string reason;
      auto record = parse_sobject(item, reason, external_id_field);
      if (!record) {
        page.malformed.push_back({printable_id(remote_json::string_or(item, "Id")), reason});
        continue;
      }
      if (dedupe.fresh(*record)) page.records.push_back(std::move(*record));
    }
    auto link = remote_json::opt_string(body, "nextRecordsUrl");
    Expected<std::string> followed = std::string();
    if (!remote_json::bool_or(body, "done", true) && link) followed = links.follow(*link);
    body = nlohmann::json();  // the page's JSON is not kept while the sink works on it
    if (followed && !followed->empty()) {
      // The next page is read while the sink works on this one; a stop discards it unseen.
      std::string body_none;
      auto fetching = call(http::Method::get, *followed, std::move(body_none), essential, true);
      auto handed = co_await hand_over_while_fetching(sink, page, std::move(fetching));
      if (!std::get<0>(handed)) co_return Failure{FailureKind::transient, what + ": stopped by the caller", 0, ""};
      res = std::move(std::get<1>(handed));
      continue;
    }
    bool more = co_await sink(page);  // named first (GCC 12); a page read is handed over in any case
    if (!more) co_return Failure{FailureKind::transient, what + ": stopped by the caller", 0, ""};
    if (!followed)
      co_return Failure{followed.failure().kind, what + ": nextRecordsUrl: " + followed.failure().message, 200, ""};
    break;
  }
  co_return std::nullopt;
}

net::awaitable<Expected<PullResult>> SalesforceConnector::run_query(const std::string& soql, bool include_deleted,
                                                                    bool essential, const std::string& what,
                                                                    const std::string& external_id_field,
                                                                    std::optional<TimePoint>* served_at) {
  PullResult result;
  PageSink collect = [&result](PullPage& page) -> net::awaitable<bool> {
    for (auto& r : page.records) result.records.push_back(std::move(r));
    for (auto& m : page.malformed) result.malformed.push_back(std::move(m));
    co_return true;
  };
  auto failed = co_await query_pages(soql, include_deleted, essential, what, external_id_field, served_at, collect);
  if (failed) co_return std::move(*failed);
  co_return result;
}

net::awaitable<Expected<std::string>> SalesforceConnector::pull_pages(const ObjectSpec& spec, const std::string& cursor,
                                                                     const PageSink& sink) {
  std::string since;
  if (auto c = parse_iso8601(cursor)) since = format_iso8601(*c - options_.overlap);
  // queryAll: deleted records (IsDeleted = true, still in the recycle bin) come too.
  // The next pull starts at Salesforce's clock when it answered the first page (its Date header)
  // minus the overlap, not at the newest SystemModstamp seen: a record changed after that answer
  // has a SystemModstamp at or after it (Date is cut to the second), and our own creates after the
  // pull are not re-read cycle after cycle. The overlap absorbs a commit that became visible later
  // than its SystemModstamp. Without a Date header: the newest SystemModstamp seen, as before.
  // Each page goes to the sink as it comes (Sforce-Query-Options batchSize bounds it).
  std::optional<TimePoint> served;
  TimePoint newest = parse_iso8601(cursor).value_or(TimePoint{});
  std::size_t pulled = 0;
  PageSink count = tallying(sink, newest, pulled);
  auto failed = co_await query_pages(build_pull_soql(spec, since), true, false, "SOQL query on " + spec.object,
                                     spec.external_id_field, &served, count);
  if (failed) co_return std::move(*failed);
  std::string next_cursor = cursor;
  if (served) next_cursor = format_iso8601(*served);
  else if (newest != TimePoint{}) next_cursor = format_iso8601(newest);
  log_->debug("salesforce: pulled {} {} records", pulled, spec.object);
  co_return next_cursor;
}

net::awaitable<Expected<std::map<std::string, RemoteRecord>>> SalesforceConnector::read_by_ids(
    const ObjectSpec& spec, const std::vector<std::string>& ids, bool all_fields) {
  std::map<std::string, RemoteRecord> out;
  if (ids.empty()) co_return out;
  auto result = co_await run_query(build_ids_soql(spec, ids, all_fields), false, true, "SOQL read of " + spec.object,
                                   spec.external_id_field);
  if (!result) co_return result.failure();
  for (auto& r : result->records) {
    std::string id = r.id;
    out.emplace(std::move(id), std::move(r));
  }
  co_return out;
}

net::awaitable<Expected<nlohmann::json>> SalesforceConnector::describe(const std::string& object) {
  boost::urls::url u(options_.instance_url);
  u.set_path(data_path());
  u.segments().push_back("sobjects");
  u.segments().push_back(object);
  u.segments().push_back("describe");
  auto res = co_await call(http::Method::get, std::string(u.buffer()), {}, false);
  if (!res) co_return res.failure();
  if (res->status != 200) co_return api_failure(*res, "describe " + object, kRequestIdHeader);
  auto body = remote_json::parse(res->body);
  if (!remote_json::member(body, "fields").is_array())
    co_return Failure{FailureKind::transient, "describe " + object + " answered 200 without fields", 200, ""};
  co_return body;
}

namespace {

// DescribeFieldResult `length`: "the maximum size of the field in Unicode characters (not
// bytes)", for string-like fields; 0 on the others (numbers, dates, booleans), which are not cut.
// https://developer.salesforce.com/docs/platform/apex-ref/references/apex-ref/apex-methods-system-fields-describe.html
std::optional<std::size_t> text_length_of(const nlohmann::json& field) {
  static const std::set<std::string> kTextTypes = {"string", "textarea", "email", "phone", "url", "encryptedstring", "combobox"};
  if (!kTextTypes.contains(remote_json::string_or(field, "type"))) return std::nullopt;
  const auto& length = remote_json::member(field, "length");
  if (!length.is_number_unsigned() || length.get<std::uint64_t>() == 0) return std::nullopt;
  return static_cast<std::size_t>(length.get<std::uint64_t>());
}

}  // namespace

ObjectMetadata metadata_from_describe(const nlohmann::json& describe) {
  ObjectMetadata meta;
  meta.object = remote_json::string_or(describe, "name");
  for (const auto& f : remote_json::array_at(describe, "fields")) {
    auto name = remote_json::opt_string(f, "name");
    if (!name) continue;
    FieldMetadata field;
    field.name = std::move(*name);
    field.updateable = remote_json::bool_or(f, "updateable", false);
    field.createable = remote_json::bool_or(f, "createable", false);
    for (const auto& v : remote_json::array_at(f, "picklistValues"))
      if (auto value = remote_json::opt_string(v, "value"); value && remote_json::bool_or(v, "active", false))
        field.allowed_values.push_back(std::move(*value));
    field.max_length = text_length_of(f);
    meta.fields.push_back(std::move(field));
  }
  return meta;
}

net::awaitable<Expected<ObjectMetadata>> SalesforceConnector::describe_object(const std::string& object) {
  auto body = co_await describe(object);
  if (!body) co_return body.failure();
  auto meta = metadata_from_describe(*body);
  if (meta.object.empty()) meta.object = object;
  co_return meta;
}

net::awaitable<Expected<RemoteRecord>> SalesforceConnector::get(const ObjectSpec& spec, const std::string& id) {
  // Fields of related records ("Account.Name") and counted activities come only through a SOQL
  // relationship query.
  bool related = std::any_of(spec.fields.begin(), spec.fields.end(), [](const std::string& f) {
    return f.find('.') != std::string::npos || f == kCompletedActivitiesField;
  });
  if (related) {
    const std::vector<std::string> ids = {id};  // named: GCC 12 cannot take a braced temporary here
    auto found = co_await read_by_ids(spec, ids, true);
    if (!found) co_return found.failure();
    auto it = found->find(id);
    if (it == found->end()) co_return Failure{FailureKind::not_found, spec.object + " " + id + " does not exist", 404, ""};
    co_return std::move(it->second);
  }
  auto res = co_await call(http::Method::get, sobject_path(spec, id));
  if (!res) co_return res.failure();
  if (res->status != 200) co_return api_failure(*res, "GET " + spec.object + " " + id, kRequestIdHeader);
  std::string reason;
  auto record = parse_sobject(remote_json::parse(res->body), reason, spec.external_id_field);
  if (!record) co_return Failure{FailureKind::rejected, "malformed " + spec.object + ": " + reason, 200, ""};
  co_return *record;
}

net::awaitable<Expected<RemoteRecord>> SalesforceConnector::update(const ObjectSpec& spec, const RemoteRecord& current,
                                                                   const std::vector<FieldChange>& changes) {
  // No ETag on Lead: re-read SystemModstamp just before writing. A change landing between this
  // read and the PATCH is the remaining window (milliseconds); the next pull sees it.
  auto fresh = co_await get(spec, current.id);
  if (!fresh) co_return fresh.failure();
  if (fresh->version != current.version)
    co_return Failure{FailureKind::conflict, spec.object + " " + current.id + " changed since it was read", 0, ""};
  nlohmann::json body = nlohmann::json::object();
  for (const auto& c : changes) body[c.path] = c.value;
  auto res = co_await call(http::Method::patch, sobject_path(spec, current.id), body.dump());
  if (!res) co_return res.failure();
  if (res->status != 204 && res->status != 200)
    co_return api_failure(*res, "PATCH " + spec.object + " " + current.id, kRequestIdHeader);
  co_return co_await get(spec, current.id);
}

namespace {

// 300 Multiple Choices on an upsert by external id: the body lists the matching records' URLs.
Failure several_matches(const ObjectSpec& spec, const std::string& external_id, const std::string& body) {
  std::string ids;
  auto urls = remote_json::parse(body);
  if (urls.is_array())
    for (const auto& u : urls)
      if (u.is_string()) {
        const auto& url = u.get_ref<const std::string&>();
        ids += (ids.empty() ? "" : ", ") + url.substr(url.rfind('/') + 1);
      }
  if (ids.empty()) ids = body.substr(0, 300);
  std::ostringstream text;
  text << "several " << spec.object << " records have " << spec.external_id_field << " = " << external_id << ": "
       << ids << " (merge or clear the duplicates in Salesforce, then run quarantine retry)";
  return Failure{FailureKind::rejected, text.str(), 300, ""};
}

}  // namespace

net::awaitable<Expected<RemoteRecord>> SalesforceConnector::upsert(const ObjectSpec& spec, const std::string& external_id,
                                                                   const std::vector<FieldChange>& fields) {
  nlohmann::json body = nlohmann::json::object();
  for (const auto& c : fields)
    if (c.path != spec.external_id_field) body[c.path] = c.value;
  boost::urls::url u(sobject_path(spec, spec.external_id_field));
  u.segments().push_back(external_id);
  auto res = co_await call(http::Method::patch, std::string(u.buffer()), body.dump());
  if (!res) co_return res.failure();
  if (res->status == 300) co_return several_matches(spec, external_id, res->body);
  if (res->status != 200 && res->status != 201)
    co_return api_failure(*res, "upsert " + spec.object + " by " + spec.external_id_field, kRequestIdHeader);
  auto id = remote_json::opt_string(remote_json::parse(res->body), "id");
  if (!id || id->empty() || has_control_character(*id))
    co_return Failure{FailureKind::transient, "upsert answered without a valid record id", res->status, ""};
  co_return co_await get(spec, *id);
}

namespace {

constexpr std::size_t kCollectionSize = 200;  // sObject Collections' limit per call

nlohmann::json collection_record(const ObjectSpec& spec, const std::vector<FieldChange>& changes) {
  nlohmann::json r = {{"attributes", {{"type", spec.object}}}};
  for (const auto& c : changes) r[c.path] = c.value;
  return r;
}

std::vector<Expected<RemoteRecord>> unwrap(std::vector<std::optional<Expected<RemoteRecord>>>& results) {
  std::vector<Expected<RemoteRecord>> out;
  out.reserve(results.size());
  for (auto& r : results)
    out.push_back(r ? std::move(*r) : Expected<RemoteRecord>(Failure{FailureKind::fatal, "no result", 0, ""}));
  return out;
}

}  // namespace

net::awaitable<void> SalesforceConnector::collect_results(const ObjectSpec& spec, const http::Response& res,
                                                          const std::vector<std::size_t>& indexes,
                                                          const std::string& what,
                                                          std::vector<std::optional<Expected<RemoteRecord>>>& out) {
  if (res.status != 200) {
    auto f = api_failure(res, what, kRequestIdHeader);
    for (auto i : indexes) out[i] = f;
    co_return;
  }
  auto body = remote_json::parse(res.body);
  if (!body.is_array() || body.size() != indexes.size()) {
    Failure f{FailureKind::transient, what + " answered 200 with a malformed body", 200, ""};
    for (auto i : indexes) out[i] = f;
    co_return;
  }
  std::vector<std::string> ids;
  std::vector<std::pair<std::size_t, std::string>> written;  // request index, record id
  for (std::size_t k = 0; k < indexes.size(); ++k) {
    const auto& r = body[k];
    if (auto id = written_id(r)) {
      written.emplace_back(indexes[k], *id);
      ids.push_back(std::move(*id));
    } else {
      out[indexes[k]] = collection_error(remote_json::member(r, "errors"), what);
    }
  }
  // Read back what was written, for the new SystemModstamp: one query for the whole batch.
  auto fresh = co_await read_by_ids(spec, ids, true);
  for (const auto& [i, id] : written) {
    if (!fresh) {
      out[i] = Failure{FailureKind::transient, what + " written, but reading it back failed: " + fresh.failure().message,
                       fresh.failure().http_status, ""};
    } else if (auto it = fresh->find(id); it != fresh->end()) {
      out[i] = it->second;
    } else {
      out[i] = Failure{FailureKind::transient, what + ": " + spec.object + " " + id + " written but not found after", 0, ""};
    }
  }
}

net::awaitable<std::vector<Expected<RemoteRecord>>> SalesforceConnector::update_many(
    const ObjectSpec& spec, const std::vector<UpdateRequest>& requests) {
  std::vector<std::optional<Expected<RemoteRecord>>> results(requests.size());
  for (std::size_t begin = 0; begin < requests.size(); begin += kCollectionSize) {
    std::size_t end = std::min(requests.size(), begin + kCollectionSize);
    // Lead and Opportunity have no ETag: re-read SystemModstamp of the whole batch in one query
    // just before writing, and write only the records that did not move. The remaining window
    // is the time between this query and the Collections PATCH below (one round trip, typically
    // well under a second for 200 records): a user's edit landing in it to a field we also write
    // is overwritten, because Salesforce offers no conditional update for these objects. Fields
    // we do not write are untouched, and the next pull sees the record changed.
    std::vector<std::string> ids;
    for (std::size_t i = begin; i < end; ++i) ids.push_back(requests[i].current.id);
    auto fresh = co_await read_by_ids(spec, ids, false);
    if (!fresh) {
      for (std::size_t i = begin; i < end; ++i) results[i] = fresh.failure();
      continue;
    }
    nlohmann::json body = {{"allOrNone", false}, {"records", nlohmann::json::array()}};
    std::vector<std::size_t> sent;
    for (std::size_t i = begin; i < end; ++i) {
      const auto& current = requests[i].current;
      auto it = fresh->find(current.id);
      if (it == fresh->end()) {
        results[i] = Failure{FailureKind::not_found, spec.object + " " + current.id + " no longer exists", 404, ""};
      } else if (it->second.version != current.version) {
        results[i] = Failure{FailureKind::conflict, spec.object + " " + current.id + " changed since it was read", 0, ""};
      } else {
        auto record = collection_record(spec, requests[i].changes);
        record["id"] = current.id;
        body["records"].push_back(std::move(record));
        sent.push_back(i);
      }
    }
    if (sent.empty()) continue;
    auto res = co_await call(http::Method::patch, data_path() + "/composite/sobjects", body.dump());
    if (!res) {
      for (auto i : sent) results[i] = res.failure();
      continue;
    }
    co_await collect_results(spec, *res, sent, "update of " + spec.object, results);
  }
  co_return unwrap(results);
}

net::awaitable<std::vector<Expected<RemoteRecord>>> SalesforceConnector::upsert_many(
    const ObjectSpec& spec, const std::vector<UpsertRequest>& requests_in) {
  std::vector<std::optional<Expected<RemoteRecord>>> results(requests_in.size());
  std::vector<UpsertRequest> requests = requests_in;
  // Named first: GCC 12 mishandles a temporary bound to a reference across co_await.
  const ParentLookup parent = with_salesforce_defaults(spec.parent.value_or(ParentLookup{}));
  co_await resolve_parents(parent, requests, results);
  boost::urls::url u(options_.instance_url);
  u.set_path(data_path() + "/composite/sobjects");
  u.segments().push_back(spec.object);
  u.segments().push_back(spec.external_id_field);
  const std::string url(u.buffer());
  for (std::size_t begin = 0; begin < requests.size(); begin += kCollectionSize) {
    std::size_t end = std::min(requests.size(), begin + kCollectionSize);
    nlohmann::json body = {{"allOrNone", false}, {"records", nlohmann::json::array()}};
    std::vector<std::size_t> sent;
    for (std::size_t i = begin; i < end; ++i) {
      if (results[i]) continue;  // its parent could not be settled
      std::vector<FieldChange> fields;
      for (const auto& c : requests[i].fields)
        if (c.path != spec.external_id_field) fields.push_back(c);
      auto record = collection_record(spec, fields);
      record[spec.external_id_field] = requests[i].external_id;
      body["records"].push_back(std::move(record));
      sent.push_back(i);
    }
    if (sent.empty()) continue;
    auto res = co_await call(http::Method::patch, url, body.dump());
    if (!res) {
      for (auto i : sent) results[i] = res.failure();
      continue;
    }
    co_await collect_results(spec, *res, sent, "upsert of " + spec.object + " by " + spec.external_id_field, results);
  }
  co_return unwrap(results);
}

}  // namespace cosync::connectors
