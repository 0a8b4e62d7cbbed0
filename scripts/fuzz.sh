#!/usr/bin/env bash
# Runs the libFuzzer harnesses of tests/fuzz, one process each, one after the other.
#   scripts/fuzz.sh TARGET|all [seconds per target, default 600]
# Builds them first in build-fuzz (clang-14, -DCOSYNC_FUZZ=ON). Each target grows its corpus in
# $COSYNC_FUZZ_DIR/corpus/<target> (default /var/tmp/cosync-fuzz, outside the repository), read
# together with the seeds in tests/fuzz/corpus/<target>, with the tokens of tests/fuzz/dict.
# The input of a finding is saved as $COSYNC_FUZZ_DIR/findings/<target>/crash-* (or leak-,
# timeout-, oom-). Prints the executions per target; exits non-zero when any had a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
all_targets=(remote_json token partner_center salesforce dataverse mapping config)
target=${1:?usage: scripts/fuzz.sh TARGET|all [seconds]}
seconds=${2:-600}
work=${COSYNC_FUZZ_DIR:-/var/tmp/cosync-fuzz}
if [ "$target" = all ]; then
  targets=("${all_targets[@]}")
elif [[ " ${all_targets[*]} " == *" $target "* ]]; then
  targets=("$target")
else
  echo "fuzz: unknown target $target (one of: ${all_targets[*]} all)" >&2
  exit 2
fi

# -O1 as ASan advises; line tables only, enough for the stacks of a finding. (CXX only counts
# when build-fuzz is first configured.)
CXX=clang++-14 COSYNC_BUILD_TARGETS=cosync_fuzzers bash scripts/build.sh build-fuzz -DCOSYNC_FUZZ=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"

symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# One target; non-zero when it had a finding.
fuzz_one() {
  local t=$1 corpus findings log dict result runs
  corpus="$work/corpus/$t"
  findings="$work/findings/$t"
  mkdir -p "$corpus" "$findings"
  log="$work/$t.log"
  dict=tests/fuzz/dict/json.dict
  [[ $t == config || $t == mapping ]] && dict=tests/fuzz/dict/yaml.dict
  # -timeout: one input running longer is a hang; -rss_limit_mb: a bounded appetite for memory.
  if build-fuzz/tests/fuzz/fuzz_"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -dict="$dict" \
       -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    result="no finding"
  else
    result="FINDING, see $log and $findings/"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "fuzz $t: ${runs:-?} executions in ${seconds}s, corpus $(find "$corpus" -type f | wc -l) inputs: $result"
  [ "$result" = "no finding" ] || grep -E "ERROR|runtime error|invariant broken|terminate|SUMMARY|#[0-9]+ 0x" "$log" | head -30 >&2
  [ "$result" = "no finding" ]
}

# COSYNC_FUZZ_JOBS targets at a time (default 1): each libFuzzer process keeps one core busy.
jobs=${COSYNC_FUZZ_JOBS:-1}
status=0
for ((i = 0; i < ${#targets[@]}; i += jobs)); do
  pids=()
  for t in "${targets[@]:i:jobs}"; do
    fuzz_one "$t" &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
done
exit $status
