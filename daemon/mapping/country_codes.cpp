#include "daemon/mapping/country_codes.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace cosync::mapping {
namespace {

// Lower-case names, sorted for a binary search. Not every country: a name missing here is
// logged and left out of the body (the address is optional), and `countries:` in the share
// block can add a partner's own spellings.
constexpr std::array<std::pair<std::string_view, std::string_view>, 134> kNames = {{
    {"afghanistan", "AF"},
    {"albania", "AL"},
    {"algeria", "DZ"},
    {"america", "US"},
    {"argentina", "AR"},
    {"armenia", "AM"},
    {"australia", "AU"},
    {"austria", "AT"},
    {"azerbaijan", "AZ"},
    {"bahrain", "BH"},
    {"bangladesh", "BD"},
    {"belarus", "BY"},
    {"belgique", "BE"},
    {"belgium", "BE"},
    {"belgië", "BE"},
    {"bolivia", "BO"},
    {"bosnia and herzegovina", "BA"},
    {"brasil", "BR"},
    {"brazil", "BR"},
    {"bulgaria", "BG"},
    {"cambodia", "KH"},
    {"cameroon", "CM"},
    {"canada", "CA"},
    {"chile", "CL"},
    {"china", "CN"},
    {"colombia", "CO"},
    {"costa rica", "CR"},
    {"croatia", "HR"},
    {"cyprus", "CY"},
    {"czech republic", "CZ"},
    {"czechia", "CZ"},
    {"danmark", "DK"},
    {"denmark", "DK"},
    {"deutschland", "DE"},
    {"dominican republic", "DO"},
    {"ecuador", "EC"},
    {"egypt", "EG"},
    {"el salvador", "SV"},
    {"england", "GB"},
    {"españa", "ES"},
    {"estonia", "EE"},
    {"finland", "FI"},
    {"france", "FR"},
    {"georgia", "GE"},
    {"germany", "DE"},
    {"ghana", "GH"},
    {"great britain", "GB"},
    {"greece", "GR"},
    {"guatemala", "GT"},
    {"holland", "NL"},
    {"honduras", "HN"},
    {"hong kong", "HK"},
    {"hungary", "HU"},
    {"iceland", "IS"},
    {"india", "IN"},
    {"indonesia", "ID"},
    {"ireland", "IE"},
    {"israel", "IL"},
    {"italia", "IT"},
    {"italy", "IT"},
    {"jamaica", "JM"},
    {"japan", "JP"},
    {"jordan", "JO"},
    {"kazakhstan", "KZ"},
    {"kenya", "KE"},
    {"korea", "KR"},
    {"kuwait", "KW"},
    {"latvia", "LV"},
    {"lebanon", "LB"},
    {"lithuania", "LT"},
    {"luxembourg", "LU"},
    {"malaysia", "MY"},
    {"malta", "MT"},
    {"mexico", "MX"},
    {"morocco", "MA"},
    {"méxico", "MX"},
    {"nederland", "NL"},
    {"netherlands", "NL"},
    {"new zealand", "NZ"},
    {"nigeria", "NG"},
    {"norge", "NO"},
    {"northern ireland", "GB"},
    {"norway", "NO"},
    {"oman", "OM"},
    {"pakistan", "PK"},
    {"panama", "PA"},
    {"people's republic of china", "CN"},
    {"peru", "PE"},
    {"philippines", "PH"},
    {"poland", "PL"},
    {"polska", "PL"},
    {"portugal", "PT"},
    {"puerto rico", "PR"},
    {"qatar", "QA"},
    {"republic of korea", "KR"},
    {"romania", "RO"},
    {"saudi arabia", "SA"},
    {"schweiz", "CH"},
    {"scotland", "GB"},
    {"serbia", "RS"},
    {"singapore", "SG"},
    {"slovakia", "SK"},
    {"slovenia", "SI"},
    {"south africa", "ZA"},
    {"south korea", "KR"},
    {"spain", "ES"},
    {"sri lanka", "LK"},
    {"suisse", "CH"},
    {"suomi", "FI"},
    {"sverige", "SE"},
    {"sweden", "SE"},
    {"switzerland", "CH"},
    {"taiwan", "TW"},
    {"thailand", "TH"},
    {"the netherlands", "NL"},
    {"tunisia", "TN"},
    {"turkey", "TR"},
    {"türkiye", "TR"},
    {"u.s.", "US"},
    {"u.s.a.", "US"},
    {"uae", "AE"},
    {"uk", "GB"},
    {"ukraine", "UA"},
    {"united arab emirates", "AE"},
    {"united kingdom", "GB"},
    {"united states", "US"},
    {"united states of america", "US"},
    {"uruguay", "UY"},
    {"usa", "US"},
    {"venezuela", "VE"},
    {"viet nam", "VN"},
    {"vietnam", "VN"},
    {"wales", "GB"},
    {"Österreich", "AT"},
}};

std::string lower_trimmed(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::string out(text);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

std::optional<std::string> iso_country_code(std::string_view name) {
  std::string key = lower_trimmed(name);
  auto letter = [](char c) { return c >= 'a' && c <= 'z'; };
  if (key.size() == 2 && letter(key[0]) && letter(key[1])) {
    for (auto& c : key) c = static_cast<char>(c - 'a' + 'A');
    return key;
  }
  auto it = std::lower_bound(kNames.begin(), kNames.end(), key,
                             [](const auto& entry, const std::string& k) { return entry.first < k; });
  if (it == kNames.end() || it->first != key) return std::nullopt;
  return std::string(it->second);
}

}  // namespace cosync::mapping
