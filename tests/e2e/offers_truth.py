"""The offers of a run (results.h5 /segments/offers) computed independently of
tribe from the transactions CSV in the Online Retail layout (stdlib csv, the
run's labels and the customers of customers.h5), docs/offers.md:

    /usr/bin/python3 offers_truth.py transactions.csv[.gz] customers.h5 results.h5 MIN_CUSTOMERS MIN_SHARE MIN_LIFT TOP

A purchase row has a CustomerID, an InvoiceNo not starting with 'C', Quantity
> 0 and UnitPrice > 0. A customer bought item X when one of its purchase rows
has StockCode X. For every segment: every item not excluded with at least
MIN_CUSTOMERS buyers in the segment, share >= MIN_SHARE and lift >= MIN_LIFT,
by lift (ties: more buyers, then the code), the TOP first; the name is the
description on the most purchase rows (ties: the first by byte value). The
figures must equal results.h5's bit for bit (the same integer ratios)."""
import csv, gzip, io, sys

import h5py
import numpy as np

src, cust_h5, res_h5 = sys.argv[1:4]
min_c, min_share, min_lift, top = int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
EXCLUDE = {"POST", "DOT", "C2", "M", "D", "S", "B", "CRUK", "PADS", "AMAZONFEE", "BANK CHARGES", "gift_0001_10",
           "gift_0001_20", "gift_0001_30", "gift_0001_40", "gift_0001_50"}
c = h5py.File(cust_h5, "r")
r = h5py.File(res_h5, "r")
ids = c["/customers/id"][:]
label = r["/segments/label"][:]
assert (r["/segments/id"][:] == ids).all()
row_of = {int(v): i for i, v in enumerate(ids)}
bought = {}   # code -> set of table rows
desc = {}     # code -> {description: purchase rows}
opener = gzip.open if src.endswith(".gz") else open
with opener(src, "rb") as raw:
    rows = csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
    col = {n: i for i, n in enumerate(next(rows))}
    ci, cq, cp, cc, cs, cd = (col[k] for k in ("InvoiceNo", "Quantity", "UnitPrice", "CustomerID", "StockCode",
                                                "Description"))
    for x in rows:
        try:
            cid, q, p = int(float(x[cc])), int(x[cq]), float(x[cp])
        except (ValueError, IndexError):
            continue
        if x[ci].startswith("C") or q <= 0 or p <= 0:
            continue
        code, d = x[cs].strip(" \t"), x[cd].strip(" \t")
        if not code:
            continue
        bought.setdefault(code, set())  # an item of the data, even when only customers left out bought it
        if cid in row_of:
            bought[code].add(row_of[cid])
        if d:
            desc.setdefault(code, {})
            desc[code][d] = desc[code].get(d, 0) + 1
k = int(r["/segments"].attrs["k"])
n_all = len(ids)
size = [int((label == s).sum()) for s in range(k)]
got_item = r["/segments/offers/item"][:]
got_lift = r["/segments/offers/lift"][:]
got_cust = r["/segments/offers/customers"][:]
names = [v.decode() for v in r["/segments/offers/name"][:]]
codes = sorted(bought, key=lambda s: s.encode())
code_at = [v.decode() for v in c["/customers/items/code"][:]]
assert code_at == codes, "item codes differ from the CSV's"
checked = 0
for s in range(k):
    cand = []
    for i, code in enumerate(codes):
        if code in EXCLUDE or len(bought[code]) < min_c or len(bought[code]) == 0:
            continue
        buyers = bought[code]
        n_in = sum(1 for row in buyers if label[row] == s)
        if n_in < min_c or size[s] == 0:
            continue
        share, base = n_in / size[s], len(buyers) / n_all
        lift = share / base
        if share < min_share or lift < min_lift:
            continue
        cand.append((-lift, -n_in, i, lift, n_in, code))
    cand.sort()
    want = cand[:top]
    n_got = int((got_item[s] >= 0).sum())
    assert n_got == len(want), (s, n_got, len(want))
    for q, (_, _, i, lift, n_in, code) in enumerate(want):
        assert got_item[s, q] == i and got_cust[s, q] == n_in and got_lift[s, q] == lift, \
            (s, q, code, got_item[s, q], i, got_lift[s, q], lift)
        d = desc.get(code, {})
        name = sorted(d.items(), key=lambda kv: (-kv[1], kv[0].encode()))[0][0] if d else code
        assert names[s * top + q] == name[:95], (s, q, names[s * top + q], name)
        checked += 1
print("offers: %d offers of %d segments equal an independent computation (%d items, %d customers)"
      % (checked, k, len(codes), n_all))
