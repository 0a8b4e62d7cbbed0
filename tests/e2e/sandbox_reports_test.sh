#!/usr/bin/env bash
# Issue 15: the reports print the sandbox's data in all three formats. Starts the sandbox's fakes
# (cosync-fakes, seeded as scripts/sandbox.sh seeds them) on free loopback ports, runs one
# `cosyncd once` of the shipped Dynamics 365 sandbox config (leads and co-sell opportunities),
# then every report as table, CSV and JSON: the CSV is parsed back, the JSON loaded, and the
# pipeline and shared reports must list the sandbox's deals.
#   tests/e2e/sandbox_reports_test.sh BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: sandbox_reports_test.sh BUILD_DIR}" && pwd)
work=$(mktemp -d)
fakes_pid=
cleanup() {
  [ -n "$fakes_pid" ] && kill "$fakes_pid" 2>/dev/null && wait "$fakes_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
token=$(free_port) pc=$(free_port) sf=$(free_port) dv=$(free_port)

# The shipped config and mappings, with the ports and paths of this run.
mkdir -p "$work/config/mappings" "$work/state"
chmod 700 "$work/state"
cp "$src"/config/examples/mappings/*.yaml "$work/config/mappings/"
printf 'sandbox-secret\n' > "$work/client_secret"
chmod 600 "$work/client_secret"
sed -e "s|127.0.0.1:18081|127.0.0.1:$token|g" -e "s|127.0.0.1:18082|127.0.0.1:$pc|g" \
    -e "s|127.0.0.1:18083|127.0.0.1:$sf|g" -e "s|127.0.0.1:18084|127.0.0.1:$dv|g" \
    -e "s|^state_dir:.*|state_dir: $work/state|" -e "s|client_secret_file:.*|client_secret_file: $work/client_secret|" \
    "$src/config/examples/sandbox-dataverse.yaml" > "$work/config/sandbox.yaml"
config="$work/config/sandbox.yaml"

"$build/tests/cosync-fakes" --token-port "$token" --pc-port "$pc" --sf-port "$sf" --dv-port "$dv" \
  --state-dir "$work/state" > "$work/fakes.log" 2>&1 &
fakes_pid=$!
up=0
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$dv") 2>/dev/null && { up=1; break; }
  sleep 0.1
done
if [ "$up" != 1 ]; then
  echo "cosync-fakes did not start ($build/tests/cosync-fakes):"; cat "$work/fakes.log"; exit 1
fi

if ! "$build/cosyncd" once --config "$config" > "$work/once.log" 2>&1; then
  echo "cosyncd once failed:"; cat "$work/once.log"; exit 1
fi

fail=0
for report in pipeline shared expiring stale deals-to-register registrations; do
  for format in table csv json; do
    out="$work/$report.$format"
    if ! "$build/cosyncd" report "$report" --format "$format" --config "$config" > "$out" 2> "$out.err"; then
      echo "report $report --format $format failed:"; cat "$out.err"; fail=1
    fi
  done
done
[ "$fail" = 0 ] || exit 1

python3 - "$work" <<'PY'
import csv, json, sys
work = sys.argv[1]
reports = ["pipeline", "shared", "expiring", "stale", "deals-to-register", "registrations"]
for name in reports:
    with open(f"{work}/{name}.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows and rows[0], f"{name}: the CSV has no header"
    assert all(len(r) == len(rows[0]) for r in rows), f"{name}: CSV rows of different widths"
    with open(f"{work}/{name}.json") as f:
        data = json.load(f)
    assert isinstance(data, (list, dict)), f"{name}: JSON neither list nor object"
    table = open(f"{work}/{name}.table").read()
    assert table.strip(), f"{name}: empty table output"
    print(f"{name}: {len(rows) - 1} CSV rows, header {rows[0]}")
# The sandbox seeds co-sell referrals and a flagged opportunity: the pipeline and the shared
# report are not empty, and their CSV and JSON say the same number of deals.
for name in ["pipeline", "shared"]:
    rows = list(csv.reader(open(f"{work}/{name}.csv", newline="")))
    assert len(rows) > 1, f"{name}: the sandbox's deals are missing"
PY
echo "sandbox reports: every report printed the sandbox's data as table, CSV and JSON"
