#include "connectors/partner_center/partner_center_connector.hpp"

#include <boost/url/url.hpp>

#include "connectors/api_error.hpp"
#include "connectors/concurrently.hpp"
#include "connectors/page_prefetch.hpp"
#include "connectors/pull_dedupe.hpp"
#include "daemon/auth/authorized_send.hpp"
#include "daemon/util/json_path.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"
#include "daemon/util/uuid.hpp"

namespace cosync::connectors {

namespace net = boost::asio;
constexpr const char* kRequestIdHeader = "MS-RequestId";
constexpr const char* kSweepMark = " sweep=";

namespace {

// The cursor: Partner Center's clock when it served the first page of the last pull (its Date
// header; the newest updatedDateTime seen when it sent none), then (when full sweeps are on) the
// time of the last full sweep: "2024-05-01T10:00:00Z sweep=2024-05-01T00:00:00Z". Opaque to the engine.
struct Cursor {
  std::optional<TimePoint> updated;
  std::optional<TimePoint> swept;
};

Cursor parse_cursor(const std::string& text) {
  Cursor c;
  auto mark = text.find(kSweepMark);
  c.updated = parse_iso8601(text.substr(0, mark));
  if (mark != std::string::npos) c.swept = parse_iso8601(text.substr(mark + std::string_view(kSweepMark).size()));
  return c;
}

// Drops nulls (the contract has no nullable property) and computed "_" fields, recursively.
void strip_for_write(nlohmann::json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end();) {
      if (it->is_null() || it.key().starts_with("_")) it = j.erase(it);
      else strip_for_write(*it++);
    }
  } else if (j.is_array()) {
    for (auto& item : j) strip_for_write(item);
  }
}

// OData string literal: single quotes doubled.
std::string odata_quote(const std::string& value) {
  std::string out = "'";
  for (char ch : value) out += ch == '\'' ? std::string("''") : std::string(1, ch);
  return out + "'";
}

}  // namespace

PartnerCenterConnector::PartnerCenterConnector(http::HttpClient& client, auth::TokenProvider& tokens,
                                               PartnerCenterOptions options, Log log)
    : client_(client), tokens_(tokens), options_(std::move(options)), log_(std::move(log)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
}

TimePoint PartnerCenterConnector::now() const {
  return options_.clock ? options_.clock->now() : std::chrono::system_clock::now();
}

Failure PartnerCenterConnector::failure(const http::Response& response, const std::string& what) const {
  std::string request_id = response.header(kRequestIdHeader);
  if (request_id.empty()) request_id = response.header("Request-ID");
  Failure f = api_failure(response, what, kRequestIdHeader);
  f.request_id = request_id;
  if (response.status == 401)
    f.message += " (the access token was refused even after a refresh: check the app registration, or run cosyncd "
                 "login partner-center)";
  if (response.status == 403)
    f.message = what + " answered 403 Forbidden: the user who ran cosyncd login partner-center needs the Referrals "
                "Admin role in Partner Center (Referrals User can only read)";
  log_->warn("partner_center: {} failed: status={} request_id={} correlation_id={}: {}", what, response.status,
             request_id.empty() ? "-" : request_id, response.header("MS-CorrelationId"), f.message);
  return f;
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
  auto response = co_await auth::authorized_send(client_, tokens_, std::move(request));
  if (response) remote_clock_.observe(response->header("Date"), now());
  co_return response;
}

net::awaitable<Expected<nlohmann::json>> PartnerCenterConnector::get_page(const std::string& url, const std::string& what,
                                                                         std::optional<TimePoint>* served_at) {
  // Named, not a braced temporary inside co_await: GCC 12 destroys such temporaries twice.
  http::Request page{http::Method::get, url, {}, {}, {}, {}};
  auto res = co_await call(std::move(page));
  if (!res) co_return res.failure();
  if (res->status != 200) co_return failure(*res, what);
  if (served_at) *served_at = parse_http_date(res->header("Date"));
  auto body = remote_json::parse(res->body);
  if (!remote_json::member(body, "value").is_array()) {
    Failure f{FailureKind::transient,
              what + " answered 200 with a malformed body (not JSON, nested deeper than " +
                  std::to_string(remote_json::kMaxDepth) + " levels, or without a value array)",
              200, res->header(kRequestIdHeader)};
    log_->warn("partner_center: {}", f.message);
    co_return f;
  }
  co_return body;
}

