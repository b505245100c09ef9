#!/usr/bin/env bash
# Coverage of tribe campaign measure's intervals through the CLI (docs/experiments.md): one run on
# generated customers, then REPS planted experiments, each a new campaign name (so new arms: send
# --holdout), a new planted effect (gen --effect --seed) and a measure; prints and writes the table of
# how often each 95% interval covered the planted truth (bench/results/experiments.md; with another
# BASE_SEED, experiments-base<SEED>.md).
#   bench/bench_experiments.sh [REPS] [CUSTOMERS] [HOLDOUT] [BASE_SEED]  (defaults 200, 20000, 0.2, 11)
# BASE_SEED is the generated customer base's seed: a batch on another base checks that the coverage
# does not belong to one base.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
reps=${1:-200}
n=${2:-20000}
holdout=${3:-0.2}
base_seed=${4:-11}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
tribe=${TRIBE_BIN:-$root/build/tribe}
work=${TRIBE_BENCH_DIR:-/tmp/tribe-bench-exp}
rm -rf "$work"
mkdir -p "$work/reps" "$root/bench/results"

"$tribe" gen --customers "$n" --seed "$base_seed" -o "$work/raw" >/dev/null 2>&1
"$tribe" ingest --transactions "$work/raw/transactions.csv" -o "$work/c.h5" >/dev/null 2>&1
echo '{"input": "c.h5", "output": "out", "seed": 3, "kmeans": {"k": 4}, "run_id": "exp"}' >"$work/job.json"
(cd "$work" && "$tribe" run job.json >/dev/null 2>&1)
segs=$(cut -d, -f1 "$work/out/campaign_plan.csv" | tail -n +2)

t0=$(date +%s)
for rep in $(seq 1 "$reps"); do
  d=$work/reps/$rep
  mkdir -p "$d"
  for s in $segs; do
    "$tribe" campaign send --results "$work/out" --segment "$s" --contacts "$work/raw/contacts.csv" \
      --channel email --holdout "$holdout" --campaign "bench $rep" --outbox "$d/outbox.jsonl" >/dev/null 2>&1
  done
  "$tribe" gen --effect "$d/outbox.jsonl" -o "$d" --seed "$rep" >/dev/null 2>&1
  "$tribe" campaign measure --outbox "$d/outbox.jsonl" --transactions "$d/transactions.csv" --out "$d" \
    >/dev/null 2>&1
done
t1=$(date +%s)

python3 - "$work/reps" "$reps" "$n" "$holdout" "$((t1 - t0))" "$root/bench/results/experiments$([ "$base_seed" = 11 ] || echo "-base$base_seed").md" <<'PY'
import csv, glob, math, os, sys
base, reps, n, holdout, secs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
keys = [("conversion_lift", "conversion difference (Newcombe)"), ("conversion_rel_lift", "conversion ratio (Katz log)"),
        ("spend_lift", "spend difference (Welch)"), ("spend_rel_lift", "spend ratio (log delta method)")]
hit, tot, sizes = {}, {}, {}
for d in sorted(glob.glob(base + "/*")):
    got = {r["segment"]: r for r in csv.DictReader(open(glob.glob(d + "/experiment_*.csv")[0]))}
    for t in csv.DictReader(open(d + "/effect_truth.csv")):
        g, row = got[t["segment"]], ("overall" if t["segment"] == "all" else "segments")
        sizes.setdefault(t["segment"], []).append((int(g["n_control"]), int(g["conversions_control"])))
        for k, _ in keys:
            lo, hi = g[k + "_lo"], g[k + "_hi"]
            c = lo != "" and float(lo) <= float(t[k]) <= float(hi)
            for grp in (row, "all rows"):
                hit[grp, k] = hit.get((grp, k), 0) + c
                tot[grp, k] = tot.get((grp, k), 0) + 1
lines = [f"{reps} planted experiments through the CLI ({n} generated customers, {len(sizes) - 1} segments, "
         f"holdout {holdout}, {secs} s): coverage of the 95% intervals, in percent (binomial standard error in "
         f"brackets)", "", "| interval | segment rows | overall row | all rows |", "|---|---|---|---|"]
for k, name in keys:
    cells = []
    for grp in ("segments", "overall", "all rows"):
        p, m = hit[grp, k] / tot[grp, k], tot[grp, k]
        cells.append(f"{100 * p:.1f} (±{100 * math.sqrt(0.95 * 0.05 / m):.1f}, {m})")
    lines.append(f"| {name} | " + " | ".join(cells) + " |")
lines += ["", "Control group per segment (mean over the repetitions): " + ", ".join(
    f"segment {s}: {sum(a for a, _ in v) / len(v):.0f} customers, {sum(b for _, b in v) / len(v):.0f} converters"
    for s, v in sorted(sizes.items()) if s != "all")]
text = "\n".join(lines) + "\n"
print(text)
open(out, "w").write(text)
PY
