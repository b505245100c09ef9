#!/usr/bin/env bash
# End-to-end fault injection (docs/outputs.md, "Locks and leftovers"): one rank of a 2-rank ingest
# or run killed outright (kill -9), and SIGTERM to the job. Each ends in bounded time with a known
# exit code, leaves the previous outputs byte for byte (sha256), and the next run succeeds and leaves
# no temporary file, lock or staging directory behind. A committed set of files that a kill cut
# between two renames is completed by the next ingest.
source "$(dirname "$0")/lib.sh"

# must CMD...: a step the test builds on; its failure ends the test aloud (not silently, as set -e).
must() {
  "$@" >"$TMP/must.log" 2>&1 && return 0
  fail "'$*' exited $?"
  sed 's/^/    /' "$TMP/must.log" | tail -8
  finish || true
  exit 1
}
sums() { sha256sum "$@" 2>&1 || true; }

cd "$TMP"
must "$TRIBE_BIN" gen --customers 12000 --seed 7 -o raw
ingest_args=(--transactions raw/transactions.csv --web raw/web_events.csv --demographics raw/demographics.csv)
must tribe_np 2 ingest "${ingest_args[@]}" -o c.h5
cp c.rejects.csv first.rejects.csv
before_ingest=$(sums c.h5 c.rejects.csv)

# rank_pid MPIEXEC_PID RANK: the pid of that rank (a child of mpiexec), nothing (and status 0: this
# runs under set -e) while it has not started.
rank_pid() {
  local p
  for p in $(pgrep -P "$1" || true); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then echo "$p"; fi
  done
  return 0
}

# wait_bounded PID SECONDS: $rc of the background job PID, or 124 (and the job killed) past SECONDS.
wait_bounded() {
  local pid=$1 end=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < end)); do sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; rc=124; wait "$pid" || true; return; }
  rc=0
  wait "$pid" || rc=$?
}

# kill_rank_when GLOB: once both ranks of $job run, and then once GLOB exists (polled without
# sleeping or forking), rank 0 is held (SIGSTOP) so the moment is kept, rank 1 is killed (SIGKILL)
# and rank 0 let go. $killed = 1 on success.
kill_rank_when() {
  local end=$((SECONDS + 60)) r0= r1=
  killed=0
  until [[ -n $r0 && -n $r1 ]]; do
    ((SECONDS < end)) && kill -0 "$job" 2>/dev/null || return 0
    r0=$(rank_pid "$job" 0)
    r1=$(rank_pid "$job" 1)
  done
  until compgen -G "$1" >/dev/null; do ((SECONDS < end)) && kill -0 "$job" 2>/dev/null || return 0; done
  kill -STOP "$r0" && kill -KILL "$r1" && killed=1
  kill -CONT "$r0"
}

# term_ranks: SIGTERM to both ranks of $job, held (SIGSTOP) meanwhile so the signal lands now.
term_ranks() {
  local r=($(rank_pid "$job" 0) $(rank_pid "$job" 1))
  kill -STOP "${r[@]}"
  kill -TERM "${r[@]}"
  kill -CONT "${r[@]}"
}

# The new set an uninterrupted ingest of other data (another snapshot) makes, for comparison.
must tribe_np 1 ingest "${ingest_args[@]}" --snapshot 2012-01-31 -o new.h5
# one_set: customers.h5 and its rejects file are the previous set byte for byte ($before_ingest), or
# the new one whole (the rejects file byte for byte, customers.h5's datasets bit for bit: HDF5 keeps
# object times). $set says which.
one_set() {
  set=previous
  [[ "$(sums c.h5 c.rejects.csv)" == "$before_ingest" ]] && return 0
  set=new
  h5diff c.h5 new.h5 >"$TMP/h5diff.txt" 2>&1 || true
  cmp -s c.rejects.csv new.rejects.csv && ! grep -vE '^attribute: |differences found$|^$' "$TMP/h5diff.txt" | grep -q .
}

# A 2-rank ingest of that data into c.h5: rank 1 killed while the sources are read (the lock
# exists), then after reading while customers.h5 is written (its own temporary exists; the rejects
# file is complete then, and was moved into place already before the fix).
for moment in 'c.h5.lock' 'c.h5.tmp.*'; do
  "$MPIEXEC" -n 2 --oversubscribe --bind-to none "$TRIBE_BIN" ingest "${ingest_args[@]}" --snapshot 2012-01-31 \
    -o c.h5 >"$TMP/kill.log" 2>&1 &
  job=$!
  kill_rank_when "$moment"
  wait_bounded "$job" 30
  check "ingest: rank 1 killed once $moment exists" test "$killed" -eq 1
  check "ingest: the job ends with exit 137 (rank 1's SIGKILL) within 30 s (got $rc)" test "$rc" -eq 137
  check "ingest: customers.h5 and its rejects file are one set" one_set
  # Rank 0 needs rank 1 until the files are written: only the previous set can be left. (Were rank 0
  # held a moment too late, past its last collective, it commits the new set: whole too.)
  check "ingest: killed at $moment, the set is the previous one (got the $set one)" test "$set" = previous
