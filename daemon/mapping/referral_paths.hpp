#pragma once
// The paths a Partner Center referral has, so that a mapping naming one that does not exist
// (`select`, `pc:`, `crm.account.from`, `{...}` in templates) is refused when it is loaded
// instead of silently reading null from every referral. Also the checks of CRM names and of
// template text, which the loader applies to every mapping.
#include <string>
#include <string_view>

namespace cosync::mapping {

// A path of the Referral schema ("customerProfile.address.country"); a path into an array
// ("customerProfile.team.email") names the field of its items, as json_at / first_value_at read it.
bool is_known_referral_path(std::string_view path);

// An object or field name as it may appear in a SOQL query or an OData URL: a letter or '_',
// then letters, digits and '_' (Salesforce API names, Dataverse logical and entity set names).
bool is_crm_identifier(std::string_view name);

// Why a create/account template is not usable ("unclosed '{' at ..."), or empty when it is: every
// `{` is closed, and each `{path}` / `{path|date}` names a known referral path.
std::string template_problem(std::string_view text);

}  // namespace cosync::mapping
