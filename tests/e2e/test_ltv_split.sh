#!/usr/bin/env bash
# tribe ingest --cutoff/--horizon through the CLI: the target file beside customers.h5 with the exact
# future spend of the fixture, the same files on 1 and 2 ranks, usage errors (exit 2) naming the date.
source "$(dirname "$0")/lib.sh"
tx="$TRIBE_SOURCE_DIR/tests/data/ingest/split_transactions.csv"
tribe_np 1 ingest --transactions "$tx" -o "$TMP/c1.h5" --cutoff 2011-03-31 --horizon 30 >"$TMP/i1.out" 2>&1 ||
  { cat "$TMP/i1.out"; fail "ingest with a cutoff"; finish; exit 1; }
tribe_np 2 ingest --transactions "$tx" -o "$TMP/c2.h5" --cutoff 2011-03-31 --horizon 30 --target "$TMP/t2.h5" \
  >"$TMP/i2.out" 2>&1 || { cat "$TMP/i2.out"; fail "ingest with a cutoff on 2 ranks"; }
check "default target path beside the output" test -r "$TMP/c1.target.h5"
$PY - "$TMP/c1.h5" "$TMP/c1.target.h5" "$TMP/c2.h5" "$TMP/t2.h5" <<'PY' && ok "target values exact; 1 and 2 ranks identical" || fail "target file"
import json, sys, h5py, numpy as np
c1, t1, c2, t2 = (h5py.File(p, "r")["/customers"] for p in sys.argv[1:])
names = [n.decode() if isinstance(n, bytes) else n for n in t1["features"].attrs["feature_names"]]
assert names == ["future_spend", "bgnbd_x", "bgnbd_t_x", "bgnbd_T", "repeat_mean_spend"], names
ids = list(t1["id"][:])
assert ids == [1, 2, 4] and list(c1["id"][:]) == ids, ids
f = t1["features"][:]
assert np.allclose(f[:, 0], [17, 0, 6]), f            # future_spend, net of the 10.00 returned in the window
assert np.allclose(f[:, 1:4], [[2, 80, 80], [0, 0, 58], [0, 0, 89]]), f
assert np.allclose(f[:, 4], [7.5, 0, 0]), f
l = json.loads(c1.attrs["ledger"])
assert l["customers_after_cutoff"] == 1 and l["cutoff"] == "2011-03-31" and l["horizon_days"] == 30, l
assert (t2["features"][:] == f).all() and (c2["features"][:] == c1["features"][:]).all()
PY
expect 2 "cutoff 2012-01-01 is outside the data's date range 2011-01-01 .. 2011-05-01" -- \
  "$TRIBE_BIN" ingest --transactions "$tx" -o "$TMP/x.h5" --cutoff 2012-01-01 --horizon 30
expect 2 "cutoff 2010-12-31 is outside the data's date range 2011-01-01 .. 2011-05-01" -- \
  "$TRIBE_BIN" ingest --transactions "$tx" -o "$TMP/x.h5" --cutoff 2010-12-31 --horizon 30
expect 2 "horizon '-3'" -- "$TRIBE_BIN" ingest --transactions "$tx" -o "$TMP/x.h5" --cutoff 2011-03-31 --horizon -3
expect 2 "need --cutoff" -- "$TRIBE_BIN" ingest --transactions "$tx" -o "$TMP/x.h5" --horizon 30
# --target without --cutoff: the BG/NBD inputs of all history (tribe run's ltv input), future_spend NaN.
tribe_np 1 ingest --transactions "$tx" -o "$TMP/all.h5" --target "$TMP/all.t.h5" >"$TMP/i3.out" 2>&1 &&
  $PY - "$TMP/all.h5" "$TMP/all.t.h5" <<'PY' && ok "--target without --cutoff: BG/NBD inputs of all history" ||
import sys, h5py, numpy as np
c, t = (h5py.File(p, "r")["/customers"] for p in sys.argv[1:])
n = [s.decode() if isinstance(s, bytes) else s for s in c["features"].attrs["feature_names"]]
f, x = t["features"][:], c["features"][:]
assert (t["id"][:] == c["id"][:]).all() and np.isnan(f[:, 0]).all(), f
assert (f[:, 3] == x[:, n.index("tenure_days")] - 1).all() and (f[:, 1] >= 0).all(), f
assert (f[:, 2] == x[:, n.index("tenure_days")] - x[:, n.index("recency_days")]).all(), f
PY
  fail "--target without --cutoff"
finish
