#!/usr/bin/env bash
# ltv.train_windows (docs/ltv.md, "Stacked training windows"): gen -> ingest at three cutoffs 90 days apart
# (a stacked window, train, test) and once in full -> run on 1, 2 and 4 ranks. The run record counts the
# stacked window's rows and the GBDTs' training rows; the final model's root cover shows that it learned
# from all three windows' rows (about 80% of them, more than train + test have); the candidates, the final
# models and the choice are bit-identical across rank counts. The bad windows are in test_ltv_bad_input.sh.
source "$(dirname "$0")/lib.sh"
export OMP_WAIT_POLICY=passive  # 4 ranks on 2 cores: spinning threads would take the cores from the ranks
"$TRIBE_BIN" gen --customers 2000 --seed 5 -o "$TMP/raw" --no-web --no-demographics >"$TMP/gen.log" 2>&1 ||
  { cat "$TMP/gen.log"; fail "gen"; finish; exit 1; }
tx="$TMP/raw/transactions.csv"
for c in 2011-03-14 2011-06-12 2011-09-10; do
  "$TRIBE_BIN" ingest --transactions "$tx" -o "$TMP/w$c.h5" --cutoff $c --horizon 90 >"$TMP/i$c.out" 2>&1 ||
    { cat "$TMP/i$c.out"; fail "ingest at $c"; }
done
"$TRIBE_BIN" ingest --transactions "$tx" -o "$TMP/all.h5" --target "$TMP/all.target.h5" >"$TMP/i.out" 2>&1 ||
  { cat "$TMP/i.out"; fail "ingest"; }
LTV='"ltv": {"train": "'$TMP/w2011-06-12.h5'", "test": "'$TMP/w2011-09-10.h5'", "horizon_days": 90, "n_rounds": 30,
  "n_boot": 20, "train_windows": ["'$TMP/w2011-03-14.h5'"]}, "churn": {"enabled": false},
  "drivers": {"enabled": false}, "gmm": {"enabled": false}, "ward": {"enabled": false}'
for np in 1 2 4; do
  write_job "$TMP/job$np.json" "$TMP/all.h5" "$TMP/out$np" 3 "$LTV"
  if tribe_np $np run "$TMP/job$np.json" >"$TMP/run$np.out" 2>"$TMP/run$np.err"; then
    ok "run with a stacked window on $np ranks"
  else
    fail "run with a stacked window on $np ranks"; tail -5 "$TMP/run$np.err"
  fi
done
check "the log names the stacked window" \
  grep -q "ltv: stacked window .*w2011-03-14.h5 (cutoff 2011-03-14): [0-9]* rows" "$TMP/run1.err"
$PY - "$TMP" <<'PY' && ok "stacked rows counted in run.json, used by the final model, same bits on 1, 2, 4 ranks" ||
import json, sys, h5py
d = sys.argv[1]
n = {c: h5py.File(f"{d}/w{c}.h5", "r")["/customers/id"].shape[0]
     for c in ("2011-03-14", "2011-06-12", "2011-09-10")}
rec = json.load(open(f"{d}/out1/run.json"))["ltv"]
tw = rec["train_windows"]
assert [w["cutoff"] for w in tw] == ["2011-03-14"] and tw[0]["file"].endswith("/w2011-03-14.h5"), tw
assert [w["rows"] for w in tw] == [n["2011-03-14"]], (tw, n)
assert all(w["bgnbd"]["r"] > 0 and w["gamma_gamma"]["p"] > 0 for w in tw), tw
stacked = n["2011-03-14"]
assert rec["train_rows"] == stacked + n["2011-06-12"], rec["train_rows"]
assert rec["refit_rows"] == rec["train_rows"] + n["2011-09-10"], rec["refit_rows"]
a = h5py.File(f"{d}/out1/results.h5", "r")
for nm in ("gbdt_json", "gbdt_residual_json"):
    cover = json.loads(a["/model/ltv/" + nm][:].tobytes())["trees"][0]["nodes"][0]["cover"]
    both = n["2011-06-12"] + n["2011-09-10"]
    assert both < cover and 0.75 * rec["refit_rows"] < cover < 0.85 * rec["refit_rows"], (nm, cover, rec)
print("final model: root cover %d of %d stacked + train + test rows (%d stacked)" % (cover, rec["refit_rows"], stacked))
for np in (2, 4):
    b = h5py.File(f"{d}/out{np}/results.h5", "r")
    for ds in ("/segments/ltv", "/segments/ltv_candidates", "/model/ltv/metrics", "/model/ltv/blend_weights",
               "/model/ltv/gbdt_json", "/model/ltv/gbdt_residual_json", "/segments/ltv_mean_lo"):
        assert (a[ds][:] == b[ds][:]).all(), (np, ds)
    r = json.load(open(f"{d}/out{np}/run.json"))["ltv"]
    assert r["train_windows"] == tw and r["chosen"] == rec["chosen"] and r["why"] == rec["why"], np
html = open(f"{d}/out1/report.html").read()
assert "The trees learned from %s rows: the training window's customers and those of 1 earlier window " % \
    format(rec["train_rows"], ",") in html, "report note"
PY
  fail "stacked rows counted in run.json, used by the final model, same bits on 1, 2, 4 ranks"
finish
