#!/usr/bin/env bash
# String customer ids (docs/ingest.md): tribe gen's data with its ids rewritten as texts (C-00123,
# UUIDs, non-ASCII, some left as numbers) over transactions + web + demographics + reviews (--text). ingest --id-type
# string on 1, 2 and 4 ranks gives identical customers.h5, whose features equal the integer ingest's
# customer by customer; a run; export, assign, explain and serve print the texts and find customers
# by them (a number also as 17850.0); assign reads a features CSV of texts (a malformed one: exit 3
# naming file:line, the previous output kept); too long ids are rejected rows, a key collision (forced with
# the test hook TRIBE_TEST_ID_HASH_BITS) is refused naming both ids, on 1 and 2 ranks; -o DIR/ with a
# features CSV (assign) or at all (ingest) is exit 2, not an --id-type silently unused.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"

setup_failed() { fail "$1 failed"; tail -5 "$TMP/setup.log"; finish; exit 1; }
tribe_np 2 gen --customers 600 --seed 11 -o "$TMP/raw" >"$TMP/setup.log" 2>&1 || setup_failed gen
mkdir -p "$TMP/s"
# The text of integer id i: four kinds, and the map as JSON for the checks below.
$PY - "$TMP/raw" "$TMP/s" <<'PY' || setup_failed "id rewrite"
import csv, json, re, sys, uuid
src, dst = sys.argv[1:]
def text(i):
    i = int(float(i))
    return [f"C-{i:05d}", str(uuid.uuid5(uuid.NAMESPACE_OID, str(i))), f"Zoë {i}", str(i)][i % 4]
seen = {}
for name in ("transactions.csv", "web_events.csv", "demographics.csv", "contacts.csv", "reviews.csv"):
    with open(f"{src}/{name}", newline="") as f, open(f"{dst}/{name}", "w", newline="") as g:
        r, w = csv.reader(f), csv.writer(g, lineterminator="\n")
        head = next(r)
        w.writerow(head)
        c = head.index("CustomerID")
        for row in r:  # gen's planted bad rows (bad ids, missing fields) stay as they are
            if len(row) > c and re.fullmatch(r"\s*\d+(\.0*)?\s*", row[c]):
                seen[str(int(float(row[c])))] = row[c] = text(row[c])
            w.writerow(row)
json.dump(seen, open(f"{dst}/map.json", "w"))
PY
S=$TMP/s
ingest() { # ingest NP OUT [options]
  local np=$1 out=$2
  shift 2
  tribe_np "$np" ingest --transactions "$S/transactions.csv" --web "$S/web_events.csv" \
    --demographics "$S/demographics.csv" --text "$S/reviews.csv" --text-topics 2 -o "$out" "$@"
}
for np in 1 2 4; do
  ingest "$np" "$TMP/c$np.h5" --id-type string >"$TMP/ingest$np.log" 2>&1 || { fail "ingest --id-type string on $np ranks"; tail -5 "$TMP/ingest$np.log"; }
done
"$TRIBE_BIN" ingest --transactions "$TMP/raw/transactions.csv" --web "$TMP/raw/web_events.csv" \
  --demographics "$TMP/raw/demographics.csv" --text "$TMP/raw/reviews.csv" --text-topics 2 -o "$TMP/int.h5" >"$TMP/setup.log" 2>&1 || setup_failed "integer ingest"
for np in 2 4; do
  h5diff "$TMP/c1.h5" "$TMP/c$np.h5" >"$TMP/h5diff$np.txt" 2>&1 || true
  if grep -vE '^attribute: |differences found$|^$' "$TMP/h5diff$np.txt" | grep -q .; then
    fail "customers.h5 on $np ranks differs from 1 rank"; head -5 "$TMP/h5diff$np.txt"
  else ok "customers.h5 with string ids: 1 and $np ranks identical (ids, texts, features)"; fi
done
$PY - "$TMP/c1.h5" "$TMP/int.h5" "$S/map.json" <<'PY' && ok "every customer keeps its text and the integer ingest's features" || fail "texts or features"
import h5py, json, sys
import numpy as np
s, i, m = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r"), json.load(open(sys.argv[3]))
texts = [t.decode() for t in s["/customers/id_text"][:]]
assert s["/customers/id_text"].dtype.kind == "S", s["/customers/id_text"].dtype  # fixed-length
want = [m[str(k)] for k in i["/customers/id"][:]]
assert sorted(texts) == sorted(want), "texts differ"
kinds = sum(t.startswith("C-") for t in texts), sum(t.count("-") == 4 for t in texts), sum(t.startswith("Zoë") for t in texts)
assert min(kinds) > 50, kinds
fs, fi = s["/customers/features"][:], i["/customers/features"][:]
pos = {t: r for r, t in enumerate(texts)}
for r, t in enumerate(want):
    assert np.array_equal(fs[pos[t]], fi[r], equal_nan=True), (t, fs[pos[t]], fi[r])
