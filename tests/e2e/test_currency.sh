#!/usr/bin/env bash
# The currency is the data's, not the build's: a table imported with --currency USD gives a run whose
# report, run.json, results.h5, segments.json, CSVs, personas and serve API all say USD/$ and never £;
# the numbers are those of the same table in pounds; a customers.h5 without the attribute (an older
# tribe's) is in pounds; a bad code is a usage error.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
{
  echo "customer_id,recency_days,frequency,monetary,avg_order_value"
  for i in $(seq 1 400); do
    echo "$((5000 - i)),$((i % 97)),$((1 + i % 9)),$((i * 13 % 1000)).5,$((i * 7 % 300)).25"
  done
} >"$TMP/f.csv"
expect 0 "" -- tribe_np 2 import "$TMP/f.csv" -o "$TMP/usd.h5" --currency usd
check "import names the currency" grep -q "currency USD" "$TMP/out.txt"
expect 0 "" -- "$TRIBE_BIN" import "$TMP/f.csv" -o "$TMP/gbp.h5"
expect 2 "--currency 'US\\$' is not an ISO 4217 code" -- "$TRIBE_BIN" import "$TMP/f.csv" -o "$TMP/x.h5" --currency 'US$'
check "a refused import writes nothing" test ! -e "$TMP/x.h5"
# tribe ingest stores the ledger's currency: the Online Retail layout's pounds.
expect 0 "" -- "$TRIBE_BIN" ingest --transactions "$TRIBE_SOURCE_DIR/tests/data/ingest/transactions.csv" -o "$TMP/ing.h5"
$PY - "$TMP/ing.h5" <<'PY' && ok "ingest: customers.h5 and its ledger say GBP/£" || fail "ingest stores the currency"
import json, sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    assert f.attrs["currency"] == b"GBP" and f.attrs["currency_symbol"].decode() == "\u00a3", dict(f.attrs)
    led = json.loads(f["/customers"].attrs["ledger"])
    assert led["currency"] == "GBP" and led["currency_symbol"] == "\u00a3", led
PY
# An older tribe's customers.h5: no currency attributes at all.
cp "$TMP/gbp.h5" "$TMP/old.h5"
$PY - "$TMP/usd.h5" "$TMP/old.h5" <<'PY' && ok "customers.h5 stores currency=USD, currency_symbol=\$ (fixed-length); old.h5 has neither" || fail "customers.h5 currency attributes"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    a = f.attrs
    assert a["currency"] == b"USD" and a["currency_symbol"] == b"$", dict(a)
    assert f["/"].attrs.get_id("currency").get_type().is_variable_str() is False
with h5py.File(sys.argv[2], "r+") as f:
    del f.attrs["currency"], f.attrs["currency_symbol"]
PY

for c in usd old; do
  write_job "$TMP/$c.json" "$TMP/$c.h5" "$TMP/out-$c" 3
done
expect 0 "" -- tribe_np 2 run "$TMP/usd.json"
expect 0 "" -- tribe_np 1 run "$TMP/old.json"

check "USD run: no £ in any output file" bash -c "! grep -rl $'\xc2\xa3' '$TMP/out-usd/report.html' '$TMP/out-usd/run.json' \
  '$TMP/out-usd/personas.json' '$TMP/out-usd/segments.json' '$TMP/out-usd/segments.csv' '$TMP/out-usd/campaign_plan.csv'"
check "USD report: money in USD (\$) and dollar amounts" grep -q 'money in USD (\$)' "$TMP/out-usd/report.html"
check "old file: report in pounds (GBP)" grep -q $'money in GBP (\xc2\xa3)' "$TMP/out-old/report.html"
$PY - "$TMP/out-usd" "$TMP/out-old" <<'PY' && ok "run.json, results.h5, segments.json, CSVs and personas name USD/\$ (GBP/£ for the old file)" || fail "outputs name the currency"
import csv, json, re, sys, h5py
for d, code, sym in ((sys.argv[1], "USD", "$"), (sys.argv[2], "GBP", "\u00a3")):
    run = json.load(open(f"{d}/run.json"))
    assert run["currency"] == {"code": code, "symbol": sym, "decimals": 2}, run["currency"]
    with h5py.File(f"{d}/results.h5", "r") as f:
        assert f.attrs["currency"].decode() == code and f.attrs["currency_symbol"].decode() == sym, dict(f.attrs)
    seg = json.load(open(f"{d}/segments.json"))
    assert seg["currency"]["code"] == code and seg["currency"]["symbol"] == sym, seg["currency"]
    for name in ("segments.csv", "campaign_plan.csv"):
        rows = list(csv.DictReader(open(f"{d}/{name}")))
        assert rows and all(r["currency"] == code for r in rows), (name, rows[0])
    bios = " ".join(p["bio"] for p in json.load(open(f"{d}/personas.json")))
    amounts = re.findall(re.escape(sym) + r"[0-9][0-9,]*", bios)
    assert amounts, bios  # the offline writer states spend with the symbol
    page = open(f"{d}/report.html", encoding="utf-8").read()
    assert re.search(re.escape(sym) + r"[0-9]", page), "no amount in the report"
PY
# The same numbers whatever the currency: results.h5's datasets bit for bit (attributes aside).
h5diff "$TMP/out-usd/results.h5" "$TMP/out-old/results.h5" >"$TMP/h5diff.txt" 2>&1 || true
check "USD and GBP runs: the same segments, centroids and statistics" \
  bash -c "! grep -vE '^attribute: |differences found\$|^\$' '$TMP/h5diff.txt' | grep -q ."

serve_start u "$TMP/out-usd" --watch 0 || { finish; exit 1; }
$PY - "$SERVE_URL_u" "$RD" <<'PY' && ok "serve: segments, the current run and customers say USD" || fail "serve names the currency"
import sys
from serve_client import Api
a = Api(sys.argv[1], sys.argv[2])
segs = a.json("/v1/segments")
assert segs["currency"] == {"code": "USD", "symbol": "$", "decimals": 2}, segs.get("currency")
assert segs["run"]["currency"] == "USD", segs["run"]
cur = a.json("/v1/runs/current")
assert cur["currency"]["code"] == "USD" and cur["run"]["currency"] == "USD", cur["run"]
sid = segs["segments"][0]["id"]
page = a.json(f"/v1/segments/{sid}/customers?limit=2")
assert page["currency"] == "USD", page
cid = page["customers"][0]["customer_id"]
c = a.json(f"/v1/customers/{cid}")
assert c["run"]["currency"] == "USD", c["run"]
assert "\u00a3" not in a.get("/v1/segments").body.decode() + a.get(f"/v1/segments/{sid}").body.decode()
PY
serve_stop u
finish
