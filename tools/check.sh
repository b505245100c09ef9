#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs missing Debian packages
# (build + test: Slurm, munge, the Python reference peers), builds twice
# (warnings as errors; AddressSanitizer + UndefinedBehaviorSanitizer), runs
# the unit tests, the MPI tests and a set of end-to-end tests under the
# sanitizers, the unit tests under valgrind, each libFuzzer harness for a
# short while (tools/fuzz.sh, clang), then every test (unit, MPI on 1/2/4
# ranks, end-to-end, Online Retail, Slurm) through ctest. Each section says
# how long it took.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/setup.sh" --test
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mark=$SECONDS
lap() { echo "== $1: $((SECONDS - mark)) s (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2; mark=$SECONDS; }

echo "== build (sanitizers) and unit tests under ASan + UBSan" >&2
"$root/tools/build.sh" "$root/build-asan" -DTRIBE_SANITIZE=ON
(cd "$root/build-asan" && ctest -L unit --output-on-failure -j2) >&2
lap "sanitizer build and unit tests"

# Under the sanitizers (tests/lsan.supp says how Open MPI's own leaks are told
# apart): every MPI test on 2 ranks (1 and 4 ranks run the same code paths;
# the sanitizer build takes about 5x the CPU), and the end-to-end tests of the
# CLI's refusals (every error path of gen, ingest, run and their exit codes),
# the feature-table import and the HTTP server.
echo "== MPI tests (2 ranks) and end-to-end tests under ASan + UBSan" >&2
(cd "$root/build-asan" && ctest -L mpi -R '\.np2$' --output-on-failure -j2 &&
  ctest -L e2e -R '^e2e\.test_(bad_input|import|serve_api)$' --output-on-failure -j2) >&2
lap "MPI and end-to-end tests under the sanitizers"

echo "== unit tests under valgrind, two at a time" >&2
"$root/tools/build.sh" "$root/build"
source "$root/tools/par.sh"
valgrind_one() { # NAME: one unit test under valgrind; its output and log kept beside it
  local t="$root/build/tests/$1" rc=0
  OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
    --suppressions="$root/tests/valgrind.supp" "$t" >"$t.valgrind.out" 2>"$t.valgrind.log" || rc=$?
  case $rc in
    0) ;;
    77) sed -n '/^SKIP/,$p' "$t.valgrind.out" >&2 ;; # skipped (tests/testutil.h): say why, go on
    *) cat "$t.valgrind.out" "$t.valgrind.log" >&2
       echo "$1 failed under valgrind (exit $rc; 9: valgrind found errors)" >&2 ;;
  esac
  return $rc
}
# Left out, for kernels that the ASan + UBSan run above and the MPI tests already cover: test_quality
# (about 80 s under valgrind, a third of this section), test_gbdt_hist (25 s: histograms compared bit
# for bit with a 128-bit reference, whose uninitialised cells would fail the comparison anyway),
# test_experiment (19 s: 3,000 simulated experiments for the intervals' coverage), test_treeshap
# (21 s: TreeSHAP against brute-force Shapley values) and test_clv (18 s: BG/NBD and Gamma-Gamma fits)
units=$(cd "$root/build" && ctest -N -L unit | sed -n 's/.*Test *#[0-9]*: unit\.//p' |
  grep -vx -e test_quality -e test_gbdt_hist -e test_experiment -e test_treeshap -e test_clv)
# shellcheck disable=SC2086 # one test name a word
par_each 2 valgrind_one $units || { echo "failed under valgrind: ${PAR_FAILED[*]}" >&2; exit 1; }
lap "unit tests under valgrind"

echo "== libFuzzer harnesses, 6 s each (tools/fuzz.sh; longer runs: docs/fuzzing.md)" >&2
"$root/tools/fuzz.sh" -t 6 -j 2 -b "$root/build-fuzz"
lap "fuzz build and runs"

# ctest slots are half cores (tests/CMakeLists.txt): an end-to-end test that mostly waits takes one,
# so four run at once on 2 cores; an MPI test takes a core a rank, a busy end-to-end test two slots,
# one that times itself all of them. (The sanitizer runs above keep -j2: their tests, 5x the CPU
# under ASan, keep both cores busy as they are.)
echo "== full suite" >&2
cd "$root/build"
ctest --output-on-failure -j$((2 * $(nproc)))
lap "full suite"