Expected<std::string> PartnerCenterConnector::next_page(const nlohmann::json& page, http::NextPageLinks& links,
                                                        const std::string& what) const {
  const auto& link = remote_json::member(page, "@odata.nextLink");
  if (link.is_null()) return std::string();
  // Opaque; absolute or relative to the page that carried it. Not followed off our origin (it
  // would carry the bearer token there), nor round a loop, nor past the page bound.
  Expected<std::string> url = link.is_string()
                                  ? links.follow(link.get_ref<const std::string&>())
                                  : Expected<std::string>(Failure{FailureKind::fatal, "the next-page link is not a string", 0, {}});
  if (!url) {
    Failure f = url.failure();
    f.message = what + ": @odata.nextLink not followed after " + std::to_string(links.pages()) + " page(s): " + f.message;
    log_->error("partner_center: {}", f.message);
    return f;
  }
  return url;
}

net::awaitable<Expected<std::string>> PartnerCenterConnector::pull_pages(const ObjectSpec&, const std::string& cursor,
                                                                        const PageSink& sink) {
  Cursor at = parse_cursor(cursor);
  std::optional<TimePoint> since;
  if (at.updated) since = *at.updated - options_.overlap;
  std::optional<TimePoint> swept = at.swept;
  bool sweep = false;
  if (options_.full_sweep.count() > 0) {
    TimePoint started = now();
    if (!since || !swept || started - *swept >= options_.full_sweep) {
      sweep = since.has_value();  // an empty cursor reads everything anyway
      since.reset();
      swept = started;
    }
  }

  // No $top: it is the total to retrieve (default all), not a page size. The service pages by
  // itself; only its @odata.nextLink is followed, and only through NextPageLinks.
  boost::urls::url first(referral_url(""));
  first.params().append({"$orderby", "updatedDateTime desc"});
  std::string next = std::string(first.buffer());
  http::NextPageLinks links(next, options_.max_pages);

  // Each page goes to the sink as it comes, so a pull holds one page whatever the backlog.
  PullDedupe dedupe;
  std::size_t pulled = 0, malformed = 0;
  TimePoint newest = at.updated.value_or(TimePoint{});
  // Where the next pull starts: Partner Center's own clock when it served the first page, not
  // the newest record seen. A referral changed after that instant carries an updatedDateTime at
  // or after it (the Date header is cut to the second, so it is never late), so the next pull,
  // from this minus the overlap, reads it even if this one did not; the overlap also absorbs a
  // skew between the clock that stamps records and the one that stamps Date. Anchored on the
  // newest record instead, our own write-backs after a bulk (all newer than the pull) kept every
  // later cycle re-reading the whole batch until a newer change arrived.
  std::optional<TimePoint> served;
  const std::string what = "GET referrals";  // named: the prefetching coroutine refers to it
  auto body = co_await get_page(next, what, &served);
  while (true) {
    if (!body) co_return body.failure();
    bool past_cursor = false;
    PullPage page;
    for (const auto& item : remote_json::array_at(*body, "value")) {
      std::string reason;
      auto record = parse_referral(item, reason);
      if (!record) {
        page.malformed.push_back({malformed_referral_id(item), reason});
        continue;
      }
      if (since && record->modified < *since) {
        past_cursor = true;  // ordered newest first: everything after this is older still
        break;
      }
      newest = std::max(newest, record->modified);
      // Pages can shift while we read them: the same referral twice, maybe at two eTags.
      if (dedupe.fresh(*record)) page.records.push_back(std::move(*record));
    }
    Expected<std::string> link = std::string();
    if (!past_cursor) link = next_page(*body, links, what);
    *body = nlohmann::json();  // the page's JSON is not kept while the sink works on it
    pulled += page.records.size();
    malformed += page.malformed.size();
    if (link && !link->empty()) {
      // The next page is read while the sink works on this one; a stop discards it unseen.
      auto fetching = get_page(*link, what, nullptr);
      auto handed = co_await hand_over_while_fetching(sink, page, std::move(fetching));
      if (!std::get<0>(handed)) co_return Failure{FailureKind::transient, what + ": stopped by the caller", 0, ""};
      body = std::move(std::get<1>(handed));
      continue;
    }
    bool more = co_await sink(page);  // named first (GCC 12); a page read is handed over in any case
    if (!more) co_return Failure{FailureKind::transient, what + ": stopped by the caller", 0, ""};
    if (!link) co_return link.failure();  // the cursor stays where it was
    break;
  }
  std::string next_cursor;
  if (served) next_cursor = format_iso8601(*served);
  else next_cursor = newest != TimePoint{} ? format_iso8601(newest) : cursor.substr(0, cursor.find(kSweepMark));
  if (swept) next_cursor += kSweepMark + format_iso8601(*swept);
  log_->debug("partner_center: pulled {} referrals in {} pages ({} malformed){}", pulled, links.pages(), malformed,
              sweep ? " (full sweep)" : "");
  co_return next_cursor;
}