done
check "the killed ingest left its lock and temporaries (the next ingest's to clean)" \
  test -e c.h5.lock -a -n "$(compgen -G 'c.*.tmp.*' || true)"

# SIGTERM to every rank of an ingest, as Slurm sends it at a time limit (the ranks are held while it
# is sent, so it lands during the ingest): ingest has no stop points, so its ranks end on it.
"$MPIEXEC" -n 2 --oversubscribe --bind-to none "$TRIBE_BIN" ingest "${ingest_args[@]}" --snapshot 2012-01-31 \
  -o c.h5 >"$TMP/term.log" 2>&1 &
job=$!
old_lock=$(cat c.h5.lock 2>/dev/null || true)
until [[ "$(cat c.h5.lock 2>/dev/null)" != "$old_lock" ]] || ! kill -0 "$job" 2>/dev/null; do sleep 0.01; done
term_ranks
wait_bounded "$job" 30
check "ingest: SIGTERM ends the job within 30 s with exit 143 (got $rc)" test "$rc" -eq 143
previous_set() { one_set && [[ $set == previous ]]; }
check "ingest: after SIGTERM customers.h5 and the rejects file are the previous ones" previous_set

expect 0 "" -- tribe_np 2 ingest "${ingest_args[@]}" -o c.h5
check "the killed ingest's temporaries were removed by the next ingest to start, naming them" \
  grep -q "removing .*c\.h5\.tmp\..*a killed writer's temporary file" "$TMP/term.log" "$TMP/err.txt"
check "the next ingest leaves no temporary file or lock" test -z "$(ls -A | grep -E '\.tmp\.|\.lock$' || true)"
check "its rejects file is the first ingest's, byte for byte" cmp -s c.rejects.csv first.rejects.csv

# A committed set cut between its renames (the rejects file moved, customers.h5 not yet): the list in
# c.h5.lock, whose writer is dead, is completed by the next ingest before anything else (this one
# then stops on a bad snapshot date, exit 2).
true &
dead=$!
wait "$dead"
cp new.h5 "c.h5.tmp.$dead"
cp new.rejects.csv c.rejects.csv
{
  printf 'pid %s\nhost %s\nstart 1\nslurm_job -\nrestart 0\nwhat tribe ingest\ncommit\n' "$dead" "$(hostname)"
  printf 'from %s\nto %s\n' "$TMP/c.rejects.csv.tmp.$dead" "$TMP/c.rejects.csv" "$TMP/c.h5.tmp.$dead" "$TMP/c.h5"
  printf 'end\n'
} >c.h5.lock
expect 2 "completing the commit of a killed writer .*c\.h5" -- "$TRIBE_BIN" ingest "${ingest_args[@]}" \
  --snapshot 2012-13-45 -o c.h5
new_set() { cmp -s c.h5 new.h5 && cmp -s c.rejects.csv new.rejects.csv; }
check "the cut set is whole again: customers.h5 and the rejects file are the new set's" new_set
check "and nothing of it is left" test -z "$(ls -A | grep -E '\.tmp\.|\.lock$' || true)"

# tribe run on 2 ranks: a published run, then a run with rank 1 killed once K-Means is saved, then
# its resumption stopped by SIGTERM to every rank (at the next stop point: exit 75, checkpoints
# kept), then the run that completes it.
echo '{"input": "c.h5", "output": "out", "seed": 7, "kmeans": {"k": 4}, "drivers": {"enabled": false}}' >job.json
must tribe_np 2 run job.json
outputs=(out/results.h5 out/run.json out/personas.json out/segments.csv out/campaign_plan.csv out/report.html)
before_run=$(sums "${outputs[@]}"; readlink out/latest)
"$MPIEXEC" -n 2 --oversubscribe --bind-to none "$TRIBE_BIN" run job.json >"$TMP/kill.log" 2>&1 &
job=$!
kill_rank_when 'out/.staging-*/checkpoint-kmeans.h5'
wait_bounded "$job" 30
check "run: rank 1 killed once K-Means is saved" test "$killed" -eq 1
check "run: the job ends with exit 137 within 30 s (got $rc)" test "$rc" -eq 137
check "run: the published outputs are untouched" test "$(sums "${outputs[@]}"; readlink out/latest)" = "$before_run"

"$MPIEXEC" -n 2 --oversubscribe --bind-to none "$TRIBE_BIN" run job.json >"$TMP/term.log" 2>&1 &
job=$!
until grep -q "resuming run" "$TMP/term.log" || ! kill -0 "$job" 2>/dev/null; do sleep 0.02; done
term_ranks
wait_bounded "$job" 30
check "run: SIGTERM to the ranks stops the job with exit 75 within 30 s (got $rc)" test "$rc" -eq 75
check "run: it stopped at a stage boundary" grep -q "stopped on a signal after stage" "$TMP/term.log"
check "run: after SIGTERM the published outputs are untouched" \
  test "$(sums "${outputs[@]}"; readlink out/latest)" = "$before_run"

expect 0 "resuming run" -- tribe_np 2 run job.json
check "the next run leaves no staging directory or temporary file" \
  test -z "$(ls -A out | grep -E '^\.staging-|\.tmp\.' || true)"
check "it equals the first run" same_outputs out/runs/"$(ls out/runs | head -1)" out

finish
