#!/usr/bin/env bash
# Builds the Debian package from a built tree (the README's build) and checks it with lintian.
# Usage: scripts/package.sh [BUILD_DIR]   (default: build). Prints the .deb's path last.
# Exits non-zero when the package cannot be built or lintian reports an error.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
# Only what the package holds: cosyncd, its man page and the changelog (no test binaries).
cmake --build "$dir" --target cosyncd cosyncd_man cosync_changelog >/dev/null
rm -f "$dir"/cosync_*.deb
(cd "$dir" && cpack -G DEB >/dev/null)
deb=$(ls "$dir"/cosync_*_amd64.deb)
if command -v lintian >/dev/null 2>&1; then
  # --fail-on error: warnings and infos are printed, only errors fail the build.
  lintian --fail-on error --tag-display-limit 0 "$deb" >&2 || { echo "lintian: errors in $deb" >&2; exit 1; }
  echo "lintian: no errors in $deb" >&2
else
  echo "lintian is not installed (scripts/install-deps.sh installs it): not checked" >&2
fi
echo "$deb"
