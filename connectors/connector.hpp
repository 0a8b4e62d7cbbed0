#pragma once
// The interface every connector implements (Partner Center, Salesforce, later Dataverse). The
// engine only sees this: records as JSON, opaque versions and cursors, field changes by path.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/util/clock.hpp"
#include "daemon/util/expected.hpp"

namespace cosync::connectors {

struct RemoteRecord {
  std::string id;
  std::string version;  // the write precondition: PC eTag, Salesforce SystemModstamp
  TimePoint modified{};
  nlohmann::json fields = nlohmann::json::object();  // the record as the API returned it
  bool deleted = false;  // deleted remotely (Salesforce IsDeleted via queryAll); fields may be partial
};

// A record the API returned that cannot be used; it goes to quarantine with the reason.
struct MalformedRecord {
  std::string id;  // empty when even the id is unreadable
  std::string reason;
};

struct PullResult {
  std::vector<RemoteRecord> records;
  std::vector<MalformedRecord> malformed;
  std::string cursor;  // where the next pull starts; committed by the engine after the batch
};

// A parent record a created record points to, found (or created) by a match key: Salesforce
// Opportunity.AccountId. The create's change of `field` carries {"match": <value from the
// referral>, "create": {<fields of a new parent>} or null}; the connector replaces it with the
// id of the one `object` record whose `match_field` matches.
struct ParentLookup {
  std::string field;           // "AccountId"
  std::string object;          // "Account"
  std::string match_field;     // "Name" or "Website"
  bool match_domain = false;   // compare web domains: "https://www.Contoso.com/", "a@contoso.com" ~ "contoso.com"
  bool create = true;          // create the parent when none matches; otherwise the record is rejected
};

// Which records of which object a mapping reads and writes.
struct ObjectSpec {
  std::string object;                 // "Lead"; ignored by Partner Center (always referrals)
  std::vector<std::string> fields;    // field paths the mapping reads
  std::string external_id_field;      // field that holds the other side's id
  std::optional<ParentLookup> parent{};  // resolved on create (Opportunity -> Account)
};

struct FieldChange {
  std::string path;  // dotted path, e.g. "details.dealValue" or "Status"
  nlohmann::json value;
};

// One record of a batched update / upsert.
struct UpdateRequest {
  RemoteRecord current;
  std::vector<FieldChange> changes;
};
struct UpsertRequest {
  std::string external_id;
  std::vector<FieldChange> fields;
};

// What the CRM says about one field of an object, so a mapping can be checked before it runs.
struct FieldMetadata {
  std::string name;
  bool updateable = false;  // may be written on an existing record
  bool createable = false;  // may be set when the record is created
  // The values a mapping may write to this field, when it takes only listed ones (Salesforce
  // picklist API values, Dataverse option-set values as strings); empty: any value goes.
  std::vector<std::string> allowed_values;
};
struct ObjectMetadata {
  std::string object;
  std::vector<FieldMetadata> fields;
  bool change_tracking = true;  // Dataverse: the table's change tracking is on
};

class Connector {
 public:
  virtual ~Connector() = default;
  virtual const char* system() const = 0;

  // Records changed since `cursor` (empty: everything), oldest overlap included.
  virtual boost::asio::awaitable<Expected<PullResult>> pull(const ObjectSpec& spec, const std::string& cursor) = 0;
  virtual boost::asio::awaitable<Expected<RemoteRecord>> get(const ObjectSpec& spec, const std::string& id) = 0;
  // Writes only `changes`, on condition that the record is still at `current.version`; a moved
  // record is a Failure of kind conflict. Returns the record as stored after the write.
  virtual boost::asio::awaitable<Expected<RemoteRecord>> update(const ObjectSpec& spec, const RemoteRecord& current,
                                                                const std::vector<FieldChange>& changes) = 0;
  // Creates the record whose external-id field holds `external_id`, or updates the one that
  // already does, so that a retry or restart never creates a second one.
  virtual boost::asio::awaitable<Expected<RemoteRecord>> upsert(const ObjectSpec& spec, const std::string& external_id,
                                                                const std::vector<FieldChange>& fields) = 0;

  // Batched writes: one result per request, in the same order. A connector whose API has bulk
  // writes (Salesforce sObject Collections) overrides these; the defaults send one call each.
  virtual boost::asio::awaitable<std::vector<Expected<RemoteRecord>>> update_many(
      const ObjectSpec& spec, const std::vector<UpdateRequest>& requests) {
    std::vector<Expected<RemoteRecord>> results;
    for (const auto& r : requests) results.push_back(co_await update(spec, r.current, r.changes));
    co_return results;
  }
  virtual boost::asio::awaitable<std::vector<Expected<RemoteRecord>>> upsert_many(
      const ObjectSpec& spec, const std::vector<UpsertRequest>& requests) {
    std::vector<Expected<RemoteRecord>> results;
    for (const auto& r : requests) results.push_back(co_await upsert(spec, r.external_id, r.fields));
    co_return results;
  }

  // The object's field metadata (Salesforce describe, Dataverse EntityDefinitions). A connector
  // with nothing to check (Partner Center: fixed contract) answers a Failure of kind fatal.
  virtual boost::asio::awaitable<Expected<ObjectMetadata>> describe_object(const std::string& object) {
    co_return Failure{FailureKind::fatal, std::string(system()) + " has no metadata to describe " + object, 0, ""};
  }

  // HTTP requests sent so far (token requests included), for the cycle summary.
  virtual std::size_t api_calls() const = 0;
  // The remote API's own usage report, e.g. "120/15000" (Salesforce api-usage); empty if none.
  virtual std::string api_usage() const { return {}; }
};

}  // namespace cosync::connectors
