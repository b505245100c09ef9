"""Peers for bench/bench_gbdt.sh: XGBoost 1.7 `hist` and scikit-learn's
HistGradientBoostingRegressor on the file written by `tribe_bench_gbdt gen`
(int64 N, int64 D, float32 x[N][D], float64 y[N]); 80/20 split (first 80%
train). Prints `peer key=value` lines.

    /usr/bin/python3 bench/gbdt_peers.py DATA [SHAP_ROWS] [xgboost|sklearn ...]

Settings mirror tribe's defaults: 100 trees, 31 leaves, no depth limit,
255 bins, learning rate 0.1, L2 lambda 1, at least 20 rows per child
(squared error: hessian = 1 per row, so XGBoost's min_child_weight = 20 is
a 20-row minimum), base score = mean of y, no early stopping, 2 threads.
"""
import os
import resource
import sys
import time

import numpy as np


def load(path):
    n, d = np.fromfile(path, dtype=np.int64, count=2)
    x = np.fromfile(path, dtype=np.float32, count=n * d, offset=16).reshape(n, d)
    y = np.fromfile(path, dtype=np.float64, count=n, offset=16 + 4 * n * d)
    return x, y


def cpu():
    """CPU seconds (user + system, all threads) of this process."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def r2(y, p):
    return 1.0 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)


def run_xgboost(xtr, ytr, xte, yte, shap_rows):
    import xgboost as xgb
    params = {"tree_method": "hist", "grow_policy": "lossguide", "max_leaves": 31, "max_depth": 0,
              "max_bin": 255, "eta": 0.1, "lambda": 1.0, "alpha": 0.0, "gamma": 0.0,
              "min_child_weight": 20, "subsample": 1.0, "base_score": float(ytr.mean()),
              "objective": "reg:squarederror", "nthread": 2, "verbosity": 0}
    t0, c0 = time.perf_counter(), cpu()
    dtr = xgb.DMatrix(xtr, label=ytr, nthread=2)  # includes the quantile sketch (binning)
    booster = xgb.train(params, dtr, num_boost_round=100)
    t1, c1 = time.perf_counter(), cpu()
    dte = xgb.DMatrix(xte, nthread=2)
    t2, c2 = time.perf_counter(), cpu()
    p = booster.predict(dte)
    t3, c3 = time.perf_counter(), cpu()
    print("xgboost train_s=%.3f" % (t1 - t0))
    print("xgboost train_cpu_s=%.3f" % (c1 - c0))
    print("xgboost predict_cpu_s=%.3f" % (c3 - c2))
    print("xgboost r2=%.5f" % r2(yte, p))
    print("xgboost predict_s=%.3f" % (t3 - t2))
    if shap_rows > 0:
        ds = xgb.DMatrix(xte[:shap_rows], nthread=2)
        t4, c4 = time.perf_counter(), cpu()
        phi = booster.predict(ds, pred_contribs=True)
        t5, c5 = time.perf_counter(), cpu()
        err = np.max(np.abs(phi.sum(axis=1) - p[:shap_rows]))
        print("xgboost shap_s=%.3f" % (t5 - t4))
        print("xgboost shap_cpu_s=%.3f" % (c5 - c4))
        print("xgboost shap_additivity_maxerr=%.3g" % err)
    sys.stdout.flush()


def run_sklearn(xtr, ytr, xte, yte):
    from sklearn.ensemble import HistGradientBoostingRegressor
    model = HistGradientBoostingRegressor(loss="squared_error", learning_rate=0.1, max_iter=100,
                                          max_leaf_nodes=31, max_depth=None, min_samples_leaf=20,
                                          l2_regularization=1.0, max_bins=255, early_stopping=False,
                                          random_state=0)
    t0, c0 = time.perf_counter(), cpu()
    model.fit(xtr, ytr)
    t1, c1 = time.perf_counter(), cpu()
    p = model.predict(xte)
    t2, c2 = time.perf_counter(), cpu()
    print("sklearn train_s=%.3f" % (t1 - t0))
    print("sklearn train_cpu_s=%.3f" % (c1 - c0))
    print("sklearn predict_cpu_s=%.3f" % (c2 - c1))
    print("sklearn r2=%.5f" % r2(yte, p))
    print("sklearn predict_s=%.3f" % (t2 - t1))
    sys.stdout.flush()


def main():
    x, y = load(sys.argv[1])
    shap_rows = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    which = sys.argv[3:] or ["xgboost", "sklearn"]
    ntr = len(y) // 10 * 8
    xtr, ytr, xte, yte = x[:ntr], y[:ntr], x[ntr:], y[ntr:]
    if "xgboost" in which:
        run_xgboost(xtr, ytr, xte, yte, shap_rows)
    if "sklearn" in which:
        os.environ.setdefault("OMP_NUM_THREADS", "2")
        run_sklearn(xtr, ytr, xte, yte)


if __name__ == "__main__":
    main()
