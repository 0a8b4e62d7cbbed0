#pragma once
// The records a connector exchanges with the engine, apart from the Asio interface that moves
// them: mapping and rules code works on these without pulling in sockets or coroutines.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/util/clock.hpp"

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

// Where a connector looks for the parent a created record points to (Salesforce:
// Opportunity.AccountId -> the Account whose Name, or Website domain, matches), found or created.
// What each create looks for is its UpsertRequest::parent. An empty name is the connector's
// default (Capabilities::parent_lookup).
struct ParentLookup {
  std::string field;           // lookup field on the created record: "AccountId"
  std::string object;          // the parent object: "Account"
  std::string match_field;     // the parent's field compared: "Name" or "Website"
  bool match_domain = false;   // compare web domains: "https://www.Contoso.com/", "a@contoso.com" ~ "contoso.com"
};

// A connector's own names for a parent lookup, used where the mapping names none.
struct ParentDefaults {
  std::string field;          // "AccountId"
  std::string object;         // "Account"
  std::string name_field;     // compared by `match: name`: "Name"
  std::string website_field;  // compared by `match: website`: "Website"
};

// Which records of which object a mapping reads and writes.
struct ObjectSpec {
  std::string object;                 // "Lead"; ignored by Partner Center (always referrals)
  std::vector<std::string> fields;    // field paths the mapping reads
  std::string external_id_field;      // field that holds the other side's id
  std::optional<ParentLookup> parent{};  // resolved on create (Opportunity -> Account)
  // Pull records whose external-id field is empty too: the mapping shares CRM records that have
  // no referral yet (co-sell sharing). Otherwise a pull may skip them.
  bool unlinked_records = false;
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
// The parent one create looks for (see ParentLookup): the referral's value, and the fields of a
// parent to create when none matches (nullopt: none may be created; the record is rejected).
struct ParentMatch {
  std::string value;  // a name, or a URL / e-mail address whose web domain is compared
  std::optional<std::vector<FieldChange>> create;
};
struct UpsertRequest {
  std::string external_id;
  std::vector<FieldChange> fields;
  // The parent the created record points to: the connector finds (or creates) it and writes its
  // id to ObjectSpec::parent's field. Only a connector with Capabilities::parent_lookup honours it.
  std::optional<ParentMatch> parent{};
};

// What the CRM says about one field of an object, so a mapping can be checked before it runs.
struct FieldMetadata {
  std::string name;
  bool updateable = false;  // may be written on an existing record
  bool createable = false;  // may be set when the record is created
  // The values a mapping may write to this field, when it takes only listed ones (Salesforce
  // picklist API values, Dataverse option-set values as strings); empty: any value goes.
  std::vector<std::string> allowed_values;
  // The most characters a text field holds (Salesforce describe `length`, Dataverse String and
  // Memo MaxLength); nullopt for other fields. Longer text sent to it is cut (mapping::FieldRule).
  std::optional<std::size_t> max_length;
};
struct ObjectMetadata {
  std::string object;
  std::vector<FieldMetadata> fields;
  bool change_tracking = true;  // Dataverse: the table's change tracking is on
};

}  // namespace cosync::connectors