ids = s["/customers/id"][:]
assert (np.diff(ids) > 0).all() and (ids >= 0).all()
PY

write_job "$TMP/job.json" c2.h5 out 3 '"run_id": "s1", "drivers": {"n_rounds": 5, "sample_size": 0}'
tribe_np 2 run "$TMP/job.json" >"$TMP/run.log" 2>&1 || { fail "run"; tail -5 "$TMP/run.log"; finish; exit 1; }
R=$TMP/out/results.h5
tribe_np 2 export "$R" --csv "$TMP/export.csv" >/dev/null 2>"$TMP/export.log" || fail "export"
tribe_np 2 assign "$R" "$TMP/c4.h5" -o "$TMP/assign.csv" >/dev/null 2>"$TMP/assign.log" || fail "assign"
$PY - "$R" "$TMP/export.csv" "$TMP/assign.csv" <<'PY' && ok "results.h5, export and assign carry the texts" || fail "texts in outputs"
import csv, h5py, sys
r = h5py.File(sys.argv[1], "r")
texts = [t.decode() for t in r["/segments/id_text"][:]]
for path in sys.argv[2:]:
    got = [row["customer_id"] for row in csv.DictReader(open(path, encoding="utf-8"))]
    assert got == texts, (path, got[:3], texts[:3])
PY

# assign with a features CSV of string ids (the model's run had them: the default --id-type): the same
# labels as from customers.h5, each id written as given; a malformed id is exit 3 naming file:line and
# column, the previous output kept; --id-type integer refuses the texts the same way.
$PY - "$TMP/c4.h5" "$TMP/feat-s.csv" <<'PY' || fail "features CSV"
import csv, h5py, sys
import numpy as np
f = h5py.File(sys.argv[1], "r")
names = [n.decode() if isinstance(n, bytes) else n for n in f["/customers/features"].attrs["feature_names"]]
x, texts = f["/customers/features"][:], [t.decode() for t in f["/customers/id_text"][:]]
with open(sys.argv[2], "w", encoding="utf-8", newline="") as g:
    w = csv.writer(g, lineterminator="\n")
    w.writerow(["customer_id"] + names)
    for t, row in zip(texts[::-1], x[::-1]):  # any order: assign sorts
        w.writerow([t] + ["" if np.isnan(v) else repr(float(v)) for v in row])
PY
tribe_np 2 assign "$R" "$TMP/feat-s.csv" -o "$TMP/assign-csv.csv" >/dev/null 2>"$TMP/assign-csv.log" || fail "assign of a CSV with string ids"
check "assign of a features CSV with string ids equals assign of customers.h5" cmp -s "$TMP/assign.csv" "$TMP/assign-csv.csv"
sed "4s/^[^,]*,/$(printf 'L%.0s' $(seq 65)),/" "$TMP/feat-s.csv" >"$TMP/feat-bad.csv"
before=$(md5sum <"$TMP/assign-csv.csv")
expect 3 "feat-bad.csv:4: column 'customer_id': 'L{40}'\.\.\. is longer than 64 bytes \(the longest string id\)$" -- \
  "$TRIBE_BIN" assign "$R" "$TMP/feat-bad.csv" -o "$TMP/assign-csv.csv"
check "a malformed id in assign's CSV keeps the previous output" test "$before" = "$(md5sum <"$TMP/assign-csv.csv")"
expect 3 "feat-s.csv:2: column 'customer_id': '[^']+' is not an integer id \(use --id-type string\)$" -- \
  "$TRIBE_BIN" assign "$R" "$TMP/feat-s.csv" --id-type integer -o "$TMP/assign-csv.csv"
expect 2 "--id-type is integer or string, not 'uuid'" -- "$TRIBE_BIN" assign "$R" "$TMP/feat-s.csv" --id-type uuid

id_of() { $PY -c "import h5py, sys; print(h5py.File(sys.argv[1])['/segments/id_text'][$1].decode())" "$R"; }
UUID=$($PY -c "import h5py, sys; print([t.decode() for t in h5py.File(sys.argv[1])['/segments/id_text'][:] if t.count(b'-') == 4][0])" "$R")
CID=$($PY -c "import h5py, sys; print([t.decode() for t in h5py.File(sys.argv[1])['/segments/id_text'][:] if t.startswith(b'C-')][0])" "$R")
NUM=$($PY -c "import h5py, sys; print([t.decode() for t in h5py.File(sys.argv[1])['/segments/id_text'][:] if t.isdigit()][0])" "$R")
for who in "$UUID" "$CID" "$NUM.0"; do
  "$TRIBE_BIN" explain "$R" --customer "$who" --top 2 >"$TMP/explain.txt" 2>&1 || fail "explain --customer $who"
  grep -q "^customer ${who%.0}: segment " "$TMP/explain.txt" && ok "explain --customer $who names it" ||
    { fail "explain $who"; head -3 "$TMP/explain.txt"; }
