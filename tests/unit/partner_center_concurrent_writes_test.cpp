// Partner Center has no batch write: update_many sends its PATCHes concurrently, up to the HTTP
// client's per-host limit, each with its own If-Match, and answers in request order.
#include <catch2/catch.hpp>
#include <chrono>
#include <set>

#include "tests/unit/connector_fixture.hpp"

using namespace cosync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct PcConcurrentWrites : testing::ConnectorFixture {
  connectors::PartnerCenterConnector pc{client, tokens, options(), captured.log};
  connectors::ObjectSpec spec{"referrals", {}, "externalReferenceId"};

  connectors::PartnerCenterOptions options() {
    connectors::PartnerCenterOptions o;
    o.base_url = pc_fake.base_url();
    o.clock = &clock;
    return o;
  }

  // `n` referrals read back, each with a note to patch.
  std::vector<connectors::UpdateRequest> patches(int n) {
    std::vector<connectors::UpdateRequest> out;
    for (int i = 0; i < n; ++i) {
      auto current = run(pc.get(spec, pc_fake.add_referral({})));
      REQUIRE(current.ok());
      out.push_back({*current, {{"details.notes", "note " + std::to_string(i)}}});
    }
    return out;
  }
};

}  // namespace

TEST_CASE_METHOD(PcConcurrentWrites, "partner center: update_many sends up to the per-host limit at once, results in order",
                 "[partner_center]") {
  const int n = 8;
  const auto round_trip = 250ms;
  const std::size_t limit = client.max_in_flight_per_host();
  REQUIRE(limit == 4);
  auto requests = patches(n);
  pc_fake.server().clear_requests();
  pc_fake.server().delay_next(n, static_cast<int>(round_trip.count()));

  auto started = std::chrono::steady_clock::now();
  auto results = run(pc.update_many(spec, requests));
  auto elapsed = std::chrono::steady_clock::now() - started;

  // n / limit round trips: never fewer (the limit holds), far from the n of one after another.
  INFO("elapsed ms: " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
  CHECK(elapsed >= round_trip * (n / static_cast<int>(limit)));
  CHECK(elapsed < round_trip * (n - 2));
  REQUIRE(results.size() == requests.size());
  std::set<std::string> if_matches;
  for (const auto& patch : pc_fake.server().requests("PATCH")) if_matches.insert(patch.header("If-Match"));
  for (std::size_t i = 0; i < results.size(); ++i) {
    INFO(i << ": " << testing::describe(results[i]));
    REQUIRE(results[i].ok());
    CHECK(results[i]->id == requests[i].current.id);
    CHECK(results[i]->fields["details"]["notes"] == "note " + std::to_string(i));
    CHECK(if_matches.count(requests[i].current.version) == 1);  // each with its own precondition
  }
  CHECK(pc_fake.server().count("PATCH") == static_cast<std::size_t>(n));
}

TEST_CASE_METHOD(PcConcurrentWrites, "partner center: a 412 on one concurrent patch leaves the others written",
                 "[partner_center]") {
  auto requests = patches(6);
  const std::string& moved = requests[2].current.id;
  pc_fake.interfere_before_next_write(moved, [](json& r) { r["details"]["notes"] = "a seller's edit"; });
  pc_fake.server().delay_next(6, 50);

  auto results = run(pc.update_many(spec, requests));

  REQUIRE(results.size() == requests.size());
  for (std::size_t i = 0; i < results.size(); ++i) {
    INFO(i << ": " << testing::describe(results[i]));
    if (i == 2) {
      REQUIRE_FALSE(results[i].ok());
      CHECK(results[i].failure().kind == FailureKind::conflict);
      CHECK(pc_fake.referral(moved)["details"]["notes"] == "a seller's edit");
    } else {
      REQUIRE(results[i].ok());
      CHECK(results[i]->id == requests[i].current.id);
      CHECK(pc_fake.referral(requests[i].current.id)["details"]["notes"] == "note " + std::to_string(i));
    }
  }
}

TEST_CASE_METHOD(PcConcurrentWrites, "partner center: update_many of nothing sends nothing", "[partner_center]") {
  pc_fake.server().clear_requests();
  auto results = run(pc.update_many(spec, {}));
  CHECK(results.empty());
  CHECK(pc_fake.server().requests().empty());
}
