#!/usr/bin/env bash
# The real UCI Online Retail data set through the CLI: ingest on 2 ranks, the classic RFM figures,
# a segmentation run, and the export's RFM columns.
source "$(dirname "$0")/lib.sh"
data="${TRIBE_SHARED_DATA:-$TRIBE_SOURCE_DIR/../shared/data}/online-retail.csv.gz"
if [[ ! -r "$data" ]]; then
  echo "SKIP: $data not found (the UCI Online Retail data set lives in ../shared/data/)"
  exit 77
fi
tribe_np 2 ingest --transactions "$data" --rejects "$TMP/rejects.csv" -o "$TMP/retail.h5" >"$TMP/ingest.out" 2>&1 ||
  { cat "$TMP/ingest.out"; fail "ingest"; finish; }
tribe_np 1 export "$TMP/retail.h5" --csv "$TMP/retail.csv" >/dev/null
check "4,317 customers at net spend > 0" test "$(($(wc -l <"$TMP/retail.csv") - 1))" -eq 4317
grep -q '^12347,3,7,4310\(\.0*\)\?,' "$TMP/retail.csv" && ok "12347: recency 3, frequency 7, monetary 4310.00" || { fail "12347 row"; grep '^12347,' "$TMP/retail.csv"; }
grep -q '^16446,1,2,2.9[0-9]*,.*,168472.5,1,168469.5[0-9]*,' "$TMP/retail.csv" &&
  ok "16446: monetary 2.90 net of 168,469.60 returned (gross 168,472.50)" || { fail "16446 row"; grep '^16446,' "$TMP/retail.csv"; }
grep -q '^customers,12346,"net spend <= 0: gross 77183.60, returned 77183.60",12346$' "$TMP/rejects.csv" &&
  ok "12346 (77,183.60 bought, all returned) left out, named in the rejects file" || fail "12346 in the rejects file"
$PY - "$TMP/retail.h5" <<'PY' && ok "ledger: 541,909 read = 397,884 kept + 8,905 returns + rejected by rule" || fail "ledger totals"
import json, sys, h5py
l = json.loads(h5py.File(sys.argv[1], "r")["/customers"].attrs["ledger"])
rules = ["returns", "malformed", "implausible_date", "missing_customer_id", "nonpositive_quantity", "nonpositive_price"]
print({k: l[k] for k in ["rows_read", "rows_kept", "cancellations", "customers", "customers_net_nonpositive"] + rules})
assert l["rows_read"] == 541909 and l["rows_kept"] == 397884 and l["returns"] == l["cancellations"] == 8905
assert l["rows_read"] == l["rows_kept"] + sum(l[k] for k in rules)
assert l["customers"] == 4317 and l["customers_net_nonpositive"] == 54
PY
# Net RFM of every customer against an independent computation from the CSV (stdlib, exact decimals).
$PY "$(dirname "$0")/online_retail_net.py" "$data" "$TMP/retail.h5" "$TMP/rejects.csv" >"$TMP/net.out" 2>&1 &&
  ok "net monetary, frequency, recency and the return columns of all 4,317 customers equal an independent computation" ||
  fail "independent net RFM"
cat "$TMP/net.out"
write_job "$TMP/job.json" "$TMP/retail.h5" "$TMP/out" 5 '"features": {"columns": ["recency_days", "frequency", "monetary"]}'
tribe_np 2 run "$TMP/job.json" >"$TMP/run.out" 2>"$TMP/run.err" && ok "segmentation run on 2 ranks" || { fail "run"; cat "$TMP/run.err"; }
check "report written" test -s "$TMP/out/report.html"
$PY - "$TMP/retail.h5" "$TMP/out/results.h5" <<'PY' && ok "segment medians and quartiles equal numpy's on the real data" || fail "quartiles vs numpy"
import sys, h5py, numpy as np
c, r = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
x = c["/customers/features"][:].astype(np.float64)
lab = r["/segments/label"][:]
assert (r["/segments/id"][:] == c["/customers/id"][:]).all()
for name, p in (("q1", 0.25), ("median", 0.5), ("q3", 0.75)):
    got = r["/segments/" + name][:]
    for k in range(got.shape[0]):
        for j in range(x.shape[1]):
            v = x[lab == k, j]
            v = v[~np.isnan(v)]
            want = np.quantile(v, p) if v.size else np.nan
            assert got[k, j] == want or (np.isnan(want) and np.isnan(got[k, j])), (name, k, j, got[k, j], want)
    v = r["/segments/overall_" + name][:]
    for j in range(x.shape[1]):
        col = x[:, j][~np.isnan(x[:, j])]
        assert v[j] == np.quantile(col, p), (name, j)
PY
# What each segment buys more than the base (docs/offers.md): the default thresholds, against the CSV.
$PY "$(dirname "$0")/offers_truth.py" "$data" "$TMP/retail.h5" "$TMP/out/results.h5" 20 0.05 1.2 3 >"$TMP/offers.out" 2>&1 &&
  ok "offers (products by lift, names from Description) equal an independent computation" || fail "independent offers"
cat "$TMP/offers.out"
cat "$TMP/run.out"
finish
