#!/usr/bin/env bash
# The main job on generated data, from a fresh clone:
#   installs missing Debian packages, builds, generates ~100k customers
#   (transactions, web sessions, demographics, reviews), ingests them and runs the
#   segmentation job on 2 MPI ranks. Prints where the results went.
#   tools/demo.sh [CUSTOMERS] [RANKS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
customers=${1:-100000}
ranks=${2:-2}
"$root/tools/setup.sh"
echo "== building tribe" >&2
"$root/tools/build.sh" "$root/build"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
mpirun=(mpiexec -n "$ranks" --oversubscribe --bind-to none)
tribe="$root/build/tribe"
out="$root/out/demo"
mkdir -p "$out"
echo "== generating $customers customers" >&2
"${mpirun[@]}" "$tribe" gen --customers "$customers" --seed 42 -o "$out/raw"
echo "== ingesting" >&2
"${mpirun[@]}" "$tribe" ingest --transactions "$out/raw/transactions.csv" --web "$out/raw/web_events.csv" \
  --demographics "$out/raw/demographics.csv" --text "$out/raw/reviews.csv" --rejects "$out/rejects.csv" \
  -o "$out/customers.h5" --target "$out/customers.target.h5"  # + the BG/NBD inputs the ltv stage predicts from
# The lifetime-value and churn windows (docs/ltv.md): features as of each cutoff, spend in the 90 days
# after it; the job learns on the first, chooses and scores its models on the second.
for w in "train 2011-06-01" "test 2011-08-30"; do
  set -- $w
  echo "== ingesting the $1 window (cutoff $2, 90 days)" >&2
  "${mpirun[@]}" "$tribe" ingest --transactions "$out/raw/transactions.csv" --web "$out/raw/web_events.csv" \
    --demographics "$out/raw/demographics.csv" --cutoff "$2" --horizon 90 -o "$out/ltv-$1.h5" 2>"$out/ltv-$1.log" ||
    { cat "$out/ltv-$1.log" >&2; exit 1; }
done
echo "== running jobs/demo.json on $ranks ranks" >&2
"${mpirun[@]}" "$tribe" run "$root/jobs/demo.json"
"${mpirun[@]}" "$tribe" export "$out/results/results.h5" --csv "$out/results/customers.csv" >/dev/null
# Tokens for `tribe serve` (docs/api.md): made once, kept private.
if [[ ! -s "$out/tokens.txt" ]]; then
  (umask 077; printf 'read %s\nwrite %s\n' "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" \
    "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" >"$out/tokens.txt")
fi
cat <<MSG

Results are in $out/results:
  report.html     open it in a browser (self-contained)
  personas.json   personas, e-mails and taglines per segment
  segments.csv    one row per segment
  campaign_plan.csv  the recommended campaign per segment
  results.h5      labels, distances, model and run record (docs/hdf5-layout.md)
  run.json        the run record: settings, timings, every stage's figures (docs/outputs.md)
  customers.csv   one row per customer with its segment
  migration.csv   who moved between segments since the previous run (only a header here: the demo
                  job names no "previous"; docs/resegmentation.md shows a monthly history)
  runs/, latest   every run kept under its run id (tribe history $out/results)
Data-quality rejects: $out/rejects.csv

The look-up API and the dashboard over these results (sign in with the write token of
$out/tokens.txt at http://127.0.0.1:8080/):
  build/tribe serve out/demo/results --tokens out/demo/tokens.txt --contacts out/demo/raw/contacts.csv
MSG
