#!/usr/bin/env bash
# gen -> ingest -> run -> explain: one customer's segment, probabilities and top SHAP contributions,
# consistent with the model (softmax of the raw scores, expected value + contributions = raw score),
# the same on 1 and 2 ranks; unknown ids and results without drivers fail with exit 3.
source "$(dirname "$0")/lib.sh"

setup_failed() { fail "$1 failed"; tail -5 "$TMP/setup.log"; finish; }
tribe_np 2 gen --customers 2000 --seed 5 -o "$TMP/raw" >"$TMP/setup.log" 2>&1 || setup_failed gen
tribe_np 1 ingest --transactions "$TMP/raw/transactions.csv" --web "$TMP/raw/web_events.csv" \
  --demographics "$TMP/raw/demographics.csv" -o "$TMP/c.h5" >"$TMP/setup.log" 2>&1 || setup_failed ingest
write_job "$TMP/job.json" c.h5 out 4 '"run_id": "x1", "drivers": {"n_rounds": 10, "sample_size": 0}'
tribe_np 2 run "$TMP/job.json" >"$TMP/setup.log" 2>&1 || setup_failed run
R=$TMP/out/results.h5

# A known customer: the 101st row of the results.
ID=$($PY -c "import h5py; print(h5py.File('$R', 'r')['/segments/id'][100])")
LABEL=$($PY -c "import h5py; print(h5py.File('$R', 'r')['/segments/label'][100])")
D=$($PY -c "import h5py; print(len(h5py.File('$R', 'r')['/model/drivers/mean_abs_shap'].attrs['feature_names']))")

# contribution lines: everything after the "feature value contribution" header
contribs() { awk 'f{print} /^  feature +value +contribution$/{f=1}' "$1"; }

tribe_np 1 explain "$R" --customer "$ID" --top 3 >"$TMP/e3.txt" 2>"$TMP/e3.err" && ok "explain exits 0" ||
  { fail "explain exits 0"; cat "$TMP/e3.err"; }
check "--top 3 prints 3 contributions" test "$(contribs "$TMP/e3.txt" | wc -l)" -eq 3
grep -q "^customer $ID: segment $LABEL " "$TMP/e3.txt" && ok "explain names the customer's segment from results.h5" ||
  { fail "segment line"; head -2 "$TMP/e3.txt"; }
"$TRIBE_BIN" explain "$R" --customer "$ID.0" --top 1 >"$TMP/efloat.txt" 2>&1 &&
  grep -q "^customer $ID: segment $LABEL " "$TMP/efloat.txt" && ok "explain accepts the float form $ID.0" ||
  { fail "explain --customer $ID.0"; head -2 "$TMP/efloat.txt"; }
check "one probability line per segment" test "$(grep -c '^  [0-9] .* p=' "$TMP/e3.txt")" -eq 4

tribe_np 1 explain "$R" --customer "$ID" --top 1000 >"$TMP/eall.txt" 2>&1 || fail "explain --top 1000"
check "--top larger than the feature count prints every feature ($D)" test "$(contribs "$TMP/eall.txt" | wc -l)" -eq "$D"
$PY - "$TMP/eall.txt" "$LABEL" <<'PY' && ok "expected value + contributions = raw score; softmax(raw) = probabilities" || fail "explanation consistent with the model"
import math, re, sys
lines = open(sys.argv[1]).read().splitlines()
seg = int(sys.argv[2])
probs, raws = {}, {}
for l in lines:
    m = re.match(r"^  (\d+) .* p=([0-9.]+) raw=([-+0-9.]+)", l)
    if m:
        probs[int(m.group(1))] = float(m.group(2)); raws[int(m.group(1))] = float(m.group(3))
ev = float(re.search(r"expected value ([-+0-9.]+)", "\n".join(lines)).group(1))
i = lines.index([l for l in lines if re.match(r"^  feature +value +contribution$", l)][0])
contrib = [float(l.split()[-1]) for l in lines[i + 1:]]
total = ev + sum(contrib)
assert abs(total - raws[seg]) < 1e-4 * max(1, abs(raws[seg])), (total, raws[seg])
z = max(raws.values()); e = {c: math.exp(r - z) for c, r in raws.items()}; s = sum(e.values())
assert all(abs(e[c] / s - probs[c]) < 2e-6 for c in probs), (e, probs)
assert abs(sum(probs.values()) - 1) < 1e-5
# contributions come largest |value| first
assert all(abs(a) >= abs(b) for a, b in zip(contrib, contrib[1:])), contrib
PY

tribe_np 2 explain "$R" --customer "$ID" --top 1000 >"$TMP/eall2.txt" 2>&1 || fail "explain on 2 ranks"
check "explain on 2 ranks prints the same as on 1" cmp -s "$TMP/eall.txt" "$TMP/eall2.txt"

expect 3 "customer 999999999 is not in" -- tribe_np 1 explain "$R" --customer 999999999
expect 3 "customer 999999999 is not in" -- tribe_np 2 explain "$R" --customer 999999999
expect 2 "--customer ID is required" -- tribe_np 1 explain "$R"
expect 2 "--top expects" -- tribe_np 1 explain "$R" --customer "$ID" --top 0

write_job "$TMP/job2.json" c.h5 out2 4 '"run_id": "x2", "drivers": {"enabled": false}'
tribe_np 1 run "$TMP/job2.json" >"$TMP/setup.log" 2>&1 || setup_failed "run without drivers"
expect 3 "no segment drivers" -- tribe_np 1 explain "$TMP/out2/results.h5" --customer "$ID"
finish
