#!/usr/bin/env bash
# End-to-end: interrupted runs (docs/cli.md, "Interrupted runs"), without
# Slurm. A run stopped by SIGUSR1 at a stage boundary exits 75 and keeps its
# checkpoint; --resume refuses a checkpoint of another job spec or binary,
# naming both; a rerun resumes it (another rank count too) to the outputs of
# an uninterrupted run; a run killed outright (SIGKILL, as a time limit does
# after its grace period) resumes the same way; killed runs' staging
# directories and temporary files are cleaned, a live run's are not.
source "$(dirname "$0")/lib.sh"

cd "$TMP"
"$TRIBE_BIN" gen --customers 12000 --seed 7 -o raw >/dev/null 2>&1
"$TRIBE_BIN" ingest --transactions raw/transactions.csv --web raw/web_events.csv \
  --demographics raw/demographics.csv -o customers.h5 >/dev/null 2>&1
# The same spec but for its output directory; the driver model after K-Means
# takes seconds, time for a signal to land before the last boundary.
spec() { echo "{\"input\": \"customers.h5\", \"output\": \"$2\", \"run_id\": \"r1\", \"seed\": ${3:-7}}" >"$1"; }
spec ref.json ref
spec job.json out
spec other.json out 8

# start_and_wait_kmeans N SPEC [OUTPUT]: a run in the background ($run_pid)
# until its K-Means checkpoint exists in OUTPUT (default out). A run that ends
# first, or none in 10 minutes (a loaded machine), fails the test aloud: a bare
# "return 1" ended the script under set -e without a word.
start_and_wait_kmeans() {
  "$MPIEXEC" -n "$1" --oversubscribe --bind-to none "$TRIBE_BIN" run "$2" >"$TMP/run.log" 2>&1 &
  run_pid=$!
  for ((i = 0; i < 6000; i++)); do
    compgen -G "${3:-out}/.staging-*/checkpoint-kmeans.h5" >/dev/null && return 0
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.1
  done
  fail "run $2 on $1 ranks saved no K-Means checkpoint in ${3:-out}"
  sed 's/^/    /' "$TMP/run.log" | tail -5
  finish
  exit 1
}

tribe_np 2 run ref.json >/dev/null 2>&1
check "an uninterrupted run on 2 ranks" test -s ref/results.h5

# Stopped by SIGUSR1 (mpiexec passes it to every rank).
start_and_wait_kmeans 2 job.json
kill -USR1 "$run_pid"
rc=0
wait "$run_pid" || rc=$?
check "SIGUSR1 stops the run with exit 75 (got $rc)" test "$rc" -eq 75
check "the stop is logged at a stage boundary" grep -q 'stopped on a signal after stage' "$TMP/run.log"
check "the staging directory keeps the checkpoint" test -s out/.staging-r1/checkpoint-kmeans.h5
check "nothing was published" test ! -e out/results.h5

# --resume with another spec, then another binary: refused, naming both.
expect 2 "checkpoint of job spec [0-9a-f]{16}.*this is job spec [0-9a-f]{16}" -- tribe_np 2 run --resume other.json
check "a refused resume keeps the checkpoint" test -s out/.staging-r1/checkpoint-kmeans.h5
cp out/.staging-r1/checkpoint "$TMP/identity"
sed -i 's/^binary .*/binary tribe 0.0.1 (executable 0123456789abcdef)/' out/.staging-r1/checkpoint
expect 2 "made by tribe 0.0.1 \(executable 0123456789abcdef\).*run by tribe [^ ]+ \(executable [0-9a-f]{16}\)" -- \
  tribe_np 2 run --resume job.json
cp "$TMP/identity" out/.staging-r1/checkpoint
expect 2 "expects \[--resume\]" -- "$TRIBE_BIN" run --resume

# The rerun resumes (on 1 rank: the checkpoint does not depend on the split).
expect 0 "stage kmeans restored from" -- tribe_np 1 run job.json
check "the resumed run equals the uninterrupted one" same_outputs ref out
check "the resumed run removed its staging directory" test ! -e out/.staging-r1

# Killed outright once K-Means is saved, then rerun: the dead owner's
# checkpoint is adopted.
rm -rf out
start_and_wait_kmeans 2 job.json
kill -KILL "$(awk '$1 == "pid" {print $2}' out/.staging-r1/lock)"
wait "$run_pid" || true
expect 0 "resuming run r1 from the checkpoint" -- tribe_np 2 run job.json
check "a run resumed after SIGKILL equals the uninterrupted one" same_outputs ref out

# Leftovers: a killed run's staging directory (its checkpoint of another
# spec is stale without --resume) and temporary file are removed; a live
# run's staging directory is left alone and never read as results.
true &
dead=$!
wait "$dead"
mkdir -p out/.staging-old out/.staging-live
printf 'pid %s\nhost %s\nstart 1\nslurm_job -\nrestart 0\n' "$dead" "$(hostname)" >out/.staging-old/lock
printf 'tribe-checkpoint 1\nspec_hash 0000000000000000\nbinary x\nrun_id old\ninput_hash -\n' \
  >out/.staging-old/checkpoint
