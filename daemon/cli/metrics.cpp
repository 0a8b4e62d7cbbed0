#include "daemon/cli/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <functional>
#include <sstream>

namespace cosync::app {

std::string prometheus_label_value(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Writes metric families: a # HELP and # TYPE line, then its samples.
class TextWriter {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << "\n";
  }
  void sample(std::string_view name, const Labels& labels, double value) {
    out_ << name;
    for (size_t i = 0; i < labels.size(); ++i)
      out_ << (i == 0 ? "{" : ",") << labels[i].first << "=\"" << prometheus_label_value(labels[i].second) << '"';
    out_ << (labels.empty() ? " " : "} ") << number(value) << "\n";
  }
  std::string text() const { return out_.str(); }

  static std::string number(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (std::isnan(v)) return "NaN";
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, end) : "NaN";
  }

 private:
  std::ostringstream out_;
};

double seconds(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1000.0; }

double unix_seconds(TimePoint t) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count()) /
         1000.0;
}

// "120/15000" (Salesforce's Sforce-Limit-Info api-usage) into used and max; false otherwise.
bool parse_usage(const std::string& text, double& used, double& max) {
  auto slash = text.find('/');
  if (slash == std::string::npos) return false;
  long long u = 0, m = 0;
  auto a = std::from_chars(text.data(), text.data() + slash, u);
  auto b = std::from_chars(text.data() + slash + 1, text.data() + text.size(), m);
  if (a.ec != std::errc() || b.ec != std::errc() || a.ptr != text.data() + slash || b.ptr != text.data() + text.size())
    return false;
  used = static_cast<double>(u);
  max = static_cast<double>(m);
  return true;
}

// HTTP attempts per connection by status class: 429s show as 4xx, an unreachable API as "none".
void write_http_outcomes(TextWriter& w, const std::vector<ConnectionOutcomes>& connections) {
  w.family("cosync_http_responses_total", "counter",
           "HTTP attempts (retries included) per API connection, by status class (none: no response).");
  using Outcomes = http::HttpClient::Outcomes;
  static const std::pair<const char*, std::size_t Outcomes::*> classes[] = {
      {"2xx", &Outcomes::status_2xx}, {"3xx", &Outcomes::status_3xx}, {"4xx", &Outcomes::status_4xx},
      {"5xx", &Outcomes::status_5xx}, {"none", &Outcomes::no_response}};
  for (const auto& c : connections)
    for (const auto& [label, field] : classes)
      w.sample("cosync_http_responses_total", {{"connection", c.connection}, {"connector", c.connector}, {"class", label}},
               static_cast<double>(c.outcomes.*field));
}

}  // namespace

void Metrics::record_cycle(const std::string& mapping, const std::string& crm, const engine::CycleStats& s,
                           TimePoint now) {
  auto& m = mappings_[mapping];
  m.crm = crm;
  auto& t = m.totals;
  t.pulled_pc += s.pulled_pc;
  t.pulled_crm += s.pulled_crm;
  t.created += s.created;
  t.updated_pc += s.updated_pc;
  t.updated_crm += s.updated_crm;
  t.conflicts += s.conflicts;
  t.quarantined += s.quarantined;
  t.orphaned += s.orphaned;
  t.failed += s.failed;
  t.api_calls += s.api_calls;
  double secs = seconds(s.duration);
  for (size_t i = 0; i < kDurationBuckets.size(); ++i)
    if (secs <= kDurationBuckets[i]) {
      ++m.buckets[i];
      break;
    }
  ++m.durations;
  m.duration_sum += secs;
  parse_usage(s.crm_api_usage, m.crm_api_used, m.crm_api_max);
  // A good cycle is one that pulled and wrote without a transient failure; a quarantined record
  // is the API's verdict on that record, not a sick daemon.
  bool ok = s.failed == 0 && !s.pull_failed;
  ++(ok ? m.cycles_ok : m.cycles_failed);
  m.last_cycle = now;
  m.last_ok = ok;
  if (ok) m.last_good = now;
}

void Metrics::record_failed_cycle(const std::string& mapping, TimePoint now) {
  auto& m = mappings_[mapping];
  ++m.cycles_failed;
  m.last_cycle = now;
  m.last_ok = false;
}

