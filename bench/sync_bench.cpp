// A bulk sync and the quiet cycle after it, timed against the project's fakes with a round-trip
// time injected on every request (issue 18): N new Microsoft leads into an empty Salesforce by
// one `cosyncd once`, then the cycle after it (which reads back the bulk's own write-backs), then,
// once those have left the overlap window, a quiet cycle with nothing new. Prints one JSON object.
//   build/bench/sync_bench --records N [--rtt-ms 20] [--in-flight 4]
// The daemon's CPU, peak RSS and bytes written to disk come from wait4(); the fakes run in this
// process, and their share of the CPU both used during the cycle shows whether they were the
// bottleneck. bench/run.sh runs it for several N and prints the table.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <filesystem>

#include "bench/bench_setup.hpp"
#include "tests/e2e/e2e_helpers.hpp"

namespace {

using cosync::bench::BenchSetup;
using cosync::testing::E2eHarness;
using Clock = std::chrono::steady_clock;
constexpr int kOverlapSeconds = 5;  // the connectors' pull overlap in this bench (default 300)
extern "C" char** environ;

struct Usage {
  double wall_s = 0;
  double cpu_s = 0;         // user + system of the daemon
  double peak_rss_mib = 0;  // its maximum resident set
  double fakes_cpu_s = 0;   // this process (the fakes) meanwhile
  double disk_write_bytes = 0;  // what the daemon wrote to files (ru_oublock: 512-byte units)
  int exit_status = -1;
};

double seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }

double self_cpu() {
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  return seconds(self.ru_utime) + seconds(self.ru_stime);
}

// The peak resident set of a running process (VmHWM of /proc/PID/status, KiB); 0 once it exited.
long vm_hwm_kib(pid_t pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (!f) return 0;
  long kib = 0;
  char line[256];
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
  std::fclose(f);
  return kib;
}

// Runs `argv` with its output to `log`, and measures it.
Usage measure(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  Usage u;
  double cpu_before = self_cpu();
  auto start = Clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0)
    throw std::runtime_error("cannot start " + argv[0]);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  rusage child{};
  // Not ru_maxrss: posix_spawn runs the child in this process's memory until its exec (CLONE_VM),
  // and exec folds that memory's high-water mark (the fakes holding every record) into the
  // child's, so a quiet cycle at 10,000 read as 160 MiB. The child's own VmHWM is read while it runs.
  long hwm_kib = 0;
  for (pid_t done = 0; done != pid; std::this_thread::sleep_for(std::chrono::milliseconds(2))) {
    hwm_kib = std::max(hwm_kib, vm_hwm_kib(pid));
    done = wait4(pid, &status, WNOHANG, &child);
    if (done < 0) throw std::runtime_error("wait4 failed");
  }
  u.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  u.fakes_cpu_s = self_cpu() - cpu_before;
  u.cpu_s = seconds(child.ru_utime) + seconds(child.ru_stime);
  u.peak_rss_mib = static_cast<double>(hwm_kib) / 1024.0;
  u.disk_write_bytes = static_cast<double>(child.ru_oublock) * 512.0;
  u.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return u;
}

struct Calls {
  std::size_t pc = 0, crm = 0, token = 0, writes = 0;
};

Calls calls(E2eHarness& h, cosync::fakes::FakePartnerCenter& pc) {
  Calls c;
  c.pc = pc.server().requests().size();
  c.crm = h.sf().server().requests().size();
  c.token = h.tokens.server().requests().size();
  c.writes = h.crm_write_calls();
  for (const auto& r : pc.server().requests()) c.writes += r.method != "GET";
  return c;
}

void clear(E2eHarness& h, cosync::fakes::FakePartnerCenter& pc) {
  h.clear_requests();
  pc.server().clear_requests();
  h.tokens.server().clear_requests();
}

// Link rows written (inserted or updated) at or after `since` (the store's own UTC clock format).
long long links_written_since(const std::string& db_path, const std::string& since) {
  sqlite3* db = nullptr;
  long long n = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM links WHERE updated_at >= ?", -1, &s, nullptr) == SQLITE_OK) {
      sqlite3_bind_text(s, 1, since.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return n;
}

std::string utc_now() {
  char text[96];
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(ms));
  return text;
}

