#include "tests/fakes/fake_partner_center.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

#include "daemon/util/remote_json.hpp"
#include "daemon/util/time.hpp"
#include "tests/fakes/fake_registrations.hpp"
#include "tests/fakes/random_ids.hpp"

namespace cosync::fakes {

using nlohmann::json;

namespace {

// The statuses in the order PC lets a referral move through them, with their substatuses.
const std::vector<std::pair<std::string, std::vector<std::string>>> kStates = {
    {"New", {"Pending", "Received"}},
    {"Active", {"Accepted", "Engaged"}},
    {"Closed", {"Won", "Lost", "Declined", "Expired"}},
};

int status_rank(const std::string& status) {
  for (size_t i = 0; i < kStates.size(); ++i)
    if (kStates[i].first == status) return static_cast<int>(i);
  return -1;
}

// JSON Patch paths of the published contract: UpdateReferralDetails, DealRegistration and
// UpdateDealRegistration.
const std::set<std::string> kPatchPaths = {
    "/campaignId", "/consent/consentToShareReferralWithMicrosoftSellers", "/customerProfile/team",
    "/customerProfile/team/-", "/details/closingDateTime", "/details/currency", "/details/dealValue",
    "/details/notes", "/details/requirements/solutions", "/details/requirements/solutions/-",
    "/externalReferenceId", "/referralProgram", "/salesStage", "/status", "/substatus", "/statusReason",
    "/team", "/team/-",
    // deal registration
    "/registrations/-", "/registrations/0/contract/startDateTime", "/registrations/0/contract/endDateTime",
    "/registrations/0/contract/signDateTime", "/registrations/0/contract/term", "/registrations/0/contract/value",
    "/registrations/0/solutionDetails/0/value", "/registrations/0/solutionDetails/0/currency",
    "/registrations/0/solutionDetails/0/isDeployedOnAzure", "/registrations/0/solutionDetails/0/primaryDeploymentOn",
    "/registrations/0/solutionDetails/0/pricingModel",
    "/registrations/0/solutionDetails/0/marketplaceTransactionDetails/isMarketplaceTransacted",
    "/registrations/0/solutionDetails/0/marketplaceTransactionDetails/marketplaceTransactionDateTime"};

bool is_registration_path(const std::string& path) { return path.starts_with("/registrations/"); }

FakeResponse pc_error(int status, std::string code, std::string message, std::string target = {}) {
  json error = {{"code", code}, {"message", message}};
  if (!target.empty()) error["target"] = target;
  error["innerError"] = {{"code", code}, {"message", message}};
  return FakeResponse::json(status, {{"error", error}});
}

std::string error_code_for(int status) {
  switch (status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 409: return "Conflict";
    case 412: return "PreconditionFailed";
    case 429: return "TooManyRequests";
    case 503: return "ServiceUnavailable";
    default: return status >= 500 ? "InternalServerError" : "Error";
  }
}

// Path of the first null in `value` ("" when none): the contract has no nullable property.
std::string find_null(const json& value, const std::string& at = "") {
  if (value.is_null()) return at.empty() ? "/" : at;
  if (value.is_object() || value.is_array()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      std::string key = value.is_object() ? it.key() : std::to_string(std::distance(value.begin(), it));
      auto found = find_null(*it, at + "/" + key);
      if (!found.empty()) return found;
    }
  }
  return {};
}

// An eTag as PC sends it: a quoted opaque version; If-Match must echo it verbatim.
std::string new_etag() { return "\"" + random_hex(8) + "-0000-0800-0000-" + random_hex(12) + "\""; }

// Applies one JSON Patch operation on an allowed path ("-" appends to an array, missing parent
// objects are created). Returns an error message, or empty.
std::string apply_patch_op(json& doc, const std::string& path, const json& value) {
  if (path.starts_with("/registrations/0/")) {
    auto holder = path.find("/solutionDetails/0/") != std::string::npos ? "/registrations/0/solutionDetails/0"
                                                                         : "/registrations/0";
    if (!doc.contains(json::json_pointer(holder))) return std::string("nothing to update at ") + holder;
  }
  if (path.ends_with("/-")) {
    json& array = doc[json::json_pointer(path.substr(0, path.size() - 2))];
    if (array.is_null()) array = json::array();
    if (!array.is_array()) return path + " is not an array";
    array.push_back(value);
    return {};
  }
  doc[json::json_pointer(path)] = value;
  return {};
}

// `$filter` subset: "a eq 'x' and b/c eq 'y'". Anything else is ignored (as PC ignores filters
// on some fields), so the caller must still check what it gets.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_filter(const std::string& filter) {
  std::vector<std::pair<std::string, std::string>> clauses;
  size_t pos = 0;
  while (pos < filter.size()) {
    auto and_at = filter.find(" and ", pos);
    std::string clause = filter.substr(pos, and_at == std::string::npos ? std::string::npos : and_at - pos);
    pos = and_at == std::string::npos ? filter.size() : and_at + 5;
    auto eq = clause.find(" eq '");
    if (eq == std::string::npos || !clause.ends_with("'")) return std::nullopt;
    std::string field = clause.substr(0, eq);
    field.erase(0, field.find_first_not_of(' '));
    std::string value = clause.substr(eq + 5, clause.size() - eq - 6);
    clauses.emplace_back("/" + field, value);
  }
  return clauses;
}

