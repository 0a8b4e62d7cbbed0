#!/usr/bin/env bash
# Installs the Debian 12 packages cosync needs to build and test. Idempotent and quiet:
# runs `apt-get update` only when a package is missing and cannot be found in the current lists.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libboost1.81-dev libboost-url1.81-dev
  libssl-dev nlohmann-json3-dev libspdlog-dev libyaml-cpp-dev libsqlite3-dev zlib1g-dev catch2
  sqlite3 python3 ca-certificates
  # Notifications: libcurl's SMTP client (STARTTLS and implicit TLS with verified certificates,
  # AUTH) instead of a hand-written protocol, and aiosmtpd, the SMTP server the tests send to.
  libcurl4-openssl-dev python3-aiosmtpd
  # The Debian package (scripts/package.sh): lintian checks it; man-db formats its man page.
  lintian man-db
  # The unit under a real systemd (tests/ops/systemd_test.sh): a debootstrapped Debian 12 root
  # booted with systemd-nspawn.
  systemd-container debootstrap
  # The fuzz harnesses (scripts/fuzz.sh): clang with the libFuzzer and sanitizer runtimes, which
  # clang-14 only recommends, and llvm-14 for llvm-symbolizer (readable stacks of findings).
  clang-14 libclang-rt-14-dev llvm-14
)

# Node.js + npm for Prism (the Partner Center contract check); any existing node/npm will do.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

# Prism, pinned by tools/prism/package-lock.json, into tools/prism/node_modules (after the
# packages below, on exit, so that every early exit path installs it too).
install_prism() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools/prism"
  [ -x "$dir/node_modules/.bin/prism" ] && return 0
  command -v npm >/dev/null 2>&1 || { echo "cosync: npm missing, Prism not installed" >&2; return 0; }
  echo "cosync: installing Prism (tools/prism)" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "cosync: Prism could not be installed; the contract check will report itself skipped" >&2
}
trap install_prism EXIT

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
