#!/usr/bin/env bash
# tribe run with an "ltv" object: gen -> ingest at two cutoffs one horizon apart (train: features as of
# c1, spend in (c1, c1+90]; test: as of c2 = c1+90) and once in full -> run on 1, 2 and 4 ranks. Predicted
# LTV, every candidate, the classic fits, the intervals and the final model (refit on both windows' rows
# stacked) bit-identical across rank counts, finite and >= 0; metrics for the five models; GBDT R2 > 0; the
# chosen model no worse than BG/NBD + Gamma-Gamma and named with its reason in results.h5, run.json, report;
# with ltv.select_confidence 0.84 the selection's paired bootstrap shares the same bits on 1, 2 and 4 ranks, the
# chosen challenger's shares >= 0.84; a bad select_confidence is refused naming the key.
source "$(dirname "$0")/lib.sh"
export OMP_WAIT_POLICY=passive  # 4 ranks x 2 threads on 2 cores: spinning threads would take the cores from the ranks
tribe_np 2 gen --customers 6000 --seed 5 -o "$TMP/raw" --no-web --no-demographics 2>"$TMP/gen.log" ||
  { cat "$TMP/gen.log"; fail "gen"; finish; exit 1; }
tx="$TMP/raw/transactions.csv"
tribe_np 2 ingest --transactions "$tx" -o "$TMP/train.h5" --cutoff 2011-06-12 --horizon 90 >"$TMP/i1.out" 2>&1 ||
  { cat "$TMP/i1.out"; fail "ingest train"; }
tribe_np 2 ingest --transactions "$tx" -o "$TMP/test.h5" --cutoff 2011-09-10 --horizon 90 >"$TMP/i2.out" 2>&1 ||
  { cat "$TMP/i2.out"; fail "ingest test"; }
tribe_np 2 ingest --transactions "$tx" -o "$TMP/all.h5" --target "$TMP/all.target.h5" >"$TMP/i3.out" 2>&1 ||
  { cat "$TMP/i3.out"; fail "ingest"; }
LTV='"ltv": {"train": "'$TMP/train.h5'", "test": "'$TMP/test.h5'", "horizon_days": 90, "n_rounds": 100}'
for np in 1 2 4; do
  # churn runs on the same windows by default; e2e.test_churn_run checks it on 1, 2 and 4 ranks
  write_job "$TMP/job$np.json" "$TMP/all.h5" "$TMP/out$np" 4 "${LTV%\}}, \"select_confidence\": 0.84}, \"churn\": {\"enabled\": false}"
  if tribe_np $np run "$TMP/job$np.json" >"$TMP/run$np.out" 2>"$TMP/run$np.err"; then
    ok "run with ltv on $np ranks"
  else
    fail "run with ltv on $np ranks"; tail -5 "$TMP/run$np.err"
  fi
done
$PY - "$TMP/out1/results.h5" "$TMP/out2/results.h5" "$TMP/out1/report.html" "$TMP/out4/results.h5" \
  "$TMP/train.h5" "$TMP/test.h5" <<'PY' && ok "ltv results" || fail "ltv results"
import json, sys, h5py, numpy as np
a, b, d = (h5py.File(p, "r") for p in sys.argv[1:3] + sys.argv[4:5])
l1, l2 = a["/segments/ltv"][:], b["/segments/ltv"][:]
assert l1.dtype == np.float32 and l1.shape[0] == a["/segments/label"].shape[0], l1.shape
assert (l1 == l2).all(), "ltv differs between 1 and 2 ranks"
assert (l1 == d["/segments/ltv"][:]).all(), "ltv differs between 1 and 4 ranks"
for o in (b, d):
    assert (o["/model/ltv/gbdt_json"][:] == a["/model/ltv/gbdt_json"][:]).all(), "final model differs"
    for s in ("ltv_mean", "ltv_median", "ltv_total"):
        assert (o["/segments/" + s][:] == a["/segments/" + s][:]).all(), s
