#!/usr/bin/env bash
# Configures and builds one build tree. Usage: scripts/build.sh DIR [cmake options...]
# COSYNC_BUILD_TARGETS="a b" builds only those targets (the sandbox needs no test binary).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
# shellcheck disable=SC2086 # the targets are a space-separated list
cmake --build "$dir" -j"$jobs" ${COSYNC_BUILD_TARGETS:+--target $COSYNC_BUILD_TARGETS}
