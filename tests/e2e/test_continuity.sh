#!/usr/bin/env bash
# Periodic reruns (docs/resegmentation.md): a history directory, a rerun on
# unchanged data in every mode (ids, names, personas kept, zero migration),
# warm start against a refit, the same changes on 1, 2 and 4 ranks,
# tribe history / diff, and bad previous runs refused with nothing written.
source "$(dirname "$0")/lib.sh"

tribe_np 2 gen --customers 3000 --seed 11 -o "$TMP/raw1" 2>/dev/null
tribe_np 2 gen --customers 3600 --seed 12 -o "$TMP/raw2" 2>/dev/null
for p in 1 2; do
  tribe_np 2 ingest --transactions "$TMP/raw$p/transactions.csv" --web "$TMP/raw$p/web_events.csv" \
    --demographics "$TMP/raw$p/demographics.csv" -o "$TMP/c$p.h5" >/dev/null 2>&1
done

# job FILE INPUT OUTPUT RUN_ID [extra json members]: K 3..5 swept (KM overrides), drivers off (speed).
job() {
  local extra=${5:-} km=${KM:-}
  [[ -n $km ]] || km='"kmeans": {"k": [3, 5]}'
  cat >"$1" <<JSON
{"input": "$2", "output": "$3", "run_id": "$4", "seed": 7, $km,
 "drivers": {"enabled": false}${extra:+, $extra}}
JSON
}
# field RUN_JSON EXPR: a Python expression over the run record r.
field() { $PY -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

# ---- month 1: the history starts --------------------------------------------
H=$TMP/hist
job "$TMP/m1.json" "$TMP/c1.h5" "$H" m1 "\"previous\": \"$H\""
tribe_np 2 run "$TMP/m1.json" >/dev/null 2>"$TMP/m1.err" || { fail "month 1"; cat "$TMP/m1.err"; }
check "the first run of a history says so" grep -q "first run of this history" "$TMP/m1.err"
check "the run is kept in runs/m1 and latest points at it" test "$(readlink "$H/latest")" = runs/m1 -a -s "$H/runs/m1/results.h5"
check "the top-level results are the latest run's" cmp -s "$H/results.h5" "$H/runs/m1/results.h5"
expect 2 "run id 'm1' is already in the history" -- tribe_np 1 run "$TMP/m1.json"

# A second history fitted by Lloyd to convergence (K = 4): a warm start from a
# converged fit of the same data has nothing left to move.
KM='"kmeans": {"k": 4, "algorithm": "lloyd", "tol": 0, "inertia_tol": 0, "max_steps": 1000}'
job "$TMP/w0.json" "$TMP/c1.h5" "$TMP/w0" w0
tribe_np 2 run "$TMP/w0.json" >/dev/null 2>&1 || fail "K=4 month 1"
unset KM

# ---- unchanged data: every mode keeps everything ------------------------------
for mode in refit warm score auto; do
  prev=$H
  [[ $mode != warm ]] || { prev=$TMP/w0; KM='"kmeans": {"k": 4, "algorithm": "lloyd", "tol": 0, "inertia_tol": 0, "max_steps": 1000}'; }
  job "$TMP/u-$mode.json" "$TMP/c1.h5" "$TMP/u-$mode" u "\"previous\": \"$prev\", \"continuity\": {\"mode\": \"$mode\"}"
  unset KM
  tribe_np 2 run "$TMP/u-$mode.json" >/dev/null 2>"$TMP/u-$mode.err" || { fail "unchanged rerun ($mode)"; cat "$TMP/u-$mode.err"; continue; }
  R=$TMP/u-$mode/run.json
  check "$mode rerun of unchanged data: zero migration" test "$(field "$R" "r['continuity']['changes']['moved'], r['continuity']['changes']['new_customers'], r['continuity']['changes']['gone_customers']")" = "0 0 0"
  check "$mode rerun: every segment survived" test "$(field "$R" "sorted(set(t['type'] for t in r['continuity']['changes']['transitions']))")" = "['survived']"
  check "$mode rerun: same ids and names" test "$(field "$R" "[(s['id'], s['name']) for s in r['segments']['segments']]")" = "$(field "$prev/run.json" "[(s['id'], s['name']) for s in r['segments']['segments']]")"
  check "$mode rerun: personas kept" cmp -s "$TMP/u-$mode/personas.json" "$prev/personas.json"
done
check "auto on unchanged data scores with the previous model, and says why" \
  grep -q "auto: scored with the previous model, because no feature drifted" "$TMP/u-auto.err"

# ---- tribe assign with the full outputs --------------------------------------
tribe_np 2 assign "$H/runs/m1/results.h5" "$TMP/c2.h5" -o "$TMP/asg/" >/dev/null 2>"$TMP/asg.err" || { fail "assign -o DIR/"; cat "$TMP/asg.err"; }
tribe_np 2 assign "$H/runs/m1/results.h5" "$TMP/c2.h5" -o "$TMP/asg.h5" >/dev/null 2>&1
$PY - "$TMP/asg/results.h5" "$TMP/asg.h5" "$H/results.h5" <<'PY' && ok "assign -o DIR/: a whole score-only run, its labels those of assign -o x.h5" || fail "assign -o DIR/"
import sys, h5py, numpy as np
run, lab, prev = (h5py.File(p) for p in sys.argv[1:])
ids = run["/segments/segment_id"][:].ravel()
assert (run["/segments/id"][:] == lab["/segments/id"][:]).all()
# the run's positions are ordered by monetary; its persistent ids are the model's segments
assert (ids[run["/segments/label"][:]] == prev["/segments/segment_id"][:].ravel()[lab["/segments/label"][:]]).all()
assert "/segments/mean" in run and "/segments/q1" in run
PY
check "assign -o DIR/ wrote the report and personas" test -s "$TMP/asg/report.html" -a -s "$TMP/asg/personas.json"

# ---- changed data: warm start against a refit ------------------------------------
# A refit chooses K again (here 3..5: three fits); a warm start keeps the previous K and starts
# from its centres: it must end at the refit's inertia for that K (<= 1.001x) after fewer full
# passes over the data than the refit's fits took together.
for mode in refit warm; do
  job "$TMP/w-$mode.json" "$TMP/c2.h5" "$TMP/w-$mode" w "\"previous\": \"$H\", \"continuity\": {\"mode\": \"$mode\"}"
  tribe_np 2 run "$TMP/w-$mode.json" >/dev/null 2>"$TMP/w-$mode.err" || { fail "changed rerun ($mode)"; cat "$TMP/w-$mode.err"; }
done
KW=$(field "$TMP/w-warm/run.json" "r['kmeans']['k']")
read -r i_refit p_refit < <(field "$TMP/w-refit/run.json" "[row[1] for row in r['kmeans']['k_sweep']['rows'] if row[0] == $KW][0], r['kmeans']['fit_passes_total']" | tr -d '(),')
read -r i_warm p_warm < <(field "$TMP/w-warm/run.json" "r['kmeans']['inertia'], r['kmeans']['fit_passes_total']" | tr -d '(),')
echo "# warm start (K=$KW): inertia $i_warm in $p_warm full passes; refit: K=$KW inertia $i_refit, $p_refit full passes for its K sweep"
check "warm start reaches the refit's inertia at its K (<= 1.001x)" $PY -c "import sys; sys.exit(not $i_warm <= 1.001 * $i_refit)"
check "warm start takes fewer full passes than the refit" test "$p_warm" -lt "$p_refit"

# ---- month 2 on 1, 2 and 4 ranks: the same changes ---------------------------
for np in 1 2 4; do
  cp -a "$H" "$TMP/h$np"
  job "$TMP/m2-$np.json" "$TMP/c2.h5" "$TMP/h$np" m2 "\"previous\": \"$TMP/h$np\""
  tribe_np $np run "$TMP/m2-$np.json" >/dev/null 2>"$TMP/m2-$np.err" || { fail "month 2 on $np ranks"; cat "$TMP/m2-$np.err"; }
  field "$TMP/h$np/run.json" "json.dumps({k: v for k, v in r['continuity']['changes'].items() if k != 'previous'}, sort_keys=True)" >"$TMP/changes$np.json"
done
check "month 2 found changes (customers joined)" test "$(field "$TMP/h1/run.json" "r['continuity']['changes']['new_customers'] > 0")" = True
check "the changes on 2 ranks are those on 1" cmp -s "$TMP/changes1.json" "$TMP/changes2.json"
check "the changes on 4 ranks are those on 1" cmp -s "$TMP/changes1.json" "$TMP/changes4.json"
check "migration.csv is written" test -s "$TMP/h1/migration.csv"
$PY - "$TMP/h1/results.h5" "$TMP/h1/run.json" <<'PY' && ok "/continuity/migration = the run record's matrix; rows add up to the previous sizes" || fail "migration matrix"
import json, sys, h5py, numpy as np
f = h5py.File(sys.argv[1]); r = json.load(open(sys.argv[2]))
m = f["/continuity/migration"][:]
assert (m == np.array(r["continuity"]["changes"]["migration"]["customers"])).all()
prev = h5py.File(r["previous"]["path"])
assert (m[:-1].sum(axis=1) == prev["/segments/size"][:].ravel()).all(), "old rows"
assert (m[:, :-1].sum(axis=0) == f["/segments/size"][:].ravel()).all(), "new columns"
PY

# ---- the ids a user types are the persistent ones ---------------------------------
tribe_np 1 export "$TMP/h1/results.h5" --csv "$TMP/h1.csv" >/dev/null 2>&1
$PY - "$TMP/h1.csv" "$TMP/h1/run.json" <<'PY' && ok "export's segment_id column holds the persistent ids" || fail "export segment ids"
import csv, json, sys
ids = {str(s["id"]) for s in json.load(open(sys.argv[2]))["segments"]["segments"]}
rows = list(csv.DictReader(open(sys.argv[1])))
assert {r["segment_id"] for r in rows} == ids, ({r["segment_id"] for r in rows}, ids)
PY
expect 2 "the run's segments are" -- tribe_np 1 campaign send --results "$TMP/h1" --segment 999 --contacts "$TMP/raw2/contacts.csv" --channel email

cp -a "$H" "$TMP/hx"
job "$TMP/x.json" "$TMP/c2.h5" "$TMP/hx" x "\"previous\": \"$TMP/hx\""
sed -i 's/"drivers": {"enabled": false}/"drivers": {"n_rounds": 5}/' "$TMP/x.json"
tribe_np 2 run "$TMP/x.json" >/dev/null 2>&1 || fail "run with drivers following month 1"
tribe_np 1 export "$TMP/hx/results.h5" --csv "$TMP/hx.csv" >/dev/null 2>&1
CUST=$(sed -n 2p "$TMP/hx.csv" | cut -d, -f1)
WANT=$($PY -c "import csv,sys; print(next(r['segment_id'] for r in csv.DictReader(open(sys.argv[1])) if r['customer_id'] == sys.argv[2]))" "$TMP/hx.csv" "$CUST")
tribe_np 1 explain "$TMP/hx/results.h5" --customer "$CUST" >"$TMP/explain.txt" 2>&1 || fail "explain"
check "explain names the customer's persistent segment id ($WANT), as export does" grep -q "^customer $CUST: segment $WANT " "$TMP/explain.txt"

# ---- history and diff -----------------------------------------------------------
tribe_np 1 history "$TMP/h1" >"$TMP/history.txt" 2>&1
check "history lists both runs, the latest starred" grep -qE '^\* m2 ' "$TMP/history.txt"
check "history lists the first run" grep -qE '^  m1 ' "$TMP/history.txt"
tribe_np 2 diff "$TMP/h1/runs/m1" "$TMP/h1" --json >"$TMP/diff.json" 2>"$TMP/diff.err" || { fail "diff"; cat "$TMP/diff.err"; }
$PY - "$TMP/diff.json" "$TMP/h1/run.json" <<'PY' && ok "tribe diff gives the run's migration matrix and transitions" || fail "tribe diff"
import json, sys
d = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))["continuity"]["changes"]
assert d["migration"]["customers"] == r["migration"]["customers"]
assert [t["type"] for t in d["transitions"]] == [t["type"] for t in r["transitions"]]
PY
expect 3 "no run history here" -- tribe_np 1 history "$TMP"

