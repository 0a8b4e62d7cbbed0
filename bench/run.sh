#!/usr/bin/env bash
# The performance figures of README "Performance" (issue 18), by one command:
#   bash bench/run.sh [N[@RTT_MS] ...]      (default: 1000 10000 100000)
# Builds cosyncd, bench/sync_bench and bench/latency_bench in build/ (under the shared build lock).
# Bulk: for each N, N new Microsoft leads into an empty Salesforce by one `cosyncd once` against
# the fakes with the round-trip time injected on every request, the echo cycle and a quiet cycle
# (sync_bench). Latency: for each poll interval, `cosyncd run` against the fakes with changes made
# on either side at random times (latency_bench). Not part of the test command.
# Environment:
#   COSYNC_BENCH_RTT_MS=20         round trip of every request (N@RTT_MS overrides it for one N)
#   COSYNC_BENCH_IN_FLIGHT=4       http.max_in_flight_per_host
#   COSYNC_BENCH_POLLS="5 30"      poll intervals of the latency part ("" skips it)
#   COSYNC_BENCH_LATENCY_CHANGES=30, COSYNC_BENCH_LATENCY_WINDOW_S=180: changes per interval, and
#                                  the window they are spread over (each interval takes about
#                                  window + 3 polls + 1 minute)
#   COSYNC_BENCH_RESULTS=bench/results   where the output goes
# Output: latest.jsonl (bulk runs), latency.jsonl, latest.md (the tables, with the commit and
# machine), bulk.png (time and peak RSS vs N), latency_cdf.png.
set -euo pipefail
cd "$(dirname "$0")/.."
rtt=${COSYNC_BENCH_RTT_MS:-20}
in_flight=${COSYNC_BENCH_IN_FLIGHT:-4}
polls=${COSYNC_BENCH_POLLS-5 30}
changes=${COSYNC_BENCH_LATENCY_CHANGES:-30}
window=${COSYNC_BENCH_LATENCY_WINDOW_S:-180}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 100000)

if ! command -v gnuplot >/dev/null; then
  echo "bench: installing gnuplot-nox for the plots ..." >&2
  apt-get install -y gnuplot-nox >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y gnuplot-nox >/dev/null; }
fi
[ -f build/CMakeCache.txt ] || cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOSYNC_TESTS=ON >/dev/null
flock /tmp/cosync-build.lock cmake --build build -j"$(nproc)" --target cosyncd sync_bench latency_bench >/dev/null

results=${COSYNC_BENCH_RESULTS:-bench/results}
mkdir -p "$results"
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench' 2>/dev/null || echo '+uncommitted')"
cpu=$(sed -n 's/^model name\s*:\s*//p' /proc/cpuinfo | head -1)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%FT%TZ)

: >"$results/latest.jsonl"
for spec in "${sizes[@]}"; do
  n=${spec%@*}
  r=$rtt
  [ "$spec" = "$n" ] || r=${spec#*@}
  echo "bench: bulk of $n records, ${r} ms round trip, $in_flight in flight ..." >&2
  build/bench/sync_bench --records "$n" --rtt-ms "$r" --in-flight "$in_flight" >>"$results/latest.jsonl"
done

: >"$results/latency.jsonl"
for poll in $polls; do
  echo "bench: latency at poll ${poll} s, $changes changes over ${window} s ..." >&2
  build/bench/latency_bench --poll-s "$poll" --changes "$changes" --window-s "$window" --rtt-ms "$rtt" \
    --in-flight "$in_flight" >>"$results/latency.jsonl"
done
echo "{\"commit\": \"$commit\", \"nproc\": $(nproc), \"cpu\": \"$cpu\", \"load_before\": \"$load_before\"," \
  "\"load_after\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"started\": \"$started\"}" >"$results/machine.json"

python3 bench/report.py "$results"  # prints the tables, writes latest.md, the plot data and plots.gp
(cd "$results" && gnuplot plots.gp)
echo "bench: tables in $results/latest.md, plots $results/bulk.png and $results/latency_cdf.png" >&2