: >out/.staging-old/results.h5
: >"out/segments.csv.tmp.$dead"
touch -d '2 hours ago' "out/segments.csv.tmp.$dead" # an unknown writer's: removed once an hour old
: >"out/young.csv.tmp.$dead"
start=$(awk '{print $22}' /proc/$$/stat)
printf 'pid %s\nhost %s\nstart %s\nslurm_job -\nrestart 0\n' "$$" "$(hostname)" "$start" >out/.staging-live/lock
spec quick.json out
sed -i 's/}$/, "run_id": "r2", "drivers": {"enabled": false}, "kmeans": {"k": 3}}/; s/"run_id": "r1", //' quick.json
expect 0 "removing .*staging-old, left by a killed run" -- tribe_np 2 run quick.json
check "the killed run's staging directory is gone" test ! -e out/.staging-old
check "the killed writer's temporary file is gone" test ! -e "out/segments.csv.tmp.$dead"
check "an unknown writer's young temporary file is kept (its pid may be another host's)" test -e "out/young.csv.tmp.$dead"
check "a live run's staging directory is kept" test -e out/.staging-live/lock
check "the run published its own results" grep -qE '"run_id":[[:space:]]*"r2"' out/run.json

# A checkpoint of other input (the same spec, customers.h5 made again from
# other data): --resume refuses it (exit 3, both hashes); a plain run removes
# it and runs afresh under its own run id (the spec gives none).
cp customers.h5 c2.h5
echo '{"input": "c2.h5", "output": "out3", "seed": 7}' >c2.json
start_and_wait_kmeans 2 c2.json out3
kill -USR1 "$run_pid"
wait "$run_pid" || true
old_stage=$(compgen -G 'out3/.staging-*')
"$TRIBE_BIN" ingest --transactions raw/transactions.csv --snapshot 2012-01-31 -o c2.h5 >/dev/null 2>&1
expect 3 "cannot resume: the checkpoint in .* was made from input hashing to [0-9a-f]{16}.* now hashes to" -- \
  tribe_np 2 run --resume c2.json
check "a refused resume keeps the other input's checkpoint" test -s "$old_stage/checkpoint-kmeans.h5"
sleep 1   # a new default run id (UTC time to the second)
expect 0 "made from other input .*removed, run .* starts afresh" -- tribe_np 2 run c2.json
check "the other input's checkpoint is gone" test ! -e "$old_stage"
new_id=$(grep -oE '"run_id":[[:space:]]*"[^"]*"' out3/run.json | head -1 | sed 's/.*"\([^"]*\)"$/\1/')
check "the fresh run published under its own run id ($new_id)" \
  test -s out3/results.h5 -a -n "$new_id" -a ".staging-$new_id" != "${old_stage##*/}"

# Two runs into one output directory. The output directory's lock (<output>/.lock, held by rank 0
# for the whole run) stops the second while the first runs, whatever their run ids. Started at the
# same moment: one publishes; the other stops with a clear message: exit 4 naming the first (it
# started while the first held the lock) or exit 2 (under load it started after the first had
# published the same run id); neither removes the other's files.
spec race.json race
for i in 1 2; do "$TRIBE_BIN" run race.json >"race$i.log" 2>&1 & pids[$i]=$!; done
rcs=""
for i in 1 2; do rc=0; wait "${pids[$i]}" || rc=$?; rcs="$rcs $rc"; done
# (Counted with if: "[[ $r -eq 0 ]] && echo x" piped to wc made the pipeline fail under pipefail when
# the last run listed had lost, and set -e ended the script without a word.)
ok_runs=0
for r in $rcs; do if [[ $r -eq 0 ]]; then ok_runs=$((ok_runs + 1)); fi; done
check "two runs of one run id at once: exactly one publishes (exit codes:$rcs)" test "$ok_runs" -eq 1
check "the other names the clash" grep -qE "output directory .*race is in use by run r1 \(pid [0-9]+ on host|run id 'r1' is already in the history" race1.log race2.log
check "the published run is whole" test -s race/latest/results.h5 -a -s race/latest/report.html
check "no staging directory is left" test -z "$(ls -A race | grep staging || true)"

# The same, deterministically: the first is held (SIGSTOP) once its staging directory exists, the
# second starts then. Also for the default run id of two runs with the same seed in the same second.
# race_held SPEC DIR: $held_rc of the first run, $second_rc of the second (its log in $TMP/second.log).
race_held() {
  "$TRIBE_BIN" run "$1" >"$TMP/held.log" 2>&1 &
  local first=$! i
  for ((i = 0; i < 60000; i++)); do
    compgen -G "$2/.staging-*" >/dev/null || ! kill -0 "$first" 2>/dev/null && break
    sleep 0.01
  done
  kill -STOP "$first" 2>/dev/null || true # (ended already: the checks below say so)
  second_rc=0
  "$TRIBE_BIN" run "$1" >"$TMP/second.log" 2>&1 || second_rc=$?
  kill -CONT "$first" 2>/dev/null || true
  held_rc=0
  wait "$first" || held_rc=$?
}
spec race2.json race2
race_held race2.json race2
check "a second run while the first holds the output directory: exit 4 (got $second_rc)" test "$second_rc" -eq 4
check "it names the directory, the run and its owner" \
  grep -qE "output directory .*race2 is in use by run r1 \(pid [0-9]+ on host [^)]+\)" "$TMP/second.log"
check "the first run publishes untouched (exit $held_rc)" test "$held_rc" -eq 0 -a -s race2/runs/r1/results.h5
echo '{"input": "customers.h5", "output": "race3", "seed": 7, "drivers": {"enabled": false}}' >race3.json
race_held race3.json race3
check "two runs of one seed (default run ids): the second stops with exit 4 (got $second_rc)" test "$second_rc" -eq 4
check "the first publishes (exit $held_rc)" test "$held_rc" -eq 0 -a "$(ls race3/runs | wc -l)" -eq 1
check "no staging directory or temporary file is left" test -z "$(ls -A race2 race3 | grep -E 'staging|\.tmp\.' || true)"

finish
