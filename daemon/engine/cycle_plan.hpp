#pragma once
// The planner's output for one mapping and cycle: a plain description of every create, update,
// rule action and failure, each with its reason and precondition (the record version it was
// planned against). The executor carries it out; `cosyncd plan` prints it (describe()).
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "connectors/records.hpp"
#include "daemon/engine/merge.hpp"
#include "daemon/engine/rule.hpp"
#include "daemon/store/state_store.hpp"
#include "daemon/util/expected.hpp"

namespace cosync::engine {

// One referral's records as read this cycle (pulled, or read afresh when needed).
struct WorkItem {
  std::string pc_id;
  std::optional<connectors::RemoteRecord> pc;
  std::optional<connectors::RemoteRecord> crm;
  bool reread = false;  // due for retry (quarantine or a held action): read both sides afresh
  // Its CRM record was handled earlier this cycle without the referral: read it again, so that
  // the pair is planned on both sides as when both pulls were collected (SyncEngine).
  bool read_crm = false;
  bool done = false;    // failed, created, refused or finished: nothing more this cycle
};

// A record that could not be handled: the executor orphans (404 on a linked record),
// quarantines (rejected) or counts it for a retry next cycle (transient).
struct RecordFailure {
  std::string side;  // "pc" or "crm"
  std::string id;
  Failure failure;
};

// A referral with no CRM record yet: created by upsert on the external id.
struct PlannedCreate {
  WorkItem* item = nullptr;
  connectors::UpsertRequest request;
  nlohmann::json intent;  // the canonical values the create sends (journaled before sending)
};

// A CRM record the mapping's `share:` selects, with no referral yet: created in Partner Center
// (found first by externalReferenceId = the CRM id, so a crash after the POST never shares twice).
struct PlannedShare {
  connectors::RemoteRecord crm;  // read afresh with its related fields (crm_share_spec)
  nlohmann::json referral;       // the body to POST
  mapping::DealType deal_type = mapping::DealType::co_sell;
  // Set when the share waits (require_consent without the customer's consent): held, not sent.
  std::optional<std::string> held;
  bool resumed = false;  // a share sent before whose answer a crash lost: found again, not re-posted
};

// A CRM record that already holds the referral id (a create whose link a crash lost, or a record
// a person tied to it): linked instead of created over.
struct PlannedLink {
  WorkItem* item = nullptr;
};

// The deal registration of a linked pair whose referral is Closed/Won (registration_planning.cpp):
// added once, found again after a crash, or its editable fields replaced.
struct PlannedRegistration {
  enum class Kind { add, replace, link };
  Kind kind = Kind::add;
  nlohmann::json body;                            // add: the registration
  std::vector<connectors::FieldChange> changes;   // replace: "registrations.0.contract.value" ...
  std::string reason;                             // for `plan`, the log and the audit
};

// A linked pair's merge and the writes it needs; the writes are preconditioned on the versions
// of `item`'s records.
struct PlannedUpdate {
  WorkItem* item = nullptr;
  Link link;                 // as stored, pending intents settled
  MergePlan merge;
  std::vector<connectors::FieldChange> pc_changes;
  std::vector<connectors::FieldChange> crm_changes;
  bool link_field_stale = false;     // pc_changes include the referral's link field
  bool crm_link_field_stale = false;  // crm_changes restore the CRM record's link field
  std::vector<RuleAction> actions;   // rules' holds and events for this pair
  std::optional<std::string> refused;  // a rule refused the PC writes: quarantined after the CRM side
  std::optional<PlannedRegistration> registration;  // sent after the pair's Partner Center writes
  bool registration_failed = false;  // its quarantine entry (if refused) stays: retried by backoff
  nlohmann::json shadow;     // link.shadow plus what is agreed or written so far
  bool again = false;        // a precondition failed: re-read, merge again next round
  bool failed = false;
};

// A deleted CRM record whose link a rule acts on (close the referral, unlink).
struct PlannedDeletion {
  Link link;
  std::vector<connectors::FieldChange> pc_changes;  // e.g. close as Lost; sent only if not closed already
  bool unlink = false;
  std::string reason;
};

struct CyclePlan {
  CyclePlan() = default;
  CyclePlan(CyclePlan&&) = default;  // the plans below point into `items`: moved, never copied
  CyclePlan& operator=(CyclePlan&&) = default;
  CyclePlan(const CyclePlan&) = delete;
  CyclePlan& operator=(const CyclePlan&) = delete;

  std::string pc_cursor;   // where the next pulls start, committed when the cycle completes
  std::string crm_cursor;
  bool pull_failed = false;
  std::size_t pulled_pc = 0;
  std::size_t pulled_crm = 0;
  TimePoint pc_now{};  // Partner Center's clock after the pull (the host's if it never answered)
  std::map<std::string, WorkItem> items;  // by referral id; the plans below point into it
  std::vector<RecordFailure> failures;
  std::vector<PlannedDeletion> deletions;
  std::vector<PlannedLink> links;
  std::vector<PlannedCreate> creates;
  std::vector<PlannedShare> shares;
  std::vector<PlannedUpdate> updates;
  // Referral id -> the linked CRM record whose link field a person retyped to it. That record's
  // field is restored this cycle; the referral's create waits, or its upsert would land on it.
  std::map<std::string, std::string> retyped;
  std::vector<connectors::RemoteRecord> share_candidates;  // unlinked CRM records the share may select
};

struct CycleStats {
  std::size_t pulled_pc = 0;
  std::size_t pulled_crm = 0;
  std::size_t created = 0;
  std::size_t shared = 0;      // CRM records shared to Partner Center as new referrals
  std::size_t updated_pc = 0;
  std::size_t updated_crm = 0;
  std::size_t conflicts = 0;
  std::size_t quarantined = 0;
  std::size_t orphaned = 0;    // links whose record one side answered 404 for
  std::size_t failed = 0;      // transient failures: retried next cycle
  std::size_t api_calls = 0;
  std::string crm_api_usage;   // the CRM's own report, e.g. Salesforce "120/15000"; empty if none
  std::chrono::milliseconds duration{0};
  bool pull_failed = false;

  bool ok() const { return failed == 0 && quarantined == 0 && !pull_failed; }
};

// One line of `cosyncd plan`: what would change, per record and field, and why.
struct PlannedChange {
  std::string mapping;
  std::string pc_id;
  std::string crm_id;  // empty when the CRM record would be created
  std::string action;  // "create in CRM", "update CRM", "update Partner Center", ...
  std::string field;   // canonical field name, or the CRM/PC field for creates and links
  nlohmann::json old_value;
  nlohmann::json new_value;
  std::string reason;
  nlohmann::json event = nullptr;  // an "event" line: its payload as the outbox would get it (notification preview)
};

// The plan as `cosyncd plan` lists it, and the counts a real cycle would report.
std::vector<PlannedChange> describe(const CyclePlan& plan, const mapping::Mapping& mapping);
CycleStats planned_stats(const CyclePlan& plan);

}  // namespace cosync::engine