std::optional<int> to_int(const std::string& s) {
  int value = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return value;
}

}  // namespace

FakePartnerCenter::FakePartnerCenter(FakePartnerCenterOptions options)
    : clock_(options.clock ? *options.clock : system_clock_),
      options_(std::move(options)),
      server_([this](const FakeRequest& r) { return handle(r); }, options_.port) {}

void FakePartnerCenter::emit(const std::string& line) const {
  if (options_.on_event) options_.on_event("fake-partner-center: " + line);
}

void FakePartnerCenter::stamp(json& referral) {
  referral["eTag"] = new_etag();
  referral["updatedDateTime"] = format_iso8601(service_now());
  // The service records when a referral closed: closedDateTime, read-only ("Referral closed
  // DateTime", shared/specs/partner-center-referrals.swagger.json, Referral).
  // remote_json: a test may set a hostile non-string status, which must not throw here.
  if (remote_json::string_or(referral, "status") == "Closed" && !referral.contains("closedDateTime"))
    referral["closedDateTime"] = referral["updatedDateTime"];
}

std::string FakePartnerCenter::add_referral(json partial) {
  auto now = service_now();
  std::string created = format_iso8601(now);
  json referral = {
      {"id", random_guid()},
      {"engagementId", random_guid()},
      {"name", "Referral"},
      {"type", "Independent"},
      {"qualification", "SalesQualified"},
      {"direction", "Incoming"},
      {"status", "New"},
      {"substatus", "Pending"},
      {"createdDateTime", created},
      {"updatedDateTime", created},
      {"expirationDateTime", format_iso8601(now + (options_.expire_after.count() > 0 ? options_.expire_after : std::chrono::hours(14 * 24)))},
      {"customerProfile",
       {{"name", "Customer"}, {"address", {{"country", "US"}}}, {"size", "1to50employees"}, {"team", json::array()}}},
      {"consent", {{"consentToShareReferralWithMicrosoftSellers", false}}},
      {"details",
       {{"dealValue", 0}, {"currency", "USD"}, {"notes", ""}, {"requirements", {{"solutions", json::array()}}}}},
      {"team", json::array()},
  };
  if (partial.is_null()) partial = json::object();  // add_referral({}) means "all defaults"
  referral.merge_patch(partial);
  if (!partial.contains("name") && partial.contains("customerProfile") && partial["customerProfile"].contains("name"))
    referral["name"] = partial["customerProfile"]["name"];
  if (!partial.contains("eTag")) referral["eTag"] = new_etag();
  std::string id = referral["id"];
  std::lock_guard lock(mu_);
  if (auto existing = referrals_.find(id); existing != referrals_.end()) unindex(existing->second);
  Stored& stored = referrals_[id] = Stored{next_seq_++, std::move(referral)};
  reindex(id, stored);
  return id;
}

namespace {

// The value a listing orders `referral` by: its `field` (a JSON pointer without the leading
// slash), null when absent.
json order_value(const json& referral, const std::string& field) {
  json::json_pointer key("/" + field);
  return referral.contains(key) ? referral[key] : json();
}

}  // namespace

