#!/usr/bin/env bash
# What each segment buys more than the base (docs/offers.md) on generated data: ingest keeps each
# customer's products (2 ranks), a run on 1 and on 2 ranks gives the same offers, which equal an
# independent computation from the CSV; they reach the report, the campaign plan, the segment
# profiles and the offline persona (grounded); a customers.h5 without items skips the stage.
source "$(dirname "$0")/lib.sh"
tribe_np 1 gen --customers 1500 --seed 11 --dirt 0 --no-web --no-demographics --no-reviews -o "$TMP/g" >/dev/null 2>&1 ||
  { fail "gen"; finish; exit 1; }
tribe_np 2 ingest --transactions "$TMP/g/transactions.csv" -o "$TMP/c.h5" >"$TMP/ingest.out" 2>&1 ||
  { cat "$TMP/ingest.out"; fail "ingest"; finish; exit 1; }
persona='"persona": {"provider": "offline"}, "offers": {"min_customers": 10, "min_share": 0.03, "min_lift": 1.1, "top": 3}'
write_job "$TMP/j1.json" "$TMP/c.h5" "$TMP/o1" 4 "$persona"
write_job "$TMP/j2.json" "$TMP/c.h5" "$TMP/o2" 4 "$persona"
tribe_np 1 run "$TMP/j1.json" >/dev/null 2>"$TMP/r1.err" && ok "run on 1 rank" || { fail "run 1"; cat "$TMP/r1.err"; }
tribe_np 2 run "$TMP/j2.json" >/dev/null 2>"$TMP/r2.err" && ok "run on 2 ranks" || { fail "run 2"; cat "$TMP/r2.err"; }
check "the log says how many offers" grep -qE 'offers: [1-9][0-9]* offers over 4 segments' "$TMP/r1.err"
check "1 and 2 ranks: the same outputs (offers included)" same_outputs "$TMP/o1" "$TMP/o2"
$PY "$(dirname "$0")/offers_truth.py" "$TMP/g/transactions.csv" "$TMP/c.h5" "$TMP/o1/results.h5" 10 0.03 1.1 3 \
  >"$TMP/truth.out" 2>&1 && ok "offers equal an independent computation from the CSV" || fail "independent offers"
cat "$TMP/truth.out"
check "report section 'What each segment buys more than the base'" grep -q 'What each segment buys more than the base' "$TMP/o1/report.html"
$PY - "$TMP/o1" <<'PY' && ok "campaign plan, segments.json and persona carry the first offer (grounded)" || fail "offer in plan/persona"
import csv, json, sys
d = sys.argv[1]
run = json.load(open(d + "/run.json"))["offers"]
segs = json.load(open(d + "/segments.json"))["segments"]
plan = {int(r["segment_id"]): r for r in csv.DictReader(open(d + "/campaign_plan.csv", newline=""))}
personas = {p["segment_id"]: p for p in json.load(open(d + "/personas.json"))}
assert run["computed"] and run["kind"] == "products", run
n = 0
for s in run["segments"]:
    c, offers = s["segment"], s["offers"]
    assert [o["name"] for o in segs[c].get("offers", [])] == [o["name"] for o in offers]
    if not offers:
        assert plan[c]["offer"] == "" and plan[c]["offer_lift"] == ""
        continue
    n += 1
    assert plan[c]["offer"] == offers[0]["name"] and abs(float(plan[c]["offer_lift"]) - offers[0]["lift"]) < 1e-9
    p = personas[c]
    assert offers[0]["name"] in p["bio"] and offers[0]["name"] in p["email_body"], c
    lift = offers[0]["lift"]
    shown = "%.0f" % lift if abs(lift - round(lift)) < 0.05 else "%.1f" % lift
    assert "%s %s times as often" % (offers[0]["name"], shown) in p["bio"], (c, shown, p["bio"])
    assert any(e["written"] == shown for e in p["evidence"]), c  # grounded: the checker found the figure
assert n > 0, "no segment has an offer"
print("%d segments with offers" % n)
PY
# An older customers.h5 (no /customers/items): the stage is skipped with a line, the run succeeds.
$PY - "$TMP/c.h5" "$TMP/old.h5" <<'PY'
import shutil, sys, h5py
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "a") as f:
    del f["/customers/items"]
PY
write_job "$TMP/j3.json" "$TMP/old.h5" "$TMP/o3" 4 '"persona": {"provider": "offline"}'
tribe_np 1 run "$TMP/j3.json" >/dev/null 2>"$TMP/r3.err" && ok "run on a customers.h5 without items" || { fail "run old"; cat "$TMP/r3.err"; }
check "the log says why there are no offers" grep -q 'has no /customers/items' "$TMP/r3.err"
check "no /segments/offers in its results.h5" bash -c "! h5ls '$TMP/o3/results.h5/segments' | grep -q offers"
write_job "$TMP/j4.json" "$TMP/c.h5" "$TMP/o4" 4 '"offers": {"top": 11}'
expect 2 "offers.top" -- tribe_np 1 run "$TMP/j4.json"
# A damaged item list: an item code past the item table, counts that do not add up, a negative count
# (the last customer's, so on 2 ranks rank 1 finds it): exit 3 naming it.
$PY - "$TMP/c.h5" "$TMP/bad1.h5" "$TMP/bad2.h5" "$TMP/bad3.h5" <<'PY'
import shutil, sys, h5py
for path, what in ((sys.argv[2], "item"), (sys.argv[3], "count"), (sys.argv[4], "negative")):
    shutil.copy(sys.argv[1], path)
    with h5py.File(path, "a") as f:
        ds = f["/customers/items/" + ("count" if what == "negative" else what)]
        if what == "negative":
            ds[-1] = -1
        else:
            ds[0] = 99999 if what == "item" else ds[0] + 1
PY
write_job "$TMP/j5.json" "$TMP/bad1.h5" "$TMP/o5" 4
expect 3 "customers/items/item holds 99999, outside the" -- tribe_np 1 run "$TMP/j5.json"
write_job "$TMP/j6.json" "$TMP/bad2.h5" "$TMP/o6" 4
expect 3 "customers/items/count adds up to" -- tribe_np 2 run "$TMP/j6.json"
write_job "$TMP/j7.json" "$TMP/bad3.h5" "$TMP/o7" 4
expect 3 "bad3.h5: /customers/items/count holds a negative count" -- "$TRIBE_BIN" run "$TMP/j7.json"
expect 3 "bad3.h5: /customers/items/count holds a negative count" -- tribe_np 2 run "$TMP/j7.json"
finish
