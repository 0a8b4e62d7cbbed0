#!/usr/bin/env bash
# Command 2 of the README: installs what is missing, builds a normal and an ASan+UBSan build,
# runs every test of both with CTest, then builds the fuzz harnesses (clang) and runs each for a
# bounded time from its seed corpus. Exits non-zero on any failure or fuzz finding.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/levelization.sh; bash tests/levelization_test.sh  # the include layers, in seconds, before the builds
bash tests/test_names_check.sh  # a test CTest would split at a ";" runs nothing
bash scripts/install-deps.sh

start=$(date +%s)
# Test builds keep only line tables (-g1): full debug info of Beast/Asio/Catch doubles compile
# and link time, and stack traces need no more. The sanitizer build uses -O1, as ASan advises.
echo "== build (normal, -O2)"
bash scripts/build.sh build -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
echo "== build (ASan + UBSan, -O1)"
# (Only what its tests run: cosync_tests and cosyncd; the benches and the sandbox are built once, above.)
COSYNC_BUILD_TARGETS=cosync_tests bash scripts/build.sh build-asan -DCOSYNC_SANITIZE=ON -DCOSYNC_BENCH=OFF \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"
echo "== built in $(( $(date +%s) - start ))s"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for dir in build build-asan; do
  echo "== tests ($dir)"
  (cd "$dir" && ctest --output-on-failure --timeout 600 -j2) || status=1
done
# Long runs are scripts/fuzz.sh's job; this one catches what a change broke in minutes. Its
# corpus and any finding's input stay in build-fuzz/fuzz-run.
# Two targets at a time: each libFuzzer process keeps one core busy (7 x 20 s -> 4 x 20 s).
echo "== fuzz (libFuzzer + ASan + UBSan, 20s per target)"
rm -rf build-fuzz/fuzz-run
COSYNC_FUZZ_JOBS=2 COSYNC_FUZZ_DIR=build-fuzz/fuzz-run bash scripts/fuzz.sh all 20 || status=1
echo "== total $(( $(date +%s) - start ))s"
exit $status
