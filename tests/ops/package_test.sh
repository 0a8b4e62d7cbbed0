#!/usr/bin/env bash
# The Debian package: built from the test build (scripts/package.sh, lintian without errors), then
# unpacked to check that every file is where the README says, the config is a conffile, Depends
# came from shlibdeps, and the packaged cosyncd and its man page work.
# Usage: tests/ops/package_test.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build=$(cd "${1:?usage: package_test.sh BUILD_DIR}" && pwd)
for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null 2>&1 || { echo "COSYNC-TEST-SKIPPED: $tool is not installed"; exit 77; }
done
fail() { echo "FAIL: $*"; exit 1; }

start=$(date +%s)
deb=$(bash "$root/scripts/package.sh" "$build" | tail -1)
echo "built and linted $deb in $(( $(date +%s) - start ))s"
case "$(basename "$deb")" in cosync_*_amd64.deb) ;; *) fail "unexpected package name $deb" ;; esac

unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
dpkg-deb -x "$deb" "$unpacked"
for f in usr/bin/cosyncd lib/systemd/system/cosyncd.service etc/cosync/cosync.yaml \
         usr/share/man/man8/cosyncd.8.gz usr/share/doc/cosync/copyright usr/share/doc/cosync/changelog.Debian.gz \
         usr/share/doc/cosync/examples/sandbox.yaml usr/share/doc/cosync/examples/mappings/pc-sf-leads.yaml; do
  [ -e "$unpacked/$f" ] || fail "/$f is missing from the package"
done
cmp -s "$unpacked/lib/systemd/system/cosyncd.service" "$root/systemd/cosyncd.service" || fail "the unit is not systemd/cosyncd.service"

dpkg-deb -e "$deb" "$unpacked/DEBIAN"
grep -qx /etc/cosync/cosync.yaml "$unpacked/DEBIAN/conffiles" || fail "/etc/cosync/cosync.yaml is not a conffile"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libstdc++6 libssl3 libsqlite3-0 libyaml-cpp; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib (shlibdeps): $depends"
done
# Every line of the shipped config is a comment or blank: nothing runs until the admin says so.
if grep -vqE '^\s*(#.*)?$' "$unpacked/etc/cosync/cosync.yaml"; then fail "/etc/cosync/cosync.yaml has live settings"; fi

"$unpacked/usr/bin/cosyncd" version | grep -qx "cosyncd $(dpkg-deb -f "$deb" Version | cut -d- -f1)" ||
  fail "the packaged cosyncd's version is not the package's"
# The packaged man page is the binary's own (`help --man`), and man formats it.
cmp -s <(gzip -dc "$unpacked/usr/share/man/man8/cosyncd.8.gz") <("$unpacked/usr/bin/cosyncd" help --man) ||
  fail "the man page differs from cosyncd help --man"
MANWIDTH=80 man -l "$unpacked/usr/share/man/man8/cosyncd.8.gz" 2>/dev/null | grep -q "EXIT STATUS" || fail "man cannot format cosyncd(8)"
echo "package OK: $(basename "$deb"), Depends: $depends"
