#!/usr/bin/env bash
# tribe run with an "ltv" object also runs the churn stage (docs/churn.md): gen -> ingest at two cutoffs one
# horizon apart and once in full -> run on 1, 2 and 4 ranks (optional stages off, to stay fast). Churn risk,
# segment figures, metrics, calibration and the model bit-identical across rank counts; the BG/NBD
# baselines' AUC, Brier and calibration recomputed independently (numpy) from the test window's target file
# and the stored BG/NBD parameters; the outputs that carry churn (segments.csv, export, campaign plan,
# report, personas) agree with results.h5; churn.enabled false leaves no churn output. Churn takes the ltv
# stage's BG/NBD fit of the train window (said in the log; /model/churn/bgnbd = /model/ltv/bgnbd's train row)
# and the job input's BG/NBD inputs as the ltv stage does (one derivation): derived from customers.h5 without
# the input's target file, read from it with one; x, t_x, T are the same either way, so the churn results and
# ltv's BG/NBD fit of the input are too.
source "$(dirname "$0")/lib.sh"
tribe_np 2 gen --customers 1000 --seed 9 -o "$TMP/raw" --no-web --no-demographics 2>"$TMP/gen.log" ||
  { cat "$TMP/gen.log"; fail "gen"; finish; exit 1; }
tx="$TMP/raw/transactions.csv"
tribe_np 2 ingest --transactions "$tx" -o "$TMP/train.h5" --cutoff 2011-06-12 --horizon 90 >"$TMP/i1.out" 2>&1 ||
  { cat "$TMP/i1.out"; fail "ingest train"; }
tribe_np 2 ingest --transactions "$tx" -o "$TMP/test.h5" --cutoff 2011-09-10 --horizon 90 >"$TMP/i2.out" 2>&1 ||
  { cat "$TMP/i2.out"; fail "ingest test"; }
tribe_np 2 ingest --transactions "$tx" -o "$TMP/all.h5" --target "$TMP/all.tgt.h5" >"$TMP/i3.out" 2>&1 ||
  { cat "$TMP/i3.out"; fail "ingest"; }
OFF='"silhouette": {"sample_size": 0}, "gmm": {"enabled": false}, "ward": {"enabled": false},
 "projection": {"sample_size": 500}, "drivers": {"enabled": false}'
LTV='"ltv": {"train": "'$TMP/train.h5'", "test": "'$TMP/test.h5'", "horizon_days": 90, "n_rounds": 10}'
for np in 1 2 4; do
  write_job "$TMP/job$np.json" "$TMP/all.h5" "$TMP/out$np" 4 "$OFF, $LTV, \"churn\": {\"n_rounds\": 40}"
  tribe_np $np run "$TMP/job$np.json" >"$TMP/run$np.out" 2>"$TMP/run$np.err" && ok "run with churn on $np ranks" ||
    { fail "run with churn on $np ranks"; tail -5 "$TMP/run$np.err"; }
  check "churn takes the ltv stage's BG/NBD fit ($np ranks)" grep -q "churn: BG/NBD from the ltv stage" "$TMP/run$np.err"
done
check "ltv and churn say the input's BG/NBD inputs are approximated" \
  bash -c 'grep -q "ltv: no .*approximated from customers.h5" "$1" && grep -q "churn: no .*approximated from customers.h5" "$1"' \
  _ "$TMP/run2.err"
# The same job with the input's target file: exact inputs, read by both stages.
write_job "$TMP/jobx.json" "$TMP/all.h5" "$TMP/outx" 4 \
  "$OFF, ${LTV%\}}, \"input_target\": \"$TMP/all.tgt.h5\"}, \"churn\": {\"n_rounds\": 40}"
tribe_np 1 run "$TMP/jobx.json" >"$TMP/runx.out" 2>"$TMP/runx.err" && ! grep -q "approximated" "$TMP/runx.err" &&
  ok "run with the input's target file" || { fail "run with the input's target file"; tail -5 "$TMP/runx.err"; }
