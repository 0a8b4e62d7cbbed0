#pragma once
// What the CRM connectors' account lookups (crm.account) share: the distinct accounts a batch of
// creates looks for, keyed by folded name or web domain, and how each create is settled once they
// are found or created: bound to the one match, or failed (several matches naming them, none and
// none may be created, or the account's own failure). Finding and creating are each CRM's own.
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "connectors/records.hpp"
#include "daemon/util/expected.hpp"

namespace cosync::connectors {

// One distinct match value of the batch and what became of it.
struct ParentCandidate {
  std::string value;             // as the referral gave it (a created account gets it)
  std::vector<std::string> ids;  // matching accounts
  nlohmann::json create;         // fields of a new account, from the first request that may create it
  std::optional<Failure> failure;
};
using ParentCandidates = std::map<std::string, ParentCandidate>;     // by parent_key
using ParentUses = std::vector<std::pair<std::size_t, std::string>>;  // request index, key of its account
using ParentResults = std::vector<std::optional<Expected<RemoteRecord>>>;

// `p` with what it leaves empty taken from a connector's `defaults`.
ParentLookup with_defaults(ParentLookup p, const ParentDefaults& defaults);
// The key an account's match field is compared by: the web domain, or the name case folded (both
// CRMs compare names ignoring case).
std::string parent_key(const ParentLookup& p, const std::string& value);
// The distinct accounts the requests look for; a request whose value has no key (no name, no web
// domain) gets its failure in `out` instead.
ParentCandidates wanted_parents(const ParentLookup& p, const std::vector<UpsertRequest>& requests, ParentUses& uses,
                                ParentResults& out);
// Calls `bind` with each request's one account, or fails the request in `out`. `crm` names where
// duplicates are merged ("Salesforce", "Dynamics 365").
void settle_parents(const ParentLookup& p, const ParentCandidates& parents, const ParentUses& uses,
                    const std::string& crm, const std::function<void(std::size_t, const std::string&)>& bind,
                    ParentResults& out);

}  // namespace cosync::connectors