FakePartnerCenter::OrderIndex& FakePartnerCenter::order_index(const std::string& field) {
  auto [it, created] = order_indexes_.try_emplace(field);
  if (created)
    for (const auto& [id, stored] : referrals_) {
      json value = order_value(stored.referral, field);
      it->second.keys.insert(OrderKey{value, stored.seq, id});
      it->second.value_of[stored.seq] = std::move(value);
    }
  return it->second;
}

void FakePartnerCenter::unindex(const Stored& stored) {
  for (auto& [field, index] : order_indexes_)
    if (auto old = index.value_of.find(stored.seq); old != index.value_of.end()) {
      index.keys.erase(OrderKey{old->second, stored.seq, {}});
      index.value_of.erase(old);
    }
}

void FakePartnerCenter::reindex(const std::string& id, const Stored& stored) {
  unindex(stored);
  for (auto& [field, index] : order_indexes_) {
    json value = order_value(stored.referral, field);
    index.keys.insert(OrderKey{value, stored.seq, id});
    index.value_of[stored.seq] = std::move(value);
  }
}

std::vector<const FakePartnerCenter::Stored*> FakePartnerCenter::ordered_page(const std::string& field, bool descending,
                                                                              std::size_t begin, std::size_t end) {
  const auto& keys = order_index(field).keys;
  std::vector<const Stored*> page;
  if (begin >= end || begin >= keys.size()) return page;
  auto it = keys.find_by_order(descending ? keys.size() - 1 - begin : begin);
  for (std::size_t i = begin;;) {
    if (auto found = referrals_.find(it->id); found != referrals_.end()) page.push_back(&found->second);
    if (++i >= end || i >= keys.size()) break;
    if (descending) --it;
    else ++it;
  }
  return page;
}

json FakePartnerCenter::referral(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = referrals_.find(id);
  return it == referrals_.end() ? json() : it->second.referral;
}

std::vector<json> FakePartnerCenter::all_referrals() const {
  std::lock_guard lock(mu_);
  std::vector<const Stored*> stored;
  for (const auto& [id, s] : referrals_) stored.push_back(&s);
  std::sort(stored.begin(), stored.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
  std::vector<json> out;
  for (auto* s : stored) out.push_back(s->referral);
  return out;
}

void FakePartnerCenter::edit(const std::string& id, const std::function<void(json&)>& change) {
  std::lock_guard lock(mu_);
  auto it = referrals_.find(id);
  if (it == referrals_.end()) throw std::out_of_range("FakePartnerCenter::edit: no referral " + id);
  change(it->second.referral);
  stamp(it->second.referral);
  reindex(id, it->second);
}

bool FakePartnerCenter::review_registration(const std::string& id, const std::string& status, const std::string& reason) {
  std::lock_guard lock(mu_);
  auto it = referrals_.find(id);
  if (it == referrals_.end() || !move_registration_review(it->second.referral, status, reason, service_now())) return false;
  stamp(it->second.referral);  // a real change: new eTag and updatedDateTime, so a pull sees it
  reindex(id, it->second);
  return true;
}

void FakePartnerCenter::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = referrals_.find(id);
  if (it == referrals_.end()) throw std::out_of_range("FakePartnerCenter::remove: no referral " + id);
  unindex(it->second);
  referrals_.erase(it);
}

void FakePartnerCenter::interfere_before_next_write(const std::string& id, std::function<void(json&)> change) {
  std::lock_guard lock(mu_);
  interference_[id] = std::move(change);
}

bool FakePartnerCenter::cancel_interference(const std::string& id) {
  std::lock_guard lock(mu_);
  return interference_.erase(id) > 0;
}

int FakePartnerCenter::expire_due() {
  std::lock_guard lock(mu_);
  return expire_unanswered();
}

