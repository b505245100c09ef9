#!/usr/bin/env bash
# Churn on Online Retail (docs/churn.md, "Online Retail"): for each cutoff pair, ingest the train window
# (--cutoff c1), the test window (--cutoff c2 = c1 + h) and the whole file, run tribe with an "ltv" object
# (the churn stage runs with it), and print the test-window metrics of the GBDT and the BG/NBD baselines.
#   bench/bench_churn.sh [DATA]   (default /work/shared/data/online-retail.csv.gz)
# Environment: TRIBE_BENCH_DIR (scratch, default /tmp/tribe-bench-churn), RANKS (default 1),
# PAIRS (default "2011-06-11:2011-09-09 2011-03-13:2011-06-11"), HORIZON (default 90),
# TRIBE_BUILD (a build directory to use as it is instead of building $root/build).
# Writes bench/results/churn.md. Fails (exit 6) when the GBDT's AUC is not >= the AUC of
# 1 - P(alive) + 0.02 on some pair, the issue's bar.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-/work/shared/data/online-retail.csv.gz}
np=${RANKS:-1}
h=${HORIZON:-90}
pairs=${PAIRS:-"2011-06-11:2011-09-09 2011-03-13:2011-06-11"}
build=${TRIBE_BUILD:-$root/build}
[ -s "$data" ] || { echo "bench_churn: no $data" >&2; exit 2; }
[ -n "${TRIBE_BUILD:-}" ] || "$root/tools/build.sh" "$build"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
work=${TRIBE_BENCH_DIR:-/tmp/tribe-bench-churn}
mkdir -p "$work" "$root/bench/results"
mpi() { mpiexec -n "$np" --oversubscribe --bind-to none "$@"; }

[ -s "$work/all.h5" ] || mpi "$build/tribe" ingest --transactions "$data" -o "$work/all.h5" >/dev/null 2>&1
outs=()
for p in $pairs; do
  c1=${p%%:*} c2=${p##*:}
  for c in "$c1" "$c2"; do
    [ -s "$work/w$c.h5" ] || mpi "$build/tribe" ingest --transactions "$data" -o "$work/w$c.h5" --cutoff "$c" \
      --horizon "$h" >/dev/null 2>"$work/ingest$c.err" || { cat "$work/ingest$c.err" >&2; exit 5; }
  done
  cat >"$work/job$c1.json" <<JOB
{"input": "$work/all.h5", "output": "$work/out$c1", "seed": 7, "kmeans": {"k": 6},
 "ltv": {"train": "$work/w$c1.h5", "test": "$work/w$c2.h5", "horizon_days": $h}}
JOB
  rm -rf "$work/out$c1"
  mpi "$build/tribe" run "$work/job$c1.json" >/dev/null 2>"$work/run$c1.err" || { cat "$work/run$c1.err" >&2; exit 5; }
  outs+=("$c1:$c2:$work/out$c1/results.h5")
done
/usr/bin/python3 - "$h" "$np" "${outs[@]}" <<'PY' | tee "$root/bench/results/churn.md"
import sys, h5py, os
h, np_ = sys.argv[1], sys.argv[2]
load = os.getloadavg()[0]
print("Churn on Online Retail, horizon %s days, %s rank(s); load average %.2f at the end.\n" % (h, np_, load))
print("| train cutoff | test cutoff | model | AUC | Brier | calibration error (ECE) | test customers | churned |")
print("|---|---|---|---|---|---|---|---|")
bad = 0
for arg in sys.argv[3:]:
    c1, c2, path = arg.split(":", 2)
    f = h5py.File(path, "r")
    m = f["/model/churn/metrics"][:]
    names = [s.decode() if isinstance(s, bytes) else s for s in f["/model/churn/metrics"].attrs["models"]]
    for n, r in zip(names, m):
        print("| %s | %s | %s | %.4f | %.4f | %.4f | %d | %.1f%% |" % (c1, c2, n, r[0], r[1], r[2], r[3], 100 * r[4] / r[3]))
    if not m[0][0] >= m[1][0] + 0.02:
        bad = 1
    print("| | | GBDT AUC - P(alive) AUC | %+.4f | | | | |" % (m[0][0] - m[1][0]))
sys.exit(6 if bad else 0)
PY
