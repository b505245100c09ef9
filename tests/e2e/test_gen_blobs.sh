#!/usr/bin/env bash
# tribe gen --blobs on 1 and 2 ranks (same data, truth side file), its usage errors, and a
# tribe run with the K-Means engine keys (k-means||, Lloyd, n_init) on 1 and 2 ranks.
source "$(dirname "$0")/lib.sh"

for np in 1 2; do
  tribe_np $np gen --blobs --customers 6000 --clusters 4 --features 5 --seed 3 -o "$TMP/b$np.h5" >"$TMP/gen$np.out" 2>&1 ||
    { fail "gen --blobs on $np ranks"; cat "$TMP/gen$np.out"; }
done
check "gen --blobs wrote the truth side file" test -s "$TMP/b1.truth.h5" -a -s "$TMP/b2.truth.h5"
$PY - "$TMP/b1.h5" "$TMP/b2.h5" <<'PY' && ok "gen --blobs: same ids, features and truth on 1 and 2 ranks" || fail "gen --blobs rank independence"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
ta, tb = (h5py.File(p[:-3] + ".truth.h5", "r") for p in sys.argv[1:3])
assert a["/customers/features"].shape == (6000, 5)
assert (a["/customers/id"][:] == np.arange(1, 6001)).all()
assert (a["/customers/features"][:] == b["/customers/features"][:]).all()
assert (ta["/truth/label"][:] == tb["/truth/label"][:]).all()
assert set(np.unique(ta["/truth/label"][:])) == {0, 1, 2, 3}
assert [s.decode() if isinstance(s, bytes) else s for s in a["/customers/features"].attrs["feature_names"]] == \
    ["f01", "f02", "f03", "f04", "f05"]
PY
expect 2 "do not apply to --blobs" -- "$TRIBE_BIN" gen --blobs --customers 10 --gzip -o "$TMP/x.h5"
expect 2 "need --blobs" -- "$TRIBE_BIN" gen --customers 10 --clusters 3 -o "$TMP/x"
expect 2 "features" -- "$TRIBE_BIN" gen --blobs --customers 10 --features 0 -o "$TMP/x.h5"

# The engine keys through tribe run, on ingested synthetic customers (the offline persona writer
# expects the usual RFM features).
tribe_np 1 gen --customers 2500 --seed 5 --no-web --no-demographics -o "$TMP/raw" >/dev/null 2>&1
tribe_np 1 ingest --transactions "$TMP/raw/transactions.csv" -o "$TMP/c.h5" >/dev/null 2>&1 || fail "ingest"
for np in 1 2; do
  write_job "$TMP/job$np.json" "$TMP/c.h5" "$TMP/out$np" 4 '"run_id": "engine", "drivers": {"enabled": false}'
  sed -i 's/"kmeans": {"k": 4}/"kmeans": {"k": 4, "init": "kmeans||", "algorithm": "lloyd", "n_init": 2}/' "$TMP/job$np.json"
  tribe_np $np run "$TMP/job$np.json" >"$TMP/run$np.out" 2>"$TMP/run$np.err" || { fail "run on $np ranks"; tail -5 "$TMP/run$np.err"; }
done
$PY - "$TMP/out1/results.h5" "$TMP/out2/results.h5" <<'PY' && ok "run with kmeans|| + lloyd + n_init 2: same labels and centroids on 1 and 2 ranks" || fail "run with the engine keys"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
assert (a["/segments/label"][:] == b["/segments/label"][:]).all()
assert (a["/model/centroids"][:] == b["/model/centroids"][:]).all()
assert len(np.unique(a["/segments/label"][:])) == 4
PY
for np in 1 2; do
  write_job "$TMP/jobl$np.json" "$TMP/c.h5" "$TMP/outl$np" 4 '"run_id": "enginel", "drivers": {"enabled": false}'
  sed -i 's/"kmeans": {"k": 4}/"kmeans": {"k": 4, "init": "kmeans++-lloyd", "algorithm": "lloyd", "n_init": 4}/' "$TMP/jobl$np.json"
  tribe_np $np run "$TMP/jobl$np.json" >"$TMP/runl$np.out" 2>"$TMP/runl$np.err" || { fail "run kmeans++-lloyd on $np ranks"; tail -5 "$TMP/runl$np.err"; }
done
$PY - "$TMP/outl1/results.h5" "$TMP/outl2/results.h5" <<'PY' && ok "run with kmeans++-lloyd + lloyd + n_init 4: same labels and centroids on 1 and 2 ranks" || fail "run with kmeans++-lloyd"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
assert (a["/segments/label"][:] == b["/segments/label"][:]).all()
assert (a["/model/centroids"][:] == b["/model/centroids"][:]).all()
assert len(np.unique(a["/segments/label"][:])) == 4
PY
write_job "$TMP/bad.json" "$TMP/c.h5" "$TMP/outbad" 4
sed -i 's/"kmeans": {"k": 4}/"kmeans": {"k": 4, "init": "random"}/' "$TMP/bad.json"
expect 2 "kmeans.init' = 'random' is not one of" -- "$TRIBE_BIN" run "$TMP/bad.json"
finish
