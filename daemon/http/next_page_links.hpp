#pragma once
// Following a paged API's next-page links (@odata.nextLink, nextRecordsUrl) without trusting them.
// The link comes from the remote body: it must not carry our bearer token to another origin, and a
// page that links to itself (or a cycle of pages) must not keep a pull going for ever.
#include <cstddef>
#include <set>
#include <string>
#include <string_view>

#include "daemon/util/expected.hpp"

namespace cosync::http {

class NextPageLinks {
 public:
  // `first_url` is the absolute URL of the pull's first page: links resolve against it (OData
  // links may be relative) and must keep its scheme, host and port. At most `max_pages` pages in
  // all, the first one included.
  NextPageLinks(std::string first_url, std::size_t max_pages);

  // The absolute URL to GET next, or a `fatal` Failure saying why `link` is not followed:
  // not a URL, another origin, a page already read in this pull, or one page too many.
  Expected<std::string> follow(std::string_view link);

  std::size_t pages() const { return visited_.size(); }

 private:
  std::string first_url_;
  std::size_t max_pages_;
  std::set<std::string> visited_;
};

}  // namespace cosync::http