std::string Metrics::render(const std::map<std::string, MappingGauges>& gauges, const DaemonGauges& daemon,
                            TimePoint now) const {
  TextWriter w;
  // One counter family per CycleStats field, each labelled by mapping (and side where it has one).
  struct Counter {
    const char* name;
    const char* help;
    const char* side;
    std::size_t engine::CycleStats::*field;
  };
  static const std::vector<std::vector<Counter>> counters = {
      {{"cosync_records_pulled_total", "Records read from a side (changed since its cursor).", "pc",
        &engine::CycleStats::pulled_pc},
       {"", "", "crm", &engine::CycleStats::pulled_crm}},
      {{"cosync_records_created_total", "Records created in the CRM.", nullptr, &engine::CycleStats::created}},
      {{"cosync_records_updated_total", "Records updated on a side.", "pc", &engine::CycleStats::updated_pc},
       {"", "", "crm", &engine::CycleStats::updated_crm}},
      {{"cosync_conflicts_total", "Fields changed on both sides, resolved by the mapping's owner.", nullptr,
        &engine::CycleStats::conflicts}},
      {{"cosync_quarantined_total", "Records an API rejected, quarantined.", nullptr, &engine::CycleStats::quarantined}},
      {{"cosync_orphaned_total", "Links whose record one side answered 404 for.", nullptr,
        &engine::CycleStats::orphaned}},
      {{"cosync_failed_total", "Transient failures of a record, retried next cycle.", nullptr,
        &engine::CycleStats::failed}},
      {{"cosync_api_calls_total", "API calls made by the mapping's cycles (Partner Center and its CRM).", nullptr,
        &engine::CycleStats::api_calls}},
  };
  for (const auto& family : counters) {
    w.family(family[0].name, "counter", family[0].help);
    for (const auto& [name, m] : mappings_)
      for (const auto& c : family) {
        Labels labels = {{"mapping", name}, {"crm", m.crm}};
        if (c.side) labels.emplace_back("side", c.side);
        w.sample(family[0].name, labels, static_cast<double>(m.totals.*c.field));
      }
  }
  w.family("cosync_cycles_total", "counter", "Cycles finished, by result (failed: a transient failure or an error).");
  for (const auto& [name, m] : mappings_) {
    w.sample("cosync_cycles_total", {{"mapping", name}, {"result", "ok"}}, static_cast<double>(m.cycles_ok));
    w.sample("cosync_cycles_total", {{"mapping", name}, {"result", "failed"}}, static_cast<double>(m.cycles_failed));
  }
  w.family("cosync_cycle_duration_seconds", "histogram", "How long a mapping's cycle took.");
  for (const auto& [name, m] : mappings_) {
    std::size_t cumulative = 0;
    for (size_t i = 0; i < kDurationBuckets.size(); ++i) {
      cumulative += m.buckets[i];
      w.sample("cosync_cycle_duration_seconds_bucket", {{"mapping", name}, {"le", TextWriter::number(kDurationBuckets[i])}},
               static_cast<double>(cumulative));
    }
    w.sample("cosync_cycle_duration_seconds_bucket", {{"mapping", name}, {"le", "+Inf"}}, static_cast<double>(m.durations));
    w.sample("cosync_cycle_duration_seconds_sum", {{"mapping", name}}, m.duration_sum);
    w.sample("cosync_cycle_duration_seconds_count", {{"mapping", name}}, static_cast<double>(m.durations));
  }
  w.family("cosync_last_good_cycle_timestamp_seconds", "gauge", "When the mapping's last good cycle finished (Unix time).");
  for (const auto& [name, m] : mappings_)
    if (m.last_good) w.sample("cosync_last_good_cycle_timestamp_seconds", {{"mapping", name}}, unix_seconds(*m.last_good));
  w.family("cosync_seconds_since_last_good_cycle", "gauge", "Seconds since the mapping's last good cycle finished.");
  for (const auto& [name, m] : mappings_)
    if (m.last_good)
      w.sample("cosync_seconds_since_last_good_cycle", {{"mapping", name}}, unix_seconds(now) - unix_seconds(*m.last_good));
  w.family("cosync_crm_api_usage", "gauge", "The CRM's own API allowance report (Salesforce api-usage), by kind.");
  for (const auto& [name, m] : mappings_)
    if (m.crm_api_max >= 0) {
      w.sample("cosync_crm_api_usage", {{"crm", m.crm}, {"mapping", name}, {"kind", "used"}}, m.crm_api_used);
      w.sample("cosync_crm_api_usage", {{"crm", m.crm}, {"mapping", name}, {"kind", "max"}}, m.crm_api_max);
    }
  struct Gauge {
    const char* name;
    const char* help;
    std::size_t MappingGauges::*field;
  };
  for (const Gauge& g : {Gauge{"cosync_links", "Linked record pairs in the state database.", &MappingGauges::links},
                         Gauge{"cosync_orphaned_links", "Links whose record is gone on one side.", &MappingGauges::orphaned},
                         Gauge{"cosync_quarantine_size", "Records in quarantine.", &MappingGauges::quarantined},
                         Gauge{"cosync_held_actions", "Actions a rule holds until a time (e.g. a Won in its hold).",
                               &MappingGauges::held}}) {
    w.family(g.name, "gauge", g.help);
    for (const auto& [name, values] : gauges) w.sample(g.name, {{"mapping", name}}, static_cast<double>(values.*g.field));
  }
  w.family("cosync_pending_creates", "gauge", "Creates sent but not yet confirmed (found again after a restart).");
  w.sample("cosync_pending_creates", {}, static_cast<double>(daemon.pending_creates));
  w.family("cosync_outbox_size", "gauge", "Notifications in the outbox, by state (failed: given up on).");
  w.sample("cosync_outbox_size", {{"state", "pending"}}, static_cast<double>(daemon.outbox_pending));
  w.sample("cosync_outbox_size", {{"state", "failed"}}, static_cast<double>(daemon.outbox_failed));
  w.family("cosync_notifications_total", "counter",
           "Notification delivery attempts by result (failed: retried later; given_up: marked failed).");
  w.sample("cosync_notifications_total", {{"result", "sent"}}, static_cast<double>(daemon.notifications_sent));
  w.sample("cosync_notifications_total", {{"result", "failed"}}, static_cast<double>(daemon.notification_attempts_failed));
  w.sample("cosync_notifications_total", {{"result", "given_up"}}, static_cast<double>(daemon.notifications_given_up));
  if (daemon.refresh_token_age) {
    w.family("cosync_partner_center_refresh_token_age_seconds", "gauge",
             "Seconds since Partner Center's refresh token was stored (it lapses after 90 days unused).");
    w.sample("cosync_partner_center_refresh_token_age_seconds", {}, static_cast<double>(daemon.refresh_token_age->count()));
  }
  write_http_outcomes(w, daemon.connections);
  return w.text();
}

