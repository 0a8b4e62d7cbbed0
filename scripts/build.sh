#!/usr/bin/env bash
# Configures and builds one build tree. Usage: scripts/build.sh DIR [cmake options...]
# COSYNC_BUILD_TARGETS="a b" builds only those targets (the sandbox needs no test binary).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
jobs=$(nproc 2>/dev/null || echo 2)
# A new tree uses Ninja when installed (an existing one keeps its generator): it keeps both cores
# busy across targets, and its .ninja_log tells which files take the time.
generator=()
[ ! -f "$dir/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
cmake -S . -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
# shellcheck disable=SC2086 # the targets are a space-separated list
cmake --build "$dir" -j"$jobs" ${COSYNC_BUILD_TARGETS:+--target $COSYNC_BUILD_TARGETS}