done
expect 3 "customer C-99999 is not in" -- "$TRIBE_BIN" explain "$R" --customer C-99999

# campaign send (a dry run): contacts.csv with the same texts; the outbox names every customer by text
SEG=$($PY -c "import h5py, numpy as np; print(int(np.argmax(h5py.File('$R', 'r')['/segments/size'][:])))")
"$TRIBE_BIN" campaign send --results "$TMP/out" --segment "$SEG" --contacts "$S/contacts.csv" --channel email \
  --outbox "$TMP/outbox.jsonl" >"$TMP/send.log" 2>&1 || fail "campaign send"
$PY - "$R" "$SEG" "$TMP/outbox.jsonl" <<'PY' && ok "the campaign outbox names customers by text, contacts matched by text" || fail "outbox texts"
import h5py, json, sys
f = h5py.File(sys.argv[1], "r")
lab = f["/segments/label"][:] == int(sys.argv[2])
want = sorted(t.decode() for t in f["/segments/id_text"][:][lab])
out = [json.loads(l) for l in open(sys.argv[3])]
assert sorted(o["customer_id"] for o in out) == want, (len(out), len(want))
assert sum(o["status"] == "dry_run" for o in out) > len(want) // 3, [o["status"] for o in out][:10]
PY

serve_start ids "$TMP/out" --watch 0 || { finish; exit 1; }
$PY - "$SERVE_URL_ids" "$RD" "$UUID" "$CID" "$NUM" <<'PY' && ok "serve finds customers by text (URL-encoded too) and prints texts" || fail "serve with string ids"
import json, sys, urllib.parse
from serve_client import Api
url, tok, uuid_, cid, num = sys.argv[1:]
api = Api(url, tok)
def get(path):
    r = api.req("GET", path)
    return r.status, r.json()
for name in (uuid_, cid):
    st, b = get("/v1/customers/" + urllib.parse.quote(name, safe=""))
    assert st == 200 and b["customer_id"] == name, (st, b)
st, b = get("/v1/customers/" + num + ".0")
assert st == 200 and b["customer_id"] == num, (st, b)
st, b = get("/v1/customers/C-99999")
assert st == 404, st
st, b = get("/v1/segments")
seg = b["segments"][0]["id"]
st, b = get(f"/v1/segments/{seg}/customers?limit=5")
assert st == 200 and all(not c["customer_id"].isdigit() or len(c["customer_id"]) < 19 for c in b["customers"]), b
r = api.req("POST", "/v1/customers:batch", {"ids": [cid, "nobody"]})
st, b = r.status, r.json()
assert st == 200 and [c["customer_id"] for c in b["customers"]] == [cid] and b["not_found"] == ["nobody"], b
PY
serve_stop ids

# Bad ids: too long (a rejected row; --strict names the limit), and a forced key collision.
$PY - "$S/transactions.csv" "$TMP/long.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
rows[1][rows[0].index("CustomerID")] = "L" * 65
csv.writer(open(sys.argv[2], "w", encoding="utf-8", newline=""), lineterminator="\n").writerows(rows)
PY
"$TRIBE_BIN" ingest --transactions "$TMP/long.csv" -o "$TMP/long.h5" --id-type string --rejects "$TMP/long.rej" >/dev/null 2>&1 &&
  grep -q "is longer than 64 bytes" "$TMP/long.rej" && ok "a 65-byte id is a rejected row naming the limit" || fail "long id"
expect 3 "longer than 64 bytes" -- "$TRIBE_BIN" ingest --transactions "$TMP/long.csv" -o "$TMP/long.h5" --id-type string --strict
for np in 1 2; do
  TRIBE_TEST_ID_HASH_BITS=1 expect 3 "customer ids '.*' and '.*' have the same key" -- \
    tribe_np "$np" ingest --transactions "$S/transactions.csv" -o "$TMP/coll.h5" --id-type string
