#pragma once
// The value conversions of a field's `transform:` (see FieldRule). Each reads remote data, so
// none throws: what is not a date or a number reads as no value (null).
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace cosync::mapping {

// The date of "2026-12-31", "2026-12-31T00:00:00Z", "2026-12-31T10:20:30.1234567+01:00" (the
// date as written, whatever the offset); null for anything else, e.g. "2026-02-30" or 20261231.
nlohmann::json date_of(const nlohmann::json& value);
// "2026-12-31" -> "2026-12-31T00:00:00Z", the form Partner Center's closingDateTime takes.
std::string pc_timestamp_of_date(const std::string& date);

// One JSON number for 120000, 120000.0 and "120000" (integral values as integers, so that
// they compare and print alike); null for text that is not wholly a finite number, and booleans.
nlohmann::json number_of(const nlohmann::json& value);

// The length of text as Salesforce and Dataverse count it: UTF-16 code units.
std::size_t text_length(const std::string& utf8);
// `utf8` cut to at most `limit` UTF-16 code units, never inside a character.
std::string cut_text(const std::string& utf8, std::size_t limit);

}  // namespace cosync::mapping
