#pragma once
// A mapping: which Partner Center referrals pair with which CRM records, and how each field
// translates between them. Compiled from a YAML mapping file (see config/examples/mappings/).
//
// Every field has a canonical value used for merging: the Partner Center form of the value
// (for a value-mapped field, the PC side of the matching entry; for several PC paths, an array).
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "connectors/records.hpp"
#include "daemon/mapping/condition.hpp"
#include "daemon/mapping/share_rule.hpp"

namespace cosync::mapping {

enum class Direction { both, to_crm, to_pc };
enum class Owner { pc, crm, newest };  // who wins when both sides changed a field
// What a CRM record's deletion does to its link: nothing, forget the pair, or also close the
// referral as Lost. After unlink or close a tombstone keeps the referral from being recreated.
enum class DeletePolicy { ignore, unlink, close };
const char* to_string(Direction d);
const char* to_string(Owner o);
struct LeadRules;  // daemon/mapping/lead_rules.hpp: accept: and decline:
struct RegistrationRule;  // daemon/mapping/registration_rule.hpp: registration:

struct ValueMapEntry {
  nlohmann::json pc;   // scalar, or an array with one value per PC path
  nlohmann::json crm;  // scalar
  int line = 0;        // of its `crm:` in the mapping file (key fields[i].values[j].crm), for messages
  // A one-way entry is used only in its direction: several PC values may become one CRM value
  // (`to_crm`) while that CRM value reads back as the one entry that flows to Partner Center.
  Direction direction = Direction::both;

  bool flows_to_crm() const { return direction != Direction::to_pc; }
  bool flows_to_pc() const { return direction != Direction::to_crm; }
};

// How a field's value is read and written on both sides (`transform:` in the mapping file).
enum class Transform {
  none,
  date,      // canonical "2026-12-31"; Partner Center timestamps are written as "2026-12-31T00:00:00Z"
  number,    // canonical JSON number: "120000", 120000 and 120000.0 are one value
  truncate,  // text written to either side is cut to `length` (or the CRM field's length)
};

struct FieldRule {
  std::string name;                   // canonical name, key of the shadow
  std::vector<std::string> pc_paths;  // e.g. {"status", "substatus"} or {"details.dealValue"}
  std::string crm_field;              // e.g. "Status"
  Direction direction = Direction::both;
  Owner owner = Owner::pc;
  std::vector<ValueMapEntry> values;  // empty: the value is copied as it is
  Transform transform = Transform::none;
  std::optional<std::size_t> length;  // transform truncate: `length:`, in characters
  int line = 0;                       // in the mapping file, for messages
  // The CRM text field's length in the org (Salesforce describe `length`, Dataverse MaxLength),
  // learned by the metadata check before the engine runs: longer text sent to the CRM is cut to
  // it instead of being rejected. Mutable because it is knowledge about the org, not
  // configuration: the check sees the loaded mapping as const.
  mutable std::optional<std::size_t> crm_max_length;

  bool flows_to_crm() const { return direction != Direction::to_pc; }
  bool flows_to_pc() const { return direction != Direction::to_crm; }
  // The length text written to each side is cut to, if any.
  std::optional<std::size_t> pc_text_limit() const;
  std::optional<std::size_t> crm_text_limit() const;
};

// How a CRM record created from a referral finds the account it belongs to (Salesforce:
// an Opportunity needs an AccountId): the one account whose name, or website domain, matches a
// value of the referral; created from `fields` when none does and `create` is set. Which fields
// and object those are is the CRM connector's business (connectors::Capabilities::parent_lookup):
// the mapping file may name them, and load_config fills the rest from the connector's defaults
// (apply_parent_defaults).
struct AccountRule {
  enum class MatchBy { name, website };
  std::string lookup_field;   // on the mapped object (Salesforce default: AccountId)
  std::string object;         // the parent object (Salesforce default: Account)
  std::string name_field;     // the parent's field `match: name` compares (Salesforce: Name)
  std::string website_field;  // the parent's field `match: website` compares (Salesforce: Website)
  MatchBy match_by = MatchBy::name;
  std::string from;                         // referral path of the match value (website: URL or e-mail)
  bool create = true;
  std::map<std::string, std::string> fields;  // a created account's fields: templates like `create`
  std::map<std::string, int> field_lines;
  int line = 0;         // of the crm.account block
  int lookup_line = 0;  // of lookup_field, or of the block when it is not given

