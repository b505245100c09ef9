#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz, clang, ASan + UBSan) and runs
# each for a while, two at a time (docs/fuzzing.md).
#   tools/fuzz.sh [-t SECONDS] [-j JOBS] [-b BUILD_DIR] [TARGET...]
#     -t  seconds per harness (default 15: the regression run of tools/check.sh)
#     -j  harnesses run at once (default 2)
#     -b  build directory (default build-fuzz)
#     TARGET  harness names without fuzz_ (default: every tests/fuzz/fuzz_*.c)
# Each harness starts from its seed corpus tests/fuzz/corpus/<target> (read,
# never written), with tests/fuzz/<target>.dict as its dictionary when there
# is one, and keeps what it finds in BUILD_DIR/fuzz/corpus/<target>.
# A crash, leak, UB report, timeout or broken property is saved as
# BUILD_DIR/fuzz/crashes/<target>/crash-* (or leak-*, timeout-*, oom-*), the
# log as BUILD_DIR/fuzz/<target>.log; the script then prints the log's end
# and exits 1. Reproduce with: BUILD_DIR/tests/fuzz/fuzz_<target> <that file>.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=15 jobs=2 dir=$root/build-fuzz
while getopts "t:j:b:" o; do
  case $o in
    t) secs=$OPTARG ;;
    j) jobs=$OPTARG ;;
    b) dir=$OPTARG ;;
    *) sed -n '2,15p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for f in "$root"/tests/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c | sed 's/^fuzz_//')"); done
fi

# The library is built with clang too (the coverage hooks must be in the
# code under test); only the harnesses are built, not the CLI or the tests.
mkdir -p "$dir"
CC=clang cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRIBE_FUZZ=ON -DTRIBE_TESTS=OFF \
  >"$dir.cmake.log" 2>&1 || { cat "$dir.cmake.log" >&2; exit 4; }
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >"$dir.build.log" 2>&1 ||
  { tail -40 "$dir.build.log" >&2; exit 4; }

export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
source "$root/tools/par.sh"
run_one() { # TARGET: one harness for $secs seconds; says how it went on stderr
  local t=$1 out=$dir/fuzz rc=0 dict=()
  mkdir -p "$out/corpus/$t" "$out/crashes/$t"
  [[ ! -f $root/tests/fuzz/$t.dict ]] || dict=(-dict="$root/tests/fuzz/$t.dict")
  "$dir/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$out/crashes/$t/" "${dict[@]}" \
    "$out/corpus/$t" "$root/tests/fuzz/corpus/$t" >"$out/$t.log" 2>&1 || rc=$?
  if [[ $rc -eq 0 ]]; then
    echo "fuzz $t: ok ($(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log") runs in $secs s)" >&2
  else
    echo "fuzz $t: FAILED (exit $rc); end of $out/$t.log:" >&2
    tail -60 "$out/$t.log" >&2
  fi
  return $rc
}
for t in "${targets[@]}"; do
  [[ -x $dir/tests/fuzz/fuzz_$t ]] || { echo "fuzz: no harness fuzz_$t" >&2; exit 2; }
done
par_each "$jobs" run_one "${targets[@]}" ||
  { echo "fuzz: ${PAR_FAILED[*]} failed; inputs in $dir/fuzz/crashes/" >&2; exit 1; }
