#!/usr/bin/env bash
# Bad input: a clear message naming the place, the documented exit code, nothing lost.
source "$(dirname "$0")/lib.sh"

tribe_np 1 gen --customers 300 --seed 3 -o "$TMP/raw" 2>/dev/null
T="$TMP/raw/transactions.csv"

# Usage errors: exit 2.
expect 2 "unknown command" -- "$TRIBE_BIN" frobnicate
expect 2 "--transactions" -- "$TRIBE_BIN" ingest -o "$TMP/x.h5"
expect 2 "customers" -- "$TRIBE_BIN" gen -o "$TMP/g"

# A CSV missing a required column: exit 3 naming file and column.
cut -d, -f1-3,5- "$T" >"$TMP/noqty.csv"
expect 3 "noqty.csv.*Quantity" -- "$TRIBE_BIN" ingest --transactions "$TMP/noqty.csv" -o "$TMP/x.h5"
# An empty file: exit 3.
: >"$TMP/empty.csv"
expect 3 "empty.csv.*empty" -- "$TRIBE_BIN" ingest --transactions "$TMP/empty.csv" -o "$TMP/x.h5"
# A missing file: exit 4.
expect 4 "nope.csv" -- "$TRIBE_BIN" ingest --transactions "$TMP/nope.csv" -o "$TMP/x.h5"

# A non-numeric quantity: the row goes to the rejects file with its line number, the rest is kept.
{ head -3 "$T"; echo '999999,85123A,BAD ROW,abc,2011-01-01 10:00:00,2.55,100003,United Kingdom'; tail -n +4 "$T"; } >"$TMP/badqty.csv"
expect 0 "" -- "$TRIBE_BIN" ingest --transactions "$TMP/badqty.csv" --rejects "$TMP/rej.csv" -o "$TMP/ok.h5"
grep -q "^$TMP/badqty.csv,4," "$TMP/rej.csv" && ok "rejects file names line 4" || fail "rejects file names line 4"
grep -q 'Quantity' "$TMP/rej.csv" && ok "rejects file says which field" || fail "rejects reason names Quantity"
# ... and with --strict it is an error naming file and line.
expect 3 "badqty.csv:4" -- "$TRIBE_BIN" ingest --strict --transactions "$TMP/badqty.csv" -o "$TMP/strict.h5"
check "a failed ingest leaves no output file" test ! -e "$TMP/strict.h5"
# --strict names the first unparseable row, not an earlier row a cleaning rule removed (missing CustomerID).
{ head -1 "$T"; echo '999998,85123A,NO ID,1,2011-01-01 10:00:00,2.55,,United Kingdom'; tail -n +2 "$TMP/badqty.csv"; } >"$TMP/badqty2.csv"
expect 3 "badqty2.csv:5: Quantity 'abc' is not an integer \(--strict" -- \
  "$TRIBE_BIN" ingest --strict --transactions "$TMP/badqty2.csv" -o "$TMP/strict.h5"

# Job specs: unknown key and wrong type, exit 2 naming the key.
echo '{"input": "ok.h5", "output": "o", "kmeans": {"kk": 4}}' >"$TMP/unknown.json"
expect 2 "unknown.json.*'kmeans.kk'" -- "$TRIBE_BIN" run "$TMP/unknown.json"
echo '{"input": "ok.h5", "output": "o", "kmeans": {"k": "four"}}' >"$TMP/type.json"
expect 2 "type.json.*'kmeans.k' must be an integer" -- "$TRIBE_BIN" run "$TMP/type.json"

# A good run, then failing runs into the same output directory: earlier results stay intact.
write_job "$TMP/good.json" "$TMP/ok.h5" "$TMP/out" 3
expect 0 "" -- "$TRIBE_BIN" run "$TMP/good.json"
before=$(md5sum "$TMP/out/report.html" "$TMP/out/results.h5" | md5sum)
# K larger than the number of customers: exit 3.
write_job "$TMP/bigk.json" "$TMP/ok.h5" "$TMP/out" 1000
expect 3 "K=1000 but .* only [0-9]+ customers" -- "$TRIBE_BIN" run "$TMP/bigk.json"
# An input HDF5 that is not tribe's: exit 3.
$PY -c "import h5py; h5py.File('$TMP/foreign.h5','w').create_dataset('x', data=[1,2,3])"
write_job "$TMP/foreign.json" "$TMP/foreign.h5" "$TMP/out" 3
expect 3 "foreign.h5.*not a tribe customers file" -- "$TRIBE_BIN" run "$TMP/foreign.json"
after=$(md5sum "$TMP/out/report.html" "$TMP/out/results.h5" | md5sum)
check "previous results untouched by failed runs" test "$before" = "$after"
check "no staging directory left behind" test -z "$(ls -A "$TMP/out" | grep staging || true)"
# An output directory that cannot be written: exit 4.
mkdir -p "$TMP/ro" && chmod 0555 "$TMP/ro"
write_job "$TMP/ro.json" "$TMP/ok.h5" "$TMP/ro/out" 3
if [[ $(id -u) -eq 0 ]]; then
  # root ignores permissions: use a path under a regular file instead.
  write_job "$TMP/ro.json" "$TMP/ok.h5" "$TMP/raw/truth.csv/out" 3
fi
expect 4 "out.*(not a directory|cannot create|not writable)" -- "$TRIBE_BIN" run "$TMP/ro.json"
# The same with MPI: one message, same code on every rank.
expect 3 "K=1000" -- tribe_np 2 run "$TMP/bigk.json"
# Paths past 256 characters (Open MPI's lockedfile shared-file-pointer component aborted in
# MPI_File_open on them): generating, ingesting and a run on 2 ranks work.
LONG="$TMP/$(printf 'd%.0s' {1..120})/$(printf 'e%.0s' {1..120})/$(printf 'f%.0s' {1..40})"
mkdir -p "$LONG"
expect 0 "" -- tribe_np 2 gen --blobs --customers 800 --seed 3 -o "$LONG/c.h5"
write_job "$LONG/job.json" "$LONG/c.h5" "$LONG/out" 3
expect 0 "" -- tribe_np 2 run "$LONG/job.json"
check "a run under a ${#LONG}-character directory is published" test -s "$LONG/out/latest/results.h5"
# Run ids and paths that would fail late are refused when the spec is read.
for id in . .. "$(printf 'r%.0s' {1..129})"; do
  printf '{"input": "%s", "output": "%s", "run_id": "%s"}' "$TMP/ok.h5" "$TMP/out" "$id" >"$TMP/badid.json"
  expect 2 "run_id" -- "$TRIBE_BIN" run "$TMP/badid.json"
done
finish
