#!/usr/bin/env bash
# tribe assign labels customers with a finished run's model (the training customers get exactly
# their /segments/label back, on any rank count, from .h5 or CSV); chunked HDF5 transfers change
# nothing; bad input (infinite values, duplicate ids, missing columns, zero variance, K > n, bad
# model files) gives the documented errors or handling.
source "$(dirname "$0")/lib.sh"
$PY -c "import h5py, numpy" 2>/dev/null || { echo "skip: needs /usr/bin/python3 with h5py and numpy"; exit 77; }
GEN="$PY $TRIBE_SOURCE_DIR/tools/gen_features_h5.py"

$GEN 3000 "$TMP/train.h5" --seed 11 2>/dev/null
write_job "$TMP/job.json" "$TMP/train.h5" "$TMP/out" 5 '"drivers": {"n_rounds": 3, "train_rows": 1000}, "silhouette": {"sample_size": 200}'
expect 0 "peak RSS per rank" -- tribe_np 2 run "$TMP/job.json"
M="$TMP/out/results.h5"

grep -qE "drivers: 15 trees trained on (9[0-9]{2}|1[0-9]{3}) customers" "$TMP/err.txt" && ok "drivers train on a sample (drivers.train_rows)" ||
  fail "drivers train on a sample: $(grep drivers "$TMP/err.txt")"
# The same run with 64-byte collective transfers (one customer row at a time) on 3 ranks: identical
# results, the sampled driver model included.
write_job "$TMP/job_small.json" "$TMP/train.h5" "$TMP/out_small" 5 '"drivers": {"n_rounds": 3, "train_rows": 1000}, "silhouette": {"sample_size": 200}'
expect 0 "" -- env TRIBE_IO_CHUNK_BYTES=64 "$MPIEXEC" -n 3 --oversubscribe --bind-to none -x TRIBE_IO_CHUNK_BYTES \
  "$TRIBE_BIN" run "$TMP/job_small.json"
check "64-byte transfers on 3 ranks give the same labels, distances, centroids and scaler" $PY - "$M" "$TMP/out_small/results.h5" <<'EOF'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
for k in ["/segments/id", "/segments/label", "/segments/distance", "/model/centroids", "/model/scaler/mean",
          "/model/scaler/std", "/segments/median", "/model/drivers/mean_abs_shap", "/model/drivers/gain"]:
    assert np.array_equal(a[k][:], b[k][:], equal_nan=True), k
EOF
check "the run record holds peak RSS per rank" $PY - "$M" <<'EOF'
import sys, h5py, json
r = h5py.File(sys.argv[1])["/runs"]
m = json.loads(r[list(r)[0]].attrs["memory"])
assert len(m["peak_rss_bytes"]) == 2 and m["peak_rss_bytes_max"] == max(m["peak_rss_bytes"]) > 1e6, m
assert "kmeans" in m["peak_rss_bytes_after"], m
EOF

# The training customers get their own labels and distances back, on 1, 2 and 3 ranks.
for np in 1 2 3; do
  expect 0 "" -- tribe_np $np assign "$M" "$TMP/train.h5" -o "$TMP/self$np.csv"
done
check "assign output does not depend on the rank count" cmp -s "$TMP/self1.csv" "$TMP/self3.csv"
check "assign output on 2 ranks equals 1 rank" cmp -s "$TMP/self1.csv" "$TMP/self2.csv"
expect 0 "" -- tribe_np 2 assign "$M" "$TMP/train.h5" -o "$TMP/self.h5"
check "assigning the training customers reproduces /segments/label and distance exactly" $PY - "$M" "$TMP/self1.csv" "$TMP/self.h5" <<'EOF'
import sys, csv, h5py, numpy as np
r = h5py.File(sys.argv[1])
names = [s.decode() if isinstance(s, bytes) else s for s in r["/segments"].attrs["names"]]
rows = list(csv.reader(open(sys.argv[2])))
assert rows[0] == ["customer_id", "segment", "segment_name", "distance"], rows[0]
ids = np.array([int(x[0]) for x in rows[1:]]); lab = np.array([int(x[1]) for x in rows[1:]])
dist = np.array([float(x[3]) for x in rows[1:]], dtype=np.float32)
assert np.array_equal(ids, r["/segments/id"][:]) and np.array_equal(lab, r["/segments/label"][:])
assert np.array_equal(dist, r["/segments/distance"][:])
assert all(x[2] == names[int(x[1])] for x in rows[1:])
h = h5py.File(sys.argv[3])
assert h.attrs["tribe_format"] == b"tribe-labels"
for k in ["id", "label", "distance"]:
    assert np.array_equal(h["/segments/" + k][:], r["/segments/" + k][:]), k