  const std::string& match_field() const { return match_by == MatchBy::name ? name_field : website_field; }
  // Where the connector looks (the CRM spec's parent); empty names are the connector's defaults.
  connectors::ParentLookup lookup() const;
  // What one create from `referral` looks for, and the fields of the account to create if none.
  connectors::ParentMatch match(const nlohmann::json& referral) const;
  // One line for `plan`: "match Name = 'Contoso' (create if none)".
  std::string describe(const connectors::ParentMatch& p) const;
};

struct Mapping {
  std::string name;
  std::string file;
  std::string crm_connection;         // key under `connections:` in the daemon config
  int crm_connection_line = 0;
  std::string crm_object;             // e.g. "Lead"
  std::string crm_link_field;         // CRM field holding the referral id (external id)
  std::string pc_link_field = "externalReferenceId";  // PC field holding the CRM record id
  Condition select;  // which referrals belong to the mapping (pc. paths only); default: all
  int crm_object_line = 0;
  int crm_link_field_line = 0;
  std::map<std::string, std::string> create_templates;  // CRM field -> "[MSFT] {customerProfile.name}"
  std::map<std::string, int> create_lines;              // CRM field -> line in the mapping file
  std::optional<AccountRule> account;                   // crm.account: parent account of creates
  std::vector<FieldRule> fields;
  DeletePolicy on_crm_delete = DeletePolicy::ignore;
  // statusReason of a referral closed as Lost because its CRM record was deleted (on_crm_delete: close).
  std::string close_reason = "Deleted in CRM";
  std::optional<ShareRule> share;  // `share:`: CRM records that become referrals (co-sell sharing)
  // `won_hold:`: a Won reaches Partner Center no earlier than this after the referral was created
  // (Partner Center's own minimum is 72 hours; see daemon/rules/won_hold.hpp).
  std::chrono::seconds won_hold = std::chrono::hours(72);
  std::shared_ptr<const LeadRules> leads;  // `accept:`, `decline:`: null when the mapping has neither
  // `registration:`: deal registration of won deals; null when the mapping registers none.
  std::shared_ptr<const RegistrationRule> registration;

  // Whether the referral belongs to the mapping (`select:`), at `now` (the engine's clock).
  bool selects(const nlohmann::json& referral, TimePoint now) const;
  connectors::ObjectSpec pc_spec() const;
  connectors::ObjectSpec crm_spec() const;
  // crm_spec plus every field a share reads, related ones too ("Account.Name"): a record about to
  // be shared is read with it.
  connectors::ObjectSpec crm_share_spec() const;

  // Canonical value of a field read from either side; nullopt when a value map has no entry
  // for what the record holds (logged by the caller, never written anywhere).
  std::optional<nlohmann::json> canonical_from_pc(const FieldRule& f, const nlohmann::json& referral) const;
  std::optional<nlohmann::json> canonical_from_crm(const FieldRule& f, const nlohmann::json& record) const;
  // The writes that put a canonical value on each side (empty when no value-map entry flows there).
  std::vector<connectors::FieldChange> pc_changes(const FieldRule& f, const nlohmann::json& canonical) const;
  std::vector<connectors::FieldChange> crm_changes(const FieldRule& f, const nlohmann::json& canonical) const;
  // The canonical value a side reads back after cosync wrote `canonical` to it: differs from it
  // when the write loses something (text cut to the field's length, a PC value that a one-way
  // entry turns into a CRM value shared with another); nullopt when nothing would be written.
  std::optional<nlohmann::json> pc_round_trip(const FieldRule& f, const nlohmann::json& canonical) const;
  std::optional<nlohmann::json> crm_round_trip(const FieldRule& f, const nlohmann::json& canonical) const;

  // The create of a CRM record from `referral`: its fields, the parent account it belongs to
  // (crm.account; resolved by the connector) and the referral's id as the external id.
  connectors::UpsertRequest crm_create_request(const nlohmann::json& referral) const;
  // The plain fields of that create: every field that flows to the CRM, and the create templates.
  std::vector<connectors::FieldChange> crm_fields_for_create(const nlohmann::json& referral) const;
  // The referral a CRM record is shared as: the share block's body plus every mapped field that
  // flows to Partner Center (status fields excepted: a referral starts New; the merge moves it on).
  nlohmann::json pc_share_body(const nlohmann::json& crm_record, const std::string& crm_id) const;
  // What `plan` lists for a create request: its fields, plus the account lookup as one readable
  // line (AccountId: "match Name = 'Contoso' (create if none)").
  std::vector<connectors::FieldChange> crm_create_preview(const connectors::UpsertRequest& request) const;
};

// The first non-empty value at a dotted path, looking into arrays on the way
// ("customerProfile.team.email": the first team member's e-mail); null when there is none.
nlohmann::json first_value_at(const nlohmann::json& record, std::string_view path);

// Fills "{path}" placeholders from the referral ("[MSFT] {customerProfile.name}"); "{path|date}"
// keeps the date of a timestamp ("2026-12-31T00:00:00Z" -> "2026-12-31").
std::string render_template(const std::string& text, const nlohmann::json& referral);

// Fills what m.account leaves to the connector (lookup field, parent object, match fields) from
// the connector's defaults, then refuses a create template or mapped field that also writes the
// lookup field: throws ConfigError naming file, line and key. load_config calls it.
void apply_parent_defaults(Mapping& m, const connectors::ParentDefaults& defaults);

// Reads and validates a mapping file completely; throws ConfigError naming file, line and key.
Mapping load_mapping(const std::string& path);

}  // namespace cosync::mapping