int FakePartnerCenter::expire_unanswered() {
  int expired = 0;
  if (options_.expire_after.count() <= 0) return expired;
  auto now = service_now();
  for (auto& [id, stored] : referrals_) {
    json& r = stored.referral;
    // A test may plant referrals of any shape: read them without throwing.
    if (remote_json::string_or(r, "status") != "New" || remote_json::string_or(r, "direction", "Incoming") != "Incoming")
      continue;
    auto expires = parse_iso8601(remote_json::string_or(r, "expirationDateTime"));
    if (!expires) {
      auto created = parse_iso8601(remote_json::string_or(r, "createdDateTime"));
      if (!created) continue;
      expires = *created + options_.expire_after;
    }
    if (now < *expires) continue;
    r["status"] = "Closed";
    r["substatus"] = "Expired";
    r["statusReason"] = "Expired: not accepted within 14 days";
    stamp(r);
    reindex(id, stored);
    ++expired;
    emit("referral " + id + " expired (Closed/Expired)");
  }
  return expired;
}

int FakePartnerCenter::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

FakeResponse FakePartnerCenter::handle(const FakeRequest& request) {
  auto response = [&]() -> FakeResponse {
    if (auto fault = faults_.take([](int status) {
          return pc_error(status, error_code_for(status), "Injected failure").body;
        }))
      return *fault;
    auto auth = request.header("Authorization");
    if (!auth.starts_with("Bearer ") || (options_.validate_token && !options_.validate_token(auth.substr(7))))
      return pc_error(401, "Unauthorized", "Authentication failed: missing, invalid or expired access token");
    {
      std::lock_guard lock(mu_);
      expire_unanswered();
    }
    // The contract requires content-type on every request, GET included.
    if (!request.header("Content-Type").starts_with("application/json"))
      return pc_error(400, "BadRequest", "The content-type header must be application/json", "content-type");

    std::string path = request.path;
    while (path.size() > 1 && path.ends_with("/")) path.pop_back();  // deal-registration aliases
    if (path == "/referrals") {
      if (request.method == "GET") return list(request);
      if (request.method == "POST") return create(request);
      return pc_error(405, "MethodNotAllowed", "Method not allowed on /referrals");
    }
    if (path.starts_with("/referrals/") && path.find('/', 11) == std::string::npos) {
      std::string id = path.substr(11);
      if (request.method == "GET") {
        std::lock_guard lock(mu_);
        auto it = referrals_.find(id);
        if (it == referrals_.end()) return pc_error(404, "NotFound", "Referral " + id + " not found", "id");
        return FakeResponse::json(200, it->second.referral);
      }
      if (request.method == "PATCH" || request.method == "PUT") return update(request, id);
      return pc_error(405, "MethodNotAllowed", "Method not allowed on /referrals/{id}");
    }
    return pc_error(404, "NotFound", "No route for " + request.path);
  }();
  // Every HTTP answer carries the server's clock (RFC 9110 section 6.6.1); the fake's is `clock`,
  // so that a test moving it moves Partner Center's time as cosyncd sees it.
  response.headers.emplace_back("Date", format_http_date(service_now()));
  response.headers.emplace_back("MS-RequestId", random_guid());
  auto correlation = request.header("MS-CorrelationId");
  response.headers.emplace_back("MS-CorrelationId", correlation.empty() ? random_guid() : correlation);
  return response;
}

