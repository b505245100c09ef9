#!/usr/bin/env bash
# End-to-end, unattended under Slurm (a throw-away single-node cluster,
# tests/e2e/lib_slurm.sh), on 2 MPI ranks:
#   1. a job array of two specs (slurm/tribe.sbatch, SLURM_ARRAY_TASK_ID);
#   2. a --requeue job signalled (scancel --signal=USR1 --batch) once its
#      K-Means checkpoint exists: tribe stops at the next stage boundary
#      (exit 75), the script requeues the job, the restart resumes, and the
#      outputs equal array task 0's uninterrupted run of the same spec
#      (results.h5 datasets bit for bit, personas.json, segments.csv);
#   3. slurm/tribe-periodic.sbatch for two periods chained with
#      --dependency=afterok (ingest the period's CSVs, the second exported in
#      two parts, run, publish), and a period published already is not run
#      again.
#
# Needs root, slurm-wlm and munge (skipped, exit 77, otherwise). Environment
# (set by CTest): TRIBE_BIN, TRIBE_SOURCE_DIR. SLURM_KEEP=1 keeps the
# cluster's and the test's directories.
set -euo pipefail

: "${TRIBE_BIN:?TRIBE_BIN must name the tribe binary}"
: "${TRIBE_SOURCE_DIR:?TRIBE_SOURCE_DIR must name the source tree}"

# shellcheck source=lib_slurm.sh
source "$TRIBE_SOURCE_DIR/tests/e2e/lib_slurm.sh"
slurm_skip_unless_ready h5diff

slurm_test_dir test_slurm_requeue || { echo "FAIL: mktemp" >&2; exit 1; }
tmp=$SLURM_TEST_DIR

fail() { echo "FAIL: $*" >&2; exit 1; }
t_start=$SECONDS
lap() { echo "test_slurm_requeue: $1 ($((SECONDS - t_start)) s)"; }

slurm_up || fail "could not bring up the test Slurm cluster"
lap "cluster up in ${SLURM_UP_SECONDS}s"
cd "$tmp"
export TRIBE_BIN

# Data: 20000 customers, so that the stages after K-Means (the driver model)
# last a few seconds, time for the signal to arrive before the last boundary.
"$TRIBE_BIN" gen --customers 20000 --seed 7 -o "$tmp/raw" >/dev/null 2>&1 || fail "tribe gen"
"$TRIBE_BIN" ingest --transactions raw/transactions.csv --web raw/web_events.csv \
  --demographics raw/demographics.csv -o "$tmp/customers.h5" >/dev/null 2>&1 || fail "tribe ingest"
spec() { # spec FILE OUTPUT SEED [extra members]
  echo "{\"input\": \"$tmp/customers.h5\", \"output\": \"$2\", \"run_id\": \"r1\", \"seed\": $3${4:+, $4}}" >"$1"
}
spec "$tmp/a.json" "$tmp/a" 7
spec "$tmp/b.json" "$tmp/b" 8 '"drivers": {"enabled": false}, "kmeans": {"k": 3}'
spec "$tmp/c.json" "$tmp/c" 7

SLURM_WAIT_TIMEOUT=180
SLURM_SBATCH_OPTS=(--nodes=1 --ntasks-per-node=2 --cpus-per-task=1)

# 1. One array, one spec per task.
id=$(sbatch --parsable "${SLURM_SBATCH_OPTS[@]}" --time=5 --array=0-1 \
  "$TRIBE_SOURCE_DIR/slurm/tribe.sbatch" "$tmp/a.json" "$tmp/b.json") || fail "sbatch --array"
for task in 0 1; do
  rc=0
  slurm_wait "${id}_$task" || rc=$?
  [[ $rc -eq 0 ]] || fail "array task $task ended $SLURM_JOB_STATE with exit code $rc"
done
for d in a b; do
  for f in results.h5 personas.json segments.csv report.html; do
    [[ -s $tmp/$d/$f ]] || fail "array: no $tmp/$d/$f"
  done
done
grep -q 'array-task=1 ' tribe-*.out || fail "no array task 1 in the job logs"
cmp -s "$tmp/a/segments.csv" "$tmp/b/segments.csv" && fail "the two array tasks ran the same spec"
lap "array of two specs completed"

# 2. Signalled once its K-Means checkpoint exists, requeued, resumed.
id=$(sbatch --parsable "${SLURM_SBATCH_OPTS[@]}" --time=5 --requeue \
  "$TRIBE_SOURCE_DIR/slurm/tribe.sbatch" "$tmp/c.json") || fail "sbatch --requeue"
for ((i = 0; i < 600; i++)); do
  [[ -e $tmp/c/.staging-r1/checkpoint-kmeans.h5 ]] && break
  sleep 0.1