tribe_np 2 export "$TMP/out2/results.h5" --csv "$TMP/export.csv" >"$TMP/export.out" 2>&1 || fail "export"
$PY - "$TMP" <<'PY' && ok "churn results" || fail "churn results"
import csv, json, sys, h5py, numpy as np
d = sys.argv[1]
a, b, c = (h5py.File("%s/out%d/results.h5" % (d, n), "r") for n in (1, 2, 4))
for o in (b, c):
    for name in ("/segments/churn_risk", "/segments/churn_risk_mean", "/segments/churn_high_share",
                 "/model/churn/metrics", "/model/churn/calibration", "/model/churn/bgnbd", "/model/churn/gbdt_json"):
        assert o[name][:].tobytes() == a[name][:].tobytes(), name + " differs between rank counts"
risk, lab = a["/segments/churn_risk"][:], a["/segments/label"][:]
assert risk.dtype == np.float32 and np.isfinite(risk).all() and (risk >= 0).all() and (risk <= 1).all()
k = a["/segments/churn_risk_mean"].shape[0]
hr = a["/segments/churn_high_share"].attrs["high_risk"]
for s in range(k):
    v = risk[lab == s].astype(np.float64)
    assert abs(a["/segments/churn_risk_mean"][s] - v.mean()) <= 1e-9, s
    assert a["/segments/churn_high_share"][s] == (v >= hr).mean(), s
# the baselines recomputed: label = no net spend in the test window, BG/NBD (train fit) on its x, t_x, T
tg = h5py.File(d + "/test.target.h5", "r")
names = [n.decode() if isinstance(n, bytes) else n for n in tg["/customers/features"].attrs["feature_names"]]
t = tg["/customers/features"][:].astype(np.float64)
y = (t[:, names.index("future_spend")] == 0).astype(int)
x, tx, T = (t[:, names.index(n)] for n in ("bgnbd_x", "bgnbd_t_x", "bgnbd_T"))
r, al, aa, bb = a["/model/churn/bgnbd"][0]
with np.errstate(over="ignore", divide="ignore"):
    lr = np.log(aa) - np.log(bb + x - 1) + (r + x) * (np.log(al + T) - np.log(al + tx))
    pa = np.where(x > 0, 1 / (1 + np.exp(lr)), 1.0)
pn = 1 - pa + pa * ((al + T) / (al + T + 90)) ** (r + x)
def auc(s, y):
    o = np.argsort(s, kind="mergesort"); s, yy = s[o], y[o]
    _, first, cnt = np.unique(s, return_index=True, return_counts=True)
    ranks = np.repeat(first + (cnt + 1) / 2.0, cnt)
    p = yy.sum(); n = len(yy) - p
    return (ranks[yy == 1].sum() - p * (p + 1) / 2) / (p * n)
m = a["/model/churn/metrics"][:]
cal = a["/model/churn/calibration"][:].reshape(3, 10, 3)
assert m.shape == (3, 5) and m[0, 3] == len(y) and m[0, 4] == y.sum(), m
for i, s in ((1, 1 - pa), (2, pn)):
    assert abs(m[i, 0] - auc(s, y)) < 1e-6, (i, m[i, 0], auc(s, y))
    assert abs(m[i, 1] - ((s - y) ** 2).mean()) < 1e-6, (i, m[i, 1])
    bins = np.minimum((s * 10).astype(int), 9)
    for bn in range(10):
        assert cal[i, bn, 0] == (bins == bn).sum(), (i, bn)
for i in range(3):
    n = cal[i, :, 0]; ok = n > 0
    assert n.sum() == len(y)
    ece = (n[ok] / n.sum() * abs(cal[i, ok, 1] - cal[i, ok, 2])).sum()
    assert abs(ece - m[i, 2]) < 1e-12, (i, ece, m[i, 2])
