#!/usr/bin/env bash
# gen -> ingest -> run -> export on 1, 2 and 4 ranks: same seed, same bytes.
source "$(dirname "$0")/lib.sh"

tribe_np 2 gen --customers 4000 --seed 11 -o "$TMP/raw" 2>"$TMP/gen.log"
check "gen wrote four sources and the truth" test -s "$TMP/raw/transactions.csv" -a -s "$TMP/raw/web_events.csv" \
  -a -s "$TMP/raw/demographics.csv" -a -s "$TMP/raw/truth.csv"

for np in 1 2 4; do
  tribe_np $np ingest --transactions "$TMP/raw/transactions.csv" --web "$TMP/raw/web_events.csv" \
    --demographics "$TMP/raw/demographics.csv" --rejects "$TMP/rejects$np.csv" -o "$TMP/c$np.h5" >"$TMP/ingest$np.out" 2>&1
  tribe_np 1 export "$TMP/c$np.h5" --csv "$TMP/c$np.csv" >/dev/null
done
check "ingest on 2 ranks gives the same customers as on 1" cmp -s "$TMP/c1.csv" "$TMP/c2.csv"
check "ingest on 4 ranks gives the same customers as on 1" cmp -s "$TMP/c1.csv" "$TMP/c4.csv"
check "rejects file identical across rank counts" cmp -s "$TMP/rejects1.csv" "$TMP/rejects4.csv"

# The ledger agrees with the dirt the generator planted.
$PY - "$TMP/raw/truth.json" "$TMP/c1.h5" <<'PY' && ok "ledger matches planted truth" || fail "ledger matches planted truth"
import json, sys, h5py
truth = json.load(open(sys.argv[1]))
f = h5py.File(sys.argv[2], "r")
ledger = json.loads(f["/customers"].attrs["ledger"])
n = f["/customers/id"].shape[0]
d = truth["dirt"]
pairs = [("missing_customer_id", "missing_customer_id"), ("cancellations", "cancellations"),
         ("nonpositive_price", "nonpositive_price"), ("malformed", "malformed")]
bad = [(k, d[t], ledger[k]) for t, k in pairs if d[t] != ledger[k]]
# the planted returned lines (Quantity 0..-12): the negative ones are returns, netted; zeros a rule
qty = ledger["nonpositive_quantity"] + ledger["returns"] - ledger["cancellations"]
if qty != d["nonpositive_quantity"]: bad.append(("returned lines", d["nonpositive_quantity"], qty))
# every planted customer is in the table or left out at net spend <= 0 (a fully returned order)
if n + ledger["customers_net_nonpositive"] != truth["customers"] or n != ledger["customers"]:
    bad.append(("customers", truth["customers"], n, ledger["customers_net_nonpositive"]))
if bad: print("mismatch (name, planted, ledger):", bad); sys.exit(1)
PY

head -1 "$TMP/c1.csv" | grep -q '^customer_id,recency_days,frequency,monetary' &&
  ok "export header starts customer_id,recency_days,frequency,monetary" || fail "export header"

for np in 1 2 4; do
  write_job "$TMP/job$np.json" "$TMP/c1.h5" "$TMP/out$np" 5 '"run_id": "e2e", "drivers": {"sample_size": 1500}'
  tribe_np $np run "$TMP/job$np.json" >"$TMP/run$np.out" 2>"$TMP/run$np.err" || { fail "run on $np ranks"; cat "$TMP/run$np.err"; }
  grep -q "ranks=$np" "$TMP/run$np.err" && ok "run reports ranks=$np" || fail "ranks=$np line"
  tribe_np 1 export "$TMP/out$np/results.h5" --csv "$TMP/seg$np.csv" >/dev/null
done
for f in results.h5 personas.json segments.csv segments.json report.html; do
  check "run wrote $f" test -s "$TMP/out1/$f"
done
check "segments.json published in the run directory too" cmp -s "$TMP/out1/segments.json" "$TMP/out1/runs/e2e/segments.json"
check "segments.json identical across rank counts" cmp -s "$TMP/out1/segments.json" "$TMP/out4/segments.json"
check "labels on 2 ranks equal labels on 1" cmp -s "$TMP/seg1.csv" "$TMP/seg2.csv"
# Attributes every rank writes hold one value (rank 0's timings): valid JSON on 4 ranks, the run record's.
$PY - "$TMP/out4/results.h5" "$TMP/out4/run.json" <<'PY' && ok "run attributes are whole JSON on 4 ranks" || fail "run attributes on 4 ranks"
import json, sys, h5py
run = h5py.File(sys.argv[1], "r")["/runs/e2e"].attrs
t, m = json.loads(run["timings"]), json.loads(run["memory"])
rec = json.load(open(sys.argv[2]))
assert set(t) >= {"read", "transform", "kmeans", "segments", "personas", "total"}, t
assert all(t[k] == rec["timings"][k] for k in t if k != "total"), (t, rec["timings"])
assert len(m["peak_rss_bytes"]) == 4 and m == rec["memory"], m
PY
check "labels on 4 ranks equal labels on 1" cmp -s "$TMP/seg1.csv" "$TMP/seg4.csv"
# The default model columns (customers.h5's model_default) leave ingest's four return columns out.
$PY - "$TMP/c1.h5" "$TMP/out1/results.h5" <<'PY' && ok "default model columns leave the return columns out" || fail "default model columns"
import sys, h5py
dec = lambda v: [s.decode() if isinstance(s, bytes) else s for s in v]
feat = h5py.File(sys.argv[1], "r")["/customers/features"].attrs
table, default = dec(feat["feature_names"]), dec(feat["model_default"])
model = dec(h5py.File(sys.argv[2], "r")["/model"].attrs["feature_names"])
ret = ["gross_monetary", "return_count", "return_value", "return_rate"]
assert all(c in table for c in ret), table
assert model == default and "monetary" in model and not set(ret) & set(model), (model, default)
PY
check "personas identical across rank counts" cmp -s "$TMP/out1/personas.json" "$TMP/out4/personas.json"
check "segments.csv identical across rank counts" cmp -s "$TMP/out1/segments.csv" "$TMP/out4/segments.csv"