done
[[ -e $tmp/c/.staging-r1/checkpoint-kmeans.h5 ]] || fail "no K-Means checkpoint after 60 s"
scancel --signal=USR1 --batch "$id" || fail "scancel --signal=USR1 --batch $id"
rc=0
slurm_wait "$id" || rc=$?
[[ $rc -eq 0 ]] || fail "requeued job $id ended $SLURM_JOB_STATE with exit code $rc"
log=$SLURM_JOB_OUT
restarts=$(scontrol -o show job "$id" | grep -o 'Restarts=[0-9]*')
[[ $restarts == Restarts=1 ]] || { cat "$log" >&2; fail "job $id: $restarts, expected one requeue"; }
for pattern in 'stopped on a signal after stage' 'requeued \(restart 1\)' 'restart=1' \
               'resuming run r1' 'stage kmeans restored from'; do
  grep -qE "$pattern" "$log" || { cat "$log" >&2; fail "job log $log lacks /$pattern/"; }
done
for f in personas.json segments.csv campaign_plan.csv; do
  cmp "$tmp/a/$f" "$tmp/c/$f" || fail "$f of the resumed run differs from the uninterrupted one"
done
# Datasets bit for bit; attributes (timings, the spec text with its output
# path) may differ, so h5diff may report attributes only.
h5diff "$tmp/a/results.h5" "$tmp/c/results.h5" >"$tmp/h5diff.txt" 2>&1 || true
if grep -vE '^attribute: |differences found$|^$' "$tmp/h5diff.txt" | grep -q .; then
  cat "$tmp/h5diff.txt" >&2
  fail "results.h5 of the resumed run differs from the uninterrupted one beyond attributes"
fi
for d in "$tmp"/c/.staging-*; do [[ -e $d ]] && fail "the resumed run left $d behind"; done
lap "signalled, requeued and resumed: same results as the uninterrupted run"

# 3. Two periods of real-data style exports, chained.
base=$tmp/base
for p in 1 2; do
  "$TRIBE_BIN" gen --customers 3000 --seed $((10 + p)) --end-date "2025-1$p-28" -o "$base/incoming/2025-1$p" \
    >/dev/null 2>&1 || fail "tribe gen for period $p"
  rm -f "$base/incoming/2025-1$p"/truth.*
done
# The second period exported in two parts, read together.
in2=$base/incoming/2025-12
head -1 "$in2/transactions.csv" >"$in2/transactions-2.csv"
n=$(wc -l <"$in2/transactions.csv")
tail -n +$((n / 2 + 1)) "$in2/transactions.csv" >>"$in2/transactions-2.csv"
head -n $((n / 2)) "$in2/transactions.csv" >"$in2/transactions-1.csv"
rm "$in2/transactions.csv"
echo '{"seed": 7, "kmeans": {"k": 4}, "drivers": {"enabled": false}}' >"$base/job.json"
p1=$(sbatch --parsable "${SLURM_SBATCH_OPTS[@]}" --time=10 \
  "$TRIBE_SOURCE_DIR/slurm/tribe-periodic.sbatch" "$base" 2025-11) || fail "sbatch period 1"
p2=$(sbatch --parsable "${SLURM_SBATCH_OPTS[@]}" --time=10 --dependency="afterok:$p1" \
  "$TRIBE_SOURCE_DIR/slurm/tribe-periodic.sbatch" "$base" 2025-12) || fail "sbatch period 2"
for j in "$p1" "$p2"; do
  rc=0
  slurm_wait "$j" || rc=$?
  [[ $rc -eq 0 ]] || fail "periodic job $j ended $SLURM_JOB_STATE with exit code $rc"
done
for p in 2025-11 2025-12; do
  [[ -s $base/periods/$p/customers.h5 && -s $base/periods/$p/job.json ]] || fail "period $p: no customers.h5/job.json"
done
grep -qE '"run_id":[[:space:]]*"2025-12"' "$base/results/run.json" "$base/results/latest/run.json" 2>/dev/null ||
  fail "the latest published run is not 2025-12"
grep -q 'step ingest: .*transactions-1.csv --transactions .*transactions-2.csv' tribe-periodic-*.out ||
  fail "the two parts of period 2025-12 were not ingested together"
grep -q "\"previous\": \"$base/results\"" "$base/periods/2025-12/job.json" ||
  fail "period 2025-12 does not follow the previous run"
/usr/bin/python3 - "$base/results/run.json" <<'PY' || fail "period 2025-12's run record does not follow 2025-11"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["previous"]["run_id"] == "2025-11", r["previous"]
assert "changes" in r["continuity"] and r["continuity"]["changes"]["transitions"]
PY
/usr/bin/python3 -c 'import json, sys; sys.exit(not json.load(open(sys.argv[1]))["previous"].get("first"))' \
  "$base/results/runs/2025-11/run.json" || fail "period 2025-11 is not the first of its history"
rc=0
SLURM_SBATCH_OPTS+=(--time=10)
slurm_submit_and_wait "$TRIBE_SOURCE_DIR/slurm/tribe-periodic.sbatch" "$base" 2025-12 || rc=$?
[[ $rc -eq 0 ]] || fail "resubmitted period ended $SLURM_JOB_STATE with exit code $rc"
grep -q 'published already' "$SLURM_JOB_OUT" || { cat "$SLURM_JOB_OUT" >&2; fail "a published period ran again"; }
lap "two periods chained with afterok; a published period is not run again"

cd /
slurm_down || fail "teardown left processes behind"
echo "PASS: job array, signal + requeue + resume, periodic chain under Slurm ($((SECONDS - t_start)) s)"
