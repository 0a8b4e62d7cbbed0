#include "daemon/cli/metadata_validation.hpp"

namespace cosync::app {

namespace net = boost::asio;

const char* to_string(MetadataVerdict v) {
  switch (v) {
    case MetadataVerdict::valid: return "valid";
    case MetadataVerdict::mismatch: return "mismatch";
    case MetadataVerdict::deferred: return "deferred";
    case MetadataVerdict::skipped: return "skipped";
  }
  return "?";
}

net::awaitable<Expected<connectors::ObjectMetadata>> MetadataValidator::describe(connectors::Connector& crm,
                                                                                 const std::string& object) {
  auto key = std::make_pair(&crm, object);
  if (auto it = cache_.find(key); it != cache_.end()) co_return it->second;
  auto meta = co_await crm.describe_object(object);
  cache_.insert_or_assign(key, meta);
  co_return meta;
}

namespace {

// What a failed describe means for the mapping. Only "the object is not there" is the mapping's
// fault; anything that may pass on a later try defers it.
MetadataResult from_failure(const mapping::Mapping& m, const std::string& object, int line, const std::string& key,
                            const Failure& f) {
  MetadataResult r;
  if (f.kind == FailureKind::not_found) {
    r.verdict = MetadataVerdict::mismatch;
    r.errors.emplace_back(m.file, line, key,
                          object + " does not exist in this org, or the integration user cannot see it (" +
                              f.message + ")");
  } else {
    r.verdict = MetadataVerdict::deferred;
    r.reason = "describe " + object + " failed: " + f.message;
  }
  return r;
}

}  // namespace

net::awaitable<MetadataResult> MetadataValidator::validate(const mapping::Mapping& m, connectors::Connector& crm) {
  if (!crm.capabilities().describe_metadata) {  // the connector says so; no failure to interpret
    MetadataResult skipped;
    skipped.verdict = MetadataVerdict::skipped;
    skipped.reason = std::string(crm.system()) + " has no metadata to describe " + m.crm_object;
    co_return skipped;
  }
  auto meta = co_await describe(crm, m.crm_object);
  if (!meta) co_return from_failure(m, m.crm_object, m.crm_object_line, "crm.object", meta.failure());
  std::optional<connectors::ObjectMetadata> parent;
  if (m.account) {
    auto p = co_await describe(crm, m.account->object);
    if (!p) co_return from_failure(m, m.account->object, m.account->line, "crm.account.object", p.failure());
    parent = std::move(*p);
  }
  auto check = mapping::check_against_metadata(m, *meta, parent ? &*parent : nullptr);
  MetadataResult r;
  r.verdict = check.ok() ? MetadataVerdict::valid : MetadataVerdict::mismatch;
  r.errors = std::move(check.errors);
  r.warnings = std::move(check.warnings);
  co_return r;
}

}  // namespace cosync::app