// Paging as the API does it. Microsoft's "Get the list of leads and opportunities"
// (https://learn.microsoft.com/en-us/partner-center/developer/get-a-list-of-referrals) documents the
// OData options of GET /referrals, and the published contract (PowerPlatformConnectors
// PartnerCenterReferrals apiDefinition.swagger.json, ../shared/specs) defines `$top` as "Total number
// of entries to retrieve (default = all)" and `$skip` as "The number of entries to skip". The
// service pages by itself (OData server-driven paging,
// https://learn.microsoft.com/en-us/odata/webapi-8/fundamentals/server-driven-paging): each page
// holds at most `page_size` (100) entries and links the next one with @odata.nextLink, the last
// page has none. Our nextLink keeps the caller's query and adds $skiptoken, the absolute offset of
// the next page.
FakeResponse FakePartnerCenter::list(const FakeRequest& request) {
  std::optional<int> top;
  if (request.query.count("$top")) {
    top = to_int(request.query.at("$top"));
    if (!top || *top < 0) return pc_error(400, "BadRequest", "$top must be a non-negative integer", "$top");
  }
  int skip = 0, offset = 0;
  for (auto name : {"$skip", "$skiptoken"})
    if (request.query.count(name)) {
      auto value = to_int(request.query.at(name));
      if (!value || *value < 0) return pc_error(400, "BadRequest", std::string("Invalid ") + name, name);
      (std::string_view(name) == "$skip" ? skip : offset) = *value;
    }
  if (!request.query.count("$skiptoken")) offset = skip;
  std::string order_field = "updatedDateTime";
  bool descending = false;
  if (request.query.count("$orderby")) {
    std::string orderby = request.query.at("$orderby");
    auto space = orderby.find(' ');
    order_field = orderby.substr(0, space);
    std::string direction = space == std::string::npos ? "asc" : orderby.substr(space + 1);
    if (direction != "asc" && direction != "desc")
      return pc_error(400, "BadRequest", "Invalid $orderby direction", "$orderby");
    descending = direction == "desc";
  }
  auto filter = parse_filter(request.param("$filter"));

  std::vector<const Stored*> rows;
  std::unique_lock lock(mu_);
  // Without a filter, the page comes from the listing's order index (sorting every referral for
  // every page made the fake, not cosyncd, the bottleneck at 100,000).
  const bool filtered = filter && !filter->empty();
  for (const auto& [id, stored] : referrals_) {
    if (!filtered) break;
    bool keep = true;
    if (filter)
      for (const auto& [field, value] : *filter) {
        json::json_pointer ptr(field);
        keep = keep && stored.referral.contains(ptr) && stored.referral[ptr].is_string() &&
               stored.referral[ptr].get<std::string>() == value;
      }
    if (keep) rows.push_back(&stored);
  }
  json::json_pointer key("/" + order_field);
  std::sort(rows.begin(), rows.end(), [&](const Stored* a, const Stored* b) {
    const json& va = a->referral.contains(key) ? a->referral[key] : json();
    const json& vb = b->referral.contains(key) ? b->referral[key] : json();
    if (va != vb) return descending ? vb < va : va < vb;
    return descending ? b->seq < a->seq : a->seq < b->seq;
  });
  // The result set is rows [skip, skip + top); this page is its next page_size rows from offset.
  std::size_t end = filtered ? rows.size() : referrals_.size();
  if (top) end = std::min(end, static_cast<std::size_t>(skip) + static_cast<std::size_t>(*top));
  std::size_t page_end = std::min(end, static_cast<std::size_t>(offset) + static_cast<std::size_t>(options_.page_size));
  json body = {{"value", json::array()}};
  if (filtered)
    for (std::size_t i = static_cast<std::size_t>(offset); i < page_end; ++i) body["value"].push_back(rows[i]->referral);
  else
    for (const Stored* stored : ordered_page(order_field, descending, static_cast<std::size_t>(offset), page_end))
      body["value"].push_back(stored->referral);
  bool more = page_end < end;
  lock.unlock();

  if (more) {
    // Keep the caller's query as sent, with the next skip token.
    std::string query;
    auto q = request.target.find('?');
    std::string raw = q == std::string::npos ? std::string{} : request.target.substr(q + 1);
    for (size_t pos = 0; pos <= raw.size();) {
      auto amp = raw.find('&', pos);
      std::string part = raw.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
      pos = amp == std::string::npos ? raw.size() + 1 : amp + 1;
      if (part.empty() || decode_form(part).count("$skiptoken")) continue;
      query += part + "&";
    }
    std::string base = options_.public_base_url.empty() ? server_.base_url() : options_.public_base_url;
    body["@odata.nextLink"] = base + "/referrals?" + query + "$skiptoken=" + std::to_string(page_end);
  }
  return FakeResponse::json(200, body);
}

