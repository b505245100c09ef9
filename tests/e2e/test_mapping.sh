#!/usr/bin/env bash
# tribe ingest --mapping (docs/mapping.md): an export in its own layout (other column names, day-first
# dates, "$1,234.50" order totals, returns flagged in a column, three monthly files) gives the RFM an
# independent computation gives, the same on 1, 2 and 4 ranks; jobs/mappings/online-retail.json gives
# the built-in's table; bad mappings and bad input (truncated gzip, mixed currencies, dates out of range,
# duplicate or missing columns, header-only files) are refused naming the place, the previous file kept;
# customer_id.max_length is enforced (a longer id is a rejected row) and rule labels name mapped columns,
# as do the ingest summary on stderr and a text row's id message; --strict names the first malformed row.
source "$(dirname "$0")/lib.sh"
$PY -c "import h5py" 2>/dev/null || { echo "skip: needs /usr/bin/python3 with h5py"; exit 77; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MAP=$ROOT/jobs/mappings/example-export.json
D=$TMP/exp
mkdir -p "$D"

# Three monthly files of the example-export layout, and the expected features per customer.
$PY - "$D" >"$D/expected.csv" <<'PY'
import csv, random, sys
from datetime import date
from decimal import Decimal
d = sys.argv[1]
rng = random.Random(5)
rows = {1: [], 2: [], 3: []}
order = 0
for cust in range(100, 400):
    for _ in range(rng.randint(1, 6)):
        order += 1
        m = rng.randint(1, 3)
        day = date(2011, m, rng.randint(1, 28))
        cents = rng.randint(100, 250000)
        ret = rng.random() < 0.08
        rows[m].append((cust, f"SO-{order:05d}", day, cents, ret))
def money(c):
    return "${:,}.{:02d}".format(c // 100, c % 100)
for m in (1, 2, 3):
    with open(f"{d}/orders-2011-{m:02d}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Order Ref", "Order Date", "Customer Number", "SKU", "Category", "Channel", "Order Total",
                    "Returned"])
        for cust, ref, day, cents, ret in rows[m]:
            w.writerow([ref, day.strftime("%d/%m/%Y 10:%M").replace("%M", "05"), cust, f"P{cents % 37}",
                        "Garden", "web", money(cents), "yes" if ret else "no"])
# returns (Returned = yes) are netted: spend = purchases - returns; orders and recency from purchases;
# the snapshot is the day after the last row of either kind; net spend <= 0 leaves a customer out
allrows = [r for m in rows for r in rows[m]]
snap = max(r[2] for r in allrows).toordinal() + 1
per = {}
for cust, ref, day, cents, ret in allrows:
    p = per.setdefault(cust, {"orders": set(), "money": Decimal(0), "last": None})
    p["money"] += (-1 if ret else 1) * Decimal(cents) / 100
    if not ret:
        p["orders"].add(ref)
        p["last"] = max(p["last"] or 0, day.toordinal())
print("id,recency_days,frequency,monetary")
for cust in sorted(per):
    p = per[cust]
    if p["last"] is not None and p["money"] > 0:
        print(f"{cust},{snap - p['last']},{len(p['orders'])},{p['money']}")
PY

for np in 1 2 4; do
  expect 0 "" -- tribe_np $np ingest --mapping "$MAP" --transactions "$D/orders-2011-*.csv" -o "$TMP/exp$np.h5"
  "$TRIBE_BIN" export "$TMP/exp$np.h5" --csv "$TMP/exp$np.csv" >/dev/null
done
check "1, 2 and 4 ranks: the same table" cmp -s "$TMP/exp1.csv" "$TMP/exp4.csv"
check "1 and 2 ranks: the same table" cmp -s "$TMP/exp1.csv" "$TMP/exp2.csv"
check "recency, frequency and monetary are the independent computation's" $PY - "$TMP/exp2.csv" "$D/expected.csv" <<'PY'
import csv, sys, numpy as np
got = {int(float(r[next(iter(r))])): r for r in csv.DictReader(open(sys.argv[1]))}
want = {int(r["id"]): r for r in csv.DictReader(open(sys.argv[2]))}
assert sorted(want) == sorted(got), "customers differ"
for cid, w in want.items():
    g = got[cid]
    assert float(g["recency_days"]) == float(w["recency_days"]), (cid, "recency")
    assert float(g["frequency"]) == float(w["frequency"]), (cid, "frequency")
    assert np.float32(g["monetary"]) == np.float32(float(w["monetary"])), (cid, "monetary", g, w)
PY
check "the ledger counts the flagged returns and names the currency" $PY -c "
import sys, json, h5py
l = json.loads(h5py.File(sys.argv[1])['/customers'].attrs['ledger'])
sys.exit(not (l['returns'] == l['cancellations'] > 0 and l['rows_kept'] + l['returns'] == l['rows_read']
              and l['currency'] == 'USD' and l['currency_symbol'] == '$'))" "$TMP/exp1.h5"

# jobs/mappings/online-retail.json is the built-in layout: the same table and ledger.
"$TRIBE_BIN" gen --customers 300 --dirt 4 --seed 3 -o "$TMP/raw" >/dev/null 2>&1
expect 0 "" -- "$TRIBE_BIN" ingest --transactions "$TMP/raw/transactions.csv" -o "$TMP/builtin.h5"
expect 0 "" -- tribe_np 2 ingest --mapping "$ROOT/jobs/mappings/online-retail.json" \
  --transactions "$TMP/raw/transactions.csv" -o "$TMP/shipped.h5"
"$TRIBE_BIN" export "$TMP/builtin.h5" --csv "$TMP/builtin.csv" >/dev/null
"$TRIBE_BIN" export "$TMP/shipped.h5" --csv "$TMP/shipped.csv" >/dev/null
check "online-retail.json gives the built-in's table" cmp -s "$TMP/builtin.csv" "$TMP/shipped.csv"
check "online-retail.json gives the built-in's rejects" cmp -s "$TMP/builtin.rejects.csv" "$TMP/shipped.rejects.csv"

# jobs/mappings/financial.json reads tribe gen's card-payment layout ($ amounts, refunds as $-x).
"$TRIBE_BIN" gen --layout financial --customers 300 --seed 3 -o "$TMP/fin" >/dev/null 2>&1
expect 0 "" -- tribe_np 2 ingest --mapping "$ROOT/jobs/mappings/financial.json" \
  --transactions "$TMP/fin/transactions_data.csv" --demographics "$TMP/fin/users_data.csv" -o "$TMP/fin.h5"
check "financial.json: every generated customer, every row under one rule" $PY -c "
import sys, json, h5py
l = json.loads(h5py.File(sys.argv[1])['/customers'].attrs['ledger'])
rules = ['rows_kept', 'returns', 'malformed', 'implausible_date', 'missing_customer_id',
         'nonpositive_quantity', 'nonpositive_price']
sys.exit(not (l['customers'] + l['customers_net_nonpositive'] == 300 and l['returns'] > 0
              and l['currency'] == 'USD' and l['currency_symbol'] == '$'
              and l['rows_kept'] > 0.95 * l['rows_read'] and l['rows_read'] == sum(l[r] for r in rules)))" "$TMP/fin.h5"

# The mapping's text section: reviews under other column names, with day-first dates.
{ echo 'Customer Number,Written,Comment'
  awk -F, 'NR > 1 && NR % 3 == 0 {printf "%s,%s,great service and fast delivery\n", $3, substr($2, 1, 10)}' \
    "$D/orders-2011-01.csv"; } >"$TMP/reviews.csv"
$PY - "$MAP" "$TMP/m-text.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["text"] = {"columns": {"customer_id": "Customer Number", "date": "Written", "text": "Comment"}, "date_format": "dmy"}
json.dump(m, open(sys.argv[2], "w"))
PY
expect 0 "" -- "$TRIBE_BIN" ingest --mapping "$TMP/m-text.json" --transactions "$D/orders-2011-01.csv" \
  --text "$TMP/reviews.csv" --text-topics 0 -o "$TMP/text.h5"
check "the text section's columns and day-first dates are read: every review kept" $PY -c "
import sys, json, h5py
l = json.loads(h5py.File(sys.argv[1])['/customers'].attrs['ledger'])
sys.exit(not (l['text_rows'] > 0 and l['text_rows'] == l['text_rows_kept'] + l['text_rows_unmatched']
              and l['text_malformed'] == 0))" "$TMP/text.h5"

# transactions.categories_file: a product -> category list instead of a category column; the five
# categories with the most spend get share features equal to an independent computation.
{ echo 'sku,category'; for k in $(seq 0 36); do echo "P$k,Cat $((k % 7))"; done; } >"$TMP/prodcat.csv"
$PY - "$MAP" "$TMP/m-pc.json" "$TMP/m-pc-bad.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
del m["transactions"]["columns"]["category"]
m["transactions"]["categories_file"] = "prodcat.csv"  # beside the mapping
json.dump(m, open(sys.argv[2], "w"))
m["transactions"]["categories_file"] = "prodcat-bad.csv"
json.dump(m, open(sys.argv[3], "w"))
PY
expect 0 "" -- tribe_np 2 ingest --mapping "$TMP/m-pc.json" --transactions "$D/orders-2011-0*.csv" -o "$TMP/pc.h5"
$PY - "$D" "$TMP/pc.h5" <<'PY' && ok "categories_file: category shares equal an independent computation" || fail "categories_file"
import csv, glob, sys
from decimal import Decimal
import h5py, numpy as np
spend, tot = {}, {}
for fn in sorted(glob.glob(sys.argv[1] + "/orders-2011-0*.csv")):
    for r in csv.DictReader(open(fn, newline="")):
        if r["Returned"] == "yes":
            continue
        c, cat = int(r["Customer Number"]), "Cat %d" % (int(r["SKU"][1:]) % 7)
        v = Decimal(r["Order Total"].replace("$", "").replace(",", ""))
        spend.setdefault(c, {}).setdefault(cat, Decimal(0))
        spend[c][cat] += v
        tot[cat] = tot.get(cat, 0) + v
top = sorted(tot, key=lambda k: (-tot[k], k))[:5]
f = h5py.File(sys.argv[2])
names = [n.decode() if isinstance(n, bytes) else n for n in f["/customers/features"].attrs["feature_names"]]
x, ids = f["/customers/features"][:], f["/customers/id"][:]
for k in top:
    j = names.index("category_%s_share" % k.lower().replace(" ", "_"))
    for i, c in enumerate(ids):
        want = float(spend[c].get(k, 0)) / float(sum(spend[c].values()))
        assert abs(x[i, j] - want) <= 1e-6, (c, k, x[i, j], want)
PY
{ cat "$TMP/prodcat.csv"; echo 'P3,Cat 5'; } >"$TMP/prodcat-bad.csv"
expect 3 "prodcat-bad.csv: product 'P3' is listed with two categories" -- \
  "$TRIBE_BIN" ingest --mapping "$TMP/m-pc-bad.json" --transactions "$D/orders-2011-01.csv" -o "$TMP/x.h5"
rm -f "$TMP/prodcat-bad.csv"
expect 4 "prodcat-bad.csv" -- "$TRIBE_BIN" ingest --mapping "$TMP/m-pc-bad.json" --transactions "$D/orders-2011-01.csv" -o "$TMP/x.h5"

# customer_id.type "string": ids such as C-00150, as many customers as the integer ids give.
sed 's/"type": "integer"/"type": "string"/' "$MAP" >"$TMP/m-str.json"
awk -F, 'BEGIN {OFS = ","} NR > 1 {$3 = sprintf("C-%05d", $3)} {print}' "$D/orders-2011-01.csv" >"$TMP/str.csv"
expect 0 "" -- "$TRIBE_BIN" ingest --mapping "$TMP/m-str.json" --transactions "$TMP/str.csv" -o "$TMP/str.h5"
expect 0 "" -- "$TRIBE_BIN" ingest --mapping "$MAP" --transactions "$D/orders-2011-01.csv" -o "$TMP/int.h5"
check "string ids: the same customers as the integer ids" $PY -c "
import sys, json, h5py
a, b = (json.loads(h5py.File(p)['/customers'].attrs['ledger']) for p in sys.argv[1:])
sys.exit(not (a['customers'] == b['customers'] > 0 and a['rows_kept'] == b['rows_kept']))" "$TMP/str.h5" "$TMP/int.h5"
expect 2 "--id-type integer, but .*m-str.json says customer_id.type \"string\"" -- "$TRIBE_BIN" ingest \
  --id-type integer --mapping "$TMP/m-str.json" --transactions "$TMP/str.csv" -o "$TMP/x.h5"

# customer_id.max_length: a longer id is a rejected row (malformed) naming the column and the limit;
# a rule's label names the mapped column ("Order Total <= 0", not "UnitPrice <= 0").
sed 's/"type": "integer"/"type": "string", "max_length": 7/' "$MAP" >"$TMP/m-len.json"
{ head -1 "$TMP/str.csv"; echo 'SO-99997,02/01/2011,C-001500,P1,Garden,web,$5.00,no'
  echo 'SO-99996,02/01/2011,C-00150,P1,Garden,web,$0.00,no'; tail -n +2 "$TMP/str.csv"; } >"$TMP/len.csv"
expect 0 "" -- "$TRIBE_BIN" ingest --mapping "$TMP/m-len.json" --transactions "$TMP/len.csv" -o "$TMP/len.h5"
check "the summary on stderr names the mapped columns (no quantity line: the mapping has none)" $PY -c "
import re, sys
t = open(sys.argv[1]).read()
sys.exit(not (re.search(r'^  missing Customer Number +0 ', t, re.M) and re.search(r'^  Order Total <= 0 +1 ', t, re.M)
              and not re.search('CustomerID|UnitPrice|Quantity', t)))" "$TMP/err.txt"
check "an id over customer_id.max_length is a rejected row naming the column and the limit" grep -q \
  "len.csv,2,.*Customer Number 'C-001500' is longer than customer_id.max_length = 7 bytes" "$TMP/len.rejects.csv"
check "the rule label names the mapped amount column" grep -q "len.csv,3,Order Total <= 0," "$TMP/len.rejects.csv"
check "the long id is counted as malformed, the zero amount under its rule, the rest kept" $PY -c "
import sys, json, h5py
a, b = (json.loads(h5py.File(p)['/customers'].attrs['ledger']) for p in sys.argv[1:])
sys.exit(not (a['malformed'] == b['malformed'] + 1 and a['nonpositive_price'] == b['nonpositive_price'] + 1
              and a['rows_kept'] == b['rows_kept'] and a['customers'] == b['customers']))" "$TMP/len.h5" "$TMP/str.h5"
expect 3 "len.csv:2: Customer Number 'C-001500' is longer than customer_id.max_length = 7 bytes" -- \
  "$TRIBE_BIN" ingest --strict --mapping "$TMP/m-len.json" --transactions "$TMP/len.csv" -o "$TMP/x.h5"
{ head -1 "$D/orders-2011-01.csv"; echo 'SO-99995,02/01/2011,C-00150,P1,Garden,web,$5.00,no'
  tail -n +2 "$D/orders-2011-01.csv"; } >"$TMP/intbad.csv"
expect 3 "intbad.csv:2: Customer Number 'C-00150' is not an integer id" -- \
  "$TRIBE_BIN" ingest --strict --mapping "$MAP" --transactions "$TMP/intbad.csv" -o "$TMP/x.h5"
# A text row's malformed string id names the text section's column, as a transaction's does.
sed 's/"type": "integer"/"type": "string"/' "$TMP/m-text.json" >"$TMP/m-text-str.json"
{ head -1 "$TMP/reviews.csv"; echo "$(printf 'L%.0s' $(seq 65)),03/01/2011,too long an id"
  tail -n +2 "$TMP/reviews.csv"; } >"$TMP/reviews-long.csv"
expect 0 "" -- "$TRIBE_BIN" ingest --mapping "$TMP/m-text-str.json" --transactions "$TMP/str.csv" \
  --text "$TMP/reviews-long.csv" --text-topics 0 -o "$TMP/tlong.h5"
check "a text row's too long id names the text section's column" grep -qE \
  "reviews-long.csv,2,Customer Number 'L{40}'\.\.\. is longer than 64 bytes" "$TMP/tlong.rejects.csv"
# --strict names the first malformed row, passing over the rows the mapped rules removed (Order Total <= 0
# at line 2) and the customers left out for their net spend (listed before the text rows).
{ head -1 "$TMP/str.csv"; echo 'SO-99996,02/01/2011,C-00150,P1,Garden,web,$0.00,no'
  echo 'SO-99997,02/01/2011,C-001500,P1,Garden,web,$5.00,no'; tail -n +2 "$TMP/str.csv"; } >"$TMP/len2.csv"
expect 3 "len2.csv:3: Customer Number 'C-001500' is longer than customer_id.max_length = 7 bytes" -- \
  "$TRIBE_BIN" ingest --strict --mapping "$TMP/m-len.json" --transactions "$TMP/len2.csv" -o "$TMP/x.h5"
expect 3 "reviews-long.csv:2: Customer Number 'L{40}'\.\.\. is longer than 64 bytes" -- "$TRIBE_BIN" ingest --strict \
  --mapping "$TMP/m-text-str.json" --transactions "$TMP/str.csv" --text "$TMP/reviews-long.csv" --text-topics 0 -o "$TMP/x.h5"

# Bad mappings: usage errors (exit 2) naming the file and the key path.
sed 's/"columns"/"colums"/' "$MAP" >"$TMP/m-unknown.json"
expect 2 "m-unknown.json: unknown key 'transactions.colums'" -- "$TRIBE_BIN" ingest --mapping "$TMP/m-unknown.json" \
  --transactions "$D/orders-2011-01.csv" -o "$TMP/x.h5"
sed 's/"product": "SKU"/"product": "Order Ref"/' "$MAP" >"$TMP/m-twice.json"
expect 2 "'transactions.columns.order_id' and 'transactions.columns.product' both name column 'Order Ref'" -- \
  "$TRIBE_BIN" ingest --mapping "$TMP/m-twice.json" --transactions "$D/orders-2011-01.csv" -o "$TMP/x.h5"
sed 's/"date_format": "dmy"/"date_format": "dd.mm"/' "$MAP" >"$TMP/m-fmt.json"
expect 2 "'transactions.date_format' must be one of" -- "$TRIBE_BIN" ingest --mapping "$TMP/m-fmt.json" \
  --transactions "$D/orders-2011-01.csv" -o "$TMP/x.h5"
# A mapped column the file lacks: exit 3 naming the file, the column and the mapping key.
sed '1s/SKU/Item/' "$D/orders-2011-02.csv" >"$TMP/noSKU.csv"
expect 3 "noSKU.csv: missing required column 'SKU' \(mapping key transactions.columns.product" -- \
  tribe_np 2 ingest --mapping "$MAP" --transactions "$D/orders-2011-01.csv" --transactions "$TMP/noSKU.csv" \
  -o "$TMP/x.h5"
# A mapped column name twice in a header: exit 3 naming both columns.
sed '1s/Category/SKU/' "$D/orders-2011-01.csv" >"$TMP/twoSKU.csv"
expect 3 "twoSKU.csv: columns 4 and 5 are both named 'SKU'" -- "$TRIBE_BIN" ingest --mapping "$MAP" \
  --transactions "$TMP/twoSKU.csv" -o "$TMP/x.h5"

# A date in another format: a malformed row naming the format; --strict: exit 3 naming file and line.
{ head -1 "$D/orders-2011-01.csv"; echo 'SO-99999,2011-01-31,150,P1,Garden,web,$5.00,no'; tail -n +2 "$D/orders-2011-01.csv"; } >"$TMP/iso.csv"
expect 0 "" -- "$TRIBE_BIN" ingest --mapping "$MAP" --transactions "$TMP/iso.csv" -o "$TMP/iso.h5"
check "the rejects name the line and the format" grep -q "iso.csv,2,.*Order Date '2011-01-31' is not a date in the format dmy" "$TMP/iso.rejects.csv"
expect 3 "iso.csv:2: Order Date '2011-01-31' is not a date in the format dmy" -- "$TRIBE_BIN" ingest --strict \
  --mapping "$MAP" --transactions "$TMP/iso.csv" -o "$TMP/iso2.h5"

# A row dated 9999-12-31 (and one in 1899): counted as implausible_date, not a recency of millions of days.
{ cat "$TMP/raw/transactions.csv"; echo '999001,85123A,LATE,1,9999-12-31 10:00:00,2.55,100003,United Kingdom';
  echo '999002,85123A,EARLY,1,1899-12-31 10:00:00,2.55,100003,United Kingdom'; } >"$TMP/far.csv"
expect 0 "" -- tribe_np 2 ingest --transactions "$TMP/far.csv" -o "$TMP/far.h5"
check "dates out of range are counted, the rest as before" $PY -c "
import sys, json, h5py
a, b = (json.loads(h5py.File(p)['/customers'].attrs['ledger']) for p in sys.argv[1:])
rules = ['rows_kept', 'returns', 'malformed', 'implausible_date', 'missing_customer_id',
         'nonpositive_quantity', 'nonpositive_price']
sys.exit(not (b['implausible_date'] == 2 and b['rows_read'] == sum(b[r] for r in rules)
              and b['last_invoice_day'] == a['last_invoice_day'] and b['rows_kept'] == a['rows_kept']))" \
  "$TMP/builtin.h5" "$TMP/far.h5"
check "the rejects say why" grep -q "far.csv,.*InvoiceDate '9999-12-31 10:00:00' is outside 1900-01-01" "$TMP/far.rejects.csv"

# Amounts in two currencies and no rate: exit 3 naming a row of each.
sed 's/"currency": "USD",//' "$MAP" >"$TMP/m-nocur.json"
{ head -3 "$D/orders-2011-01.csv"; echo 'SO-99998,02/01/2011,150,P1,Garden,web,€5.00,no'; tail -n +4 "$D/orders-2011-01.csv"; } >"$TMP/eur.csv"
expect 3 "eur.csv:2 is in USD, .*eur.csv:4 is in EUR" -- tribe_np 2 ingest --mapping "$TMP/m-nocur.json" \
  --transactions "$TMP/eur.csv" -o "$TMP/x.h5"
expect 3 "the mapping's transactions.currency is in USD, .*eur.csv:4 is in EUR" -- "$TRIBE_BIN" ingest \
  --mapping "$MAP" --transactions "$TMP/eur.csv" -o "$TMP/x.h5"
check "a failed ingest leaves no customers.h5" test ! -e "$TMP/x.h5"

# A truncated gzip: exit 3 naming the file, the previous customers.h5 kept.
gzip -c "$TMP/raw/transactions.csv" >"$TMP/whole.csv.gz"
head -c $(($(stat -c %s "$TMP/whole.csv.gz") * 4 / 10)) "$TMP/whole.csv.gz" >"$TMP/cut.csv.gz"
cp "$TMP/builtin.h5" "$TMP/keep.h5"
before=$(md5sum <"$TMP/keep.h5")
expect 3 "cut.csv.gz: truncated or damaged gzip file" -- tribe_np 2 ingest --transactions "$TMP/cut.csv.gz" \
  -o "$TMP/keep.h5"
check "the previous customers.h5 is kept" test "$before" = "$(md5sum <"$TMP/keep.h5")"

# A header-only transactions file: exit 3, nothing kept.
head -1 "$TMP/raw/transactions.csv" >"$TMP/header.csv"
expect 3 "header.csv: no purchase row was kept \(0 read" -- "$TRIBE_BIN" ingest --transactions "$TMP/header.csv" \
  -o "$TMP/keep.h5"
check "the previous customers.h5 is kept" test "$before" = "$(md5sum <"$TMP/keep.h5")"

# --mapping renames the web and demographics columns too (its "web" and "demographics" sections), and
# ingest --help says so beside the built-in columns it lists; no help line is 110 characters or more.
"$TRIBE_BIN" gen --customers 60 --seed 5 -o "$TMP/wd" >/dev/null 2>&1
sed '1s/.*/Client,Start,Pages,Minutes,Kind/' "$TMP/wd/web_events.csv" >"$TMP/wd/web-renamed.csv"
sed '1s/.*/Client,Years,Land,Job,Plan/' "$TMP/wd/demographics.csv" >"$TMP/wd/demo-renamed.csv"
cat >"$TMP/wd/map.json" <<'JSON'
{"web": {"columns": {"customer_id": "Client", "date": "Start", "pages": "Pages", "minutes": "Minutes",
                     "device": "Kind"}},
 "demographics": {"columns": {"customer_id": "Client", "age": "Years", "country": "Land",
                              "occupation": "Job", "subscription": "Plan"}, "optional": ["country"]}}
JSON
"$TRIBE_BIN" ingest --transactions "$TMP/wd/transactions.csv" --web "$TMP/wd/web_events.csv" \
  --demographics "$TMP/wd/demographics.csv" -o "$TMP/wd/builtin.h5" >/dev/null 2>&1 || fail "ingest with web + demographics"
expect 0 "" -- "$TRIBE_BIN" ingest --mapping "$TMP/wd/map.json" --transactions "$TMP/wd/transactions.csv" \
  --web "$TMP/wd/web-renamed.csv" --demographics "$TMP/wd/demo-renamed.csv" -o "$TMP/wd/mapped.h5"
$PY - "$TMP/wd/builtin.h5" "$TMP/wd/mapped.h5" <<'PY' && ok "renamed web and demographics columns read through --mapping give the same table" || fail "web/demographics through --mapping"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r")["/customers"] for p in sys.argv[1:])
names = [n.decode() if isinstance(n, bytes) else n for n in b["features"].attrs["feature_names"]]
assert "sessions" in names and "age" in names, names
assert np.array_equal(a["features"][:], b["features"][:], equal_nan=True)
PY
"$TRIBE_BIN" ingest --help >"$TMP/ingest-help.txt"
help_says() { grep -A1 -- "^  $1" "$TMP/ingest-help.txt" | grep -qF -- "$2"; } # help_says OPTION TEXT
check "ingest --help: --web's columns can come from --mapping" help_says "--web FILE" "--mapping's \"web\" section"
check "ingest --help: --demographics' columns too" help_says "--demographics FILE" "\"demographics\" section"
check "ingest --help: every line under 110 characters" bash -c "! awk 'length >= 110' '$TMP/ingest-help.txt' | grep -q ."

# tribe import: two columns of one name, a header-only file: exit 3, the previous file kept.
printf 'id,spend,visits,spend\n1,2,3,4\n' >"$TMP/dup.csv"
expect 3 "dup.csv: columns 2 and 4 are both named 'spend'" -- tribe_np 2 import "$TMP/dup.csv" -o "$TMP/keep.h5"
printf 'id,spend,visits\n' >"$TMP/hdr.csv"
expect 3 "hdr.csv: no data row after the header" -- tribe_np 2 import "$TMP/hdr.csv" -o "$TMP/keep.h5"
check "the previous customers.h5 is kept" test "$before" = "$(md5sum <"$TMP/keep.h5")"
finish