done
check "no customers.h5 after a collision" test ! -e "$TMP/coll.h5"
# A customer left out for a net spend <= 0 (all returned) is a rejects row naming the id as given, with
# an empty line (it was the id's internal 63-bit key); on 2 ranks, so owners on both ranks write rows.
# Integer ids keep the id as line and raw.
{
  echo "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
  for id in C-0001 3f2504e0-4f89-11d3-9a0c-0305e82c3301 Zoë 17850 "Zoë 12" c0ffee00-0000-4000-8000-000000000042; do
    echo "1001,A1,MUG,2,2011-01-03 10:00,5.00,$id,United Kingdom"
    [[ $id == C-0001 ]] || echo "C1002,A1,MUG,-2,2011-01-04 10:00,5.00,$id,United Kingdom"
  done
} >"$TMP/refund.csv"
tribe_np 2 ingest --transactions "$TMP/refund.csv" -o "$TMP/refund.h5" --id-type string >/dev/null 2>&1 ||
  fail "ingest of refunds with string ids"
$PY - "$TMP/refund.rejects.csv" "$TMP/refund.h5" <<'PY' && ok "customers left out are rejects rows with the id as given and an empty line" || fail "customers rows with string ids"
import csv, h5py, sys
rows = [r for r in csv.DictReader(open(sys.argv[1], encoding="utf-8", newline="")) if r["source"] == "customers"]
want = {"3f2504e0-4f89-11d3-9a0c-0305e82c3301", "Zoë", "17850", "Zoë 12", "c0ffee00-0000-4000-8000-000000000042"}
assert {r["raw"] for r in rows} == want and len(rows) == len(want), rows
assert all(r["line"] == "" for r in rows), [r["line"] for r in rows]
assert all(r["reason"] == "net spend <= 0: gross 10.00, returned 10.00" for r in rows), rows
assert [t.decode() for t in h5py.File(sys.argv[2], "r")["/customers/id_text"][:]] == ["C-0001"]
PY
sed 's/,C-0001,/,1,/; s/,3f2504e0-4f89-11d3-9a0c-0305e82c3301,/,2,/; s/,Zoë,/,3,/; s/,Zoë 12,/,4,/; s/,c0ffee00[^,]*,/,5,/' \
  "$TMP/refund.csv" >"$TMP/refund-int.csv"
tribe_np 2 ingest --transactions "$TMP/refund-int.csv" -o "$TMP/refund-int.h5" >/dev/null 2>&1 || fail "ingest of refunds"
check "integer ids: the id as line and raw, by id" test "$(grep '^customers,' "$TMP/refund-int.rejects.csv" | cut -d, -f2,5 | tr '\n' ' ')" = "2,2 3,3 4,4 5,5 17850,17850 "
# tribe import --id-type string: the first column kept as text
printf 'id,a,b\nC-00002,1,2\n"Zo\xc3\xab, 7",3,\n0b5e4a8e-3f0c-4c41-9d35-8a1c1f4f2b01,5,6\n17850.0,7,8\n' >"$TMP/feat.csv"
tribe_np 2 import "$TMP/feat.csv" -o "$TMP/feat.h5" --id-type string >/dev/null 2>"$TMP/import.log" || fail "import --id-type string"
$PY - "$TMP/feat.h5" <<'PY' && ok "import --id-type string keeps the texts" || fail "import texts"
import h5py, sys
f = h5py.File(sys.argv[1], "r")
got = sorted(t.decode() for t in f["/customers/id_text"][:])
assert got == sorted(["C-00002", "Zoë, 7", "0b5e4a8e-3f0c-4c41-9d35-8a1c1f4f2b01", "17850.0"]), got
PY
printf 'id,a\n0b5e4a8e-0001,1\n0b5e4a8e-0002,2\n0b5e4a8e-0003,3\n' >"$TMP/coll.csv"
TRIBE_TEST_ID_HASH_BITS=1 expect 3 "customer ids '.*' \(line [0-9]+\) and '.*' \(line [0-9]+\) have the same key" -- \
  "$TRIBE_BIN" import "$TMP/coll.csv" -o "$TMP/coll.h5" --id-type string
expect 2 "--id-type is integer or string" -- "$TRIBE_BIN" ingest --transactions "$S/transactions.csv" -o "$TMP/x.h5" --id-type uuid
# -o naming a directory: ingest refuses before reading (it used to read everything, then fail with exit 4
# leaving DIR/.rejects.csv); assign's score-only run (-o DIR/) reads a customers.h5, so a features CSV,
# whose --id-type it would not use, is refused naming the import that makes one. Nothing is written.
expect 2 "-o .*/dir/ names a directory: name the file to write \(.*/dir/customers.h5\)" -- \
  "$TRIBE_BIN" ingest --transactions "$S/transactions.csv" --id-type string -o "$TMP/dir/"
expect 2 "reads a customers.h5, not a features CSV: make one first with 'tribe import .*feat-s.csv --id-type string" -- \
  "$TRIBE_BIN" assign "$R" "$TMP/feat-s.csv" --id-type string -o "$TMP/dir/"
check "nothing written for either" test ! -e "$TMP/dir"
finish
