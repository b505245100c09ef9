#!/usr/bin/env bash
# The financial layout of the GenAI brief end to end: tribe gen --layout financial, ingest through
# jobs/mappings/financial.json, and the features the brief asks for (monthly spend, average
# transaction, chip / online / swipe shares, the top merchant categories' shares, yearly income,
# total debt, debt-to-income, credit score and its band) checked customer by customer against an
# independent computation from the CSV files;
# customers.h5 identical on 1, 2 and 4 ranks; jobs/financial.json segments the planted customers.
source "$(dirname "$0")/lib.sh"
$PY -c "import h5py, sklearn" 2>/dev/null || { echo "skip: needs /usr/bin/python3 with h5py and sklearn"; exit 77; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MAP=$ROOT/jobs/mappings/financial.json
D=$TMP/fin
"$TRIBE_BIN" gen --layout financial --customers 2000 --seed 21 -o "$D" >/dev/null 2>&1 || fail "tribe gen --layout financial"
for np in 1 2 4; do
  tribe_np $np ingest --mapping "$MAP" --transactions "$D/transactions_data.csv" --demographics "$D/users_data.csv" \
    -o "$TMP/c$np.h5" >"$TMP/ingest$np.log" 2>&1 || fail "ingest on $np rank(s)"
done
check "customers.h5 is the same on 1, 2 and 4 ranks" $PY -c "
import sys, h5py, numpy as np
def load(p):
    f = h5py.File(p)
    return [f['/customers/id'][:], f['/customers/features'][:], f['/customers/credit_band'][:]]
a = load(sys.argv[1])
for p in sys.argv[2:]:
    b = load(p)
    assert all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b)), p" "$TMP/c1.h5" "$TMP/c2.h5" "$TMP/c4.h5"

$PY - "$D" "$TMP/c2.h5" <<'PY' && ok "every customer's financial features equal an independent computation" || fail "financial features"
import csv, datetime, json, sys
from decimal import Decimal, InvalidOperation
import h5py, numpy as np
d, h5 = sys.argv[1:3]
gross, ret, first, chan, seen_last = {}, {}, {}, {}, None
cat, cat_tot = {}, {}  # customer -> mcc -> purchases; mcc -> purchases of everyone
for r in csv.DictReader(open(d + "/transactions_data.csv", newline="")):
    a = r["amount"]
    try:
        v = Decimal(a[1:]) if a.startswith("$") else None
    except InvalidOperation:
        v = None
    if v is None:
        continue  # a malformed amount: in the rejects file
    c = int(r["client_id"])
    day = datetime.date.fromisoformat(r["date"][:10]).toordinal()
    seen_last = day if seen_last is None else max(seen_last, day)
    if v < 0:
        ret[c] = ret.get(c, 0) + -v
        continue
    gross[c] = gross.get(c, 0) + v
    first[c] = min(first.get(c, day), day)
    k = {"Online Transaction": "online", "Chip Transaction": "chip", "Swipe Transaction": "swipe"}[r["use_chip"]]
    chan.setdefault(c, {}).setdefault(k, Decimal(0))
    chan[c][k] += v
    cat.setdefault(c, {}).setdefault(r["mcc"], Decimal(0))
    cat[c][r["mcc"]] += v
    cat_tot[r["mcc"]] = cat_tot.get(r["mcc"], 0) + v
users = {int(r["id"]): r for r in csv.DictReader(open(d + "/users_data.csv", newline=""))}
snap = seen_last + 1
f = h5py.File(h5)
ids = f["/customers/id"][:]
x = f["/customers/features"][:]
names = [n.decode() if isinstance(n, bytes) else n for n in f["/customers/features"].attrs["feature_names"]]
band = f["/customers/credit_band"][:]
levels = [n.decode() for n in f["/customers/credit_band"].attrs["levels"]]
assert levels == ["poor", "fair", "good", "very good", "exceptional"], levels
keep = sorted(c for c in gross if gross[c] - ret.get(c, 0) > 0)
assert list(ids) == keep, (len(ids), len(keep))
j = {n: i for i, n in enumerate(names)}
for n in ("monthly_spend", "online_share", "chip_share", "swipe_share", "yearly_income", "total_debt",
          "debt_to_income", "credit_score"):
    assert n in j, (n, names)
top = sorted(cat_tot, key=lambda m: (-cat_tot[m], m))[:5]  # the five categories with the most spend
for m in top:
    assert "category_%s_share" % m in j, (m, names)
bad = []
for i, c in enumerate(keep):
    g, net = gross[c], gross[c] - ret.get(c, 0)
    u = users[c]
    inc, debt, score = float(u["yearly_income"][1:]), float(u["total_debt"][1:]), float(u["credit_score"])
    want = {"monthly_spend": float(net) / max(1.0, (snap - first[c]) / 30.4375),
            "yearly_income": inc, "total_debt": debt, "credit_score": score,
            "debt_to_income": debt / inc if inc > 0 else float("nan")}
    for k in ("online", "chip", "swipe"):
        want[k + "_share"] = float(chan[c].get(k, 0)) / float(g)
    for m in top:
        want["category_%s_share" % m] = float(cat[c].get(m, 0)) / float(sum(cat[c].values()))
    for k, v in want.items():
        got = float(x[i, j[k]])
        if not (abs(got - v) <= 1e-6 * max(1.0, abs(v)) or (np.isnan(got) and np.isnan(v))):
            bad.append((c, k, got, v))
    b = next((n for n, up in enumerate((580, 670, 740, 800, 851)) if score < up), -1) if 300 <= score <= 850 else -1
    if band[i] != b:
        bad.append((c, "credit_band", band[i], b))
assert not bad, "%d differences, first %s" % (len(bad), bad[:5])
PY

# jobs/financial.json (paths relative to the spec, so run a copy pointed at this test's files)
sed "s#../out/financial/customers.h5#$TMP/c2.h5#; s#../out/financial/results#$TMP/out#; s#\"k_min\": 3, \"k_max\": 8#\"k\": 6#" \
  "$ROOT/jobs/financial.json" >"$TMP/job.json"
tribe_np 2 run "$TMP/job.json" >"$TMP/run.log" 2>&1 || { fail "tribe run jobs/financial.json"; tail -5 "$TMP/run.log"; }
check "the run models the financial features and the report names them" grep -q "debt_to_income" "$TMP/out/report.html"
$PY - "$TMP/out/results.h5" "$D/truth.csv" <<'PY' && ok "the 6 planted segments come back (ARI > 0.35)" || fail "planted segments"
import csv, sys
import h5py
from sklearn.metrics import adjusted_rand_score
f = h5py.File(sys.argv[1])
ids, lab = f["/segments/id"][:], f["/segments/label"][:]
truth = {int(r["customer_id"]): int(r["segment"]) for r in csv.DictReader(open(sys.argv[2]))}
ari = adjusted_rand_score([truth[i] for i in ids], lab)
print("ARI vs planted truth: %.3f" % ari)
assert ari > 0.35, ari
PY
finish