namespace {

// What "Create a referral" (https://learn.microsoft.com/en-us/partner-center/developer/create-a-referral)
// marks Required (ReferralType, CustomerProfile, Consent, Details) and the enums the published
// contract lists (ReferralType Independent/Shared; InviteContext.assistanceRequestCode), as
// {message, target}; empty when the body is acceptable.
std::pair<std::string, std::string> create_problem(const json& body) {
  auto type = body.value("type", json());
  if (!type.is_string() || (type != "Independent" && type != "Shared"))
    return {"The referral type is required: Independent or Shared", "type"};
  for (auto part : {"customerProfile", "consent", "details"})
    if (!body.contains(part) || !body[part].is_object()) return {std::string(part) + " is required", part};
  auto customer = body["customerProfile"].value("name", json());
  if (!customer.is_string() || customer.get<std::string>().empty()) return {"The customer name is required", "customerProfile.name"};
  for (const auto& [key, value] : body["consent"].items())
    if (!value.is_boolean()) return {"consent." + key + " must be a boolean", "consent." + key};
  static const std::set<std::string> codes = {"Unknown", "GeneralOrOther", "CustomerTechnicalArchitecture",
                                              "ProofOfConceptOrDemo", "QuotesOrLicensing", "PostSalesCustomerSuccess",
                                              "WorkloadSpecificValueProposition"};
  if (body.contains("inviteContext")) {
    auto code = body["inviteContext"].value("assistanceRequestCode", json());
    if (!code.is_null() && (!code.is_string() || !codes.contains(code.get<std::string>())))
      return {"Invalid assistanceRequestCode", "inviteContext.assistanceRequestCode"};
  }
  if (body.contains("customerProfile") && body["customerProfile"].contains("team"))
    for (const auto& member : body["customerProfile"]["team"])
      if (!member.is_object()) return {"customerProfile.team holds members", "customerProfile.team"};
  return {};
}

}  // namespace

FakeResponse FakePartnerCenter::create(const FakeRequest& request) {
  {
    std::lock_guard lock(mu_);
    if (refuse_next_create_) {
      auto message = std::exchange(refuse_next_create_, std::nullopt);
      return pc_error(400, "BadRequest", *message);
    }
  }
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return pc_error(400, "BadRequest", "The request body must be a referral object");
  if (auto at = find_null(body); !at.empty())
    return pc_error(400, "BadRequest", "null is not a valid value", at);
  if (!body.contains("name") || !body["name"].is_string() || body["name"].get<std::string>().empty())
    return pc_error(400, "BadRequest", "The referral name is required", "name");
  if (auto problem = create_problem(body); !problem.first.empty())
    return pc_error(400, "BadRequest", problem.first, problem.second);
  for (auto field : {"id", "eTag", "createdDateTime", "updatedDateTime"}) body.erase(field);
  if (!body.contains("direction")) body["direction"] = "Outgoing";  // the partner shares it
  json before = {{"status", "New"}, {"substatus", "Pending"}};
  json after = {{"status", body.value("status", "New")}, {"substatus", body.value("substatus", "Pending")}};
  if (auto error = check_transition(before, after); !error.empty()) return pc_error(400, "BadRequest", error, "status");
  std::string id = add_referral(body);
  std::lock_guard lock(mu_);
  ++writes_;
  const json& stored = referrals_.at(id).referral;
  emit("created referral " + id + " \"" + stored.value("name", "") + "\"");
  return FakeResponse::json(201, stored);
}

std::string FakePartnerCenter::check_transition(const json& before, const json& after) const {
  std::string from = before.value("status", "New");
  std::string to = after.value("status", "");
  std::string substatus = after.value("substatus", "");
  int to_rank = status_rank(to);
  if (to_rank < 0) return "Invalid status '" + to + "'";
  const auto& allowed = kStates[static_cast<size_t>(to_rank)].second;
  if (std::find(allowed.begin(), allowed.end(), substatus) == allowed.end())
    return "Substatus '" + substatus + "' is not valid for status '" + to + "'";
  if (to_rank < status_rank(from)) return "Invalid status transition from '" + from + "' to '" + to + "'";
  bool was_won = from == "Closed" && before.value("substatus", "") == "Won";
  if (to == "Closed" && substatus == "Won" && !was_won && options_.won_hold.count() > 0) {
    auto created = parse_iso8601(before.value("createdDateTime", ""));
    if (created && service_now() < *created + options_.won_hold)
      return "A referral can be closed as won only " + std::to_string(options_.won_hold.count()) +
             " hours after it was created";
  }
  return {};
}

