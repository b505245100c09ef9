#!/usr/bin/python3
"""K-Means defaults on planted data (bench/bench_kdefaults.sh; docs/clustering.md, "Defaults").

    kdefaults.py quality TRIBE WORK REPEATS [--no-log1p] SEED:FILE...   the optimum table (markdown)
    kdefaults.py time TRIBE WORK DATA.h5 REPS          a K-sweep job's K-Means seconds, before and now

quality: for each generated data set FILE (7 planted clusters; SEED names it), fits K = 7 with `tribe run`
(every optional stage off) under the settings the job used before this change ("before": kmeans++,
mini-batch, n_init 1), kmeans++-lloyd with n_init 5, and today's defaults (no kmeans key but k), each
with job seeds SEED*1000 + 1 .. + REPEATS; and scikit-learn's KMeans(n_init=5), random_state
0 .. REPEATS-1, on the same model matrix (the run's scaler applied to the features). The best known
optimum is the lowest inertia any of them reached; a cell gives the worst inertia over the repeats as a
ratio to it and how many repeats reached it (within 1e-6). --no-log1p: features.log1p [] (the two-period
files' monetary column, as jobs/continuity-period*.json model it).
time: the K-sweep job (K 3..10, stability on: the default sweep's work) on DATA.h5, before and now,
REPS times each alternately; prints the best and median of the kmeans stage's seconds (run.json timings).
"""
import json
import os
import subprocess
import sys

import h5py
import numpy as np

BEFORE = {"init": "kmeans++", "algorithm": "minibatch", "n_init": 1}
CONFIGS = [("before", BEFORE), ("kmeans++-lloyd n_init 5", {"init": "kmeans++-lloyd", "algorithm": "lloyd", "n_init": 5}),
           ("new default", {})]
QUIET = {"silhouette": {"sample_size": 0}, "drivers": {"enabled": False}, "gmm": {"enabled": False},
         "ward": {"enabled": False}, "outliers": {"enabled": False}, "persona": {"provider": "offline"}}


def run(tribe, work, data, seed, kmeans, name, extra=None):
    out = os.path.join(work, "out-" + name)
    job = dict(QUIET, input=data, output=out, seed=seed, kmeans=kmeans, run_id="r", **(extra or {}))
    path = os.path.join(work, name + ".json")
    with open(path, "w") as f:
        json.dump(job, f)
    with open(os.path.join(work, name + ".err"), "w") as err:  # the run's log (steps per K)
        subprocess.run([tribe, "run", path], check=True, stdout=subprocess.DEVNULL, stderr=err)
    with open(os.path.join(out, "run.json")) as f:
        rec = json.load(f)
    return rec, os.path.join(out, "results.h5")


def sklearn_inertias(data, results, repeats):
    from sklearn.cluster import KMeans
    x = h5py.File(data, "r")["/customers/features"][:].astype(np.float64)
    with h5py.File(results, "r") as f:
        mean, std = f["/model/scaler/mean"][:], f["/model/scaler/std"][:]
    z = np.ascontiguousarray(((x - mean) / std).astype(np.float32))
    z64 = z.astype(np.float64)
    out = []
    for rs in range(repeats):
        km = KMeans(7, n_init=5, random_state=rs).fit(z)
        out.append(float(((z64 - km.cluster_centers_.astype(np.float64)[km.labels_]) ** 2).sum()))
    return out


def cell(v, best):
    worst = max(v) / best
    hits = sum(x <= best * (1 + 1e-6) for x in v)
    return "%.3f (%d/%d)" % (worst, hits, len(v))


def quality(tribe, work, repeats, pairs, extra):
    print("| data set | " + " | ".join(n for n, _ in CONFIGS) + " | scikit-learn KMeans(n_init=5) | best known inertia |")
    print("|---|" + "---|" * (len(CONFIGS) + 2))
    for pair in pairs:
        s, data = pair.split(":", 1)
        got, results = {}, None
        for name, km in CONFIGS:
            got[name] = []
            for r in range(1, repeats + 1):
                rec, results = run(tribe, work, data, int(s) * 1000 + r, dict(km, k=7), "q", extra)
                got[name].append(rec["kmeans"]["inertia"])
        got["sk"] = sklearn_inertias(data, results, repeats)
        best = min(min(v) for v in got.values())
        print("| %s | " % os.path.relpath(data, work) + " | ".join(cell(got[n], best) for n, _ in CONFIGS) +
              " | %s | %.1f |" % (cell(got["sk"], best), best))
        sys.stdout.flush()


def timing(tribe, work, data, reps):
    secs = {"before": [], "new default": []}
    for _ in range(reps):
        for name, km in (("before", BEFORE), ("new default", {})):
            rec, _ = run(tribe, work, data, 42, dict(km, k=[3, 10]), "t-" + name.split()[0])
            k = rec["kmeans"]
            secs[name].append((rec["timings"]["kmeans"], k["fit_seconds"], k["score_seconds"], k["k"],
                               k["k_sweep"]["stability_ari"]))
    for name, v in secs.items():
        v.sort()
        print("| %s | %.1f | %.1f | %.1f / %.1f | K=%d, ARI %.2f |" % (name, v[0][0], v[len(v) // 2][0], v[0][1],
                                                                      v[0][2], v[0][3], v[0][4]))


if __name__ == "__main__":
    if sys.argv[1] == "quality":
        nolog = sys.argv[5] == "--no-log1p"
        quality(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5 + nolog:],
                {"features": {"log1p": []}} if nolog else None)
    else:
        timing(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