nlohmann::json usage_json(const Usage& u) {
  return {{"wall_s", u.wall_s},         {"daemon_cpu_s", u.cpu_s},         {"peak_rss_mib", u.peak_rss_mib},
          {"fakes_cpu_s", u.fakes_cpu_s}, {"exit_status", u.exit_status}, {"disk_write_bytes", u.disk_write_bytes}};
}

int arg_int(int argc, char** argv, const std::string& name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return std::atoi(argv[i + 1]);
  return fallback;
}

// Bytes of the state database and its WAL now.
double state_bytes(const E2eHarness& h) {
  double total = 0;
  for (auto name : {"state/state.db", "state/state.db-wal"}) {
    std::error_code ec;
    auto size = std::filesystem::file_size(h.dir.file(name), ec);
    if (!ec) total += static_cast<double>(size);
  }
  return total;
}

struct Cycles {
  Usage bulk, echo, quiet, sweep;
  Calls bulk_calls, echo_calls, quiet_calls, sweep_calls;
  std::size_t crm_records = 0;
  long long quiet_links = 0;
  double state_bytes = 0;
};

// The bulk, the echo cycle once the bulk's write-backs left the overlap, and a quiet cycle.
Cycles run_cycles(BenchSetup& b) {
  E2eHarness& h = b.h;
  const std::vector<std::string> once = {b.cosyncd(), "once", "--config", h.config_path()};
  // COSYNC_BENCH_PERF=FILE: the bulk runs under `perf record -g` into FILE (its CPU and RSS
  // figures are then perf's too: a profile, not a measurement). COSYNC_BENCH_PERF_FREQ: samples
  // per second (default 499; a 1,000 bulk gives a few hundred at that).
  std::vector<std::string> bulk_argv = once;
  const char* perf_freq = std::getenv("COSYNC_BENCH_PERF_FREQ");
  if (const char* perf_out = std::getenv("COSYNC_BENCH_PERF"))
    bulk_argv.insert(bulk_argv.begin(), {"/usr/bin/perf", "record", "-F", perf_freq ? perf_freq : "499", "--call-graph",
                                         "dwarf,16384", "-o", perf_out, "--"});
  Cycles c;
  clear(h, b.pc);
  c.bulk = measure(bulk_argv, h.dir.file("bulk.log"));
  c.bulk_calls = calls(h, b.pc);
  c.crm_records = h.crm_records().size();
  c.state_bytes = state_bytes(h);

  // The next cycle reads back what the bulk wrote (all of it changed after the bulk's pull);
  // it runs once that is older than the overlap, so that the cycle after it is a quiet one with
  // nothing new within the overlap of its pull's time. (With the default 300 s overlap, cycles
  // re-read the bulk's write-backs for 5 minutes.)
  std::this_thread::sleep_for(std::chrono::seconds(kOverlapSeconds + 1));
  clear(h, b.pc);
  c.echo = measure(once, h.dir.file("echo.log"));
  c.echo_calls = calls(h, b.pc);

  clear(h, b.pc);
  std::string quiet_start = utc_now();
  c.quiet = measure(once, h.dir.file("quiet.log"));
  c.quiet_calls = calls(h, b.pc);
  c.quiet_links = links_written_since(h.dir.file("state/state.db"), quiet_start);

  // A full sweep (issue 18 part 4: within 64 MiB at 100,000 links): every referral read again,
  // page by page; forced by a 1 s full_sweep for this run (the default is daily).
  cosync::testing::replace_in_file(h.config_path(), "base_url: " + b.pc.base_url(),
                           "base_url: " + b.pc.base_url() + "\n  full_sweep: 1s");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  clear(h, b.pc);
  c.sweep = measure(once, h.dir.file("sweep.log"));
  c.sweep_calls = calls(h, b.pc);
  return c;
}