assert m[0, 0] > 0.6, "GBDT AUC %g" % m[0, 0]
g = json.loads(a["/model/churn/gbdt_json"][:].tobytes())
assert g["objective"] in ("logistic", 3) or "logistic" in json.dumps(g)[:2000], g.get("objective")
rec = json.load(open(d + "/out1/run.json"))
ch = rec.get("churn") or rec["stages"]["churn"]
assert abs(ch["metrics"][0][0] - m[0, 0]) < 1e-12, (ch["metrics"][0], m[0])
assert len(ch["calibration"]) == 3 and len(ch["gbdt"]["trees"]) == ch["n_trees"] > 0, ch["n_trees"]
# segments.csv, the campaign plan, the export, the report and the personas carry the same figures
rows = list(csv.DictReader(open(d + "/out1/segments.csv", newline="")))
for row in rows:
    s = int(row["segment_id"])
    assert abs(float(row["churn_risk_mean"]) - a["/segments/churn_risk_mean"][s]) < 1e-9
    assert abs(float(row["churn_high_share"]) - a["/segments/churn_high_share"][s]) < 1e-9
plan = list(csv.DictReader(open(d + "/out1/campaign_plan.csv", newline="")))
assert len(plan) == k and all(abs(float(p["churn_risk"]) - a["/segments/churn_risk_mean"][int(p["segment_id"])]) < 1e-9
                              for p in plan)
ex = list(csv.DictReader(open(d + "/export.csv", newline="")))
assert (np.array([e["churn_risk_90d"] for e in ex], dtype=np.float32) == risk).all()
html = open(d + "/out1/report.html").read()
sec = html[html.index('<section id="churn"'):]
sec = sec[:sec.index("</section>")]
assert sec.count("<tr>") == 1 + 3 + 2 + 10 + 1 + k, sec.count("<tr>")
pers = json.dumps(json.load(open(d + "/out1/personas.json")))
assert pers.count("likely to buy nothing in the next 90 days") == k
# the personas' evidence names the churn figures in words, not by their ids
ev = html[html.index('<section id="personas"'):]
assert "share at high risk of no purchase in the next 90 days <code>churn.high_share" in ev, "churn evidence label"
assert "</b> churn." not in ev, "an evidence line names a figure by its id"
# churn's BG/NBD is the ltv stage's fit of the train window
assert a["/model/churn/bgnbd"][:].tobytes() == a["/model/ltv/bgnbd"][0:1].tobytes(), "churn's BG/NBD is not ltv's"
assert ch["bgnbd"]["fitted_by"] == "ltv", ch["bgnbd"]
# one derivation of the input's BG/NBD inputs: approximated here (no target file) in both stages; with the
# file (outx) exact in both, and x, t_x, T the same: churn's results and ltv's BG/NBD fit of the input equal
assert ch["input_bgnbd_exact"] is False and rec["ltv"]["input_bgnbd_exact"] is False
x = h5py.File(d + "/outx/results.h5", "r")
rx = json.load(open(d + "/outx/run.json"))
assert rx["churn"]["input_bgnbd_exact"] is True and rx["ltv"]["input_bgnbd_exact"] is True
for name in ("/segments/churn_risk", "/segments/churn_risk_mean", "/model/churn/metrics", "/model/churn/bgnbd"):
    assert x[name][:].tobytes() == a[name][:].tobytes(), name + " differs with the input's target file"
assert x["/model/ltv/bgnbd"][2].tobytes() == a["/model/ltv/bgnbd"][2].tobytes(), "ltv's input BG/NBD differs"
assert x["/model/ltv/gamma_gamma"][2].tobytes() != a["/model/ltv/gamma_gamma"][2].tobytes()  # mbar: approximated
print("churn AUC gbdt %.4f, 1-P(alive) %.4f, P(none) %.4f; ECE %.4f %.4f %.4f" % (*m[:, 0], *m[:, 2]))
PY
# churn.enabled false: the ltv outputs stay, no churn anywhere
write_job "$TMP/off.json" "$TMP/all.h5" "$TMP/off" 4 "$OFF, $LTV, \"churn\": {\"enabled\": false}"
tribe_np 1 run "$TMP/off.json" >/dev/null 2>&1 && $PY -c "
import sys, h5py; f = h5py.File(sys.argv[1], 'r'); assert 'ltv' in f['/segments'] and 'churn_risk' not in f['/segments']
assert 'churn' not in f['/model']" "$TMP/off/results.h5" && ! grep -q 'id="churn"' "$TMP/off/report.html" &&
  ! grep -q churn "$TMP/off/segments.csv" && ok "churn.enabled false: no churn output" || fail "churn.enabled false"
finish
