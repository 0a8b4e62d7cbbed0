#pragma once
// Web domains compared by the CRM connectors' account lookups (crm.account with match: website):
// an account's website and a referral's URL or e-mail address name the same company when their
// domains are equal.
#include <string>
#include <string_view>

namespace cosync::connectors {

// The web domain in a URL, e-mail address or bare host name, lower case and without "www."
// ("https://www.Contoso.com/about" and "jane@contoso.com" -> "contoso.com"); empty if none.
std::string web_domain(std::string_view text);

}  // namespace cosync::connectors
