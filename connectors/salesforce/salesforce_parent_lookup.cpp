// Parent lookups on create (Opportunity.AccountId): find the one Account whose Name, or Website
// domain, matches the referral's value with one query per batch, create the missing ones in one
// sObject Collections call, and reject a record whose value matches several Accounts.
#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

#include "connectors/api_error.hpp"
#include "connectors/salesforce/salesforce_connector.hpp"

namespace cosync::connectors {

namespace net = boost::asio;

namespace {

constexpr std::size_t kValuesPerQuery = 100;  // keeps the query URL well under Salesforce's limit
constexpr std::size_t kCollectionSize = 200;

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One distinct match value of the batch and what became of it.
struct Parent {
  std::string value;            // as the referral gave it (a created parent gets it)
  std::vector<std::string> ids;  // matching parents
  nlohmann::json create;        // fields of a new parent, from the first request that needs it
  std::optional<Failure> failure;
};

std::string match_condition(const ParentLookup& p, const std::vector<std::string>& keys) {
  std::ostringstream where;
  if (p.match_domain) {
    // Website is free text ("https://www.contoso.com/"): narrow with LIKE, compare domains after.
    for (std::size_t i = 0; i < keys.size(); ++i) {
      std::string literal = soql_quote(keys[i], true);  // 'contoso.com' -> '%contoso.com%'
      where << (i ? " OR " : "") << p.match_field << " LIKE '%" << literal.substr(1, literal.size() - 2) << "%'";
    }
  } else {
    where << p.match_field << " IN (";
    for (std::size_t i = 0; i < keys.size(); ++i) where << (i ? "," : "") << soql_quote(keys[i]);
    where << ")";
  }
  return where.str();
}

// The key a parent's match field is compared by: SOQL `=` ignores case, so names do too.
std::string key_of(const ParentLookup& p, const std::string& value) {
  return p.match_domain ? web_domain(value) : lower(value);
}

}  // namespace

std::string web_domain(std::string_view text) {
  std::string t = lower(text);
  auto trim = [](std::string& s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
    while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == '.')) s.pop_back();
  };
  trim(t);
  if (auto scheme = t.find("://"); scheme != std::string::npos) t.erase(0, scheme + 3);
  if (auto at = t.rfind('@'); at != std::string::npos) t.erase(0, at + 1);
  if (auto end = t.find_first_of("/?#:"); end != std::string::npos) t.erase(end);
  trim(t);
  if (t.starts_with("www.")) t.erase(0, 4);
  if (t.find('.') == std::string::npos || t.find(' ') != std::string::npos) return {};
  return t;
}