net::awaitable<Expected<RemoteRecord>> PartnerCenterConnector::get(const ObjectSpec&, const std::string& id) {
  http::Request req{http::Method::get, referral_url(id), {}, {}, {}, {}};
  auto res = co_await call(std::move(req));
  if (!res) co_return res.failure();
  if (res->status != 200) co_return failure(*res, "GET referral " + id);
  std::string reason;
  auto record = parse_referral(remote_json::parse(res->body), reason);
  if (!record) co_return Failure{FailureKind::rejected, "malformed referral: " + reason, 200, res->header(kRequestIdHeader)};
  co_return *record;
}

net::awaitable<Expected<RemoteRecord>> PartnerCenterConnector::update(const ObjectSpec&, const RemoteRecord& current,
                                                                      const std::vector<FieldChange>& changes) {
  if (auto refusal = referral_contract_refusal(current.fields, changes))
    co_return Failure{FailureKind::rejected, "referral " + current.id + ": " + *refusal, 0, ""};
  nlohmann::json patch = nlohmann::json::array();
  for (const auto& c : changes) {
    bool present = !json_at(current.fields, c.path).is_null();
    nlohmann::json value = c.value;
    strip_for_write(value);
    patch.push_back({{"op", present ? "replace" : "add"}, {"path", to_json_pointer(c.path)}, {"value", value}});
  }
  co_return co_await send_patch(current, patch, "PATCH referral " + current.id);
}

net::awaitable<Expected<RemoteRecord>> PartnerCenterConnector::send_patch(const RemoteRecord& current,
                                                                          const nlohmann::json& patch,
                                                                          const std::string& what) {
  // If-Match carries the eTag verbatim (quotes included). Prefer asks for the stored referral,
  // so that the new eTag comes back without a second call.
  http::Request req{http::Method::patch,
                    referral_url(current.id),
                    {{"If-Match", current.version}, {"Prefer", "return=representation"}},
                    patch.dump(),
                    {},
                    {}};
  // If-Match makes a repeat harmless: a patch that already landed answers 412 and is re-merged.
  req.idempotent = true;
  auto res = co_await call(std::move(req));
  if (!res) co_return res.failure();
  if (res->status == 200) {
    std::string reason;
    if (auto record = parse_referral(remote_json::parse(res->body), reason)) co_return *record;
  } else if (res->status != 204) {
    co_return failure(*res, what);
  }
  // 204 carries no body: read the referral back for its new eTag.
  ObjectSpec any;
  co_return co_await get(any, current.id);
}

net::awaitable<std::vector<Expected<RemoteRecord>>> PartnerCenterConnector::update_many(
    const ObjectSpec& spec, const std::vector<UpdateRequest>& requests) {
  std::vector<std::optional<Expected<RemoteRecord>>> done(requests.size());
  auto patch_one = [&](std::size_t i) -> net::awaitable<void> {
    auto result = co_await update(spec, requests[i].current, requests[i].changes);
    done[i].emplace(std::move(result));
  };
  co_await for_each_concurrently(requests.size(), client_.max_in_flight_per_host(), patch_one);
  std::vector<Expected<RemoteRecord>> results;
  results.reserve(done.size());
  for (auto& result : done) results.push_back(std::move(*result));
  co_return results;
}

net::awaitable<Expected<std::optional<RemoteRecord>>> PartnerCenterConnector::find_by_external_id(
    const std::string& external_id) {
  boost::urls::url first(referral_url(""));
  first.params().append({"$filter", "externalReferenceId eq " + odata_quote(external_id)});
  std::string next = std::string(first.buffer());
  http::NextPageLinks links(next, options_.max_pages);
  const std::string what = "GET referrals by externalReferenceId";
  // PC documents $filter on a few fields only; every result is checked here, and the pages are
  // followed in case the filter was ignored.
  while (!next.empty()) {
    auto body = co_await get_page(next, what);
    if (!body) co_return body.failure();
    for (const auto& item : remote_json::array_at(*body, "value")) {
      if (remote_json::opt_string(item, "externalReferenceId") != external_id) continue;
      std::string reason;
      if (auto record = parse_referral(item, reason)) co_return std::optional<RemoteRecord>(std::move(*record));
      co_return Failure{FailureKind::rejected, "malformed referral: " + reason, 200, ""};
    }
    auto link = next_page(*body, links, what);
    if (!link) co_return link.failure();
    next = std::move(*link);
  }
  co_return std::optional<RemoteRecord>();
}