FakeResponse FakePartnerCenter::update(const FakeRequest& request, const std::string& id) {
  json body = json::parse(request.body, nullptr, false);
  bool is_patch = request.method == "PATCH";
  if (is_patch && (!body.is_array() || body.empty()))
    return pc_error(400, "BadRequest", "The request body must be a non-empty JSON Patch array");
  if (!is_patch && !body.is_object()) return pc_error(400, "BadRequest", "The request body must be a referral object");
  if (auto at = find_null(body); !at.empty()) return pc_error(400, "BadRequest", "null is not a valid value", at);
  bool registrations_only = is_patch;
  if (is_patch)
    for (const auto& op : body) {
      if (!op.is_object() || !op.contains("op") || !op.contains("path") || !op.contains("value") ||
          !op["path"].is_string())
        return pc_error(400, "BadRequest", "Each operation needs op, path and value");
      std::string name = op["op"].is_string() ? op["op"].get<std::string>() : "";
      if (name != "replace" && name != "add")
        return pc_error(400, "BadRequest", "Unsupported operation '" + name + "': use replace or add", "op");
      std::string path = op["path"];
      if (!kPatchPaths.count(path)) return pc_error(400, "BadRequest", "Path '" + path + "' cannot be updated", "path");
      if (path == "/registrations/-" && name != "add")
        return pc_error(400, "BadRequest", "A deal registration is added with op 'add'", "op");
      registrations_only = registrations_only && is_registration_path(path);
    }

  std::lock_guard lock(mu_);
  if (auto hook = interference_.find(id); hook != interference_.end()) {
    auto change = std::move(hook->second);
    interference_.erase(hook);
    auto target = referrals_.find(id);
    if (target != referrals_.end() && !change) {
      unindex(target->second);
      referrals_.erase(target);
    } else if (target != referrals_.end()) {
      change(target->second.referral);
      stamp(target->second.referral);
      reindex(id, target->second);
    }
  }
  auto it = referrals_.find(id);
  if (it == referrals_.end()) return pc_error(404, "NotFound", "Referral " + id + " not found", "id");
  json& current = it->second.referral;
  if (request.header("If-Match") != current["eTag"].get<std::string>())
    return pc_error(412, "PreconditionFailed", "The referral was changed since it was read (eTag mismatch)", "If-Match");
  bool won = current.value("status", "") == "Closed" && current.value("substatus", "") == "Won";
  if (current.value("status", "") == "Closed" && !(won && registrations_only))
    return pc_error(400, "BadRequest", "The referral is closed and cannot be updated", "status");

  json updated = current;
  std::vector<std::string> changed;
  if (is_patch) {
    for (const auto& op : body) {
      std::string path = op["path"];
      if (auto error = apply_patch_op(updated, path, op["value"]); !error.empty())
        return pc_error(400, "BadRequest", error, path);
      changed.push_back(path);
    }
  } else {
    // PUT replaces the document; the server owns identity and timestamps.
    for (auto field : {"id", "eTag", "createdDateTime", "updatedDateTime", "engagementId"})
      if (current.contains(field)) body[field] = current[field];
    updated = body;
    changed.push_back("(document)");
  }
  if (auto error = check_transition(current, updated); !error.empty()) return pc_error(400, "BadRequest", error, "status");
  bool registers = std::any_of(changed.begin(), changed.end(), is_registration_path);
  if (registers && !(updated.value("status", "") == "Closed" && updated.value("substatus", "") == "Won"))
    return pc_error(400, "BadRequest", "Only a referral closed as won can be registered", "registrations");
  if (auto error = registration_write_error(current, changed); !error.empty())
    return pc_error(400, "BadRequest", error, "registrations");
  start_registration_review(updated, changed, service_now());
  if (registers && refuse_registrations_) return pc_error(400, "BadRequest", *refuse_registrations_, "registrations");

  stamp(updated);
  current = std::move(updated);
  reindex(id, it->second);
  ++writes_;
  std::string line = request.method + " referral " + id;
  if (std::find(changed.begin(), changed.end(), "/status") != changed.end() ||
      std::find(changed.begin(), changed.end(), "/substatus") != changed.end())
    line += " status " + current.value("status", "") + "/" + current.value("substatus", "");
  std::string fields;
  for (const auto& path : changed)
    if (path != "/status" && path != "/substatus") fields += (fields.empty() ? "" : ", ") + path;
  if (!fields.empty()) line += " fields " + fields;
  emit(line);

  if (request.header("Prefer").find("return=representation") != std::string::npos)
    return FakeResponse::json(200, current);
  return FakeResponse{204, {}, {}};
}

}  // namespace cosync::fakes
