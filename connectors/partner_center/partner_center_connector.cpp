#include "connectors/partner_center/partner_center_connector.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <set>

#include "connectors/api_error.hpp"
#include "daemon/auth/authorized_send.hpp"
#include "daemon/util/json_path.hpp"
#include "daemon/util/time.hpp"
#include "daemon/util/uuid.hpp"

namespace cosync::connectors {

namespace net = boost::asio;
constexpr const char* kRequestIdHeader = "MS-RequestId";

PartnerCenterConnector::PartnerCenterConnector(http::HttpClient& client, auth::TokenProvider& tokens,
                                               PartnerCenterOptions options, Log log)
    : client_(client), tokens_(tokens), options_(std::move(options)), log_(std::move(log)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
}

std::string PartnerCenterConnector::referral_url(const std::string& id) const {
  boost::urls::url u(options_.base_url);
  u.segments().push_back("referrals");
  if (!id.empty()) u.segments().push_back(id);
  return std::string(u.buffer());
}

net::awaitable<Expected<http::Response>> PartnerCenterConnector::call(http::Request request) {
  // The published contract requires content-type on every request, GET included.
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("Accept", "application/json");
  request.headers.emplace_back("MS-CorrelationId", random_uuid());
  // Stable across the HttpClient's retries of this one call.
  request.headers.emplace_back("MS-RequestId", random_uuid());
  co_return co_await auth::authorized_send(client_, tokens_, std::move(request));
}

net::awaitable<Expected<PullResult>> PartnerCenterConnector::pull(const ObjectSpec&, const std::string& cursor) {
  std::optional<TimePoint> since;
  if (auto c = parse_iso8601(cursor)) since = *c - options_.overlap;

  boost::urls::url first(referral_url(""));
  first.params().append({"$orderby", "updatedDateTime desc"});
  first.params().append({"$top", std::to_string(options_.page_size)});
  std::string next = std::string(first.buffer());

  PullResult result;
  result.cursor = cursor;
  std::set<std::string> seen;
  TimePoint newest = parse_iso8601(cursor).value_or(TimePoint{});
  int pages = 0;
  while (!next.empty()) {
    // Named, not a braced temporary inside co_await: GCC 12 destroys such temporaries twice.
    http::Request page{http::Method::get, next, {}, {}, {}, {}};
    auto res = co_await call(std::move(page));
    if (!res) co_return res.failure();
    if (res->status != 200) co_return api_failure(*res, "GET referrals", kRequestIdHeader);
    auto body = nlohmann::json::parse(res->body, nullptr, false);
    if (!body.is_object() || !body.contains("value") || !body["value"].is_array())
      co_return Failure{FailureKind::transient, "GET referrals answered 200 with a malformed body", 200,
                        res->header(kRequestIdHeader)};
    ++pages;
    bool past_cursor = false;
    for (const auto& item : body["value"]) {
      std::string reason;
      auto record = parse_referral(item, reason);
      if (!record) {
        std::string id = item.is_object() && item.contains("id") && item["id"].is_string() ? item["id"].get<std::string>() : "";
        result.malformed.push_back({id, reason});
        continue;
      }
      if (since && record->modified < *since) {
        past_cursor = true;  // ordered newest first: everything after this is older still
        break;
      }
      if (!seen.insert(record->id).second) continue;  // pages can shift while we read them
      newest = std::max(newest, record->modified);
      result.records.push_back(std::move(*record));
    }
    next.clear();
    if (!past_cursor && body.contains("@odata.nextLink") && body["@odata.nextLink"].is_string()) {
      // Opaque; absolute or relative to the page that carried it.
      const std::string& text = body["@odata.nextLink"].get_ref<const std::string&>();  // the view below points into it
      auto link = boost::urls::parse_uri_reference(text);
      if (link) {
        boost::urls::url resolved;
        boost::urls::url base(first);
        if (boost::urls::resolve(base, *link, resolved)) next = std::string(resolved.buffer());
      }
    }
  }
  if (newest != TimePoint{}) result.cursor = format_iso8601(newest);
  log_->debug("partner_center: pulled {} referrals in {} pages ({} malformed)", result.records.size(), pages,
              result.malformed.size());
  co_return result;
}

net::awaitable<Expected<RemoteRecord>> PartnerCenterConnector::get(const ObjectSpec&, const std::string& id) {
  http::Request req{http::Method::get, referral_url(id), {}, {}, {}, {}};
  auto res = co_await call(std::move(req));
  if (!res) co_return res.failure();
  if (res->status != 200) co_return api_failure(*res, "GET referral " + id, kRequestIdHeader);
  std::string reason;
  auto record = parse_referral(nlohmann::json::parse(res->body, nullptr, false), reason);
  if (!record) co_return Failure{FailureKind::rejected, "malformed referral: " + reason, 200, res->header(kRequestIdHeader)};
  co_return *record;
}

net::awaitable<Expected<RemoteRecord>> PartnerCenterConnector::update(const ObjectSpec& spec, const RemoteRecord& current,
                                                                      const std::vector<FieldChange>& changes) {
  if (auto refusal = referral_patch_refusal(current.fields, changes))
    co_return Failure{FailureKind::rejected, "referral " + current.id + ": " + *refusal, 0, ""};
  nlohmann::json patch = nlohmann::json::array();
  for (const auto& c : changes) {
    bool present = !json_at(current.fields, c.path).is_null();
    patch.push_back({{"op", present ? "replace" : "add"}, {"path", to_json_pointer(c.path)}, {"value", c.value}});
  }
  http::Request req{http::Method::patch, referral_url(current.id), {{"If-Match", current.version}}, patch.dump(), {}, {}};
  // If-Match makes a repeat harmless: a patch that already landed answers 412 and is re-merged.
  req.idempotent = true;
  auto res = co_await call(std::move(req));
  if (!res) co_return res.failure();
  if (res->status == 200) {
    std::string reason;
    if (auto record = parse_referral(nlohmann::json::parse(res->body, nullptr, false), reason)) co_return *record;
  } else if (res->status != 204) {
    co_return api_failure(*res, "PATCH referral " + current.id, kRequestIdHeader);
  }
  // 204 carries no body: read the referral back for its new eTag.
  co_return co_await get(spec, current.id);
}

net::awaitable<Expected<RemoteRecord>> PartnerCenterConnector::upsert(const ObjectSpec&, const std::string&,
                                                                      const std::vector<FieldChange>&) {
  co_return Failure{FailureKind::fatal, "creating Partner Center referrals is not supported yet", 0, ""};
}

}  // namespace cosync::connectors
