// Change-to-mirror latency (issue 18): `cosyncd run` at a poll interval against the fakes, with
// changes made on one side at random times, and the time until each shows on the other side.
//   build/bench/latency_bench --poll-s 5 [--changes 30] [--window-s 180] [--rtt-ms 20] [--in-flight 4]
// Seeds `changes` Microsoft leads and waits until the daemon has linked them all; then, at
// `changes` random times within the window, changes one pair (each pair once, alternating the
// direction): Partner Center's deal value (-> the Lead's AnnualRevenue) or the Lead's Description
// (-> the referral's notes), as a seller would in either UI. The fakes' state is polled in-process
// every 20 ms. Prints one JSON object with each direction's latencies, p50 and p95.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_setup.hpp"
#include "tests/e2e/e2e_helpers.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using cosync::bench::BenchSetup;

struct Change {
  Clock::duration at;  // from the window's start
  bool to_crm;         // made in Partner Center, mirrored to the CRM
  std::string referral, lead;
  std::string value;   // what the other side must show
  Clock::time_point made{};
  double latency_s = -1;
};

int arg_int(int argc, char** argv, const std::string& name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return std::atoi(argv[i + 1]);
  return fallback;
}

// `changes` random times within the window, in order, one pair each, directions alternating.
std::vector<Change> plan(const std::vector<std::pair<std::string, std::string>>& pairs, int window_s, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<long> at_ms(0, window_s * 1000L);
  std::vector<Clock::duration> times;
  for (std::size_t i = 0; i < pairs.size(); ++i) times.push_back(std::chrono::milliseconds(at_ms(random)));
  std::sort(times.begin(), times.end());
  std::vector<Change> out;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    bool to_crm = i % 2 == 0;
    std::string value = to_crm ? std::to_string(500000 + i) : "changed in the CRM #" + std::to_string(i);
    out.push_back(Change{times[i], to_crm, pairs[i].first, pairs[i].second, value});
  }
  return out;
}

void make(BenchSetup& b, Change& c) {
  if (c.to_crm)
    b.pc.edit(c.referral, [&](nlohmann::json& r) { r["details"]["dealValue"] = std::stod(c.value); });
  else
    b.h.sf().edit("Lead", c.lead, {{"Description", c.value}});
  c.made = Clock::now();
}

bool mirrored(BenchSetup& b, const Change& c) {
  if (c.to_crm) {
    auto lead = b.h.sf().record("Lead", c.lead);
    return lead.is_object() && lead.value("AnnualRevenue", nlohmann::json()).is_number() &&
           lead["AnnualRevenue"].get<double>() == std::stod(c.value);
  }
  auto referral = b.pc.referral(c.referral);
  return referral.is_object() && referral["details"].value("notes", "") == c.value;
}

// Makes each change at its time and records when the other side shows it; waits at most
// `tail` after the last change.
void run_changes(BenchSetup& b, std::vector<Change>& changes, Clock::duration tail) {
  auto start = Clock::now();
  std::size_t next = 0;
  for (;;) {
    auto now = Clock::now();
    while (next < changes.size() && now - start >= changes[next].at) make(b, changes[next++]);
    bool pending = next < changes.size();
    for (std::size_t i = 0; i < next; ++i) {
      if (changes[i].latency_s >= 0) continue;
      if (mirrored(b, changes[i]))
        changes[i].latency_s = std::chrono::duration<double>(Clock::now() - changes[i].made).count();
      else
        pending = true;
    }
    if (!pending || (next == changes.size() && now - changes.back().made > tail)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(rank, v.size() - 1)];
}

nlohmann::json direction(const std::vector<Change>& changes, bool to_crm) {
  std::vector<double> seen;
  int missed = 0;
  for (const auto& c : changes)
    if (c.to_crm == to_crm) {
      if (c.latency_s >= 0) seen.push_back(c.latency_s);
      else ++missed;
    }
  return {{"latencies_s", seen}, {"p50_s", percentile(seen, 0.5)}, {"p95_s", percentile(seen, 0.95)},
          {"max_s", seen.empty() ? -1 : *std::max_element(seen.begin(), seen.end())}, {"missed", missed}};
}

}  // namespace

int main(int argc, char** argv) {
  const int poll_s = arg_int(argc, argv, "--poll-s", 5);
  const int count = arg_int(argc, argv, "--changes", 30);
  const int window_s = arg_int(argc, argv, "--window-s", 180);
  const int rtt_ms = arg_int(argc, argv, "--rtt-ms", 20);
  const int in_flight = arg_int(argc, argv, "--in-flight", 4);
  try {
    // The default overlap (300 s), as in production.
    BenchSetup b(in_flight, 300, "poll_interval: " + std::to_string(poll_s) + "s\n");
    std::vector<std::string> referrals;
    for (int i = 0; i < count; ++i)
      referrals.push_back(b.pc.add_referral(cosync::bench::incoming_lead("Latency " + std::to_string(i), 1000 + i)));
    b.inject_rtt(rtt_ms);
    auto daemon = b.h.start_daemon();
    std::vector<std::pair<std::string, std::string>> pairs;
    bool linked = cosync::testing::wait_until(
        [&] {
          pairs.clear();
          for (const auto& r : referrals)
            if (auto lead = b.h.crm_id_for(r); !lead.empty() && !b.pc.referral(r).value("externalReferenceId", "").empty())
              pairs.emplace_back(r, lead);
          return pairs.size() == referrals.size();
        },
        std::chrono::seconds(10 * poll_s + 60));
    if (!linked) throw std::runtime_error("the daemon did not link the seeded leads; its log: " + b.h.dir.file("daemon.log"));
    std::this_thread::sleep_for(std::chrono::seconds(poll_s));  // past the cycle that linked them
    auto changes = plan(pairs, window_s, static_cast<unsigned>(poll_s) * 7919u);
    run_changes(b, changes, std::chrono::seconds(3 * poll_s + 30));
    daemon->signal(SIGTERM);
    daemon->wait_exit(std::chrono::seconds(30));
    nlohmann::json out = {{"poll_s", poll_s},        {"changes", count},
                          {"window_s", window_s},    {"rtt_ms", rtt_ms},
                          {"in_flight", in_flight},  {"pc_to_crm", direction(changes, true)},
                          {"crm_to_pc", direction(changes, false)}};
    std::cout << out.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "latency_bench: " << e.what() << "\n";
    return 2;
  }
}