# ---- bad previous runs: refused, nothing written --------------------------------
job "$TMP/b1.json" "$TMP/c2.h5" "$TMP/b1" b "\"previous\": \"$TMP/nope/results.h5\""
expect 4 "previous run '.*nope/results.h5': no such file" -- tribe_np 2 run "$TMP/b1.json"
check "a refused run writes nothing" test ! -e "$TMP/b1/runs"
head -c 4096 /dev/urandom >"$TMP/junk.h5"
job "$TMP/b2.json" "$TMP/c2.h5" "$TMP/b2" b "\"previous\": \"$TMP/junk.h5\""
expect 3 "junk.h5" -- tribe_np 2 run "$TMP/b2.json"
job "$TMP/b3.json" "$TMP/c2.h5" "$TMP/b3" b "\"previous\": \"$H\", \"features\": {\"columns\": [\"recency_days\", \"frequency\", \"monetary\"]}"
expect 3 "model columns .* are not those of the previous run" -- tribe_np 2 run "$TMP/b3.json"
job "$TMP/b4.json" "$TMP/c2.h5" "$TMP/b4" b "\"previous\": \"$H\""
sed -i 's/"k": \[3, 5\]/"k": 4/' "$TMP/b4.json"
expect 3 "K \(4..4\) is not the previous run's \(3..5" -- tribe_np 2 run "$TMP/b4.json"
check "refused runs leave the history as it was" test "$(ls "$H/runs")" = m1
job "$TMP/b5.json" "$TMP/c2.h5" "$TMP/b5" b "\"continuity\": {\"mode\": \"sometimes\"}"
expect 2 "continuity.mode" -- tribe_np 1 run "$TMP/b5.json"

finish
