#!/usr/bin/env bash
# First benchmark: time gen, ingest and run on generated customers (default 1M) with 1 and 2 ranks,
# print a markdown table (and write it with the machine facts to bench/results/foundation.md).
#   bench/bench_foundation.sh [CUSTOMERS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000000}
"$root/tools/setup.sh"
"$root/tools/build.sh" "$root/build"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
tribe="$root/build/tribe"
work=${TRIBE_BENCH_DIR:-/tmp/tribe-bench}
mkdir -p "$work" "$root/bench/results"
mpi() { local np=$1; shift; mpiexec -n "$np" --oversubscribe --bind-to none "$@"; }
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; exit 1; }; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}'; }

rows=()
stages=()
t=$(secs mpi 2 "$tribe" gen --customers "$n" --seed 1 -o "$work/raw")
size=$(du -sh "$work/raw/transactions.csv" | cut -f1)
lines=$(($(wc -l <"$work/raw/transactions.csv") - 1))
rows+=("| gen | 2 x 1 | $t | $lines transaction rows ($size) |")
cat >"$work/job.json" <<JSON
{"input": "$work/customers.h5", "output": "$work/out", "seed": 1, "kmeans": {"k": 6},
 "silhouette": {"sample_size": 2000}, "projection": {"sample_size": 3000}, "run_id": "bench"}
JSON
for np in 1 2; do
  t=$(secs mpi $np "$tribe" ingest --transactions "$work/raw/transactions.csv" --web "$work/raw/web_events.csv" \
        --demographics "$work/raw/demographics.csv" -o "$work/customers.h5")
  rows+=("| ingest | $np x 1 | $t | $(awk -v a="$lines" -v b="$t" 'BEGIN{printf "%.0f", a/b}') rows/s |")
done
for cfg in "1 1" "1 2" "2 1"; do
  set -- $cfg
  rm -rf "$work/out" # a run id is never reused in one output directory's history
  t=$(OMP_NUM_THREADS=$2 secs mpi $1 "$tribe" run "$work/job.json")
  rows+=("| run (K=6) | $1 x $2 | $t | $(awk -v a="$n" -v b="$t" 'BEGIN{printf "%.0f", a/b}') customers/s |")
  stages+=("| $1 x $2 | $(/usr/bin/python3 -c "import h5py,json; print(', '.join('%s %.2f' % kv for kv in json.loads(h5py.File('$work/out/results.h5')['/runs/bench'].attrs['timings']).items()))" 2>/dev/null || echo n/a) |")
done
{
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/Model name: *//p'); $n customers; $(date -u +%F)"
  echo
  echo "| stage | ranks x threads | seconds | throughput |"
  echo "|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Seconds per stage of \`tribe run\` (from /runs/<id>/timings in results.h5):"
  echo
  echo "| ranks x threads | stages |"
  echo "|---|---|"
  printf '%s\n' "${stages[@]}"
} | tee "$root/bench/results/foundation.md"
