#!/usr/bin/env bash
# Periodic reruns at scale (docs/benchmarks.md, "Reruns"): a first run, then the same base rerun with
# "previous" in each continuity mode (refit, warm, score), and what each costs.
#   bench/bench_rerun.sh [CUSTOMERS]        (default 10000000; 16 features, K = 8 fixed)
# Data: tribe gen --blobs (planted Gaussian clusters). Jobs: K fixed, full Lloyd, every optional
# stage off (the rerun modes differ in the kmeans stage; the continuity stage is what they add).
# Prints a markdown table (seconds per stage from run.json, full passes, inertia) and writes it to
# bench/results/rerun.md. Also times one assignment pass of the model (bench_passes' kernel loop is
# not needed: the refit's fit time over its passes is the per-pass cost on the same data).
# Environment: TRIBE_BENCH_DIR (scratch, default /tmp/tribe-bench-rerun), RANKS (default 2),
# TRIBE_BUILD (a build directory to use as it is instead of building $root/build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10000000}
np=${RANKS:-2}
build=${TRIBE_BUILD:-$root/build}
[ -n "${TRIBE_BUILD:-}" ] || "$root/tools/build.sh" "$build"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
work=${TRIBE_BENCH_DIR:-/tmp/tribe-bench-rerun}
mkdir -p "$work" "$root/bench/results"
mpi() { OMP_NUM_THREADS=1 mpiexec -n "$np" --oversubscribe --bind-to none "$@"; }

data="$work/blobs-$n.h5"
[ -s "$data" ] || mpi "$build/tribe" gen --blobs --customers "$n" --features 16 --clusters 8 --seed 5 -o "$data" >/dev/null
rm -rf "$work/out"
job() { # job NAME [extra members]
  cat >"$work/$1.json" <<JOB
{"input": "$data", "output": "$work/out", "run_id": "$1", "seed": 3, "previous": "$work/out",
 "kmeans": {"k": 8, "algorithm": "lloyd", "n_init": 1}, "silhouette": {"sample_size": 0},
 "outliers": {"enabled": false}, "gmm": {"enabled": false}, "ward": {"enabled": false},
 "projection": {"sample_size": 1000}, "drivers": {"enabled": false}${2:+, $2}}
JOB
  mpi "$build/tribe" run "$work/$1.json" >/dev/null 2>"$work/$1.err" || { cat "$work/$1.err" >&2; exit 5; }
}
job first
for mode in refit warm score; do job "$mode" "\"continuity\": {\"mode\": \"$mode\"}"; done

/usr/bin/python3 - "$work/out" "$n" "$np" <<'PY' | tee "$root/bench/results/rerun.md"
import json, sys, os, subprocess
out, n, np_ = sys.argv[1], int(sys.argv[2]), sys.argv[3]
load = open("/proc/loadavg").read().split()[0]
print(f"{n:,} customers x 16 features, K = 8, {np_} ranks x 1 thread, load average {load} at the start\n")
print("| run | read | previous | transform | kmeans | continuity | segments | total | full passes | inertia |")
print("|---|---|---|---|---|---|---|---|---|---|")
per_pass = None
for name in ["first", "refit", "warm", "score"]:
    r = json.load(open(os.path.join(out, "runs", name, "run.json")))
    t, km = r["timings"], r["kmeans"]
    if name == "refit" and km.get("passes"):
        per_pass = km["fit_seconds"] / km["passes"]
    cells = [t.get(s) for s in ("read", "previous", "transform", "kmeans", "continuity", "segments", "total")]
    print("| %s | %s | %s | %s |" % (name, " | ".join("-" if c is None else "%.2f" % c for c in cells),
                                   km.get("passes", "-"), "%.6g" % km["inertia"]))
if per_pass:
    print(f"\nOne full pass of the refit (its fit seconds over its passes): {per_pass:.2f} s.")
PY