std::map<std::string, MappingGauges> read_gauges(const StateStore& store, const std::vector<std::string>& mappings) {
  // Counted in SQL: a scrape at 100,000 links read every link row into memory.
  std::map<std::string, MappingGauges> gauges;
  for (const auto& name : mappings) {
    auto c = store.counts(name);
    gauges[name] = {c.links, c.orphaned, c.quarantined, c.held};
  }
  return gauges;
}

std::optional<std::chrono::seconds> file_age(const std::string& path, TimePoint now) {
  if (path.empty()) return std::nullopt;
  std::error_code ec;
  auto written = std::filesystem::last_write_time(path, ec);
  if (ec) return std::nullopt;
  auto at = std::chrono::file_clock::to_sys(written);
  return std::chrono::duration_cast<std::chrono::seconds>(now - std::chrono::time_point_cast<TimePoint::duration>(at));
}

bool Metrics::ready(const std::vector<std::string>& mappings, std::chrono::seconds window, TimePoint now,
                    std::string& why_not) const {
  for (const auto& name : mappings) {
    auto it = mappings_.find(name);
    if (it == mappings_.end() || !it->second.last_cycle) {
      why_not = "mapping " + name + " has not finished a cycle yet";
      return false;
    }
    const auto& m = it->second;
    if (!m.last_ok) {
      why_not = "mapping " + name + ": its last cycle failed";
      return false;
    }
    if (now - *m.last_good > window) {
      why_not = "mapping " + name + ": no good cycle for " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - *m.last_good).count()) + " s";
      return false;
    }
  }
  why_not.clear();
  return true;
}

}  // namespace cosync::app
