#include "connectors/salesforce/salesforce_connector.hpp"

#include <boost/url/url.hpp>
#include <set>

#include "connectors/api_error.hpp"
#include "daemon/auth/authorized_send.hpp"
#include "daemon/util/time.hpp"

namespace cosync::connectors {

namespace net = boost::asio;
// Salesforce sends no request id header; errors are identified by errorCode and message.
constexpr const char* kRequestIdHeader = "";

SalesforceConnector::SalesforceConnector(http::HttpClient& client, auth::TokenProvider& tokens, SalesforceOptions options,
                                         Log log)
    : client_(client), tokens_(tokens), options_(std::move(options)), log_(std::move(log)) {
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

std::string build_pull_soql(const ObjectSpec& spec, const std::string& since) {
  std::vector<std::string> fields = {"Id", "SystemModstamp"};
  auto add = [&](const std::string& f) {
    if (!f.empty() && std::find(fields.begin(), fields.end(), f) == fields.end()) fields.push_back(f);
  };
  for (const auto& f : spec.fields) add(f);
  add(spec.external_id_field);
  std::string soql = "SELECT ";
  for (size_t i = 0; i < fields.size(); ++i) soql += (i ? ", " : "") + fields[i];
  soql += " FROM " + spec.object;
  std::vector<std::string> where;
  if (!since.empty()) where.push_back("SystemModstamp >= " + since);
  // Only records tied to Partner Center belong to a mapping that has an external-id field.
  if (!spec.external_id_field.empty()) where.push_back(spec.external_id_field + " != null");
  for (size_t i = 0; i < where.size(); ++i) soql += (i ? " AND " : " WHERE ") + where[i];
  soql += " ORDER BY SystemModstamp, Id";
  return soql;
}

std::optional<RemoteRecord> parse_sobject(const nlohmann::json& body, std::string& reason) {
  if (!body.is_object()) {
    reason = "record is not a JSON object";
    return std::nullopt;
  }
  RemoteRecord r;
  if (body.contains("Id") && body["Id"].is_string()) r.id = body["Id"].get<std::string>();
  if (r.id.empty()) {
    reason = "record without an Id";
    return std::nullopt;
  }
  if (body.contains("SystemModstamp") && body["SystemModstamp"].is_string()) r.version = body["SystemModstamp"].get<std::string>();
  auto modified = parse_iso8601(r.version);
  if (!modified) {
    reason = "record " + r.id + " has no valid SystemModstamp";
    return std::nullopt;
  }
  r.modified = *modified;
  r.fields = body;
  r.fields.erase("attributes");
  return r;
}

net::awaitable<Expected<http::Response>> SalesforceConnector::call(http::Method method, const std::string& path_or_url,
                                                                   std::string body) {
  http::Request req;
  req.method = method;
  req.url = path_or_url.starts_with("/") ? options_.instance_url + path_or_url : path_or_url;
  req.headers = {{"Accept", "application/json"}};
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  req.body = std::move(body);
  // PATCH by id or by external id sets the same values again when repeated.
  if (method == http::Method::patch) req.idempotent = true;
  co_return co_await auth::authorized_send(client_, tokens_, std::move(req));
}

net::awaitable<Expected<PullResult>> SalesforceConnector::pull(const ObjectSpec& spec, const std::string& cursor) {
  std::string since;
  if (auto c = parse_iso8601(cursor)) since = format_iso8601(*c - options_.overlap);
  boost::urls::url u(options_.instance_url);
  u.set_path(data_path() + "/query");
  u.params().append({"q", build_pull_soql(spec, since)});
  std::string next = std::string(u.buffer());

  PullResult result;
  result.cursor = cursor;
  TimePoint newest = parse_iso8601(cursor).value_or(TimePoint{});
  std::set<std::string> seen;
  while (!next.empty()) {
    auto res = co_await call(http::Method::get, next);
    if (!res) co_return res.failure();
    if (res->status != 200) co_return api_failure(*res, "SOQL query on " + spec.object, kRequestIdHeader);
    auto body = nlohmann::json::parse(res->body, nullptr, false);
    if (!body.is_object() || !body.contains("records") || !body["records"].is_array())
      co_return Failure{FailureKind::transient, "SOQL query answered 200 with a malformed body", 200, ""};
    for (const auto& item : body["records"]) {
      std::string reason;
      auto record = parse_sobject(item, reason);
      if (!record) {
        result.malformed.push_back({item.is_object() ? item.value("Id", "") : "", reason});
        continue;
      }
      if (!seen.insert(record->id).second) continue;
      newest = std::max(newest, record->modified);
      result.records.push_back(std::move(*record));
    }
    next.clear();
    if (!body.value("done", true) && body.contains("nextRecordsUrl") && body["nextRecordsUrl"].is_string())
      next = body["nextRecordsUrl"].get<std::string>();
  }
  if (newest != TimePoint{}) result.cursor = format_iso8601(newest);
  log_->debug("salesforce: pulled {} {} records", result.records.size(), spec.object);
  co_return result;
}

net::awaitable<Expected<RemoteRecord>> SalesforceConnector::get(const ObjectSpec& spec, const std::string& id) {
  auto res = co_await call(http::Method::get, sobject_path(spec, id));
  if (!res) co_return res.failure();
  if (res->status != 200) co_return api_failure(*res, "GET " + spec.object + " " + id, kRequestIdHeader);
  std::string reason;
  auto record = parse_sobject(nlohmann::json::parse(res->body, nullptr, false), reason);
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

net::awaitable<Expected<RemoteRecord>> SalesforceConnector::upsert(const ObjectSpec& spec, const std::string& external_id,
                                                                   const std::vector<FieldChange>& fields) {
  nlohmann::json body = nlohmann::json::object();
  for (const auto& c : fields)
    if (c.path != spec.external_id_field) body[c.path] = c.value;
  boost::urls::url u(sobject_path(spec, spec.external_id_field));
  u.segments().push_back(external_id);
  auto res = co_await call(http::Method::patch, std::string(u.buffer()), body.dump());
  if (!res) co_return res.failure();
  if (res->status == 300)
    co_return Failure{FailureKind::rejected,
                      "several " + spec.object + " records have " + spec.external_id_field + " = " + external_id + ": " +
                          res->body.substr(0, 300),
                      300, ""};
  if (res->status != 200 && res->status != 201)
    co_return api_failure(*res, "upsert " + spec.object + " by " + spec.external_id_field, kRequestIdHeader);
  auto answer = nlohmann::json::parse(res->body, nullptr, false);
  if (!answer.is_object() || !answer.contains("id") || !answer["id"].is_string())
    co_return Failure{FailureKind::transient, "upsert answered without the record id", res->status, ""};
  co_return co_await get(spec, answer["id"].get<std::string>());
}

}  // namespace cosync::connectors