# the final model learned from both windows: its trees' root cover = the training (not held-out) rows
# of train + test, about 80% of both, more than the test window alone has
n1, n2 = (h5py.File(p, "r")["/customers/id"].shape[0] for p in sys.argv[5:7])
g = json.loads(a["/model/ltv/gbdt_json"][:].tobytes())
cover = g["trees"][0]["nodes"][0]["cover"]
assert n2 < cover and 0.75 * (n1 + n2) < cover < 0.85 * (n1 + n2), (cover, n1, n2)
print("final model: root cover %d of %d + %d stacked rows" % (cover, n1, n2))
assert np.isfinite(l1).all() and (l1 >= 0).all()
m = a["/model/ltv/metrics"][:]
models = [s.decode() if isinstance(s, bytes) else s for s in a["/model/ltv/metrics"].attrs["models"]]
assert models == ["gbdt", "gbdt_residual", "bgnbd_gamma_gamma", "blend", "past_spend_rate"], models
assert m.shape == (5, 4) and np.isfinite(m).all(), m
assert (m == b["/model/ltv/metrics"][:]).all()
# the choice: a candidate no worse than BG/NBD + Gamma-Gamma on R2 and MAE; /segments/ltv is its prediction
at = a["/model/ltv/metrics"].attrs
chosen = at["chosen"].decode() if isinstance(at["chosen"], bytes) else at["chosen"]
ci = models.index(chosen)
assert ci < 4 and m[ci, 2] >= m[2, 2] and m[ci, 0] <= m[2, 0], (chosen, m)
# the selection's bootstrap: shares in [0, 1], the same bits on every rank count, the rule at 0.84 applied
CH = ["gbdt", "gbdt_residual", "blend"]
sh = {n: (at["select_share_mae_" + n], at["select_share_r2_" + n]) for n in CH}
assert at["select_confidence"] == 0.84 and at["select_replicates"] == 1000, dict(at)
for o in (b, d):
    for n in CH:
        assert (o["/model/ltv/metrics"].attrs["select_share_mae_" + n], o["/model/ltv/metrics"].attrs["select_share_r2_" + n]) == sh[n], n
    assert o["/model/ltv/metrics"].attrs["chosen"] == at["chosen"]
qual = [n for n in CH if m[models.index(n), 2] >= m[2, 2] and m[models.index(n), 0] <= m[2, 0] and min(sh[n]) >= 0.84]
assert all(0 <= v <= 1 for n in CH for v in sh[n]), sh
best = max(qual, key=lambda n: m[models.index(n), 2], default="bgnbd_gamma_gamma")
assert chosen == (best if qual and m[models.index(best), 2] > m[2, 2] else "bgnbd_gamma_gamma"), (chosen, sh, m)
print("selection shares (MAE, R2):", sh, "chosen", chosen)
w = a["/model/ltv/blend_weights"][:]
assert w.shape == (3,) and (w >= 0).all() and abs(w.sum() - 1) < 1e-12, w
assert m[3, 2] >= m[2, 2] and m[3, 0] <= m[2, 0], m   # the blend is constrained to beat the classic on both
why = at["why"].decode() if isinstance(at["why"], bytes) else at["why"]
assert why.startswith(chosen + ":") and "R2 / MAE" in why, why
cand = a["/segments/ltv_candidates"][:]
assert cand.shape == (l1.shape[0], 4) and (cand[:, ci] == l1).all() and (cand >= 0).all()
c64 = cand.astype(np.float64)
assert np.allclose(c64[:, 3], w[0] * c64[:, 0] + w[1] * c64[:, 1] + w[2] * c64[:, 2], rtol=1e-6, atol=1e-3)
for o in (b, d):
    for ds in ("/segments/ltv_candidates", "/model/ltv/bgnbd", "/model/ltv/gamma_gamma", "/model/ltv/loglik",
               "/segments/ltv_mean_lo", "/segments/ltv_mean_hi", "/model/ltv/blend_weights",
               "/model/ltv/gbdt_residual_json"):
        assert (o[ds][:] == a[ds][:]).all(), ds
