#!/usr/bin/env bash
# End-to-end: a run stopped inside the K sweep of the kmeans stage (docs/cli.md,
# "Interrupted runs"). The test hook TRIBE_TEST_STOP_AFTER_K=K raises the stop
# flag after K's fit, as a signal arriving during that fit would. The run
# exits 75 with the K values fitted so far in a partial checkpoint; a resume
# on another rank count reuses them and stops again later (its partial
# checkpoint holds both runs' fits); the last resume refits only the rest
# and equals an uninterrupted run bit for bit; --resume of another spec is
# refused as for a stage checkpoint.
source "$(dirname "$0")/lib.sh"

cd "$TMP"
"$TRIBE_BIN" gen --customers 12000 --seed 7 -o raw >/dev/null 2>&1
"$TRIBE_BIN" ingest --transactions raw/transactions.csv --web raw/web_events.csv \
  --demographics raw/demographics.csv -o customers.h5 >/dev/null 2>&1
# The default K sweep (3..8); no driver model, which comes after K-Means.
spec() {
  echo "{\"input\": \"customers.h5\", \"output\": \"$2\", \"run_id\": \"r1\", \"seed\": ${3:-7},
    \"drivers\": {\"enabled\": false}}" >"$1"
}
spec ref.json ref
spec job.json out
spec other.json out 8
stage=out/.staging-r1

tribe_np 2 run ref.json >/dev/null 2>&1
check "an uninterrupted run on 2 ranks" test -s ref/results.h5

# Stopped after K=4's fit on 2 ranks.
export TRIBE_TEST_STOP_AFTER_K=4
expect 75 "stopped on a signal inside stage kmeans" -- tribe_np 2 run job.json
check "the stop came after K=4 with K=3 and 4 kept" grep -q "K sweep stopped after the fit of K=4 (2 K values" \
  "$TMP/err.txt"
check "the staging directory keeps the partial checkpoint" test -s $stage/checkpoint-kmeans.partial.h5
check "the identity file lists it" grep -qx "partial kmeans" $stage/checkpoint
check "no stage checkpoint of kmeans yet" test ! -e $stage/checkpoint-kmeans.h5
check "nothing was published" test ! -e out/results.h5

expect 2 "checkpoint of job spec [0-9a-f]{16}.*this is job spec [0-9a-f]{16}" -- tribe_np 2 run --resume other.json
check "a refused resume keeps the partial checkpoint" test -s $stage/checkpoint-kmeans.partial.h5

# Resumed on 1 rank, stopped again after K=6: K=3 and 4 are not refitted.
export TRIBE_TEST_STOP_AFTER_K=6
expect 75 "K sweep stopped after the fit of K=6 \(4 K values" -- tribe_np 1 run --resume job.json
check "the resume read the partial checkpoint" grep -q "stage kmeans resumes from .*checkpoint-kmeans.partial.h5" \
  "$TMP/err.txt"
check "K=3 and K=4 were restored, not refitted" \
  test "$(grep -cE 'K=[34]: fit restored from a checkpoint' "$TMP/err.txt")" -eq 2
check "K=5 was fitted, not restored" bash -c "! grep -q 'K=5: fit restored' '$TMP/err.txt'"

# Resumed on 2 ranks to the end: K=3..6 restored, 7 and 8 fitted.
unset TRIBE_TEST_STOP_AFTER_K
expect 0 "K=6: fit restored from a checkpoint" -- tribe_np 2 run job.json
check "four fits restored" test "$(grep -c 'fit restored from a checkpoint' "$TMP/err.txt")" -eq 4
check "the resumed run equals the uninterrupted one" same_outputs ref out
check "the resumed run removed its staging directory" test ! -e $stage
check "the run record counts every K's passes as the uninterrupted one" \
  test "$(grep -oE '"fit_passes_total":[[:space:]]*[0-9]+' out/run.json)" = \
  "$(grep -oE '"fit_passes_total":[[:space:]]*[0-9]+' ref/run.json)"

finish
