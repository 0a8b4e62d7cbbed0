#include "daemon/http/next_page_links.hpp"

#include <cctype>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace cosync::http {
namespace {

Failure refused(std::string why) { return Failure{FailureKind::fatal, std::move(why), 0, {}}; }

// Scheme and host compare case-insensitively (RFC 3986 6.2.2.1); the port with its default filled in.
std::string origin_of(const boost::urls::url_view& u) {
  std::string scheme(u.scheme()), host(u.encoded_host());
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string port(u.port());
  if (port.empty()) port = scheme == "https" ? "443" : scheme == "http" ? "80" : "";
  return scheme + "://" + host + ":" + port;
}

}  // namespace

NextPageLinks::NextPageLinks(std::string first_url, std::size_t max_pages)
    : first_url_(std::move(first_url)), max_pages_(max_pages) {
  visited_.insert(first_url_);
}

Expected<std::string> NextPageLinks::follow(std::string_view link) {
  auto base = boost::urls::parse_uri(first_url_);
  auto ref = boost::urls::parse_uri_reference(link);
  if (!base || !ref) return refused("the next-page link is not a URL");
  boost::urls::url resolved;
  if (!boost::urls::resolve(*base, *ref, resolved)) return refused("the next-page link cannot be resolved");
  if (origin_of(resolved) != origin_of(*base))
    return refused("the next-page link points to another host (" + origin_of(resolved) + "); not followed");
  std::string url(resolved.buffer());
  if (visited_.size() >= max_pages_)
    return refused("more than " + std::to_string(max_pages_) + " pages in one pull; stopped");
  if (!visited_.insert(url).second) return refused("the next-page link repeats a page already read in this pull");
  return url;
}

}  // namespace cosync::http
