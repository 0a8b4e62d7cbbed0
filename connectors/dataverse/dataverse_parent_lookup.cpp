// Parent lookups on create (opportunity.parentaccountid), as the Salesforce connector does them:
// find the one account whose name, or website domain, matches the referral's value with one
// $filter query per batch, create the missing ones in one $batch, and reject a record whose value
// matches several accounts, naming them. The created opportunity is bound to its account with
// "parentaccountid@odata.bind": "/accounts(<guid>)" ("Associate table rows on create",
// https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-entity-web-api).
#include <algorithm>
#include <cctype>
#include <map>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "connectors/api_error.hpp"
#include "connectors/dataverse/dataverse_connector.hpp"
#include "connectors/parent_matching.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/uuid.hpp"

namespace cosync::connectors {

namespace net = boost::asio;

namespace {

// Characters of $filter per query, URL-encoded: a batch's names fit in one query, and the URL
// stays far below what a web server takes in a request line.
constexpr std::size_t kFilterBudget = 8000;

using Parent = ParentCandidate;
using Parents = ParentCandidates;

// The value a query looks for: names as the referral wrote them, domains as the domain.
std::string literal_of(const ParentLookup& p, const std::string& key, const Parent& parent) {
  return p.match_domain ? key : parent.value;
}

// One condition of the $filter. A website is free text ("https://www.contoso.com/"): contains()
// narrows, the domains are compared after.
std::string condition(const ParentLookup& p, const std::string& literal) {
  return p.match_domain ? "contains(" + p.match_field + "," + odata_quote(literal) + ")"
                        : p.match_field + " eq " + odata_quote(literal);
}

// A Dataverse primary key as it must look: 8-4-4-4-12 hex digits. An id that is not one never
// goes into a bind (a hostile answer cannot point the opportunity anywhere else).
bool is_guid(const std::string& id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-' : !std::isxdigit(static_cast<unsigned char>(id[i]))) return false;
  }
  return true;
}

// The keys in chunks whose $filter stays within kFilterBudget once URL-encoded.
std::vector<std::vector<std::string>> filter_chunks(const ParentLookup& p, const Parents& parents) {
  std::vector<std::vector<std::string>> chunks;
  std::size_t length = 0;
  for (const auto& [key, parent] : parents) {
    const std::size_t size = odata_filter_value(condition(p, literal_of(p, key, parent))).size() + 8;  // " or "
    if (chunks.empty() || (length + size > kFilterBudget && !chunks.back().empty())) {
      chunks.emplace_back();
      length = 0;
    }
    chunks.back().push_back(key);
    length += size;
  }
  return chunks;
}

}  // namespace