EOF

# A features CSV (columns in another order, an extra column, a customer subset) gives the same labels.
$PY - "$TMP/train.h5" "$TMP/sub.csv" <<'EOF'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1]); x = f["/customers/features"][:]; ids = f["/customers/id"][:]
names = [s.decode() if isinstance(s, bytes) else s for s in f["/customers/features"].attrs["feature_names"]]
order = list(reversed(range(len(names))))
with open(sys.argv[2], "w") as o:
    o.write("customer_id,extra," + ",".join(names[j] for j in order) + "\n")
    for i in range(0, len(ids), 3):
        o.write("%d,1," % ids[i] + ",".join("" if np.isnan(x[i, j]) else repr(float(x[i, j])) for j in order) + "\n")
EOF
expect 0 "" -- tribe_np 2 assign "$M" "$TMP/sub.csv" -o "$TMP/sub_out.csv"
check "a reordered features CSV with an extra column gives the training labels" $PY - "$TMP/self1.csv" "$TMP/sub_out.csv" <<'EOF'
import sys
full = {l.split(",")[0]: l for l in open(sys.argv[1]).read().splitlines()[1:]}
sub = open(sys.argv[2]).read().splitlines()[1:]
assert len(sub) == 1000 and all(full[l.split(",")[0]] == l for l in sub), len(sub)
EOF

# Unseen customers: every one labelled, the same on 1 and 2 ranks, and the nearest centroid
# (checked in float64 by numpy wherever the two nearest centroids are not within rounding).
$GEN 2000 "$TMP/new.h5" --seed 99 --first-id 1000000 2>/dev/null
expect 0 "" -- tribe_np 1 assign "$M" "$TMP/new.h5" -o "$TMP/new1.csv"
expect 0 "" -- tribe_np 2 assign "$M" "$TMP/new.h5" -o "$TMP/new2.csv"
check "unseen customers: same labels on 1 and 2 ranks" cmp -s "$TMP/new1.csv" "$TMP/new2.csv"
check "unseen customers: nearest centroid after the run's transform" $PY - "$M" "$TMP/new.h5" "$TMP/new1.csv" <<'EOF'
import sys, csv, h5py, numpy as np
r = h5py.File(sys.argv[1]); f = h5py.File(sys.argv[2])
names = [s.decode() if isinstance(s, bytes) else s for s in f["/customers/features"].attrs["feature_names"]]
cols = [s.decode() if isinstance(s, bytes) else s for s in r["/model"].attrs["feature_names"]]
x = f["/customers/features"][:].astype(np.float64)[:, [names.index(c) for c in cols]]
mean, std, lg = r["/model/scaler/mean"][:], r["/model/scaler/std"][:], r["/model/scaler/log1p"][:]
v = np.where(lg == 1, np.log1p(x), x)
z = np.where(np.isnan(v), 0.0, (v - mean) / std)
d = ((z[:, None, :] - r["/model/centroids"][:][None, :, :]) ** 2).sum(-1)
rows = list(csv.reader(open(sys.argv[3])))[1:]
assert len(rows) == 2000 and [int(x[0]) for x in rows] == list(f["/customers/id"][:])
lab = np.array([int(x[1]) for x in rows])
s = np.sort(d, axis=1)
clear = s[:, 1] - s[:, 0] > 1e-3
assert clear.sum() > 1900 and np.array_equal(lab[clear], d.argmin(1)[clear]), (clear.sum(), (lab != d.argmin(1)).sum())
assert np.allclose([float(x[3]) for x in rows], np.sqrt(d.min(1)), rtol=1e-4, atol=1e-4)
EOF

# A missing model column: exit 3 naming it. Bad model files: exit 3 (not HDF5 / not tribe's), 4 (missing).
$PY - "$TMP/train.h5" "$TMP/nomon.h5" <<'EOF'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1])
names = [s.decode() if isinstance(s, bytes) else s for s in f["/customers/features"].attrs["feature_names"]]
keep = [j for j, n in enumerate(names) if n != "monetary"]
with h5py.File(sys.argv[2], "w") as o:
    for k, v in f.attrs.items(): o.attrs[k] = v
    o["/customers/id"] = f["/customers/id"][:]
    o["/customers/features"] = f["/customers/features"][:][:, keep]
    o["/customers/features"].attrs["feature_names"] = np.array([names[j].encode() for j in keep])
