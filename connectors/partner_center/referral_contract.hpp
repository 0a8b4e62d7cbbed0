#pragma once
// The Partner Center referral contract as data: which paths a JSON Patch may touch, when a
// referral takes no more writes, and the computed fields cosync adds to every referral it reads.
// Plain functions on JSON, no Asio: mapping code checks a mapping file against them without
// depending on the connector that talks to the API.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "connectors/records.hpp"

namespace cosync::connectors {

// Whether Partner Center accepts a JSON Patch of this dotted path (the published contract's list).
bool is_patchable_referral_path(std::string_view path);
// The same for deal-registration updates ("registrations.0.contract.value", ...).
bool is_patchable_registration_path(std::string_view path);
// Closed (Won, Lost, Declined, Expired): Partner Center takes no write to it (DESIGN invariant 6).
bool is_terminal_referral(const nlohmann::json& referral);
// Why the contract refuses this patch of `referral`: it is closed (terminal, DESIGN invariant 6),
// a path is not patchable, a value is null, or the status moves against the state machine
// (New -> Active -> Closed, each status with its substatuses); nullopt when it accepts it. The
// planner's guard (daemon/rules/referral_state_machine.hpp) asks before planning a write; the
// connector asks again before sending one.
std::optional<std::string> referral_contract_refusal(const nlohmann::json& referral,
                                                     const std::vector<FieldChange>& changes);
// `text` as a JSON string literal (control characters escaped, invalid UTF-8 replaced), for quoting
// remote values in reasons and ids that must stay on one printable line.
std::string quoted_remote_text(std::string_view text);

// Computed fields added to every referral read (classify_referral), for mappings to select on;
// never written back. Here rather than beside classify_referral because mapping code refuses
// writes to them and must not include the connector.
constexpr const char* kKindField = "_kind";
constexpr const char* kDirectionField = "_direction";

}  // namespace cosync::connectors
