#!/usr/bin/env bash
# tribe import: a ready feature table becomes customers.h5, and bad tables are refused clearly.
source "$(dirname "$0")/lib.sh"
{
  echo "customer_id,recency_days,frequency,monetary,score"
  for i in $(seq 1 400); do
    echo "$((5000 - i)),$((i % 97)),$((1 + i % 9)),$((i * 13 % 1000)).5,$((i % 5))"
  done
} >"$TMP/features.csv"
expect 0 "" -- tribe_np 2 import "$TMP/features.csv" -o "$TMP/f.h5"
tribe_np 1 export "$TMP/f.h5" --csv "$TMP/back.csv" >/dev/null
check "400 customers, sorted by id" test "$(sed -n 2p "$TMP/back.csv" | cut -d, -f1)" = "4600"
check "header kept" test "$(head -1 "$TMP/back.csv")" = "customer_id,recency_days,frequency,monetary,score"
write_job "$TMP/job.json" "$TMP/f.h5" "$TMP/out" 3
expect 0 "" -- tribe_np 2 run "$TMP/job.json"
check "segments from an imported table" test -s "$TMP/out/segments.csv"
printf 'id,a\n1,2\n2,x\n' >"$TMP/bad.csv"
expect 3 "bad.csv.*3.*'?a'?" -- "$TRIBE_BIN" import "$TMP/bad.csv" -o "$TMP/b.h5"
# an id that does not parse: file, line, column and what is wrong with the value (it was
# "column 'customer_id': customer id 'C-12' is not an integer"), the same from assign's CSV input
printf 'customer_id,recency_days,frequency,monetary,score\n4999,1,1,10.5,1\nC-12,3,4,5,6\n' >"$TMP/feats.csv"
expect 3 "feats.csv:3: column 'customer_id': 'C-12' is not an integer id \(use --id-type string\)$" -- \
  "$TRIBE_BIN" import "$TMP/feats.csv" -o "$TMP/b.h5"
expect 3 "feats.csv:3: column 'customer_id': 'C-12' is not an integer id \(use --id-type string\)$" -- \
  tribe_np 2 assign "$TMP/out/results.h5" "$TMP/feats.csv" -o "$TMP/labels.csv"
check "nothing written" test ! -e "$TMP/b.h5" -a ! -e "$TMP/labels.csv"
expect 0 "" -- "$TRIBE_BIN" assign "$TMP/out/results.h5" "$TMP/feats.csv" --id-type string -o "$TMP/labels.csv"
printf 'customer_id,recency_days,frequency,monetary,score\n4999,1,1,10.5,1\n ,3,4,5,6\n' >"$TMP/noid.csv"
expect 3 "noid.csv:3: column 'customer_id': the customer id is empty$" -- "$TRIBE_BIN" import "$TMP/noid.csv" -o "$TMP/b.h5"
printf 'id,a\n1,2\n1,3\n' >"$TMP/dup.csv"
expect 3 "dup.csv.*id 1 appears twice" -- "$TRIBE_BIN" import "$TMP/dup.csv" -o "$TMP/b.h5"
finish
