// Times quarantining 100,000 malformed referrals, the way a cycle does it (issue 17 item 9: it
// took 13 s because every quarantine call rescanned the table).
//
// One Partner Center pull returns N malformed referrals with distinct ids; SyncEngine::run_cycle
// quarantines each. Run 1 inserts N entries, run 2 counts a second attempt on each. A fresh state
// database in a temporary directory each time, logs discarded, so runs compare between commits:
//   build/bench/quarantine_bench [N]
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <stdexcept>

#include "daemon/engine/sync_engine.hpp"
#include "daemon/rules/standard_rules.hpp"

namespace {

using namespace cosync;
namespace net = boost::asio;

// A connector whose every pull answers the same malformed records; nothing else is called.
class MalformedSource final : public connectors::Connector {
 public:
  MalformedSource(const char* system, std::size_t count) : system_(system) {
    for (std::size_t i = 0; i < count; ++i)
      malformed_.push_back({"referral-" + std::to_string(i), "referral has no eTag"});
  }
  const char* system() const override { return system_; }
  net::awaitable<Expected<std::string>> pull_pages(const connectors::ObjectSpec&, const std::string&,
                                                   const connectors::PageSink& sink) override {
    connectors::PullPage page{{}, malformed_};  // one page of them, as a pull streams it
    bool more = co_await sink(page);             // named first (GCC 12)
    (void)more;
    co_return std::string();
  }
  net::awaitable<Expected<connectors::RemoteRecord>> get(const connectors::ObjectSpec&, const std::string&) override {
    co_return unused();
  }
  net::awaitable<Expected<connectors::RemoteRecord>> update(const connectors::ObjectSpec&,
                                                            const connectors::RemoteRecord&,
                                                            const std::vector<connectors::FieldChange>&) override {
    co_return unused();
  }
  net::awaitable<Expected<connectors::RemoteRecord>> upsert(const connectors::ObjectSpec&, const std::string&,
                                                            const std::vector<connectors::FieldChange>&) override {
    co_return unused();
  }
  std::size_t api_calls() const override { return 0; }

 private:
  static Failure unused() { return {FailureKind::fatal, "not used by the bench", 0, ""}; }
  const char* system_;
  std::vector<connectors::MalformedRecord> malformed_;
};

engine::CycleStats run_cycle(engine::SyncEngine& engine) {
  net::io_context io;
  std::atomic<bool> stop{false};
  engine::CycleStats stats;
  std::exception_ptr error;
  net::co_spawn(io, engine.run_cycle(stop), [&](std::exception_ptr e, engine::CycleStats s) {
    error = e;
    stats = s;
  });
  io.run();
  if (error) std::rethrow_exception(error);
  return stats;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  auto dir = std::filesystem::temp_directory_path() / ("cosync-bench-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  int status = 0;
  try {
    mapping::Mapping mapping;
    mapping.name = "bench";
    mapping.crm_object = "Lead";
    mapping.crm_link_field = "PartnerCenterReferralId__c";
    MalformedSource pc("Partner Center", count);
    MalformedSource crm("CRM", 0);
    StateStore store((dir / "state.db").string());
    SystemClock clock;
    engine::SyncEngine engine(mapping, pc, crm, store, clock, null_logger(), rules::standard_rules(mapping));
    for (int run = 1; run <= 2; ++run) {
      auto started = std::chrono::steady_clock::now();
      auto stats = run_cycle(engine);
      auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      if (stats.quarantined != count) throw std::runtime_error("quarantined " + std::to_string(stats.quarantined));
      std::cout << "quarantine_bench: run " << run << (run == 1 ? " (new entries)" : " (second attempt)") << ": "
                << count << " malformed records quarantined in " << static_cast<long long>(ms) << " ms ("
                << (count ? ms * 1000 / static_cast<double>(count) : 0) << " us each)" << std::endl;
    }
  } catch (const std::exception& e) {
    std::cerr << "quarantine_bench: " << e.what() << std::endl;
    status = 1;
  }
  std::filesystem::remove_all(dir);
  return status;
}
