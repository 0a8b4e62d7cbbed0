#!/usr/bin/env bash
# The shipped unit's sandboxing, as systemd scores it: prints the exposure and fails above 1.2.
# Exit 77 (CTest: skipped) where systemd-analyze is missing.
set -euo pipefail
unit="$(cd "$(dirname "$0")/../.." && pwd)/systemd/cosyncd.service"
max=1.2
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "COSYNC-TEST-SKIPPED: systemd-analyze is not installed"
  exit 77
fi
report=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1)
exposure=$(sed -n 's/.*Overall exposure level for cosyncd.service: \([0-9.]*\).*/\1/p' <<<"$report")
if [ -z "$exposure" ]; then
  echo "$report"
  echo "FAIL: no exposure level in systemd-analyze's output"
  exit 1
fi
grep -F '✗' <<<"$report" || true  # what is left, with its weight
echo "systemd-analyze security exposure of cosyncd.service: $exposure (at most $max)"
awk -v e="$exposure" -v m="$max" 'BEGIN { exit !(e <= m) }' || { echo "FAIL: exposure $exposure > $max"; exit 1; }
