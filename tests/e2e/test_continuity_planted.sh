#!/usr/bin/env bash
# Continuity judged on planted truth (docs/resegmentation.md, docs/gen.md "Two planted periods"):
# tribe gen --blobs --periods 2 plants a survivor set, a split, a merge, a disappearance, an
# emergence, ~5 % migration, churn and new customers. Period 2 run with "previous" = period 1's
# run, refit and warm: every planted transition reported, none invented, the migration matrix
# within 2 % of the planted one (cell by cell, of the planted row), on 2 ranks.
source "$(dirname "$0")/lib.sh"

tribe_np 2 gen --blobs --periods 2 --customers 40000 --seed 42 -o "$TMP/g" >/dev/null 2>&1 || fail "gen --periods 2"
job() { # job FILE INPUT OUTPUT RUN_ID [extra]
  cat >"$1" <<JSON
{"input": "$2", "output": "$3", "run_id": "$4", "seed": 42, "features": {"log1p": []},
 "kmeans": {"k": 7, "init": "kmeans++-lloyd", "algorithm": "lloyd", "n_init": 5},
 "drivers": {"enabled": false}, "gmm": {"enabled": false}${5:+, $5}}
JSON
}
job "$TMP/p1.json" "$TMP/g/period1.h5" "$TMP/h" p1
tribe_np 2 run "$TMP/p1.json" >/dev/null 2>"$TMP/p1.err" || { fail "period 1"; cat "$TMP/p1.err"; }
for mode in refit warm; do
  cp -a "$TMP/h" "$TMP/h-$mode"
  job "$TMP/p2-$mode.json" "$TMP/g/period2.h5" "$TMP/h-$mode" p2 "\"previous\": \"$TMP/h-$mode\", \"continuity\": {\"mode\": \"$mode\"}"
  tribe_np 2 run "$TMP/p2-$mode.json" >/dev/null 2>"$TMP/p2-$mode.err" || { fail "period 2 ($mode)"; cat "$TMP/p2-$mode.err"; continue; }
  $PY - "$TMP/g/truth.json" "$TMP/h-$mode/runs/p1/results.h5" "$TMP/h-$mode/runs/p2/results.h5" \
    "$TMP/h-$mode/runs/p2/run.json" "$TMP/g" <<'PY' && ok "$mode: every planted transition and the migration matrix recovered" || fail "$mode: planted continuity"
import json, sys, h5py, numpy as np
truth, r1, r2, rec, gdir = json.load(open(sys.argv[1])), h5py.File(sys.argv[2]), h5py.File(sys.argv[3]), json.load(open(sys.argv[4])), sys.argv[5]
ch = rec["continuity"]["changes"]
# tribe's segment positions -> planted numbers, by majority of the truth labels (the partition is
# recovered exactly when K-Means finds the optimum; the check below says how well)
def planted_of(res, tfile):
    t = h5py.File(tfile); lab = res["/segments/label"][:]; tl = t["/truth/label"][:]
    assert (res["/segments/id"][:] == t["/truth/id"][:]).all()
    k = res["/segments/size"].shape[0]
    m = np.zeros((k, k), int); np.add.at(m, (lab, tl), 1)
    agree = m.max(axis=1).sum() / len(lab)
    assert agree > 0.99, f"partition recovered for {agree:.4f} of the customers"
    return m.argmax(axis=1)
p1, p2 = planted_of(r1, gdir + "/period1.truth.h5"), planted_of(r2, gdir + "/period2.truth.h5")
pos1 = {int(i): c for c, i in enumerate(r1["/segments/segment_id"][:].ravel())}
pos2 = {int(i): c for c, i in enumerate(r2["/segments/segment_id"][:].ravel())}
got = set()
for t in ch["transitions"]:
    fr = tuple(sorted(int(p1[pos1[t["from"]["id"]]]) for _ in [0])) if t["from"] else ()
    to = tuple(sorted(int(p2[pos2[x["id"]]]) for x in t["to"]))
    got.add((t["type"], fr, to))
# MONIC in tribe's words: a planted merge of a and b into c is "a survived as c" (the larger part
# keeps its identity) and "b was absorbed into c", or both absorbed into a new segment.
want = set()
for t in truth["transitions"]:
    fr, to = tuple(sorted(t.get("from", []))), tuple(sorted(t.get("to", [])))
    if t["type"] == "merged":
        kinds = {(k, (f,), to) for f in fr for k in ("survived", "absorbed")}
        hit = [g for g in got if g in kinds]
        assert len(hit) == len(fr) and sum(g[0] == "survived" for g in hit) <= 1, f"merge {t}: {hit}"
        want |= set(hit)
    else:
        want.add((t["type"], fr, to))
assert got == want, f"reported {sorted(got - want)} not planted; planted {sorted(want - got)} not reported"
# migration: tribe's matrix (previous positions x new positions, + new row / gone column) in planted numbers
mig = np.array(ch["migration"]["customers"]); k1, k2 = mig.shape[0] - 1, mig.shape[1] - 1
mine = np.zeros((k1 + 1, k2 + 1), int)
for i in range(k1 + 1):
    for j in range(k2 + 1):
        mine[p1[i] if i < k1 else k1, p2[j] if j < k2 else k2] += mig[i, j]
plant = np.zeros_like(mine)
for row in truth["migration"]:
    i = k1 if row["from"] == "new" else row["from"]
    plant[i, :k2] = row["to"]; plant[i, k2] = row["gone"]
tol = 0.02 * plant.sum(axis=1, keepdims=True)
assert (np.abs(mine - plant) <= tol).all(), f"migration off by up to {np.abs(mine - plant).max()}:\n{mine}\n{plant}"
print(f"# {len(got)} transitions; migration within {np.abs(mine - plant).max()} customers of the truth")
PY
done
check "warm start reports its passes" test "$($PY -c "import json; print(json.load(open('$TMP/h-warm/run.json'))['kmeans']['passes'] > 0)")" = True

finish
