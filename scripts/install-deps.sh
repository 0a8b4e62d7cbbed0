#!/usr/bin/env bash
# Installs the Debian 12 packages cosync needs to build and test. Idempotent and quiet:
# runs `apt-get update` only when a package is missing and cannot be found in the current lists.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libboost1.81-dev libboost-url1.81-dev
  libssl-dev nlohmann-json3-dev libspdlog-dev libyaml-cpp-dev libsqlite3-dev catch2
  sqlite3 python3 ca-certificates
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "cosync: installing ${missing[*]}" >&2
# Update the package lists only if a wanted package is not known to them yet (fresh machine).
if ! $SUDO apt-get install -y -qq --no-install-recommends --simulate "${missing[@]}" >/dev/null 2>&1; then
  $SUDO apt-get update -qq
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
