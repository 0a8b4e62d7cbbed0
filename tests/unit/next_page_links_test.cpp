#include <catch2/catch.hpp>

#include "daemon/http/next_page_links.hpp"

using cosync::http::NextPageLinks;

TEST_CASE("next page links: relative and same-origin absolute links are followed") {
  NextPageLinks links("https://api.partner.microsoft.com/v1.0/engagements/referrals?$filter=x", 10);
  auto rel = links.follow("referrals?$skipToken=abc");
  REQUIRE(rel);
  CHECK(*rel == "https://api.partner.microsoft.com/v1.0/engagements/referrals?$skipToken=abc");
  auto abs = links.follow("HTTPS://API.partner.microsoft.com:443/v1.0/engagements/referrals?$skipToken=def");
  REQUIRE(abs);
  CHECK(links.pages() == 3);
}

TEST_CASE("next page links: another host, scheme or port is refused, and says so") {
  NextPageLinks links("https://org.crm.dynamics.com/api/data/v9.2/leads", 10);
  auto other_host = links.follow("https://evil.example/api/data/v9.2/leads?page=2");
  REQUIRE_FALSE(other_host);
  CHECK(other_host.failure().message.find("another host") != std::string::npos);
  CHECK_FALSE(links.follow("http://org.crm.dynamics.com/api/data/v9.2/leads?page=2"));
  CHECK_FALSE(links.follow("https://org.crm.dynamics.com:8443/api/data/v9.2/leads?page=2"));
  CHECK_FALSE(links.follow("//evil.example/x"));
  CHECK_FALSE(links.follow("not a url at all"));
}

TEST_CASE("next page links: a page linking to itself, a cycle, and too many pages stop the pull") {
  NextPageLinks self("http://127.0.0.1:8080/q?page=1", 100);
  CHECK_FALSE(self.follow("/q?page=1"));

  NextPageLinks cycle("http://127.0.0.1:8080/q?page=1", 100);
  REQUIRE(cycle.follow("/q?page=2"));
  auto back = cycle.follow("/q?page=1");
  REQUIRE_FALSE(back);
  CHECK(back.failure().message.find("repeats") != std::string::npos);

  NextPageLinks bounded("http://127.0.0.1:8080/q?page=0", 3);
  REQUIRE(bounded.follow("/q?page=1"));
  REQUIRE(bounded.follow("/q?page=2"));
  auto fourth = bounded.follow("/q?page=3");
  REQUIRE_FALSE(fourth);
  CHECK(fourth.failure().message.find("more than 3 pages") != std::string::npos);
}