net::awaitable<void> SalesforceConnector::resolve_parents(const ObjectSpec& spec, std::vector<UpsertRequest>& requests,
                                                          std::vector<std::optional<Expected<RemoteRecord>>>& out) {
  const ParentLookup& p = *spec.parent;
  std::map<std::string, Parent> parents;                 // by key
  std::vector<std::pair<std::size_t, std::string>> uses;  // request index, key
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto change = std::find_if(requests[i].fields.begin(), requests[i].fields.end(),
                               [&](const FieldChange& c) { return c.path == p.field; });
    if (change == requests[i].fields.end() || !change->value.is_object()) continue;
    const auto& match = change->value.contains("match") ? change->value["match"] : nlohmann::json();
    std::string value = match.is_string() ? match.get<std::string>() : "";
    std::string key = key_of(p, value);
    if (key.empty()) {
      out[i] = Failure{FailureKind::rejected,
                       "no " + p.object + "." + p.match_field + " to look for: the referral has " +
                           (value.empty() ? "no value" : "'" + value + "', which is not a web domain,") +
                           " at the path crm.account.from names",
                       0, ""};
      continue;
    }
    auto& parent = parents[key];
    if (parent.value.empty()) parent.value = value;
    if (parent.create.is_null() && change->value.contains("create")) parent.create = change->value["create"];
    uses.emplace_back(i, key);
  }
  if (parents.empty()) co_return;

  // Find: one query per kValuesPerQuery distinct values.
  std::vector<std::string> keys;
  for (const auto& [key, parent] : parents) keys.push_back(key);
  for (std::size_t begin = 0; begin < keys.size(); begin += kValuesPerQuery) {
    std::vector<std::string> chunk(keys.begin() + static_cast<std::ptrdiff_t>(begin),
                                   keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), begin + kValuesPerQuery)));
    std::string soql = "SELECT Id, SystemModstamp, " + p.match_field + " FROM " + p.object + " WHERE " + match_condition(p, chunk) +
                       " ORDER BY Id";
    auto found = co_await run_query(soql, false, true, "SOQL lookup of " + p.object);
    for (const auto& key : chunk) {
      if (!found) parents[key].failure = found.failure();
    }
    if (!found) continue;
    for (const auto& r : found->records) {
      auto v = r.fields.contains(p.match_field) && r.fields[p.match_field].is_string()
                   ? r.fields[p.match_field].get<std::string>() : "";
      if (auto it = parents.find(key_of(p, v)); it != parents.end()) it->second.ids.push_back(r.id);
    }
  }

  // Create the parents that do not exist yet, in one sObject Collections call per 200.
  std::vector<std::string> to_create;
  for (auto& [key, parent] : parents)
    if (!parent.failure && parent.ids.empty() && p.create && parent.create.is_object()) to_create.push_back(key);
  for (std::size_t begin = 0; begin < to_create.size(); begin += kCollectionSize) {
    std::size_t end = std::min(to_create.size(), begin + kCollectionSize);
    nlohmann::json body = {{"allOrNone", false}, {"records", nlohmann::json::array()}};
    for (std::size_t k = begin; k < end; ++k) {
      Parent& parent = parents[to_create[k]];
      nlohmann::json record = parent.create;
      record["attributes"] = {{"type", p.object}};
      // The created parent carries the match value, so that the next lookup finds it.
      if (!record.contains(p.match_field)) record[p.match_field] = p.match_domain ? to_create[k] : parent.value;
      body["records"].push_back(std::move(record));
    }
    auto res = co_await call(http::Method::post, data_path() + "/composite/sobjects", body.dump());
    std::string what = "create of " + p.object;
    auto answer = res && res->status == 200 ? nlohmann::json::parse(res->body, nullptr, false) : nlohmann::json();
    for (std::size_t k = begin; k < end; ++k) {
      Parent& parent = parents[to_create[k]];
      if (!res) {
        parent.failure = res.failure();
      } else if (res->status != 200) {
        parent.failure = api_failure(*res, what, "");
      } else if (!answer.is_array() || answer.size() != end - begin) {
        parent.failure = Failure{FailureKind::transient, what + " answered 200 with a malformed body", 200, ""};
      } else if (const auto& r = answer[k - begin]; r.is_object() && r.value("success", false) && r.contains("id")) {
        parent.ids.push_back(r["id"].get<std::string>());
        log_->info("salesforce: created {} {} for {} = '{}'", p.object, parent.ids.back(), p.match_field, parent.value);
      } else {
        parent.failure = collection_error(r.is_object() && r.contains("errors") ? r["errors"] : nlohmann::json(), what);
      }
    }
  }

  for (const auto& [i, key] : uses) {
    const Parent& parent = parents[key];
    std::string match = p.object + " " + p.match_field + (p.match_domain ? " domain '" + key : " '" + parent.value) + "'";
    if (parent.failure) {
      out[i] = *parent.failure;
    } else if (parent.ids.size() > 1) {
      std::string ids;
      for (const auto& id : parent.ids) ids += (ids.empty() ? "" : ", ") + id;
      out[i] = Failure{FailureKind::rejected,
                       "several " + p.object + " records match " + match + ": " + ids +
                           " (merge them in Salesforce, then run quarantine retry)",
                       0, ""};
    } else if (parent.ids.empty()) {
      out[i] = Failure{FailureKind::rejected,
                       "no " + match + " exists and crm.account.create is false: create it, then run quarantine retry",
                       0, ""};
    } else {
      for (auto& c : requests[i].fields)
        if (c.path == p.field) c.value = parent.ids.front();
    }
  }
}

}  // namespace cosync::connectors
