#!/usr/bin/python3
"""Writes a tribe customers.h5 of N customers x 16 features directly (no CSV,
no ingest), for memory and scale benchmarks of `tribe run` / `tribe assign`.

    /usr/bin/python3 tools/gen_features_h5.py N OUT.h5 [--seed S] [--k K] [--first-id I]

Features: 8 planted clusters (overlapping Gaussians) in a 16-D space, mapped
to non-negative RFM-like columns (recency_days, frequency, monetary, ...);
about 1% of the values are NaN (missing). Ids are first_id + 0..N-1.
The layout is docs/hdf5-layout.md "customers.h5", written in blocks of 1M
rows so memory stays ~100 MB whatever N. Needs numpy and h5py.
"""
import argparse
import sys

import h5py
import numpy as np

NAMES = ["recency_days", "frequency", "monetary", "avg_order_value", "tenure_days", "mean_days_between",
         "distinct_products", "sessions", "pages_per_session", "minutes_on_site", "return_rate",
         "discount_share", "weekend_share", "night_share", "email_open_rate", "basket_variety"]
D = len(NAMES)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--first-id", type=int, default=1)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    centers = rng.normal(0, 1.5, size=(a.k, D))
    block = 1 << 20
    chunk = max(1, min(a.n, (1 << 20) // (4 * D)))
    with h5py.File(a.out, "w") as f:
        # Fixed-length strings: tribe refuses variable-length ones (docs/hdf5-layout.md).
        f.attrs["tribe_format"] = np.bytes_(b"tribe-customers")
        f.attrs["tribe_format_version"] = np.int64(1)
        f.attrs["tribe_version"] = np.bytes_(b"gen_features_h5.py")
        g = f.create_group("customers")
        ids = g.create_dataset("id", shape=(a.n,), dtype="<i8", chunks=(max(1, min(a.n, 131072)),))
        x = g.create_dataset("features", shape=(a.n, D), dtype="<f4", chunks=(chunk, D))
        x.attrs["feature_names"] = np.array([s.encode() for s in NAMES])
        g.attrs.create("categorical", np.array([], dtype="S1"))
        g.attrs["n"] = np.int64(a.n)
        for lo in range(0, a.n, block):
            hi = min(a.n, lo + block)
            m = hi - lo
            lab = rng.integers(0, a.k, size=m)
            z = centers[lab] + rng.normal(0, 1.0, size=(m, D))
            v = np.expm1(np.clip(z + 3.0, 0, 12)).astype(np.float32)  # skewed, >= 0, like counts and money
            v[rng.random(size=(m, D)) < 0.01] = np.nan
            x[lo:hi] = v
            ids[lo:hi] = np.arange(a.first_id + lo, a.first_id + hi, dtype=np.int64)
    print(f"{a.out}: {a.n} customers x {D} features", file=sys.stderr)


if __name__ == "__main__":
    main()
