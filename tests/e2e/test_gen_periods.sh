#!/usr/bin/env bash
# tribe gen --blobs --periods 2: the same two periods on 1 and 2 ranks, truth.json consistent with
# the truth side files, its usage errors, and the shipped jobs/continuity-period{1,2}.json run on
# 2 ranks on each period (K fixed at the period's true K) recovering the planted partition
# (ARI > 0.99) with segment ids equal to the planted numbers (both by descending mean monetary).
source "$(dirname "$0")/lib.sh"

for np in 1 2; do
  tribe_np $np gen --blobs --periods 2 --customers 20000 --seed 3 -o "$TMP/g$np" >"$TMP/gen$np.out" 2>&1 ||
    { fail "gen --periods 2 on $np ranks"; cat "$TMP/gen$np.out"; }
done
check "gen --periods 2 wrote both periods, their truth and truth.json" \
  test -s "$TMP/g1/period1.h5" -a -s "$TMP/g1/period2.h5" -a -s "$TMP/g1/period1.truth.h5" -a \
  -s "$TMP/g1/period2.truth.h5" -a -s "$TMP/g1/truth.json"
check "truth.json is the same on 1 and 2 ranks" cmp -s "$TMP/g1/truth.json" "$TMP/g2/truth.json"
$PY - "$TMP/g1" "$TMP/g2" <<'PY' && ok "gen --periods 2: same customers and truth on 1 and 2 ranks; truth.json counts the files" || fail "gen --periods 2 files"
import sys, json, h5py, numpy as np
a, b = sys.argv[1:3]
t = json.load(open(a + "/truth.json"))
assert t["k"] == [7, 7] and t["customers"][0] == 20000 and t["new_customers"] == 4000
lab = {}
for p in (1, 2):
    fa, fb = h5py.File(f"{a}/period{p}.h5", "r"), h5py.File(f"{b}/period{p}.h5", "r")
    ta, tb = h5py.File(f"{a}/period{p}.truth.h5", "r"), h5py.File(f"{b}/period{p}.truth.h5", "r")
    ids = fa["/customers/id"][:]
    assert len(ids) == t["customers"][p - 1] and (np.diff(ids) > 0).all()
    assert (ids == fb["/customers/id"][:]).all() and (ids == ta["/truth/id"][:]).all()
    assert (fa["/customers/features"][:] == fb["/customers/features"][:]).all()
    for k in ("label", "next" if p == 1 else "prev"):
        assert (ta["/truth/" + k][:] == tb["/truth/" + k][:]).all()
    names = [s.decode() if isinstance(s, bytes) else s for s in fa["/customers/features"].attrs["feature_names"]]
    assert names[0] == "monetary" and names[1] == "f02" and len(names) == 16
    l = ta["/truth/label"][:]
    assert list(np.bincount(l, minlength=7)) == t["periods"][p - 1]["sizes"]
    lab[p] = dict(zip(ids.tolist(), l.tolist()))
m = np.zeros((8, 8), int)
for i, l in lab[1].items():
    m[l, lab[2].get(i, 7)] += 1
for i, l in lab[2].items():
    if i not in lab[1]:
        m[7, l] += 1
want = np.array([r["to"] + [r["gone"]] for r in t["migration"]])
assert (m == want).all(), (m, want)
kinds = sorted(x["type"] for x in t["transitions"])
assert kinds == ["disappeared", "emerged", "merged", "split", "survived", "survived", "survived"], kinds
PY

expect 2 "periods" -- "$TRIBE_BIN" gen --blobs --periods 3 --customers 10 -o "$TMP/x"
expect 2 "need --blobs" -- "$TRIBE_BIN" gen --periods 2 --customers 10 -o "$TMP/x"
expect 2 "does not apply to --periods 2" -- "$TRIBE_BIN" gen --blobs --periods 2 --spread 2 --customers 10 -o "$TMP/x"
expect 2 "clusters" -- "$TRIBE_BIN" gen --blobs --periods 2 --clusters 5 --customers 10 -o "$TMP/x"

# The shipped specs next to the data they name (../out/continuity/), the segment drivers off (time).
mkdir -p "$TMP/jobs" "$TMP/out"
for p in 1 2; do
  sed 's/"seed": 42,/"seed": 42, "drivers": {"enabled": false},/' "$TRIBE_SOURCE_DIR/jobs/continuity-period$p.json" \
    >"$TMP/jobs/continuity-period$p.json"
  grep -q '"drivers"' "$TMP/jobs/continuity-period$p.json" || fail "drivers off in continuity-period$p.json"
done
mv "$TMP/g1" "$TMP/out/continuity"
for p in 1 2; do
  tribe_np 2 run "$TMP/jobs/continuity-period$p.json" >"$TMP/run$p.out" 2>"$TMP/run$p.err" ||
    { fail "run continuity-period$p.json"; tail -5 "$TMP/run$p.err"; }
  $PY - "$TMP/out/continuity" $p <<'PY' && ok "period $p: tribe run at the true K recovers the planted segments, ids = planted numbers" || fail "period $p recovery"
import sys, json, h5py, numpy as np
d, p = sys.argv[1], int(sys.argv[2])
t = json.load(open(d + "/truth.json"))
r = h5py.File(f"{d}/run{p}/results.h5", "r")
tr = h5py.File(f"{d}/period{p}.truth.h5", "r")
assert (r["/segments/id"][:] == tr["/truth/id"][:]).all()
a, b = r["/segments/label"][:], tr["/truth/label"][:]
assert len(np.unique(a)) == t["k"][p - 1]
def comb2(x): return (x * (x - 1) / 2).sum()
m = np.zeros((a.max() + 1, b.max() + 1)); np.add.at(m, (a, b), 1)
s, sa, sb, n = comb2(m), comb2(m.sum(1)), comb2(m.sum(0)), len(a)
e = sa * sb / (n * (n - 1) / 2)
ari = (s - e) / ((sa + sb) / 2 - e)
print(f"period {p}: ARI {ari:.5f}, ids equal to planted numbers on {(a == b).mean():.5f}")
assert ari > 0.99 and (a == b).mean() > 0.99
PY
done
finish
