#!/usr/bin/python3
"""Independent check of a `tribe gen` data set (docs/gen.md).

Re-reads transactions.csv / web_events.csv / demographics.csv with Python's csv
module, applies the cleaning rules of docs/formats.md, compares every count with
truth.json (exit 1 on a mismatch), then clusters log-standardised RFM with
scikit-learn's K-Means and prints the adjusted Rand index against truth.csv.

    /usr/bin/python3 tools/gen_check.py DIR        (needs numpy + scikit-learn)
"""
import collections
import csv
import datetime
import json
import sys

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score


def main(d):
    truth = json.load(open(d + "/truth.json"))
    bad = []

    def same(what, got, want):
        print("%-34s %12s %12s %s" % (what, got, want, "" if got == want else "MISMATCH"))
        if got != want:
            bad.append(what)

    ids = {}
    for row in list(csv.reader(open(d + "/truth.csv", newline="")))[1:]:
        ids[int(row[0])] = int(row[1])

    rows = list(csv.reader(open(d + "/transactions.csv", newline="")))[1:]
    led = collections.Counter()
    kept = []
    for r in rows:
        try:
            if len(r) != 8:
                raise ValueError
            q, p = int(r[3]), float(r[5])
            dt = datetime.datetime.strptime(r[4], "%Y-%m-%d %H:%M:%S")
            cid = int(r[6]) if r[6] else None
        except ValueError:
            led["malformed"] += 1
            continue
        if cid is None:
            led["missing_customer_id"] += 1
        elif r[0].startswith("C"):
            led["cancellations"] += 1
        elif q <= 0:
            led["nonpositive_quantity"] += 1
        elif p <= 0:
            led["nonpositive_price"] += 1
        else:
            kept.append((cid, r[0], dt.date(), round(q * p * 100)))
    led["duplicates"] = sum(v - 1 for v in collections.Counter(map(tuple, rows)).values())
    for k, v in truth["dirt"].items():
        same("dirt." + k, led[k], v)
    same("transaction_rows", len(rows), truth["transaction_rows"])
    same("kept_transaction_rows", len(kept), truth["kept_transaction_rows"])
    same("kept_monetary (cents)", sum(k[3] for k in kept), round(truth["kept_monetary"] * 100))
    buyers = {k[0] for k in kept}
    same("customers_with_kept_rows", len(buyers), truth["customers_with_kept_rows"])
    same("kept ids == truth ids", buyers == set(ids), True)

    if truth["files"]["web_events"]:
        w = list(csv.reader(open(d + "/" + truth["files"]["web_events"], newline="")))[1:]
        mal = un = 0
        for r in w:
            try:
                if len(r) != 5:
                    raise ValueError
                int(r[2]), float(r[3])
                if int(r[0]) not in ids:
                    un += 1
            except ValueError:
                mal += 1
        same("web_rows", len(w), truth["web_rows"])
        same("web malformed", mal, truth["web_dirt"]["malformed"])
        same("web_rows_unmatched", un, truth["web_dirt"]["web_rows_unmatched"])

    if truth["files"]["demographics"]:
        dm = list(csv.reader(open(d + "/" + truth["files"]["demographics"], newline="")))[1:]
        mal = un = dup = 0
        seen = set()
        for r in dm:
            try:
                if len(r) != 5:
                    raise ValueError
                cid = int(r[0])
                if r[1]:
                    int(r[1])
            except ValueError:
                mal += 1
                continue
            if cid not in ids:
                un += 1
            elif cid in seen:
                dup += 1
            seen.add(cid)
        dd = truth["demographics_dirt"]
        same("demographic_rows", len(dm), truth["demographic_rows"])
        same("demographics malformed", mal, dd["malformed"])
        same("demographics_duplicate_ids", dup, dd["demographics_duplicate_ids"])
        same("demographics_rows_unmatched", un, dd["demographics_rows_unmatched"])

    snap = max(k[2] for k in kept) + datetime.timedelta(days=1)
    last, inv, mon = {}, collections.defaultdict(set), collections.Counter()
    for cid, i, day, c in kept:
        last[cid] = max(last.get(cid, day), day)
        inv[cid].add(i)
        mon[cid] += c / 100.0
    order = sorted(ids)
    X = np.array([[(snap - last[c]).days, len(inv[c]), mon[c]] for c in order], float)
    y = np.array([ids[c] for c in order])
    Z = np.log1p(X)
    Z = (Z - Z.mean(0)) / Z.std(0)
    k = len(truth["segments"])
    lab = KMeans(k, n_init=10, random_state=0).fit_predict(Z)
    print("K-Means (k=%d) on log-standardised RFM: adjusted Rand %.3f" % (k, adjusted_rand_score(y, lab)))
    print("%-16s %6s %8s %6s %10s %8s" % ("segment", "n", "R med", "F med", "M med", "AOV med"))
    for s, seg in enumerate(truth["segments"]):
        m = y == s
        print("%-16s %6d %8.0f %6.1f %10.1f %8.1f" % (seg["name"], m.sum(), np.median(X[m, 0]),
              np.median(X[m, 1]), np.median(X[m, 2]), np.median(X[m, 2] / X[m, 1])))
    if bad:
        print("MISMATCHES:", ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