nlohmann::json report(const Cycles& c, int records, int rtt_ms, int in_flight) {
  // What the API allows at best: each connector's calls, `in_flight` at a time, one RTT each
  // (the token endpoint counted with Partner Center, whose client waits for it).
  double rtt = rtt_ms / 1000.0;
  double pc_bound_s = static_cast<double>(c.bulk_calls.pc + c.bulk_calls.token) / in_flight * rtt;
  double crm_bound_s = static_cast<double>(c.bulk_calls.crm) / in_flight * rtt;
  double api_bound_s = pc_bound_s + crm_bound_s;
  double n = records > 0 ? records : 1;
  double all_cpu = c.bulk.fakes_cpu_s + c.bulk.cpu_s;
  return {
      {"records", records},
      {"rtt_ms", rtt_ms},
      {"in_flight", in_flight},
      {"crm_records_after", c.crm_records},
      {"bulk", usage_json(c.bulk)},
      {"bulk_api_bound_s", api_bound_s},
      {"bulk_api_bound_pc_s", pc_bound_s},
      {"bulk_api_bound_crm_s", crm_bound_s},
      {"bulk_ratio", api_bound_s > 0 ? c.bulk.wall_s / api_bound_s : 0.0},
      {"bulk_calls", {{"partner_center", c.bulk_calls.pc}, {"crm", c.bulk_calls.crm}, {"token", c.bulk_calls.token},
                      {"writes", c.bulk_calls.writes}}},
      {"pc_calls_per_record", static_cast<double>(c.bulk_calls.pc) / n},
      {"crm_calls_per_record", static_cast<double>(c.bulk_calls.crm) / n},
      {"daemon_cpu_us_per_record", c.bulk.cpu_s * 1e6 / n},
      {"disk_bytes_per_record", c.bulk.disk_write_bytes / n},
      {"state_bytes_after_bulk", c.state_bytes},
      // The fakes' part of the CPU both sides used during the bulk, and of one core's time.
      {"fakes_cpu_share", all_cpu > 0 ? c.bulk.fakes_cpu_s / all_cpu : 0.0},
      {"fakes_core_share", c.bulk.wall_s > 0 ? c.bulk.fakes_cpu_s / c.bulk.wall_s : 0.0},
      {"overlap_s", kOverlapSeconds},
      {"echo", usage_json(c.echo)},
      {"echo_calls", c.echo_calls.pc + c.echo_calls.crm + c.echo_calls.token},
      {"echo_writes", c.echo_calls.writes},
      {"quiet", usage_json(c.quiet)},
      {"quiet_calls", c.quiet_calls.pc + c.quiet_calls.crm + c.quiet_calls.token},
      {"quiet_writes", c.quiet_calls.writes},
      {"quiet_link_rows_written", c.quiet_links},
      {"sweep", usage_json(c.sweep)},
      {"sweep_calls", c.sweep_calls.pc + c.sweep_calls.crm + c.sweep_calls.token},
      {"sweep_writes", c.sweep_calls.writes},
      {"machine_cores", sysconf(_SC_NPROCESSORS_ONLN)},
  };
}

}  // namespace

int main(int argc, char** argv) {
  const int records = arg_int(argc, argv, "--records", 1000);
  const int rtt_ms = arg_int(argc, argv, "--rtt-ms", 20);
  const int in_flight = arg_int(argc, argv, "--in-flight", 4);
  try {
    // A short overlap, so that the quiet cycle need not wait the default 5 minutes for the bulk's
    // own write-backs to leave the window (what it reads depends only on what changed within it).
    BenchSetup b(in_flight, kOverlapSeconds);
    for (int i = 0; i < records; ++i)
      b.pc.add_referral(cosync::bench::incoming_lead("Company " + std::to_string(i), 1000 + i));
    b.inject_rtt(rtt_ms);
    Cycles c = run_cycles(b);
    std::cout << report(c, records, rtt_ms, in_flight).dump() << std::endl;
    // COSYNC_BENCH_DEBUG: the config and the last two cycles' logs to stderr.
    if (std::getenv("COSYNC_BENCH_DEBUG"))
      std::system(("cat " + b.h.config_path() + " " + b.h.dir.file("echo.log") + " " + b.h.dir.file("quiet.log") + " >&2").c_str());
    return c.bulk.exit_status == 0 && c.echo.exit_status == 0 && c.quiet.exit_status == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "sync_bench: " << e.what() << "\n";
    return 2;
  }
}
