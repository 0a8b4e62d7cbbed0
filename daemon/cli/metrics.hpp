#pragma once
// What cosyncd exports on /metrics: per-mapping counters summed from each cycle's CycleStats, a
// cycle-duration histogram, and gauges read from the state database at scrape time, written in
// the Prometheus text exposition format (version 0.0.4). Also the /readyz verdict. Lives on the
// daemon's io_context thread: no locks.
#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/engine/cycle_plan.hpp"
#include "daemon/http/http_client.hpp"
#include "daemon/store/state_store.hpp"
#include "daemon/util/clock.hpp"

namespace cosync::app {

// State-database gauges of one mapping, read when scraped.
struct MappingGauges {
  std::size_t links = 0;
  std::size_t orphaned = 0;
  std::size_t quarantined = 0;
  std::size_t held = 0;  // actions a rule holds until a time (a Won in its 72-hour hold, a consent)
};

// One API connection's HTTP outcomes (HttpClient::outcomes), for errors by connector and class.
struct ConnectionOutcomes {
  std::string connection;  // "partner_center" or the CRM connection's name
  std::string connector;   // Connector::system()
  http::HttpClient::Outcomes outcomes;
};

// Gauges of the whole daemon, read when scraped.
struct DaemonGauges {
  std::size_t pending_creates = 0;
  std::size_t outbox_pending = 0;  // notifications waiting to be sent (or retried)
  std::size_t outbox_failed = 0;   // notifications given up on (`cosyncd notifications retry`)
  // Delivery outcomes since the process started (notify::Sender::counts).
  std::size_t notifications_sent = 0, notification_attempts_failed = 0, notifications_given_up = 0;
  // Age of Partner Center's refresh token (its file's last write): it lapses after 90 days unused.
  std::optional<std::chrono::seconds> refresh_token_age;
  std::vector<ConnectionOutcomes> connections;
};

class Metrics {
 public:
  // Upper bounds of the cycle-duration histogram, in seconds (+Inf is implied).
  static constexpr std::array<double, 10> kDurationBuckets = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

  // One finished cycle of `mapping` (whose CRM is the connection `crm`).
  void record_cycle(const std::string& mapping, const std::string& crm, const engine::CycleStats& stats,
                    TimePoint now);
  // A cycle that did not run or threw: counted as failed, not as good.
  void record_failed_cycle(const std::string& mapping, TimePoint now);

  // The exposition text. `gauges` per mapping of the running configuration.
  std::string render(const std::map<std::string, MappingGauges>& gauges, const DaemonGauges& daemon,
                     TimePoint now) const;
  // /readyz: every mapping's last cycle succeeded, within `window` of now.
  bool ready(const std::vector<std::string>& mappings, std::chrono::seconds window, TimePoint now,
             std::string& why_not) const;

 private:
  struct PerMapping {
    std::string crm;
    engine::CycleStats totals;  // counters summed over the cycles
    std::size_t cycles_ok = 0, cycles_failed = 0;
    std::array<std::size_t, kDurationBuckets.size()> buckets{};  // not cumulative
    std::size_t durations = 0;
    double duration_sum = 0;
    std::optional<TimePoint> last_cycle, last_good;
    bool last_ok = false;
    double crm_api_used = -1, crm_api_max = -1;  // the CRM's own allowance report, when it gives one
  };
  std::map<std::string, PerMapping> mappings_;
};

// The gauges of `mappings` as the state database has them now.
std::map<std::string, MappingGauges> read_gauges(const StateStore& store, const std::vector<std::string>& mappings);

// How long ago `path` was last written; nullopt when it cannot be read (or `path` is empty).
std::optional<std::chrono::seconds> file_age(const std::string& path, TimePoint now);

// Escapes a label value for the text format: backslash, double quote and newline.
std::string prometheus_label_value(std::string_view value);

}  // namespace cosync::app
