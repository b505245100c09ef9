#!/usr/bin/env bash
# Gradient boosting against XGBoost 1.7 `hist` and scikit-learn's HistGradientBoostingRegressor on the
# same generated data (N x 16, default N = 2,000,000; 80/20 split), on two targets: "bench" (a smooth
# function plus Gaussian noise) and "spend" (dollar spend from the same features: lognormal, cents,
# skewed like real customer spend). Then tribe's 2-rank vs 1-rank training on each. Every timing is the
# best of REPEAT runs (default 3). Prints markdown tables and writes them with the machine facts to
# bench/results/gbdt.md.
#   bench/bench_gbdt.sh [N [REPEAT]]
# Needs /usr/bin/python3 with numpy, xgboost 1.7 and scikit-learn (Debian's python3-xgboost,
# python3-sklearn); a missing peer is reported as n/a.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-2000000}
rep=${2:-3}
shap_rows=100000
"$root/tools/build.sh" "$root/build"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
# Every library here uses libgomp. Its default (spin before sleeping) makes 2-thread runs several times
# slower than 1-thread ones when the cores are shared with other jobs, so all runs sleep at once unless
# the caller says otherwise (OMP_WAIT_POLICY=active on a quiet machine).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
drv="$root/build/tribe_bench_gbdt"
peers="$root/bench/gbdt_peers.py"
work=${TRIBE_BENCH_DIR:-/tmp/tribe-bench-gbdt}
mkdir -p "$work" "$root/bench/results"
get() { sed -n "s/^$2=//p" "$1" | head -1; } # get FILE KEY
# best OUT KEY CMD...: runs CMD $rep times, keeps in OUT the output of the run with the smallest KEY
best() {
  local out=$1 key=$2 r b="" v
  shift 2
  for r in $(seq "$rep"); do
    "$@" >"$out.$r" || { echo "(failed: $*; see $out.$r)" >&2; return 0; }
    v=$(get "$out.$r" "$key")
    if [ -z "$b" ] || awk -v a="$v" -v b="$b" 'BEGIN{exit !(a < b)}'; then b=$v; cp "$out.$r" "$out"; fi
  done
}
load0=$(cut -d' ' -f1 /proc/loadavg)

for tg in bench spend; do
  OMP_NUM_THREADS=2 "$drv" gen "$n" "$work/$tg.bin" "$tg"
  sr=$([ "$tg" = bench ] && echo "$shap_rows" || echo 0)
  # tribe: 1 rank x 2 threads (the comparison), then 1 x 1 and 2 x 1 (scaling, identical model)
  best "$work/t12_$tg.txt" train_s env OMP_NUM_THREADS=2 mpiexec -n 1 --bind-to none "$drv" train "$work/$tg.bin" \
    "$work/model_1x2_$tg.json" "$sr"
  best "$work/t11_$tg.txt" train_s env OMP_NUM_THREADS=1 mpiexec -n 1 --bind-to none "$drv" train "$work/$tg.bin" \
    "$work/model_1x1_$tg.json" 0
  best "$work/t21_$tg.txt" train_s env OMP_NUM_THREADS=1 mpiexec -n 2 --oversubscribe --bind-to none "$drv" train \
    "$work/$tg.bin" "$work/model_2x1_$tg.json" 0
  best "$work/xgb_$tg.txt" "xgboost train_s" env OMP_NUM_THREADS=2 /usr/bin/python3 "$peers" "$work/$tg.bin" "$sr" xgboost
  if [ "$tg" = bench ]; then
    best "$work/skl_$tg.txt" "sklearn train_s" env OMP_NUM_THREADS=2 /usr/bin/python3 "$peers" "$work/$tg.bin" 0 sklearn
  fi
done
load1=$(cut -d' ' -f1 /proc/loadavg)

