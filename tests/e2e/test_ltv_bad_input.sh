#!/usr/bin/env bash
# Bad input to tribe run's "ltv" object (issue 4, "Bad input"; docs/ltv.md "Bad input"): every case exits 3
# naming the file(s) and, for a row, the customer id, the same on 2 ranks when the bad row is on rank 1;
# constant and all-missing model columns are not an error (never split).
source "$(dirname "$0")/lib.sh"
tribe_np 1 gen --customers 600 --seed 3 -o "$TMP/raw" --no-web --no-demographics >"$TMP/gen.log" 2>&1 ||
  { cat "$TMP/gen.log"; fail "gen"; finish; exit 1; }
tx="$TMP/raw/transactions.csv"
ing() { # ing NAME [ingest args...]
  local name=$1
  shift
  "$TRIBE_BIN" ingest --transactions "$tx" -o "$TMP/$name.h5" "$@" >"$TMP/$name.log" 2>&1 ||
    { cat "$TMP/$name.log"; fail "ingest $name"; }
}
# The data end on 2011-12-08 (the last invoice day): the test window (2011-09-09, +90] ends there.
ing tr --cutoff 2011-06-11 --horizon 90
ing te --cutoff 2011-09-09 --horizon 90
ing all
ing te60 --cutoff 2011-09-09 --horizon 60
ing past --cutoff 2011-10-01 --horizon 90  # ends 2011-12-30, past the data
ing early --cutoff 2011-07-12 --horizon 90
ing tiny --cutoff 2009-12-10 --horizon 90  # the data's first day: customers of one day, none a repeat buyer
ing tiny2 --cutoff 2010-03-10 --horizon 90
# Doctored copies (h5py): a changed id, NaN and negative future spend, a target ledger of another cutoff,
# constant and all-missing model columns.
$PY - "$TMP" <<'PY' || fail "doctored files"
import json, shutil, sys, h5py, numpy as np
d = sys.argv[1]
def copy(src, dst):
    shutil.copy(f"{d}/{src}", f"{d}/{dst}")
    return h5py.File(f"{d}/{dst}", "r+")["/customers"]
c = copy("tr.target.h5", "badid.target.h5")
ids = c["id"][:]
ids[-1] += 1                                   # still ascending; the last customer (rank 1 on 2 ranks)
c["id"][:] = ids
for name, v in (("nan", np.nan), ("neg", -5.0)):
    c = copy("tr.target.h5", name + ".target.h5")
    f = c["features"][:]
    f[-2, 0] = v                               # future_spend of the last-but-one customer
    c["features"][:] = f
    open(f"{d}/{name}.id", "w").write(str(c["id"][-2]))
c = copy("tr.target.h5", "cut.target.h5")
l = json.loads(c.attrs["ledger"])
l["cutoff_day"] -= 7
c.attrs["ledger"] = np.bytes_(json.dumps(l).encode())
for w in ("tr", "te"):
    c = copy(w + ".h5", w + "_deg.h5")
    shutil.copy(f"{d}/{w}.target.h5", f"{d}/{w}_deg.target.h5")
    names = [n.decode() if isinstance(n, bytes) else n for n in c["features"].attrs["feature_names"]]
    f = c["features"][:]
    f[:, names.index("frequency")] = np.nan          # all missing
    f[:, names.index("distinct_products")] = 3.0     # constant
    c["features"][:] = f
# A test window without tenure_days (renamed): the past-spend-rate baseline cannot run.
c = copy("te.h5", "te_norate.h5")
shutil.copy(f"{d}/te.target.h5", f"{d}/te_norate.target.h5")
a = c["features"].attrs["feature_names"]
c["features"].attrs["feature_names"] = np.array([b"tenure_renamed" if n in (b"tenure_days", "tenure_days") else n
                                                 for n in a], dtype=a.dtype)
PY
ltv() { # ltv NAME TRAIN TEST [extra ltv members]: a job file
  write_job "$TMP/$1.json" "$TMP/all.h5" "$TMP/out_$1" 3 \
    '"features": {"columns": ["recency_days", "frequency", "monetary", "tenure_days", "distinct_products"]},
     "ltv": {"train": "'$TMP/$2'", "test": "'$TMP/$3'", "horizon_days": 90'"${4:-}"'}'
}
run2() { tribe_np 2 run "$@"; }

ltv ids tr.h5 te.h5 ', "train_target": "'$TMP/badid.target.h5'"'
last=$($PY -c "import h5py,sys; print(h5py.File(sys.argv[1])['/customers/id'][-1])" "$TMP/tr.h5")
expect 3 "badid.target.h5: its customers are not those of .*tr.h5: customer $((last + 1)) where the features have customer $last" -- \
  run2 "$TMP/ids.json"
ltv count tr.h5 te.h5 ', "train_target": "'$TMP/te.target.h5'"'
expect 3 "te.target.h5: its [0-9]+ customers are not the [0-9]+ of .*tr.h5" -- "$TRIBE_BIN" run "$TMP/count.json"
ltv nan tr.h5 te.h5 ', "train_target": "'$TMP/nan.target.h5'"'
expect 3 "nan.target.h5: future_spend of customer $(cat "$TMP/nan.id") is -?nan \(a target file made without --cutoff\?\)" -- \
  run2 "$TMP/nan.json"