bg, gg, ll = a["/model/ltv/bgnbd"][:], a["/model/ltv/gamma_gamma"][:], a["/model/ltv/loglik"][:]
assert bg.shape == (3, 4) and gg.shape == (3, 3) and (bg > 0).all() and (gg > 0).all(), (bg, gg)
assert np.isfinite(ll).all() and (ll < 0).all(), ll
# per-segment 95% bootstrap interval around the mean
lo, hi = a["/segments/ltv_mean_lo"][:], a["/segments/ltv_mean_hi"][:]
assert (lo <= a["/segments/ltv_mean"][:]).all() and (a["/segments/ltv_mean"][:] <= hi).all() and (lo < hi).all()
rec = json.load(open(sys.argv[3].replace("report.html", "run.json")))
lr = rec["ltv"]
assert lr["chosen"] == chosen and lr["blend_weights"] == list(w) and lr["why"] == why, lr
assert lr["classic"]["input"]["bgnbd"]["r"] == bg[2, 0] and lr["classic"]["train"]["gamma_gamma"]["q"] == gg[0, 1]
assert lr["segment_mean_lo"] == list(lo) and lr["input_bgnbd_exact"] is True
assert lr["select_confidence"] == 0.84 and lr["select_replicates"] == 1000, lr
assert all((lr["select_shares"][n]["mae"], lr["select_shares"][n]["r2"]) == sh[n] for n in CH), lr["select_shares"]
assert "paired bootstrap" in why and "in at least 0.84 of the replicates" in why, why
print("| model | MAE | RMSE | R2 | top-decile lift |\n|---|---|---|---|---|")
for n, r in zip(models, m):
    print("| %s | %.2f | %.2f | %.4f | %.3f |" % (n, *r))
assert m[0, 2] > 0, "GBDT R2 %g" % m[0, 2]
lab = a["/segments/label"][:]
k = a["/segments/ltv_mean"].shape[0]
for c in range(k):
    v = l1[lab == c].astype(np.float64)
    assert abs(a["/segments/ltv_mean"][c] - v.mean()) <= 1e-6 * (1 + abs(v.mean()))
    assert a["/segments/ltv_median"][c] == np.median(v), (a["/segments/ltv_median"][c], np.median(v))
    assert abs(a["/segments/ltv_total"][c] - v.sum()) <= 1e-6 * (1 + v.sum())
assert a["/model/ltv/gbdt_json"][:].tobytes().startswith(b"{")
html = open(sys.argv[3]).read()
sec = html[html.index('<section id="ltv"'):]
sec = sec[:sec.index("</section>")]
for want in ("Gradient-boosted trees (tribe)", "BG/NBD + Gamma-Gamma", "Past spend rate carried forward",
             "Predicted value per segment", "Blend of the three", "&larr; chosen", "95% interval"):
    assert want in sec, want
assert sec.count("<tr>") == 1 + 5 + 1 + k, sec.count("<tr>")   # two header rows, 5 models, k segments
prof = json.load(open(sys.argv[3].replace("report.html", "segments.json")))
segl = prof["segments"]
assert [g["ltv_lo"] for g in segl] == list(lo), segl[0]
import csv
rows = list(csv.DictReader(open(sys.argv[3].replace("report.html", "campaign_plan.csv"))))
assert len(rows) == k
for r in rows:
    assert r["value_basis"] == "mean predicted LTV", r["value_basis"]
    c = int(r["segment_id"])
    assert abs(float(r["order_value"]) - a["/segments/ltv_mean"][c]) <= 0.01 + 1e-6 * a["/segments/ltv_mean"][c]