std::string odata_quote(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

std::string odata_filter_value(std::string_view filter) {
  // Special characters of the criteria URL-encoded (Filter rows using OData, "URL encode
  // special characters"): & and + would otherwise end or change the query option.
  return boost::urls::encode(filter, boost::urls::unreserved_chars);
}

std::string dataverse_bind(const std::string& entity_set, const std::string& id) {
  return "/" + entity_set + "(" + id + ")";
}

Capabilities DataverseConnector::supported() {
  Capabilities c;
  c.parent_lookup = ParentDefaults{"parentaccountid", "accounts", "name", "websiteurl"};
  c.describe_metadata = true;
  return c;
}

ParentLookup with_dataverse_defaults(ParentLookup p) {
  return with_defaults(std::move(p), *DataverseConnector::supported().parent_lookup);
}

std::string DataverseConnector::parent_query_url(const ParentLookup& p, const std::vector<std::string>& literals) const {
  std::string filter;
  for (const auto& literal : literals) filter += (filter.empty() ? "" : " or ") + condition(p, literal);
  return service_root() + "/" + p.object + "?$select=" + dataverse_primary_key(p.object) + "," + p.match_field +
         "&$filter=" + odata_filter_value(filter);
}

net::awaitable<Expected<std::vector<std::pair<std::string, std::string>>>> DataverseConnector::query_parents(
    const ParentLookup& p, const std::vector<std::string>& literals) {
  using Rows = std::vector<std::pair<std::string, std::string>>;
  const std::string what = "GET " + p.object + " by " + p.match_field;
  auto values = co_await get_values(parent_query_url(p, literals), what);
  if (!values) co_return values.failure();
  Rows rows;
  const std::string key = dataverse_primary_key(p.object);
  for (const auto& row : *values) {
    std::string id = remote_json::string_or(row, key);
    // An unusable row may be the match: guessing past it could create a duplicate account.
    if (!is_guid(id))
      co_return Failure{FailureKind::transient, what + " answered a row without a valid " + key, 200, ""};
    rows.emplace_back(std::move(id), remote_json::string_or(row, p.match_field));
  }
  co_return rows;
}

net::awaitable<void> DataverseConnector::find_parents(const ParentLookup& p, Parents& parents) {
  for (const auto& chunk : filter_chunks(p, parents)) {
    std::vector<std::string> literals;
    for (const auto& key : chunk) literals.push_back(literal_of(p, key, parents[key]));
    auto found = co_await query_parents(p, literals);
    if (!found) {
      for (const auto& key : chunk) parents[key].failure = found.failure();
      continue;
    }
    std::vector<std::string> unplaced;  // names that fold_case pairs with none of the chunk's values
    for (const auto& [id, text] : *found) {
      auto key = parent_key(p, text);
      if (std::find(chunk.begin(), chunk.end(), key) != chunk.end()) parents[key].ids.push_back(id);
      else if (!p.match_domain) unplaced.push_back(id);  // contains() also returns other domains
    }
    if (unplaced.empty()) continue;
    // Dataverse compared by its collation, which may fold case unlike fold_case: each name it
    // returned matches one of the values. With one value that is the one; otherwise ask again
    // for each value still without a match, alone.
    if (chunk.size() == 1) {
      auto& ids = parents[chunk.front()].ids;
      ids.insert(ids.end(), unplaced.begin(), unplaced.end());
      continue;
    }
    for (const auto& key : chunk) {
      if (!parents[key].ids.empty()) continue;
      auto alone = co_await query_parents(p, std::vector<std::string>(1, literal_of(p, key, parents[key])));
      if (!alone) parents[key].failure = alone.failure();
      else
        for (const auto& [id, text] : *alone) parents[key].ids.push_back(id);
    }
  }
}

net::awaitable<void> DataverseConnector::create_parents(const ParentLookup& p, Parents& parents) {
  // Each account is created by PATCH <set>(<new guid>), an upsert on the primary key ("Upsert a
  // table row", https://learn.microsoft.com/power-apps/developer/data-platform/webapi/update-delete-entities-using-web-api):
  // a retried $batch updates the row it created instead of creating a second one.
  std::vector<std::pair<std::string, std::string>> created;  // key, new id
  std::vector<BatchPart> parts;
  for (auto& [key, parent] : parents) {
    if (parent.failure || !parent.ids.empty() || !parent.create.is_object()) continue;
    nlohmann::json row = parent.create;
    // The created account carries the match value, so that the next lookup finds it.
    if (!row.contains(p.match_field)) row[p.match_field] = p.match_domain ? key : parent.value;
    created.emplace_back(key, random_uuid());
    BatchOperation op{"PATCH", service_root() + "/" + p.object + "(" + created.back().second + ")",
                      {{"Content-Type", "application/json; charset=utf-8"}}, row.dump()};
    parts.push_back(BatchPart{{std::move(op)}, true});
  }
  for (std::size_t begin = 0; begin < parts.size(); begin += options_.batch_size) {
    const std::size_t end = std::min(parts.size(), begin + options_.batch_size);
    std::vector<BatchPart> chunk(parts.begin() + static_cast<std::ptrdiff_t>(begin),
                                 parts.begin() + static_cast<std::ptrdiff_t>(end));
    auto answers = co_await send_batch(chunk);
    for (std::size_t k = begin; k < end; ++k) {
      Parent& parent = parents[created[k].first];
      const auto& answer = answers[k - begin];
      if (!answer) {
        parent.failure = answer.failure();
      } else if (answer->empty() || answer->front().status >= 300) {
        http::Response r;
        if (!answer->empty()) r = {answer->front().status, answer->front().headers, answer->front().body};
        parent.failure = api_failure(r, "create of " + p.object, "x-ms-service-request-id");
      } else {
        parent.ids.push_back(created[k].second);
        log_->info("dataverse: created {} {} for {} = '{}'", p.object, created[k].second, p.match_field, parent.value);
      }
    }
  }
}

net::awaitable<void> DataverseConnector::resolve_parents(const ParentLookup& p, std::vector<UpsertRequest>& requests,
                                                         ParentResults& out) {
  ParentUses uses;
  auto parents = wanted_parents(p, requests, uses, out);
  if (parents.empty()) co_return;
  co_await find_parents(p, parents);
  co_await create_parents(p, parents);
  // Each create is bound to its account: "<lookup>@odata.bind": "/accounts(<guid>)".
  const std::string bind = p.field + "@odata.bind";
  auto bind_to = [&](std::size_t i, const std::string& id) {
    auto& fields = requests[i].fields;
    std::erase_if(fields, [&](const FieldChange& c) { return c.path == p.field || c.path == bind; });
    fields.push_back({bind, dataverse_bind(p.object, id)});
  };
  settle_parents(p, parents, uses, "Dynamics 365", bind_to, out);
}

}  // namespace cosync::connectors
