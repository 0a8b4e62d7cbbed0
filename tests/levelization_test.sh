#!/usr/bin/env bash
# scripts/levelization.sh passes on this tree and fails, naming file:line and the rule, on each
# kind of include it forbids, planted in a temporary copy of daemon/ and connectors/.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
script="$repo/scripts/levelization.sh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/pristine"
cp -r "$repo/daemon" "$repo/connectors" "$tmp/pristine/"
failures=0

check_clean() {
  local out
  if ! out="$(bash "$script" "$tmp/pristine" 2>&1)" || [[ "$out" != "levelization: OK ("* ]]; then
    echo "FAIL clean tree: expected OK, got:"; echo "$out"; failures=$((failures + 1))
  fi
}

# plant FILE INCLUDE EXPECTED: appends `#include INCLUDE` to FILE (created if missing) in a fresh
# copy and expects exit 1 with "FILE:LINE: #include INCLUDE: ...EXPECTED...".
plant() {
  local file="$1" include="$2" expected="$3" out rc=0
  rm -rf "$tmp/work"
  cp -r "$tmp/pristine" "$tmp/work"
  mkdir -p "$(dirname "$tmp/work/$file")"
  echo "#include $include" >>"$tmp/work/$file"
  local line
  line="$(wc -l <"$tmp/work/$file")"
  out="$(bash "$script" "$tmp/work" 2>&1)" || rc=$?
  if [[ $rc -ne 1 || "$out" != *"$file:$line: #include $include: "*"$expected"* ]]; then
    echo "FAIL $file <- $include: expected exit 1 and '$expected', got exit $rc:"; echo "$out"
    failures=$((failures + 1))
  fi
}

check_clean
plant daemon/util/clock.hpp '"daemon/store/state_store.hpp"' "upward: daemon/util includes the higher layer daemon/store"
plant daemon/http/http_client.hpp '"daemon/auth/token_provider.hpp"' "upward: daemon/http includes the higher layer daemon/auth"
plant daemon/store/state_store.cpp '"connectors/records.hpp"' "upward"
plant daemon/mapping/mapping.cpp '"daemon/engine/merge.hpp"' "upward"
plant daemon/engine/merge.cpp '"daemon/cli/config.hpp"' "upward"
plant connectors/salesforce/salesforce_connector.cpp '"connectors/partner_center/referral_contract.hpp"' \
  "connector salesforce includes its sibling connector partner_center"
plant connectors/connector.hpp '"connectors/dataverse/dataverse_connector.hpp"' "shared connector code includes the dataverse connector"
plant daemon/mapping/mapping.cpp '<boost/asio/awaitable.hpp>' "touches no sockets"
plant daemon/mapping/mapping.cpp '<boost/beast/http.hpp>' "touches no sockets"
plant daemon/mapping/mapping.cpp '"connectors/connector.hpp"' "touches no sockets"
plant daemon/mapping/mapping.cpp '"connectors/partner_center/partner_center_connector.hpp"' "touches no sockets"
plant daemon/mapping/mapping.cpp '"daemon/http/http_client.hpp"' "touches no sockets"
plant daemon/rules/planted_rule.cpp '"connectors/salesforce/salesforce_connector.hpp"' "touches no sockets"
plant connectors/records.hpp '"daemon/store/state_store.hpp"' "connectors hold no SQL"
plant connectors/partner_center/referral_contract.cpp '<sqlite3.h>' "connectors hold no SQL"
plant daemon/store/state_store.cpp '"daemon/http/http_client.hpp"' "the store does no network I/O"
plant daemon/util/clock.hpp '"tests/fakes/fake_server.hpp"' "not a layered path"
plant daemon/newlayer/thing.cpp '"daemon/util/clock.hpp"' "this file is in no layer"

if [[ $failures -ne 0 ]]; then
  echo "levelization_test: $failures failure(s)"
  exit 1
fi
echo "levelization_test: OK (clean tree passes, 18 planted includes refused)"