PY
# tribe export carries the predicted value, named with its currency and horizon, equal to /segments/ltv.
tribe_np 2 export "$TMP/out2/results.h5" --csv "$TMP/export.csv" >"$TMP/export.out" 2>&1 &&
  $PY - "$TMP/out2/results.h5" "$TMP/export.csv" <<'PY' && ok "export's predicted value equals /segments/ltv" ||
import csv, h5py, numpy as np, sys
f = h5py.File(sys.argv[1], "r")
rows = list(csv.DictReader(open(sys.argv[2], newline="")))
got = np.array([r["predicted_value_gbp_90d"] for r in rows], dtype=np.float32)
assert (got == f["/segments/ltv"][:]).all() and got.sum() > 0
PY
  fail "export's predicted value equals /segments/ltv"
# The GBDT on the job's model columns, raw (ltv.features), and no target file beside the input: the input's
# BG/NBD inputs approximated from customers.h5, said in the log and the record.
write_job "$TMP/raw.json" "$TMP/all.h5" "$TMP/outraw" 4 "${LTV%, \"n_rounds\": 100\}}, \"n_rounds\": 20, \"features\": \"model_columns\", \"input_target\": \"$TMP/none.h5\", \"n_boot\": 0}, \"churn\": {\"enabled\": false}"
tribe_np 1 run "$TMP/raw.json" >"$TMP/raw.out" 2>"$TMP/raw.err" && grep -q "approximated from customers.h5" "$TMP/raw.err" &&
  $PY - "$TMP/outraw/results.h5" "$TMP/outraw/run.json" <<'PY' && ok "model_columns, approximated input: runs, says so" ||
import json, sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
g = json.loads(f["/model/ltv/gbdt_json"][:].tobytes())
assert f["/model/ltv/metrics"].attrs["features"] in (b"model_columns", "model_columns")
assert np.isnan(f["/segments/ltv_mean_lo"][:]).all() and np.isfinite(f["/segments/ltv"][:]).all()
rec = json.load(open(sys.argv[2]))
lr = rec["ltv"]
assert lr["input_bgnbd_exact"] is False and lr["features"] == "model_columns", lr
assert lr["select_confidence"] == 0 and "the shares are not required" in lr["why"], lr   # the default: today's rule
PY
  { fail "model_columns, approximated input"; tail -3 "$TMP/raw.err"; }
# Without ltv nothing changes: no /segments/ltv.
write_job "$TMP/plain.json" "$TMP/all.h5" "$TMP/plain" 4
tribe_np 1 run "$TMP/plain.json" >/dev/null 2>&1 && $PY -c "
import sys, h5py; f = h5py.File(sys.argv[1], 'r'); assert 'ltv' not in f['/segments'] and 'ltv' not in f['/model']
 " "$TMP/plain/results.h5" && ! grep -q 'id="ltv"' "$TMP/plain/report.html" &&
  ok "no ltv object: no ltv datasets, no report section" || fail "run without ltv"
write_job "$TMP/bad.json" "$TMP/all.h5" "$TMP/bad" 4 '"ltv": {"train": "x.h5", "horizon_days": 90}'
expect 2 "'ltv' needs 'ltv.train', 'ltv.test'" -- "$TRIBE_BIN" run "$TMP/bad.json"
write_job "$TMP/bad2.json" "$TMP/all.h5" "$TMP/bad" 4 "${LTV%\}}, \"objective\": \"gamma\"}"
expect 2 "'ltv.objective' = 'gamma'" -- "$TRIBE_BIN" run "$TMP/bad2.json"
# ltv.select_confidence must be a share in [0, 1): refused before any work, naming the key
for v in -0.1 1 '"high"'; do
  write_job "$TMP/badc.json" "$TMP/all.h5" "$TMP/bad" 4 "${LTV%\}}, \"select_confidence\": $v}"
  want="'ltv\.select_confidence' = $v is outside \[0, 1\)"
  [ "$v" != '"high"' ] || want="'ltv\.select_confidence' must be a number"
  expect 2 "$want" -- "$TRIBE_BIN" run "$TMP/badc.json"
done
finish