same() { cmp -s "$1" "$2" && echo yes || echo NO; }
verdict() { [ "$1" = 1 ] && echo met || echo "NOT met"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if (a == "" || b == "") print "n/a"; else printf "%.2f", a/b}'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN{print ((a != "" && b != "" && a <= b) ? 1 : 0)}'; } # a <= b ?
# "wall (cpu)" for the key prefix $2 of the file $1 ("train", "xgboost train", ...)
tw() { local w c; w=$(get "$1" "$2_s"); c=$(get "$1" "$2_cpu_s"); echo "${w:-n/a}${c:+ ($c)}"; }
na() { echo "${1:-n/a}"; }
w=$work
{
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/Model name: *//p');" \
       "load average $load0 before, $load1 after; OMP_WAIT_POLICY=$OMP_WAIT_POLICY; best of $rep; $(date -u +%F)"
  echo
  echo "Data: $n x 16 generated rows (bench/gbdt_bench.c), first 80% train, last 20% test; targets \"bench\""
  echo "(smooth function + noise) and \"spend\" (lognormal dollars with cents, same features)."
  echo "100 trees, 31 leaves, 255 bins, learning rate 0.1, lambda 1, >= 20 rows per child; TreeSHAP on $(get "$w/t12_bench.txt" shap_rows) test rows."
  echo "Seconds are wall clock, CPU seconds (user + system, all threads) in parentheses."
  echo
  echo "| library (1 process x 2 threads), bench target | train s | test R² | predict s (test rows) | TreeSHAP s |"
  echo "|---|---|---|---|---|"
  echo "| tribe | $(tw "$w/t12_bench.txt" train) | $(get "$w/t12_bench.txt" r2) | $(tw "$w/t12_bench.txt" predict) | $(tw "$w/t12_bench.txt" shap) |"
  echo "| XGBoost 1.7 hist (lossguide) | $(tw "$w/xgb_bench.txt" "xgboost train") | $(na "$(get "$w/xgb_bench.txt" "xgboost r2")") | $(tw "$w/xgb_bench.txt" "xgboost predict") | $(tw "$w/xgb_bench.txt" "xgboost shap") |"
  echo "| scikit-learn HistGradientBoostingRegressor | $(tw "$w/skl_bench.txt" "sklearn train") | $(na "$(get "$w/skl_bench.txt" "sklearn r2")") | $(tw "$w/skl_bench.txt" "sklearn predict") | n/a |"
  echo
  echo "| target (1 x 2) | tribe train s | XGBoost train s | tribe / XGBoost (<= 0.4) | tribe R² | XGBoost R² | R² difference (within 0.002) |"
  echo "|---|---|---|---|---|---|---|"
  for tg in bench spend; do
    t=$(get "$w/t12_$tg.txt" train_s) x=$(get "$w/xgb_$tg.txt" "xgboost train_s")
    rt=$(get "$w/t12_$tg.txt" r2) rx=$(get "$w/xgb_$tg.txt" "xgboost r2")
    dr=$(awk -v a="$rt" -v b="$rx" 'BEGIN{if (b == "") print "n/a"; else printf "%+.5f", a-b}')
    okr=$(awk -v a="$rt" -v b="$rx" 'BEGIN{d = a - b; print ((b != "" && d <= 0.002 && d >= -0.002) ? 1 : 0)}')
    echo "| $tg | $(tw "$w/t12_$tg.txt" train) | $(tw "$w/xgb_$tg.txt" "xgboost train") | $(ratio "$t" "$x") x: $(verdict "$(le "$t" "$(awk -v b="$x" 'BEGIN{print 0.4*b}')")") | $rt | $(na "$rx") | $dr: $(verdict "$okr") |"
  done
  sh_t=$(get "$w/t12_bench.txt" shap_s) sh_x=$(get "$w/xgb_bench.txt" "xgboost shap_s")
  echo
  echo "TreeSHAP: tribe / XGBoost pred_contribs = $(ratio "$sh_t" "$sh_x") x ($(verdict "$(le "$sh_t" "$sh_x")"))."
  echo
  echo "| tribe ranks x threads | target | train s | speed-up vs 1 x 1 | model JSON identical to 1 x 1 |"
  echo "|---|---|---|---|---|"
  for tg in bench spend; do
    t11=$(get "$w/t11_$tg.txt" train_s) t21=$(get "$w/t21_$tg.txt" train_s) t12=$(get "$w/t12_$tg.txt" train_s)
    echo "| 1 x 1 | $tg | $(tw "$w/t11_$tg.txt" train) | 1.00 | - |"
    echo "| 2 x 1 | $tg | $(tw "$w/t21_$tg.txt" train) | $(ratio "$t11" "$t21") (>= 1.8: $(verdict "$(le "$(awk -v a="$t21" 'BEGIN{print 1.8*a}')" "$t11")")) | $(same "$w/model_1x1_$tg.json" "$w/model_2x1_$tg.json") |"
    echo "| 1 x 2 | $tg | $(tw "$w/t12_$tg.txt" train) | $(ratio "$t11" "$t12") | $(same "$w/model_1x1_$tg.json" "$w/model_1x2_$tg.json") |"
  done
} | tee "$root/bench/results/gbdt.md"
