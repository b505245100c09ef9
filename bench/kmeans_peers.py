#!/usr/bin/python3
"""scikit-learn peers for bench/bench_kmeans.sh on the same customers.h5.

    kmeans_peers.py CUSTOMERS.h5 TRUTH.h5 K N_INIT SEED [TRIBE_LABELS ...]

Runs KMeans(algorithm='lloyd') and MiniBatchKMeans (sklearn defaults otherwise,
n_init as given, random_state=SEED) on /customers/features, times fit(), and
prints one JSON object: inertia, seconds, iterations and the adjusted Rand
index against /truth/label for each, plus the ARI of every tribe label file
given (int32, native order, as bench_kmeans writes them). Thread count: the
caller's OMP_NUM_THREADS, enforced with threadpoolctl when it is installed.
"""
import json
import os
import sys
import time

import h5py
import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import adjusted_rand_score

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None


def main():
    path, truth_path, k, n_init, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    with h5py.File(path, "r") as f:
        x = np.ascontiguousarray(f["/customers/features"][:], dtype=np.float32)
    with h5py.File(truth_path, "r") as f:
        truth = f["/truth/label"][:]
    threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
    if threadpool_limits:
        threadpool_limits(limits=threads)  # applies on construction, for the whole run
    out = {"n": int(x.shape[0]), "d": int(x.shape[1]), "k": k, "n_init": n_init, "threads": threads,
           "sklearn": __import__("sklearn").__version__}
    t0 = time.perf_counter()
    km = KMeans(n_clusters=k, algorithm="lloyd", n_init=n_init, random_state=seed).fit(x)
    out["lloyd"] = {"seconds": time.perf_counter() - t0, "inertia": float(km.inertia_),
                    "iterations": int(km.n_iter_), "ari": adjusted_rand_score(truth, km.labels_)}
    # MiniBatchKMeans' inertia_ is on its last batch only: score all rows.
    t0 = time.perf_counter()
    mb = MiniBatchKMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(x)
    secs = time.perf_counter() - t0
    lab = mb.predict(x)
    inertia = float(((x.astype(np.float64) - mb.cluster_centers_[lab]) ** 2).sum())
    out["minibatch"] = {"seconds": secs, "inertia": inertia, "iterations": int(mb.n_iter_),
                        "batch_size": int(mb.batch_size), "ari": adjusted_rand_score(truth, lab)}
    out["tribe_ari"] = {}
    for p in sys.argv[6:]:
        lab = np.fromfile(p, dtype=np.int32)
        out["tribe_ari"][p] = adjusted_rand_score(truth, lab)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