EOF
expect 3 "nomon.h5: has no column 'monetary'" -- tribe_np 2 assign "$M" "$TMP/nomon.h5" -o "$TMP/x.csv"
expect 3 "train.h5: not a tribe results file" -- tribe_np 2 assign "$TMP/train.h5" "$TMP/train.h5" -o "$TMP/x.csv"
echo "hello" >"$TMP/notmodel.h5"
expect 3 "notmodel.h5: not an HDF5 file" -- tribe_np 1 assign "$TMP/notmodel.h5" "$TMP/train.h5"
expect 4 "nope.h5" -- tribe_np 1 assign "$TMP/nope.h5" "$TMP/train.h5"
expect 2 "must end in .csv or .h5" -- "$TRIBE_BIN" assign "$M" "$TMP/train.h5" -o "$TMP/x.txt"
check "no output left behind by failed assigns" test ! -e "$TMP/x.csv"

# Infinite feature values: exit 3 naming the customer and the column, in run and assign
# (the customer sits on rank 1 of 2). NaN is missing: imputed (z = 0), never an error.
$PY - "$TMP/train.h5" "$TMP/inf.h5" <<'EOF'
import sys, shutil, h5py, numpy as np
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:
    names = [s.decode() if isinstance(s, bytes) else s for s in f["/customers/features"].attrs["feature_names"]]
    x = f["/customers/features"]; row = x[2500]; row[names.index("frequency")] = np.inf; x[2500] = row
EOF
expect 3 "customer 2501, feature 'frequency': value is infinite" -- tribe_np 2 assign "$M" "$TMP/inf.h5"
write_job "$TMP/inf.json" "$TMP/inf.h5" "$TMP/out_inf" 5
expect 3 "customer 2501, feature 'frequency': value is infinite" -- tribe_np 2 run "$TMP/inf.json"

# Duplicate customer ids: a customers.h5 with a repeated id is refused by run and assign (exit 3
# naming the id); a features CSV with one is refused by assign like by import.
$PY - "$TMP/train.h5" "$TMP/dup.h5" <<'EOF'
import sys, shutil, h5py
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:
    f["/customers/id"][1800] = f["/customers/id"][1799]
EOF
expect 3 "dup.h5: /customers/id is not unique and ascending: customer id 1800 at row 1800 follows 1800" -- \
  tribe_np 2 assign "$M" "$TMP/dup.h5"
write_job "$TMP/dup.json" "$TMP/dup.h5" "$TMP/out_dup" 5
expect 3 "customer id 1800 at row 1800" -- tribe_np 3 run "$TMP/dup.json"
{ head -3 "$TMP/sub.csv"; sed -n 3p "$TMP/sub.csv"; } >"$TMP/dup.csv"
expect 3 "dup.csv: customer id [0-9]+ appears twice" -- tribe_np 2 assign "$M" "$TMP/dup.csv"

# A zero-variance column: kept in the model with std = 1 (z = 0 for everyone), a warning names it.
$PY - "$TMP/train.h5" "$TMP/const.h5" <<'EOF'
import sys, shutil, h5py, numpy as np
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:
    names = [s.decode() if isinstance(s, bytes) else s for s in f["/customers/features"].attrs["feature_names"]]
    x = f["/customers/features"][:]; x[:, names.index("sessions")] = 4.0; f["/customers/features"][:] = x
EOF
write_job "$TMP/const.json" "$TMP/const.h5" "$TMP/out_const" 5 '"drivers": {"enabled": false}'
expect 0 "feature 'sessions' has zero variance" -- tribe_np 2 run "$TMP/const.json"
check "a zero-variance column keeps std 1 in the model" $PY - "$TMP/out_const/results.h5" <<'EOF'
import sys, h5py
r = h5py.File(sys.argv[1])
cols = [s.decode() if isinstance(s, bytes) else s for s in r["/model"].attrs["feature_names"]]
assert r["/model/scaler/std"][cols.index("sessions")] == 1.0
assert (r["/model/centroids"][:, cols.index("sessions")] == 0).all()
EOF
expect 0 "" -- tribe_np 1 assign "$TMP/out_const/results.h5" "$TMP/const.h5" -o "$TMP/const.csv"

# Fewer customers than K: exit 3 with the counts.
$GEN 4 "$TMP/four.h5" 2>/dev/null
write_job "$TMP/four.json" "$TMP/four.h5" "$TMP/out_four" 5
expect 3 "K=5 but .*four.h5 holds only 4 customers" -- tribe_np 2 run "$TMP/four.json"
finish