net::awaitable<Expected<RemoteRecord>> PartnerCenterConnector::create(nlohmann::json referral) {
  strip_for_write(referral);
  for (auto field : {"id", "eTag", "createdDateTime", "updatedDateTime"}) referral.erase(field);
  http::Request req{http::Method::post, referral_url(""), {}, referral.dump(), {}, {}};
  // Not retried by the client: a lost answer is found again by externalReferenceId next time.
  auto res = co_await call(std::move(req));
  if (!res) co_return res.failure();
  if (res->status != 201 && res->status != 200) co_return failure(*res, "POST referral");
  std::string reason;
  auto record = parse_referral(remote_json::parse(res->body), reason);
  if (!record) co_return Failure{FailureKind::transient, "POST referral answered with a malformed referral: " + reason,
                                 res->status, res->header(kRequestIdHeader)};
  log_->info("partner_center: created referral {} externalReferenceId={}", record->id,
             quoted_remote_text(remote_json::string_or(record->fields, "externalReferenceId")));
  co_return *record;
}

net::awaitable<Expected<RemoteRecord>> PartnerCenterConnector::upsert(const ObjectSpec& spec, const std::string& external_id,
                                                                      const std::vector<FieldChange>& fields) {
  // Found first, created only when absent: a retry or a restart after a lost answer links the
  // referral it created before instead of sharing the opportunity twice.
  auto existing = co_await find_by_external_id(external_id);
  if (!existing) co_return existing.failure();
  if (existing->has_value()) {
    const RemoteRecord& current = **existing;
    std::vector<FieldChange> changes;
    for (const auto& f : fields)
      if (is_patchable_referral_path(f.path) && !f.value.is_null() && json_at(current.fields, f.path) != f.value)
        changes.push_back(f);
    log_->info("partner_center: referral {} already holds externalReferenceId={}: {}", current.id, external_id,
               changes.empty() ? "linked" : "updated");
    if (changes.empty()) co_return current;
    co_return co_await update(spec, current, changes);
  }
  nlohmann::json referral = nlohmann::json::object();
  for (const auto& f : fields) json_set(referral, f.path, f.value);
  referral["externalReferenceId"] = external_id;
  if (!referral.contains("type")) referral["type"] = "Independent";
  co_return co_await create(std::move(referral));
}

net::awaitable<Expected<RemoteRecord>> PartnerCenterConnector::add_deal_registration(
    const RemoteRecord& current, const nlohmann::json& registration) {
  if (remote_json::string_or(current.fields, "status") != "Closed" ||
      remote_json::string_or(current.fields, "substatus") != "Won")
    co_return Failure{FailureKind::rejected,
                      "referral " + current.id + ": only a referral closed as Won can be registered", 0, ""};
  nlohmann::json value = registration;
  strip_for_write(value);
  if (!value.contains("type")) value["type"] = "AzureIPCoSell";
  nlohmann::json patch = nlohmann::json::array({{{"op", "add"}, {"path", "/registrations/-"}, {"value", value}}});
  co_return co_await send_patch(current, patch, "PATCH referral " + current.id + " (deal registration)");
}

net::awaitable<Expected<RemoteRecord>> PartnerCenterConnector::update_deal_registration(
    const RemoteRecord& current, const std::vector<FieldChange>& changes) {
  if (remote_json::array_at(current.fields, "registrations").empty())
    co_return Failure{FailureKind::rejected, "referral " + current.id + " has no deal registration to update", 0, ""};
  nlohmann::json patch = nlohmann::json::array();
  for (const auto& c : changes) {
    if (!is_patchable_registration_path(c.path))
      co_return Failure{FailureKind::rejected, "Partner Center does not accept a patch of " + c.path, 0, ""};
    if (c.value.is_null()) co_return Failure{FailureKind::rejected, "Partner Center does not accept null for " + c.path, 0, ""};
    patch.push_back({{"op", "replace"}, {"path", to_json_pointer(c.path)}, {"value", c.value}});
  }
  co_return co_await send_patch(current, patch, "PATCH referral " + current.id + " (deal registration update)");
}

}  // namespace cosync::connectors
