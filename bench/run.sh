#!/usr/bin/env bash
# The performance figures of README "Performance" (issue 18), by one command:
#   bash bench/run.sh [N ...]          (default: 1000 10000; COSYNC_BENCH_RTT_MS=20, COSYNC_BENCH_IN_FLIGHT=4)
# Builds cosyncd and bench/sync_bench in build/ (under the shared build lock), then for each N: a bulk
# of N new Microsoft leads into an empty Salesforce by one `cosyncd once` against the fakes with
# the round-trip time injected on every request, and the quiet cycle after it. Prints a table and
# writes every run as JSON lines to bench/results/latest.jsonl. Not part of the test command.
set -euo pipefail
cd "$(dirname "$0")/.."
rtt=${COSYNC_BENCH_RTT_MS:-20}
in_flight=${COSYNC_BENCH_IN_FLIGHT:-4}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)

[ -f build/CMakeCache.txt ] || cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOSYNC_TESTS=ON >/dev/null
flock /tmp/cosync-build.lock cmake --build build -j"$(nproc)" --target cosyncd sync_bench >/dev/null

mkdir -p bench/results
out=bench/results/latest.jsonl
: >"$out"
for n in "${sizes[@]}"; do
  echo "bench: $n records, ${rtt} ms round trip, $in_flight in flight ..." >&2
  build/bench/sync_bench --records "$n" --rtt-ms "$rtt" --in-flight "$in_flight" | tee -a "$out" >/dev/null
done

python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
cols = [("N", lambda r: f"{r['records']:,}"),
        ("wall s", lambda r: f"{r['bulk']['wall_s']:.1f}"),
        ("API-bound s", lambda r: f"{r['bulk_api_bound_s']:.1f}"),
        ("ratio", lambda r: f"{r['bulk_ratio']:.2f}"),
        ("PC calls/rec", lambda r: f"{r['pc_calls_per_record']:.2f}"),
        ("CRM calls/rec", lambda r: f"{r['crm_calls_per_record']:.3f}"),
        ("CPU us/rec", lambda r: f"{r['daemon_cpu_us_per_record']:.0f}"),
        ("disk KB/rec", lambda r: f"{r['disk_bytes_per_record'] / 1000:.1f}" if 'disk_bytes_per_record' in r else "-"),
        ("peak RSS MiB", lambda r: f"{r['bulk']['peak_rss_mib']:.0f}"),
        ("fakes CPU", lambda r: f"{100 * r['fakes_cpu_share']:.0f}%"),
        ("echo calls", lambda r: str(r.get('echo_calls', '-'))),
        ("quiet calls", lambda r: str(r['quiet_calls'])),
        ("quiet writes", lambda r: str(r['quiet_writes'])),
        ("quiet rows", lambda r: str(r['quiet_link_rows_written'])),
        ("quiet CPU ms", lambda r: f"{1000 * r['quiet']['daemon_cpu_s']:.0f}")]
print(f"rtt {rows[0]['rtt_ms']} ms, {rows[0]['in_flight']} in flight, {rows[0]['machine_cores']} cores" if rows else "no runs")
print("| " + " | ".join(c for c, _ in cols) + " |")
print("|" + "---|" * len(cols))
for r in rows:
    print("| " + " | ".join(f(r) for _, f in cols) + " |")
PY
