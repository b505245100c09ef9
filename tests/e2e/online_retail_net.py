"""Net RFM of every Online Retail customer computed independently of tribe
(stdlib csv + gzip, exact decimal money) and compared with customers.h5.

    /usr/bin/python3 online_retail_net.py online-retail.csv.gz customers.h5 rejects.csv

The rules (docs/ingest.md, "Returns"): a row with a CustomerID is a return
when its InvoiceNo starts with 'C' or its Quantity is negative; a return at
UnitPrice <= 0 and a purchase at Quantity = 0 or UnitPrice <= 0 count for
nothing. monetary = purchases - |returns|; frequency = distinct purchase
invoices; recency = snapshot - last purchase day (snapshot: the day after the
data's last row used). Customers at net spend <= 0 are not in the table but
in the rejects file. Prints the before/after figures docs/ingest.md quotes."""
import csv, datetime, gzip, io, json, sys
from decimal import Decimal

import h5py
import numpy as np

src, h5, rejects = sys.argv[1:4]
gross, ret, nret, inv, days, prods = {}, {}, {}, {}, {}, {}
season = {}  # customer -> [Q1, Q2, Q3, Q4, weekend] purchase money
last_day = None
with gzip.open(src, "rb") as raw:
    rows = csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
    head = next(rows)
    col = {n: i for i, n in enumerate(head)}
    ci, cq, cp, cc, cd, cs = (col[k] for k in ("InvoiceNo", "Quantity", "UnitPrice", "CustomerID",
                                                "InvoiceDate", "StockCode"))
    for r in rows:
        if not r[cc]:
            continue
        c, q, p = int(float(r[cc])), int(r[cq]), Decimal(r[cp])
        is_ret = r[ci].startswith("C") or q < 0
        if p <= 0 or (q == 0 and not is_ret):
            continue
        date = datetime.datetime.strptime(r[cd].split()[0], "%m/%d/%Y").date() if "/" in r[cd] \
            else datetime.date.fromisoformat(r[cd][:10])
        day = date.toordinal()
        last_day = day if last_day is None else max(last_day, day)
        if is_ret:
            ret[c] = ret.get(c, 0) + abs(q * p)
            nret[c] = nret.get(c, 0) + 1
            continue
        gross[c] = gross.get(c, 0) + q * p
        sc = season.setdefault(c, [Decimal(0)] * 5)
        sc[(date.month - 1) // 3] += q * p
        if date.weekday() >= 5:  # Saturday, Sunday
            sc[4] += q * p
        inv.setdefault(c, set()).add(r[ci])
        prods.setdefault(c, set()).add(r[cs])
        days.setdefault(c, set()).add(day)

everyone = set(gross) | set(ret)
net = {c: gross.get(c, 0) - ret.get(c, 0) for c in everyone}
keep = sorted(c for c in everyone if net[c] > 0)
left = sorted(c for c in everyone if net[c] <= 0)
snap = last_day + 1

f = h5py.File(h5, "r")
ids = f["/customers/id"][:]
x = f["/customers/features"][:]
names = [n.decode() if isinstance(n, bytes) else n for n in f["/customers/features"].attrs["feature_names"]]
led = json.loads(f["/customers"].attrs["ledger"])
j = {n: names.index(n) for n in names}
assert list(ids) == keep, "customer ids differ: %d in the table, %d computed" % (len(ids), len(keep))
assert led["customers"] == len(keep) and led["customers_net_nonpositive"] == len(left), led
assert led["returns"] == sum(nret.values()), (led["returns"], sum(nret.values()))


def same(a, b):  # the table is float32; money sums differ from exact decimals by < 2^-32 each
    return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))


bad = []
for i, c in enumerate(keep):
    g, rv = gross[c], ret.get(c, Decimal(0))
    want = {"monetary": np.float32(float(net[c])), "gross_monetary": np.float32(float(g)),
            "return_value": np.float32(float(rv)), "return_count": nret.get(c, 0),
            "return_rate": np.float32(float(rv) / float(g)), "frequency": len(inv[c]),
            "recency_days": snap - max(days[c]), "tenure_days": snap - min(days[c]),
            "distinct_products": len(prods[c]),
            "avg_order_value": np.float32(float(net[c]) / len(inv[c]))}
    for k, name in enumerate(("spend_q1", "spend_q2", "spend_q3", "spend_q4", "weekend_share")):
        want[name] = np.float32(float(season[c][k]) / float(g))
    for k, v in want.items():
        if not same(x[i, j[k]], v):
            bad.append((c, k, float(x[i, j[k]]), float(v)))
assert not bad, "%d differences, first %s" % (len(bad), bad[:5])

with open(rejects, newline="") as fh:
    out = [r for r in csv.reader(fh) if r[0] == "customers"]
assert [int(r[1]) for r in out] == left, "rejects: customers left out differ"
for r in out:
    c = int(r[1])
    assert r[2] == "net spend <= 0: gross %.2f, returned %.2f" % (gross.get(c, 0), ret.get(c, 0)), r

bought = [c for c in gross]
top = lambda d: ", ".join("%d %.2f" % (c, d[c]) for c in sorted(d, key=lambda c: (-d[c], c))[:3])
print("customers: %d with a purchase, %d in the table, %d left out (%d of them bought, %d only returned)"
      % (len(bought), len(keep), len(left), sum(1 for c in left if c in gross), sum(1 for c in left if c not in gross)))
print("gross spend %.2f, returned %.2f (%.2f by customers with a purchase), net %.2f"
      % (sum(gross.values()), sum(ret.values()), sum(ret.get(c, 0) for c in bought), sum(net.values())))
print("top gross: %s" % top(gross))
print("top net:   %s" % top({c: net[c] for c in keep}))
order = sorted(gross, key=lambda c: (-gross[c], c))
for c in (12346, 16446):
    if c in gross:
        print("%d: gross %.2f (rank %d of %d by gross), returned %.2f, net %.2f%s"
              % (c, gross[c], order.index(c) + 1, len(order), ret.get(c, 0), net[c], "" if c in keep else ", left out"))
print("checked %d customers x %d features against the table" % (len(keep), len(want)))
