#!/usr/bin/env bash
# tribe run's beyond-K-Means outputs (outliers, soft membership, Ward tree,
# PCA): present in results.h5 with the documented shapes, bit-identical on 1,
# 2 and 4 ranks, consistent with each other, and drawn in report.html.
source "$(dirname "$0")/lib.sh"
$PY -c 'import h5py, numpy' 2>/dev/null || { echo "h5py not available: skipped"; exit 77; }

tribe_np 1 gen --customers 3000 --seed 5 -o "$TMP/raw" 2>"$TMP/gen.log"
tribe_np 1 ingest --transactions "$TMP/raw/transactions.csv" --web "$TMP/raw/web_events.csv" \
  --demographics "$TMP/raw/demographics.csv" -o "$TMP/c.h5" >"$TMP/ingest.out" 2>&1

for np in 1 2 4; do
  write_job "$TMP/job$np.json" "$TMP/c.h5" "$TMP/out$np" 5 '"run_id": "b", "drivers": {"enabled": false}'
  tribe_np $np run "$TMP/job$np.json" >"$TMP/run$np.out" 2>"$TMP/run$np.err" || { fail "run on $np ranks"; tail "$TMP/run$np.err"; }
done
grep -q "gmm: [0-9]* EM iterations" "$TMP/run1.err" && ok "run logs the EM iterations" || fail "EM log line"

$PY - "$TMP/out1/results.h5" "$TMP/out2/results.h5" "$TMP/out4/results.h5" <<'PY' && ok "beyond datasets identical on 1, 2, 4 ranks and consistent" || fail "beyond datasets"
import sys, h5py, numpy as np
f = [h5py.File(p, "r") for p in sys.argv[1:]]
names = ["/segments/outlier", "/segments/outlier_score", "/segments/outlier_count", "/segments/membership",
         "/model/outliers/fence", "/model/gmm/weights", "/model/gmm/means", "/model/gmm/variances",
         "/model/ward/merges", "/model/ward/heights", "/model/ward/sizes", "/model/ward/leaf_sizes",
         "/model/projection/explained_variance", "/model/projection/explained_variance_ratio",
         "/model/projection/components", "/model/projection/xy"]
bad = [n for n in names for x in f[1:] if f[0][n][:].tobytes() != x[n][:].tobytes()]
a = f[0]
n, k = a["/segments/label"].shape[0], int(a["/segments"].attrs["k"])
lab = a["/segments/label"][:]
out = a["/segments/outlier"][:]
cnt = a["/segments/outlier_count"][:]
m = a["/segments/membership"][:]
checks = {
    "outlier shape": out.shape == (n,) and out.dtype == np.uint8,
    "counts per segment": all(cnt[c] == out[lab == c].sum() for c in range(k)),
    "flag = score > threshold": np.array_equal(out == 1, a["/segments/outlier_score"][:] > a["/segments/outlier"].attrs["threshold"]),
    "membership shape": m.shape == (n, k) and m.dtype == np.float32,
    "rows sum to 1": np.allclose(m.sum(1), 1, atol=1e-5),
    "weights sum to 1": abs(a["/model/gmm/weights"][:].sum() - 1) < 1e-9,
    "ward shape": a["/model/ward/merges"].shape == (k - 1, 2),
    "ward root": a["/model/ward/sizes"][-1] == n,
    "explained ratios sum to 1": abs(a["/model/projection/explained_variance_ratio"][:].sum() - 1) < 1e-9,
    "run attributes": "gmm_loglik" in a["/runs/b"].attrs and "outliers" in a["/runs/b"].attrs,
}
import csv, os
with open(os.path.join(os.path.dirname(sys.argv[1]), "segments.csv"), newline="") as fh:
    rows = list(csv.DictReader(fh))
checks["segments.csv outliers column = /segments/outlier_count"] = [int(r["outliers"]) for r in rows] == [int(x) for x in cnt]
try:
    from scipy.cluster.hierarchy import is_valid_linkage
    Z = np.column_stack([a["/model/ward/merges"][:], a["/model/ward/heights"][:], a["/model/ward/sizes"][:]]).astype(float)
    checks["scipy accepts the linkage"] = is_valid_linkage(Z)
