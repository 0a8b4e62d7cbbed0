#include "connectors/parent_matching.hpp"

#include "connectors/web_domain.hpp"
#include "daemon/util/case_fold.hpp"

namespace cosync::connectors {

ParentLookup with_defaults(ParentLookup p, const ParentDefaults& defaults) {
  if (p.field.empty()) p.field = defaults.field;
  if (p.object.empty()) p.object = defaults.object;
  if (p.match_field.empty()) p.match_field = p.match_domain ? defaults.website_field : defaults.name_field;
  return p;
}

std::string parent_key(const ParentLookup& p, const std::string& value) {
  return p.match_domain ? web_domain(value) : fold_case(value);
}

ParentCandidates wanted_parents(const ParentLookup& p, const std::vector<UpsertRequest>& requests, ParentUses& uses,
                                ParentResults& out) {
  ParentCandidates parents;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (!requests[i].parent) continue;
    const ParentMatch& wanted = *requests[i].parent;
    std::string key = parent_key(p, wanted.value);
    if (key.empty()) {
      out[i] = Failure{FailureKind::rejected,
                       "no " + p.object + "." + p.match_field + " to look for: the referral has " +
                           (wanted.value.empty() ? "no value" : "'" + wanted.value + "', which is not a web domain,") +
                           " at the path crm.account.from names",
                       0, ""};
      continue;
    }
    ParentCandidate& parent = parents[key];
    if (parent.value.empty()) parent.value = wanted.value;
    if (parent.create.is_null() && wanted.create) {
      parent.create = nlohmann::json::object();
      for (const auto& c : *wanted.create) parent.create[c.path] = c.value;
    }
    uses.emplace_back(i, key);
  }
  return parents;
}

void settle_parents(const ParentLookup& p, const ParentCandidates& parents, const ParentUses& uses,
                    const std::string& crm, const std::function<void(std::size_t, const std::string&)>& bind,
                    ParentResults& out) {
  for (const auto& [i, key] : uses) {
    const ParentCandidate& parent = parents.at(key);
    std::string match = p.object + " " + p.match_field + (p.match_domain ? " domain '" + key : " '" + parent.value) + "'";
    if (parent.failure) {
      out[i] = *parent.failure;
    } else if (parent.ids.size() > 1) {
      std::string ids;
      for (const auto& id : parent.ids) ids += (ids.empty() ? "" : ", ") + id;
      out[i] = Failure{FailureKind::rejected,
                       "several " + p.object + " records match " + match + ": " + ids + " (merge them in " + crm +
                           ", then run quarantine retry)",
                       0, ""};
    } else if (parent.ids.empty()) {
      out[i] = Failure{FailureKind::rejected,
                       "no " + match + " exists and crm.account.create is false: create it, then run quarantine retry",
                       0, ""};
    } else {
      bind(i, parent.ids.front());
    }
  }
}

}  // namespace cosync::connectors
