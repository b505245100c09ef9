#!/usr/bin/env bash
# CSV formula injection: cells planted in the demographics, the transactions and the job spec come out of
# every CSV tribe writes (export, assign, segments.csv, campaign_plan.csv, the rejects file) with a
# leading ' and quoted (docs/outputs.md, "CSV files"); numbers, negative ones included, are unchanged.
source "$(dirname "$0")/lib.sh"

setup_failed() { fail "$1 failed"; tail -5 "$TMP/setup.log"; finish; }
tribe_np 1 gen --customers 800 --seed 5 -o "$TMP/raw" >"$TMP/setup.log" 2>&1 || setup_failed gen

# Plant the payloads in demographics text fields (Country, Occupation, Subscription) of the first rows,
# and as the first cell of malformed transactions records (the rejects file's raw column).
TAB=$'\t'
$PY - "$TMP/raw/demographics.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
head, body = rows[0], rows[1:]
c, o, s = head.index("Country"), head.index("Occupation"), head.index("Subscription")
plant = [(c, "=1+1"), (o, "@SUM(A1)"), (s, "+cmd|' /C calc'!A0"), (o, "-2+3"), (o, "\tTAB"), (s, "-12"),
         (o, "'=already")]
for i, (col, v) in enumerate(plant):
    for r in body[i::len(plant) * 4][:40]:   # enough customers that each value survives ingest
        r[col] = v
with open(sys.argv[1], "w", newline="") as f:
    csv.writer(f, lineterminator="\n").writerows([head] + body)
PY
printf '%s\n' '=1+1,x' '@SUM(A1),x' "+cmd|' /C calc'!A0,x" '-2+3,x' "${TAB}x,y" >>"$TMP/raw/transactions.csv"

tribe_np 2 ingest --transactions "$TMP/raw/transactions.csv" --demographics "$TMP/raw/demographics.csv" \
  -o "$TMP/c.h5" --rejects "$TMP/rejects.csv" >"$TMP/setup.log" 2>&1 || setup_failed ingest
write_job "$TMP/job.json" c.h5 out 3 '"run_id": "inj", "campaign": {"rules": [{"segment_match": "*", "campaign": "=1+1", "tone": "@SUM(A1)", "timing": "-2+3"}]}'
tribe_np 2 run "$TMP/job.json" >"$TMP/setup.log" 2>&1 || setup_failed run
tribe_np 2 export "$TMP/out/results.h5" --csv "$TMP/export.csv" >"$TMP/setup.log" 2>&1 || setup_failed export
tribe_np 2 assign "$TMP/out/results.h5" "$TMP/c.h5" -o "$TMP/assign.csv" >"$TMP/setup.log" 2>&1 || setup_failed assign

# A feature table with real negative numbers: export writes them as numbers.
{
  echo "customer_id,recency_days,frequency,balance"
  for i in $(seq 1 60); do echo "$((100 + i)),$((i % 7)),$((1 + i % 3)),-$((i % 13)).5"; done
  echo "200,3,1,-12"
} >"$TMP/features.csv"
tribe_np 1 import "$TMP/features.csv" -o "$TMP/f.h5" >"$TMP/setup.log" 2>&1 || setup_failed import
tribe_np 2 export "$TMP/f.h5" --csv "$TMP/numbers.csv" >"$TMP/setup.log" 2>&1 || setup_failed "export of numbers"

# Every cell of every CSV: a cell starting with = + - @ tab or CR is a plain number; nothing else may.
for f in export.csv assign.csv out/segments.csv out/campaign_plan.csv rejects.csv numbers.csv; do
  check "$f: no cell a spreadsheet would run as a formula" $PY - "$TMP/$f" <<'PY'
import csv, re, sys
number = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")
bad = [(i, c) for i, row in enumerate(csv.reader(open(sys.argv[1], newline="")))
       for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not number.match(c)]
sys.exit(print("   ", bad[:5]) or 1 if bad else 0)
PY
done

# has FILE VALUE: VALUE is a whole cell of FILE (after RFC 4180 unquoting).
has() {
  $PY - "$@" <<'PY'
import csv, sys
sys.exit(0 if any(sys.argv[2] in row for row in csv.reader(open(sys.argv[1], newline=""))) else 1)
PY
}
for v in "'=1+1" "'@SUM(A1)" "'+cmd|' /C calc'!A0" "'-2+3" "''=already"; do
  check "export.csv holds the demographics cell $v neutralised" has "$TMP/export.csv" "$v"
done
check "the tab-leading demographics cell was trimmed at ingest (TAB)" has "$TMP/export.csv" "TAB"
check "export.csv keeps the text cell -12 (a plain number) as it is" has "$TMP/export.csv" "-12"
check "export.csv quotes a neutralised cell on disk" grep -qF "\"'=1+1\"" "$TMP/export.csv"
for v in "'=1+1" "'@SUM(A1)" "'-2+3"; do
  check "campaign_plan.csv holds the spec's $v neutralised" has "$TMP/out/campaign_plan.csv" "$v"
done
check "the rejects file's raw column starts with a neutralised =1+1" has "$TMP/rejects.csv" "'=1+1,x"
check "the rejects file's raw column starts with a neutralised @SUM(A1)" has "$TMP/rejects.csv" "'@SUM(A1),x"
check "the rejects file's raw column starts with a neutralised +cmd" has "$TMP/rejects.csv" "'+cmd|' /C calc'!A0,x"
check "the rejects file's raw column starts with a neutralised -2+3" has "$TMP/rejects.csv" "'-2+3,x"
check "the rejects file's raw column starts with a neutralised tab" has "$TMP/rejects.csv" "'${TAB}x,y"
check "negative numbers exported unchanged (-12, -0.5, -12.5)" \
  bash -c "grep -q '^200,3,1,-12$' '$TMP/numbers.csv' && grep -q ',-0.5$' '$TMP/numbers.csv' && grep -q ',-12.5$' '$TMP/numbers.csv'"
# tribe reads its own plan back: the campaign's name is the spec's text, without the added '.
tribe_np 1 campaign send --results "$TMP/out" --segment 0 --contacts "$TMP/raw/contacts.csv" --channel email \
  --outbox "$TMP/outbox.jsonl" >"$TMP/send.out" 2>&1 || setup_failed "campaign send (dry run)"
check "campaign send names the campaign =1+1 (the plan read back without its ')" \
  grep -q '"campaign": *"=1+1"' "$TMP/outbox.jsonl"
finish
