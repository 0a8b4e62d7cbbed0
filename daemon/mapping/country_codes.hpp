#pragma once
// ISO 3166-1 alpha-2 codes for the country names CRMs hold. Partner Center's customerProfile
// address takes the code ("US"), as Microsoft's own CRM connectors send it; Salesforce and
// Dynamics usually hold the name ("United States") unless state and country picklists are on.
#include <optional>
#include <string>
#include <string_view>

namespace cosync::mapping {

// "US", "us", "United States", "USA", "Deutschland" -> the code; nullopt for what it cannot tell.
std::optional<std::string> iso_country_code(std::string_view name);

}  // namespace cosync::mapping
