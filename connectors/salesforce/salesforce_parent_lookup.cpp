// Parent lookups on create (Opportunity.AccountId): find the one Account whose Name, or Website
// domain, matches the referral's value with one query per batch, create the missing ones in one
// sObject Collections call, and reject a record whose value matches several Accounts.
#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

#include "connectors/api_error.hpp"
#include "connectors/parent_matching.hpp"
#include "connectors/salesforce/salesforce_connector.hpp"
#include "daemon/util/remote_json.hpp"

namespace cosync::connectors {

namespace net = boost::asio;

namespace {

constexpr std::size_t kValuesPerQuery = 100;  // keeps the query URL well under Salesforce's limit
constexpr std::size_t kCollectionSize = 200;

using Parent = ParentCandidate;

// `literals`: the values to look for, each quoted as it is (SOQL compares them ignoring case).
std::string match_condition(const ParentLookup& p, const std::vector<std::string>& literals) {
  std::ostringstream where;
  if (p.match_domain) {
    // Website is free text ("https://www.contoso.com/"): narrow with LIKE, compare domains after.
    for (std::size_t i = 0; i < literals.size(); ++i) {
      std::string literal = soql_quote(literals[i], true);  // 'contoso.com' -> '%contoso.com%'
      where << (i ? " OR " : "") << p.match_field << " LIKE '%" << literal.substr(1, literal.size() - 2) << "%'";
    }
  } else {
    where << p.match_field << " IN (";
    for (std::size_t i = 0; i < literals.size(); ++i) where << (i ? "," : "") << soql_quote(literals[i]);
    where << ")";
  }
  return where.str();
}

std::string lookup_soql(const ParentLookup& p, const std::vector<std::string>& literals) {
  return "SELECT Id, SystemModstamp, " + p.match_field + " FROM " + p.object + " WHERE " + match_condition(p, literals) +
         " ORDER BY Id";
}

}  // namespace

Capabilities SalesforceConnector::supported() {
  Capabilities c;
  c.parent_lookup = ParentDefaults{"AccountId", "Account", "Name", "Website"};
  c.describe_metadata = true;
  return c;
}

ParentLookup with_salesforce_defaults(ParentLookup p) {
  return with_defaults(std::move(p), *SalesforceConnector::supported().parent_lookup);
}

namespace {

using Results = ParentResults;

// The sObject Collections body that creates the parents keys[begin, end).
nlohmann::json creation_body(const ParentLookup& p, std::map<std::string, Parent>& parents,
                             const std::vector<std::string>& keys, std::size_t begin, std::size_t end) {
  nlohmann::json body = {{"allOrNone", false}, {"records", nlohmann::json::array()}};
  for (std::size_t k = begin; k < end; ++k) {
    Parent& parent = parents[keys[k]];
    nlohmann::json record = parent.create;
    record["attributes"] = {{"type", p.object}};
    // The created parent carries the match value, so that the next lookup finds it.
    if (!record.contains(p.match_field)) record[p.match_field] = p.match_domain ? keys[k] : parent.value;
    body["records"].push_back(std::move(record));
  }
  return body;
}

}  // namespace

net::awaitable<void> SalesforceConnector::resolve_parents(const ParentLookup& p, std::vector<UpsertRequest>& requests,
                                                          Results& out) {
  ParentUses uses;
  auto parents = wanted_parents(p, requests, uses, out);
  if (parents.empty()) co_return;

  // Find: one query per kValuesPerQuery distinct values.
  std::vector<std::string> keys;
  for (const auto& [key, parent] : parents) keys.push_back(key);
  for (std::size_t begin = 0; begin < keys.size(); begin += kValuesPerQuery) {
    std::vector<std::string> chunk(keys.begin() + static_cast<std::ptrdiff_t>(begin),
                                   keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), begin + kValuesPerQuery)));
    // Names are looked for as the referral wrote them; domains as the domain.
    auto literal_of = [&](const std::string& key) { return p.match_domain ? key : parents[key].value; };
    std::vector<std::string> literals;
    for (const auto& key : chunk) literals.push_back(literal_of(key));
    auto found = co_await run_query(lookup_soql(p, literals), false, true, "SOQL lookup of " + p.object);
    if (!found) {
      for (const auto& key : chunk) parents[key].failure = found.failure();
      continue;
    }
    std::vector<std::string> unplaced;  // names that fold_case pairs with none of the chunk's values
    for (const auto& r : found->records) {
      auto key = parent_key(p, remote_json::string_or(r.fields, p.match_field));
      if (std::find(chunk.begin(), chunk.end(), key) != chunk.end()) parents[key].ids.push_back(r.id);
      else if (!p.match_domain) unplaced.push_back(r.id);  // LIKE also returns other domains
    }
    if (unplaced.empty()) continue;
    // Salesforce compared in the querying user's locale, which may fold case unlike fold_case (a
    // Turkish dotted I, a script it does not cover): each name it returned matches one of these
    // values. With one value that is the one; otherwise ask again for each value still without a
    // match, alone, and take every record that query returns.
    if (chunk.size() == 1) {
      auto& ids = parents[chunk.front()].ids;
      ids.insert(ids.end(), unplaced.begin(), unplaced.end());
      continue;
    }
    for (const auto& key : chunk) {
      if (!parents[key].ids.empty()) continue;
      std::string soql = lookup_soql(p, std::vector<std::string>(1, literal_of(key)));
      auto alone = co_await run_query(soql, false, true, "SOQL lookup of " + p.object);
      if (!alone) parents[key].failure = alone.failure();
      else
        for (const auto& r : alone->records) parents[key].ids.push_back(r.id);
    }
  }

  // Create the parents that do not exist yet, in one sObject Collections call per 200.
  std::vector<std::string> to_create;
  for (auto& [key, parent] : parents)
    if (!parent.failure && parent.ids.empty() && parent.create.is_object()) to_create.push_back(key);
  for (std::size_t begin = 0; begin < to_create.size(); begin += kCollectionSize) {
    std::size_t end = std::min(to_create.size(), begin + kCollectionSize);
    auto body = creation_body(p, parents, to_create, begin, end);
    auto res = co_await call(http::Method::post, data_path() + "/composite/sobjects", body.dump());
    std::string what = "create of " + p.object;
    auto answer = res && res->status == 200 ? remote_json::parse(res->body) : nlohmann::json();
    for (std::size_t k = begin; k < end; ++k) {
      Parent& parent = parents[to_create[k]];
      if (!res) {
        parent.failure = res.failure();
      } else if (res->status != 200) {
        parent.failure = api_failure(*res, what, "");
      } else if (!answer.is_array() || answer.size() != end - begin) {
        parent.failure = Failure{FailureKind::transient, what + " answered 200 with a malformed body", 200, ""};
      } else if (auto id = written_id(answer[k - begin])) {
        parent.ids.push_back(std::move(*id));
        log_->info("salesforce: created {} {} for {} = '{}'", p.object, parent.ids.back(), p.match_field, parent.value);
      } else {
        parent.failure = collection_error(remote_json::member(answer[k - begin], "errors"), what);
      }
    }
  }

  // Each request's lookup field gets its Account's id.
  auto write_id = [&](std::size_t i, const std::string& id) {
    auto& fields = requests[i].fields;
    std::erase_if(fields, [&](const FieldChange& c) { return c.path == p.field; });
    fields.push_back({p.field, id});
  };
  settle_parents(p, parents, uses, "Salesforce", write_id, out);
}

}  // namespace cosync::connectors
