#!/usr/bin/env bash
# Memory at scale: generate N customers x 16 features straight into customers.h5
# (tools/gen_features_h5.py), run `tribe run` (K = 8) on RANKS ranks, and print the peak RSS per
# rank (the run record's /runs/<id> attr "memory", checked against /usr/bin/time) and the stage
# timings as markdown (also written to bench/results/memory-N.md).
#   bench/bench_memory.sh [CUSTOMERS] [RANKS]        (defaults 10000000 2)
# Environment: TRIBE_BENCH_DIR (default /tmp/tribe-bench-mem), TRIBE_BIN (default build/tribe),
# TRIBE_BENCH_JOB_EXTRA (extra JSON members for the job, e.g. '"silhouette": {"sample_size": 500}').
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10000000}
np=${2:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
tribe=${TRIBE_BIN:-$root/build/tribe}
work=${TRIBE_BENCH_DIR:-/tmp/tribe-bench-mem}
mkdir -p "$work" "$root/bench/results"
in="$work/c$n.h5"
[[ -s "$in" ]] || /usr/bin/python3 "$root/tools/gen_features_h5.py" "$n" "$in" --seed 5
extra=${TRIBE_BENCH_JOB_EXTRA:-}
cat >"$work/job.json" <<JSON
{"input": "$in", "output": "$work/out", "seed": 7, "kmeans": {"k": 8}, "run_id": "mem"${extra:+, $extra}}
JSON
t0=$(date +%s.%N)
rm -rf "$work/out" # a run id is never reused in one output directory's history
mpiexec -n "$np" --oversubscribe --bind-to none /usr/bin/time -f "time: rank maxrss_kb=%M" "$tribe" run "$work/job.json" \
  >"$work/run.out" 2>"$work/run.err"
t1=$(date +%s.%N)
out="$root/bench/results/memory-$n.md"
/usr/bin/python3 - "$work/out/results.h5" "$work/run.err" "$n" "$np" "$t0" "$t1" <<'EOF' | tee "$out"
import sys, json, re, h5py
r = h5py.File(sys.argv[1])["/runs/mem"].attrs
mem, tim = json.loads(r["memory"]), json.loads(r["timings"])
n, np_, wall = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[6]) - float(sys.argv[5])
ext = [int(x) * 1024 for x in re.findall(r"maxrss_kb=(\d+)", open(sys.argv[2]).read())]
gb = lambda b: "%.2f" % (b / 2**30)
print(f"{n} customers x 16 features, K = 8, {np_} ranks x 1 thread, wall {wall:.1f} s")
print()
print("| rank | peak RSS (GiB, run record) | bytes per local customer |")
print("|---|---|---|")
for i, b in enumerate(mem["peak_rss_bytes"]):
    print(f"| {i} | {gb(b)} | {b / (n / np_):.0f} |")
print()
print("/usr/bin/time per process (whole process, incl. MPI finalisation; any order):",
      ", ".join(gb(b) + " GiB" for b in ext))
print()
print("| stage | seconds | peak RSS so far, max over ranks (GiB) |")
print("|---|---|---|")
for k, v in tim.items():
    m = mem["peak_rss_bytes_after"].get(k)
    print(f"| {k} | {v:.2f} | {gb(m) if m else ''} |")
EOF