except ImportError:
    pass
failed = [c for c, v in checks.items() if not v]
if bad or failed:
    print("differ across ranks:", bad, "failed:", failed); sys.exit(1)
PY

# The run's mixture against scikit-learn's from the same start, on the same
# transformed matrix (EM on every customer: 3000 < gmm.sample_size).
if $PY -c 'import sklearn' 2>/dev/null; then
$PY - "$TMP/out1/results.h5" "$TMP/c.h5" <<'PY' && ok "run's mixture matches scikit-learn GaussianMixture(diag) from the same start" || fail "mixture vs scikit-learn"
import sys, warnings, h5py, numpy as np
from sklearn.mixture import GaussianMixture
warnings.simplefilter("ignore")
r, c = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
dec = lambda v: [s.decode() if isinstance(s, bytes) else s for s in v]
names, mcols = dec(c["/customers/features"].attrs["feature_names"]), dec(r["/model"].attrs["feature_names"])
X = c["/customers/features"][:][:, [names.index(m) for m in mcols]].astype(np.float64)
mean, std, imp, lg = (r["/model/scaler/" + k][:] for k in ["mean", "std", "impute", "log1p"])
X = np.where(np.isnan(X), imp, X)
X = np.where(lg == 1, np.log1p(X), X)
Z = ((X - mean) / std).astype(np.float32).astype(np.float64)
lab, cent = r["/segments/label"][:], r["/model/centroids"][:]
k = cent.shape[0]
w0 = np.bincount(lab, minlength=k) / len(lab)
v0 = np.array([((Z[lab == j] - cent[j]) ** 2).mean(0) for j in range(k)]) + 1e-6
g = GaussianMixture(k, covariance_type="diag", tol=1e-3, max_iter=100, reg_covar=1e-6, weights_init=w0,
                    means_init=cent, precisions_init=1 / v0).fit(Z)
a = r["/model/gmm"].attrs
res = {"iterations": (g.n_iter_, a["iterations"]),
       "weights": np.abs(g.weights_ - r["/model/gmm/weights"][:]).max(),
       "means": np.abs(g.means_ - r["/model/gmm/means"][:]).max(),
       "loglik": abs(g.score(Z) - a["loglik"]),
       "membership": np.abs(g.predict_proba(Z) - r["/segments/membership"][:]).max()}
print(res)
good = g.n_iter_ == a["iterations"] and res["weights"] < 1e-5 and res["means"] < 1e-4 and res["loglik"] < 1e-3 \
    and res["membership"] < 1e-2
sys.exit(0 if good else 1)
PY
else
  echo "sklearn not available: mixture cross-check skipped"
fi

r="$TMP/out1/report.html"
for id in outliers crispness nested; do
  grep -q "<section id=\"$id\"" "$r" && ok "report has the $id section" || fail "report $id section"
done
sections() { sed -n '/<section id="outliers"/,/<section id="map"/p' "$1"; }
check "report's new sections identical on 1 and 4 ranks" cmp -s <(sections "$TMP/out1/report.html") <(sections "$TMP/out4/report.html")

# Switched off: no datasets, no sections.
write_job "$TMP/off.json" "$TMP/c.h5" "$TMP/off" 4 \
  '"run_id": "off", "drivers": {"enabled": false}, "outliers": {"enabled": false}, "gmm": {"enabled": false}, "ward": {"enabled": false}'
tribe_np 1 run "$TMP/off.json" >/dev/null 2>"$TMP/off.err" || fail "run with everything off"
$PY - "$TMP/off/results.h5" <<'PY' && ok "disabled parts leave no datasets" || fail "disabled parts"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
sys.exit(1 if any(p in f for p in ["/segments/outlier", "/segments/membership", "/model/gmm", "/model/ward"]) else 0)
PY
! grep -q '<section id="nested"' "$TMP/off/report.html" && ok "no dendrogram when ward is off" || fail "dendrogram off"
! head -1 "$TMP/off/segments.csv" | grep -q outliers && ok "no outliers column in segments.csv when outliers are off" ||
  fail "segments.csv outliers column when off"
finish