ltv neg tr.h5 te.h5 ', "train_target": "'$TMP/neg.target.h5'"'
expect 3 "neg.target.h5: future_spend of customer $(cat "$TMP/neg.id") is -5 \(< 0" -- "$TRIBE_BIN" run "$TMP/neg.json"
ltv cut tr.h5 te.h5 ', "train_target": "'$TMP/cut.target.h5'"'
expect 3 "cut.target.h5: made at cutoff 2011-06-04, but .*tr.h5 at cutoff 2011-06-11" -- "$TRIBE_BIN" run "$TMP/cut.json"
ltv nocut all.h5 te.h5
expect 3 "all.h5: ingested without --cutoff; 'ltv.train' needs a file from 'tribe ingest --cutoff" -- \
  "$TRIBE_BIN" run "$TMP/nocut.json"
ltv hor tr.h5 te60.h5
expect 3 "te60.h5: ingested with --horizon 60, but 'ltv.horizon_days' = 90" -- "$TRIBE_BIN" run "$TMP/hor.json"
ltv overlap tr.h5 early.h5
expect 3 "early.h5: cutoff 2011-07-12 is before the end of the train window \(.*tr.h5: cutoff 2011-06-11 \+ 90 days = 2011-09-09\)" -- \
  "$TRIBE_BIN" run "$TMP/overlap.json"
# ltv.train_windows (stacked training windows): a window whose target runs into the test window's, a missing
# file, the train window stacked again.
ltv stk_overlap tr.h5 te.h5 ', "train_windows": ["'$TMP/early.h5'"]'
expect 3 "early.h5: cutoff 2011-07-12 \+ 90 days = 2011-10-10 is after the test window's cutoff 2011-09-09 \(.*te.h5\): its target would overlap the test target" -- \
  run2 "$TMP/stk_overlap.json"
ltv stk_missing tr.h5 te.h5 ', "train_windows": ["'$TMP/none.h5'"]'
expect 3 "ltv.train_windows: cannot read .*none.h5 \(make it with 'tribe ingest --cutoff DATE --horizon 90" -- \
  "$TRIBE_BIN" run "$TMP/stk_missing.json"
ltv stk_dup tr.h5 te.h5 ', "train_windows": ["'$TMP/tr.h5'"]'
expect 3 "tr.h5: cutoff 2011-06-11 is that of .*tr.h5 too: a window stacked twice" -- "$TRIBE_BIN" run "$TMP/stk_dup.json"
write_job "$TMP/norate.json" "$TMP/all.h5" "$TMP/out_norate" 3 \
  '"features": {"columns": ["recency_days", "frequency", "distinct_products"]},
   "ltv": {"train": "'$TMP/tr.h5'", "test": "'$TMP/te_norate.h5'", "horizon_days": 90}'
expect 3 "te_norate.h5: the past-spend-rate baseline needs 'monetary' and 'tenure_days'" -- run2 "$TMP/norate.json"
# A train window of customers of one day: with half held out, fewer training rows than the GBDT's
# min_samples_leaf (20); with the default 20% held out the GBDT fits, but no customer is a repeat buyer
# and Gamma-Gamma has nothing to fit.
n_tiny=$($PY -c "import h5py,sys; print(h5py.File(sys.argv[1])['/customers/id'].shape[0])" "$TMP/tiny.h5")
ltv few tiny2.h5 te.h5 ', "valid_fraction": 0.8'
expect 3 "ltv: the GBDT on .*tiny2.h5: gbdt: [0-9]+ training rows, fewer than min_samples_leaf = 20" -- \
  run2 "$TMP/few.json"
ltv norep tiny.h5 tiny2.h5
expect 3 "ltv: the BG/NBD \+ Gamma-Gamma baseline on .*tiny.target.h5: gammagamma: no repeat customer" -- \
  "$TRIBE_BIN" run "$TMP/norep.json"
echo "tiny window: $n_tiny customers"
# A window whose horizon runs past the data's last day: ingest warns, tribe run refuses (censored target).
check "ingest warns when cutoff + horizon runs past the last invoice day" \
  grep -q "warn: ingest: the target window (2011-10-01 + 90 days) ends after the last invoice day 2011-12-08" "$TMP/past.log"
ltv past tr.h5 past.h5
expect 3 "past.h5: cutoff 2011-10-01 \+ horizon 90 days = 2011-12-30 runs past the data's last day 2011-12-08" -- \
  run2 "$TMP/past.json"
# The input's BG/NBD inputs (ltv.input_target) of other customers.
ltv intg tr.h5 te.h5 ', "input_target": "'$TMP/te.target.h5'"'
expect 3 "te.target.h5: its [0-9]+ customers are not the [0-9]+ of the job's input" -- run2 "$TMP/intg.json"
# Constant and all-missing model columns: the run succeeds; no tree splits on them.
ltv deg tr_deg.h5 te_deg.h5 ', "features": "model_columns"'
if run2 "$TMP/deg.json" >"$TMP/deg.out" 2>&1; then
  $PY - "$TMP/out_deg/results.h5" <<'PY' && ok "constant / all-missing columns: never split" || fail "degenerate columns"
import json, sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
g = json.loads(f["/model/ltv/gbdt_json"][:].tobytes())
used = {n["feature"] for t in g["trees"] for n in t["nodes"] if "feature" in n}
assert used and not used & {1, 4}, used   # model columns 1 = frequency (NaN), 4 = distinct_products (3)
l = f["/segments/ltv"][:]
assert np.isfinite(l).all() and (l >= 0).all()
PY
else
  fail "run with constant / all-missing columns"; tail -3 "$TMP/deg.out"
fi
finish
