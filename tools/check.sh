#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs missing Debian packages
# (build + test: Slurm, munge, the Python reference peers), builds twice
# (warnings as errors; AddressSanitizer + UndefinedBehaviorSanitizer), runs
# the unit tests under the sanitizers and under valgrind, then every test
# (unit, MPI on 1/2/4 ranks, end-to-end, Online Retail, Slurm) through ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/setup.sh" --test
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

echo "== build (sanitizers) and unit tests under ASan + UBSan" >&2
"$root/tools/build.sh" "$root/build-asan" -DTRIBE_SANITIZE=ON
(cd "$root/build-asan" && ctest -L unit --output-on-failure -j2) >&2

echo "== unit tests under valgrind" >&2
"$root/tools/build.sh" "$root/build"
units=$(cd "$root/build" && ctest -N -L unit | sed -n 's/.*Test *#[0-9]*: unit\.//p')
for name in $units; do
  t="$root/build/tests/$name"
  rc=0
  OMP_NUM_THREADS=2 valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
    --suppressions="$root/tests/valgrind.supp" "$t" >"$t.valgrind.out" 2>"$t.valgrind.log" || rc=$?
  case $rc in
    0) ;;
    77) sed -n '/^SKIP/,$p' "$t.valgrind.out" >&2 ;; # skipped (tests/testutil.h): say why, go on
    *) cat "$t.valgrind.out" "$t.valgrind.log" >&2
       echo "$name failed under valgrind (exit $rc; 9: valgrind found errors)" >&2; exit 1 ;;
  esac
done

echo "== full suite" >&2
cd "$root/build"
ctest --output-on-failure -j2