# Segment drivers: the same mean |SHAP|, gain and model bytes on 1, 2 and 4
# ranks; every segment has something that drives it.
$PY - "$TMP/out1/results.h5" "$TMP/out2/results.h5" "$TMP/out4/results.h5" <<'PY' && ok "segment drivers identical on 1, 2, 4 ranks and > 0 per segment" || fail "segment drivers"
import sys, h5py, numpy as np
f = [h5py.File(p, "r") for p in sys.argv[1:]]
ma = [x["/model/drivers/mean_abs_shap"][:] for x in f]
gain = [x["/model/drivers/gain"][:] for x in f]
js = [bytes(x["/model/drivers/gbdt_json"][:]) for x in f]
k = f[0]["/segments"].attrs["k"]
names = list(f[0]["/model/drivers/mean_abs_shap"].attrs["feature_names"])
assert ma[0].shape == (k, len(names)), ma[0].shape
assert all(np.array_equal(ma[0], m) for m in ma[1:]), "mean_abs_shap differs across rank counts"
assert all(np.array_equal(gain[0], g) for g in gain[1:]), "gain differs across rank counts"
assert all(js[0] == j for j in js[1:]), "model JSON differs across rank counts"
assert (ma[0].sum(axis=1) > 0).all(), ma[0].sum(axis=1)
assert gain[0].sum() > 0 and (gain[0] >= 0).all()
import json
model = json.loads(js[0])
assert model["objective"] == "softmax" and model["n_groups"] == k and model["n_features"] == len(names), model["objective"]
assert f[0]["/model/drivers"].attrs["shap_rows"] > 0
PY
grep -q 'What drives each segment' "$TMP/out1/report.html" && ok "report has the drivers section" || fail "report drivers section"
cat >"$TMP/nodrv.json" <<JSON
{"input": "$TMP/c1.h5", "output": "$TMP/nodrv", "seed": 7, "kmeans": {"k": 5}, "drivers": {"enabled": false}}
JSON
tribe_np 1 run "$TMP/nodrv.json" >/dev/null 2>&1 && $PY -c "
import sys, h5py; sys.exit('/model/drivers' in h5py.File('$TMP/nodrv/results.h5', 'r'))" &&
  ok "drivers.enabled=false writes no /model/drivers" || fail "drivers.enabled=false"
head -1 "$TMP/seg1.csv" | grep -qE ',segment_id,segment_name(,|$)' && ok "export carries segment id and name" || fail "segment columns"
check "no staging directory left behind" test -z "$(ls -A "$TMP/out1" | grep staging || true)"

# Edge values the spec allows end in a valid run record (once: exit 3 "run record is not valid JSON"
# after all the work): one segment, no silhouette sample, a quote and a backslash in the output path.
odd="$TMP/we\"ird \\ dir"
for edge in '"kmeans": {"k": 1}' '"kmeans": {"k": 3}, "silhouette": {"sample_size": 0}'; do
  cat >"$TMP/edge.json" <<JSON
{"input": "$TMP/c1.h5", "output": $($PY -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$odd"), $edge}
JSON
  if tribe_np 2 run "$TMP/edge.json" >"$TMP/edge.out" 2>&1; then
    $PY - "$odd/run.json" "$odd/report.html" <<'PY' && ok "run with $edge: valid run.json, null silhouette" || fail "run.json with $edge"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["silhouette"] is None, r["silhouette"]
assert r["kmeans"]["silhouette"] is None
assert r["k"] in (1, 3) and r["settings"]["output"].endswith('we"ird \\ dir'), r["settings"]["output"]
if r["k"] == 1:
    assert r["drivers"] == {"skipped": "one segment"} and r["ward"] == {}, (r["drivers"], r["ward"])
assert '<section id="glance"' in open(sys.argv[2]).read()
PY
  else
    fail "run with $edge"; tail -3 "$TMP/edge.out"
  fi
done

# Segments recovered from the planted truth: adjusted Rand index well above chance.
$PY - "$TMP/raw/truth.csv" "$TMP/seg1.csv" "$TMP/c1.h5" <<'PY' && ok "planted segments recovered (ARI)" || fail "planted segments recovered (ARI)"
import csv, json, sys, h5py
from sklearn.metrics import adjusted_rand_score
truth = {r["customer_id"]: r["segment"] for r in csv.DictReader(open(sys.argv[1]))}
got = {r["customer_id"]: r["segment_id"] for r in csv.DictReader(open(sys.argv[2]))}
ids = sorted(set(truth) & set(got))
ari = adjusted_rand_score([truth[i] for i in ids], [got[i] for i in ids])
print("ARI vs planted truth: %.3f over %d customers" % (ari, len(ids)))
# every segmented customer is a planted one; the planted ones missing are those at net spend <= 0
left = json.loads(h5py.File(sys.argv[3], "r")["/customers"].attrs["ledger"])["customers_net_nonpositive"]
sys.exit(0 if ari > 0.3 and len(ids) == len(got) == len(truth) - left else 1)
PY
finish
