#!/usr/bin/env bash
# tribe run with outliers.method "dbscan" (docs/clustering.md, "Outliers"):
# flags, scores and DBSCAN clusters bit-identical on 1 and 2 ranks and
# consistent with each other (noise <=> cluster -1 <=> score > 1), the
# parameters in results.h5, run.json and the report, the export's outlier
# column, and the bad parameters refused with their key named.
source "$(dirname "$0")/lib.sh"
$PY -c 'import h5py, numpy' 2>/dev/null || { echo "h5py not available: skipped"; exit 77; }

tribe_np 1 gen --customers 2000 --seed 3 -o "$TMP/raw" 2>"$TMP/gen.log"
tribe_np 1 ingest --transactions "$TMP/raw/transactions.csv" -o "$TMP/c.h5" >"$TMP/ingest.out" 2>&1

off='"drivers": {"enabled": false}, "gmm": {"enabled": false}'
for np in 1 2; do
  write_job "$TMP/job$np.json" "$TMP/c.h5" "$TMP/out$np" 4 \
    "\"run_id\": \"d\", $off, \"outliers\": {\"method\": \"dbscan\", \"sample_size\": 1500}"
  tribe_np $np run "$TMP/job$np.json" >"$TMP/run$np.out" 2>"$TMP/run$np.err" ||
    { fail "dbscan run on $np ranks"; tail "$TMP/run$np.err"; }
done
grep -qE "outliers: [0-9]+ customers are DBSCAN noise \(eps [0-9.e+-]+ from the k-distance knee, min_samples 14;" \
  "$TMP/run1.err" && ok "run logs the noise and the knee's eps" || { fail "dbscan log line"; grep outliers "$TMP/run1.err"; }

tribe_np 1 export "$TMP/out1/results.h5" --csv "$TMP/x.csv" >/dev/null 2>"$TMP/export.err" || fail "export"
$PY - "$TMP/out1" "$TMP/out2" "$TMP/x.csv" <<'PY' && ok "dbscan outputs identical on 1 and 2 ranks, consistent, exported" || fail "dbscan outputs"
import sys, os, csv, json, h5py, numpy as np
f = [h5py.File(os.path.join(d, "results.h5"), "r") for d in sys.argv[1:3]]
names = ["/segments/outlier", "/segments/outlier_score", "/segments/outlier_count", "/model/outliers/dbscan_cluster",
         "/model/outliers/cluster_size", "/model/outliers/cluster_core_count"]
bad = [n for n in names if f[0][n][:].tobytes() != f[1][n][:].tobytes()]
a = f[0]
lab, k = a["/segments/label"][:], int(a["/segments"].attrs["k"])
out, score = a["/segments/outlier"][:], a["/segments/outlier_score"][:]
cl, cnt = a["/model/outliers/dbscan_cluster"][:], a["/segments/outlier_count"][:]
at = a["/model/outliers/dbscan_cluster"].attrs
run = json.load(open(os.path.join(sys.argv[1], "run.json")))["outliers"]
sizes = a["/model/outliers/cluster_size"][:]
checks = {
    "method attribute": a["/segments/outlier"].attrs["method"] in (b"dbscan", "dbscan"),
    "noise <=> cluster -1": np.array_equal(out == 1, cl == -1),
    "noise <=> score > 1": np.array_equal(out == 1, score > 1),
    "some noise, not most": 0 < out.sum() < len(out) / 5,
    "counts per segment": all(cnt[c] == out[lab == c].sum() for c in range(k)),
    "cluster sizes": sizes.sum() + out.sum() == len(out) and len(sizes) == int(at["clusters"])
                     and all(sizes[c] == (cl == c).sum() for c in range(len(sizes))),
    "min_samples 2 x columns": int(at["min_samples"]) == 14,
    "eps from the knee": at["eps_source"] in (b"knee", "knee") and at["eps"] > 0,
    "sample about 1500": 1350 < int(at["sample_size"]) < 1650,
    "core points in the sample": 0 < int(at["core_count"]) <= int(at["sample_size"]),
    "run.json": run["method"] == "dbscan" and abs(run["eps"] - at["eps"]) < 1e-12 and run["min_samples"] == 14
                and run["core_count"] == int(at["core_count"]) and run["total"] == int(out.sum())
                and run["cluster_size"] == [int(x) for x in sizes] and "fence" not in run,
    "no IQR fences": "fence" not in a["/model/outliers"],
    "export's outlier columns": [(int(r["outlier"]), np.float32(r["outlier_score_dbscan"]))
                                 for r in csv.DictReader(open(sys.argv[3], newline=""))]
                                == [(int(x), y) for x, y in zip(out, score)],
}
failed = [c for c, v in checks.items() if not v]
if bad or failed:
    print("differ across ranks:", bad, "failed:", failed); sys.exit(1)
PY
grep -q 'Method <code>dbscan</code>' "$TMP/out1/report.html" && grep -q 'min_samples = 14' "$TMP/out1/report.html" &&
  grep -q 'knee of the sorted k-distance curve' "$TMP/out1/report.html" &&
  ok "report names the method and its parameters" || fail "report's dbscan section"

# eps given: as given, in every output; a bad eps or min_samples names its key.
write_job "$TMP/given.json" "$TMP/c.h5" "$TMP/given" 4 "$off, \"outliers\": {\"method\": \"dbscan\", \"eps\": 0.9, \"min_samples\": 10}"
tribe_np 1 run "$TMP/given.json" >/dev/null 2>"$TMP/given.err" || { fail "run with eps given"; tail -3 "$TMP/given.err"; }
grep -q "eps 0.9, min_samples 10" "$TMP/given.err" && grep -q "eps was given" "$TMP/given/report.html" &&
  ok "eps given is used and said" || fail "eps given"
write_job "$TMP/bad.json" "$TMP/c.h5" "$TMP/bad" 4 "\"outliers\": {\"method\": \"dbscan\", \"eps\": -1}"
expect 2 "outliers.eps" -- tribe_np 1 run "$TMP/bad.json"
write_job "$TMP/tiny.json" "$TMP/c.h5" "$TMP/tiny" 4 "$off, \"outliers\": {\"method\": \"dbscan\", \"eps\": 1e-9, \"min_samples\": 3}"
expect 3 "no core point among" -- tribe_np 1 run "$TMP/tiny.json"
finish
