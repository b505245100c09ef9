#!/usr/bin/env bash
# Gradient boosting against XGBoost 1.7 `hist` and scikit-learn's HistGradientBoostingRegressor on the
# same generated regression data (N x 16, default N = 2,000,000; 80/20 split), then tribe's 2-rank vs
# 1-rank training. Prints a markdown table and writes it with the machine facts to bench/results/gbdt.md.
#   bench/bench_gbdt.sh [N]
# Needs /usr/bin/python3 with numpy, xgboost 1.7 and scikit-learn (Debian's python3-xgboost,
# python3-sklearn); a missing peer is reported as n/a.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-2000000}
shap_rows=100000
"$root/tools/build.sh" "$root/build"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
# Every library here uses libgomp. Its default (spin before sleeping) makes 2-thread runs several times
# slower than 1-thread ones when the cores are shared with other jobs, so all runs sleep at once unless
# the caller says otherwise (OMP_WAIT_POLICY=active on a quiet machine).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
drv="$root/build/tribe_bench_gbdt"
work=${TRIBE_BENCH_DIR:-/tmp/tribe-bench-gbdt}
mkdir -p "$work" "$root/bench/results"
mpi() { local np=$1; shift; mpiexec -n "$np" --oversubscribe --bind-to none "$@"; }
get() { sed -n "s/^$2=//p" "$1" | head -1; } # get FILE KEY
load0=$(cut -d' ' -f1 /proc/loadavg)

OMP_NUM_THREADS=2 "$drv" gen "$n" "$work/data.bin"
# tribe: 1 rank x 2 threads (the comparison), then 1 x 1 and 2 x 1 (scaling, identical model)
OMP_NUM_THREADS=2 mpi 1 "$drv" train "$work/data.bin" "$work/model_1x2.json" "$shap_rows" >"$work/t12.txt"
OMP_NUM_THREADS=1 mpi 1 "$drv" train "$work/data.bin" "$work/model_1x1.json" 0 >"$work/t11.txt"
OMP_NUM_THREADS=1 mpi 2 "$drv" train "$work/data.bin" "$work/model_2x1.json" 0 >"$work/t21.txt"
OMP_NUM_THREADS=2 /usr/bin/python3 "$root/bench/gbdt_peers.py" "$work/data.bin" "$shap_rows" >"$work/peers.txt" ||
  echo "(a peer failed: see $work/peers.txt)" >&2
load1=$(cut -d' ' -f1 /proc/loadavg)

t=$(get "$work/t12.txt" train_s)
shap_rows=$(get "$work/t12.txt" shap_rows) # min(100000, test rows)
x=$(get "$work/peers.txt" "xgboost train_s")
r_t=$(get "$work/t12.txt" r2)
r_x=$(get "$work/peers.txt" "xgboost r2")
sh_t=$(get "$work/t12.txt" shap_s)
sh_x=$(get "$work/peers.txt" "xgboost shap_s")
t11=$(get "$work/t11.txt" train_s)
t21=$(get "$work/t21.txt" train_s)
same() { cmp -s "$1" "$2" && echo yes || echo NO; }
verdict() { [ "$1" = 1 ] && echo met || echo "NOT met"; }
cmpf() { awk -v a="$1" -v b="$2" -v k="$3" 'BEGIN{print ((a <= k * b) ? 1 : 0)}'; } # a <= k * b ?
# "wall (cpu)" for a key of the tribe run file $1 / the peers file with prefix $1
tw() { local w c; w=$(get "$1" "$2_s"); c=$(get "$1" "$2_cpu_s"); echo "${w:-n/a}${c:+ ($c)}"; }
pw() { local w c; w=$(get "$work/peers.txt" "$1 $2_s"); c=$(get "$work/peers.txt" "$1 $2_cpu_s"); echo "${w:-n/a}${c:+ ($c)}"; }
na() { echo "${1:-n/a}"; }
{
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/Model name: *//p');" \
       "load average $load0 before, $load1 after; OMP_WAIT_POLICY=$OMP_WAIT_POLICY; $(date -u +%F)"
  echo
  echo "Data: $n x 16 generated regression rows (bench/gbdt_bench.c), first 80% train, last 20% test;"
  echo "100 trees, 31 leaves, 255 bins, learning rate 0.1, lambda 1, >= 20 rows per child; TreeSHAP on $shap_rows test rows."
  echo "Seconds are wall clock, CPU seconds (user + system, all threads) in parentheses."
  echo
  echo "| library (1 process x 2 threads) | train s | test R² | predict s (test rows) | TreeSHAP s ($shap_rows rows) |"
  echo "|---|---|---|---|---|"
  echo "| tribe | $(tw "$work/t12.txt" train) | $r_t | $(tw "$work/t12.txt" predict) | $(tw "$work/t12.txt" shap) |"
  echo "| XGBoost 1.7 hist (lossguide) | $(pw xgboost train) | $(na "$r_x") | $(pw xgboost predict) | $(pw xgboost shap) |"
  echo "| scikit-learn HistGradientBoostingRegressor | $(pw sklearn train) | $(na "$(get "$work/peers.txt" "sklearn r2")") | $(pw sklearn predict) | n/a |"
  echo
  if [ -n "$x" ]; then
    echo "| target | tribe / XGBoost | verdict |"
    echo "|---|---|---|"
    echo "| train time <= 0.5 x XGBoost | $(awk -v a="$t" -v b="$x" 'BEGIN{printf "%.2f x", a/b}') | $(verdict "$(cmpf "$t" "$x" 0.5)") |"
    echo "| test R² >= XGBoost - 0.002 | $(awk -v a="$r_t" -v b="$r_x" 'BEGIN{printf "%+.5f", a-b}') | $(verdict "$(awk -v a="$r_t" -v b="$r_x" 'BEGIN{print ((a >= b - 0.002) ? 1 : 0)}')") |"
    echo "| TreeSHAP <= XGBoost pred_contribs | $(awk -v a="$sh_t" -v b="$sh_x" 'BEGIN{printf "%.2f x", a/b}') | $(verdict "$(cmpf "$sh_t" "$sh_x" 1)") |"
    echo
  fi
  echo "| tribe ranks x threads | train s | speed-up vs 1 x 1 | model JSON identical to 1 x 1 |"
  echo "|---|---|---|---|"
  echo "| 1 x 1 | $(tw "$work/t11.txt" train) | 1.00 | - |"
  echo "| 2 x 1 | $(tw "$work/t21.txt" train) | $(awk -v a="$t11" -v b="$t21" 'BEGIN{printf "%.2f", a/b}') | $(same "$work/model_1x1.json" "$work/model_2x1.json") |"
  echo "| 1 x 2 | $(tw "$work/t12.txt" train) | $(awk -v a="$t11" -v b="$t" 'BEGIN{printf "%.2f", a/b}') | $(same "$work/model_1x1.json" "$work/model_1x2.json") |"
} | tee "$root/bench/results/gbdt.md"
