#!/usr/bin/env bash
# tribe serve follows its output directory: a new run is served within seconds (watching the
# latest pointer) or on SIGHUP; old page cursors are 410 cursor-expired; a damaged run or a latest
# pointer to a directory without results.h5 at reload keeps the previous run served (logged,
# counted as failed); a missing or damaged run at start exits 3 or 4 naming it; and under load at
# 4 connections, reloads fail no request and every answer is consistent with the run it names.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
SC="$PY -m serve_client"

serve_data c1 2000 5
serve_data c2 2400 6
O=$TMP/out
publish() { # publish RUN_ID INPUT: a run of INPUT into the history $O
  serve_job "$TMP/$1.json" "$2" "$O" "$1" '"drivers": {"enabled": false}'
  tribe_np 2 run "$TMP/$1.json" >"$TMP/$1.log" 2>&1 || { fail "tribe run $1"; tail -5 "$TMP/$1.log"; }
}
# point_latest DIR: repoints $O/latest atomically (as tribe run does)
point_latest() { ln -sfn "$1" "$O/latest.tmp" && mv -T "$O/latest.tmp" "$O/latest"; }
failed_reloads() { $SC metric "$1" "$RD" 'tribe_reloads_total{result="failed"}'; }

publish r1 "$TMP/c1.h5"
serve_start w "$O" --watch 1 --rate-limit 0 || { finish; exit 1; }
serve_start h "$O" --watch 0 || { finish; exit 1; }
check "both servers serve r1" test "$($SC current "$SERVE_URL_w" "$RD") $($SC current "$SERVE_URL_h" "$RD")" = "r1 r1"
# a second page's cursor of every segment of r1
$PY - "$SERVE_URL_w" "$RD" >"$TMP/cursors.json" <<'PY'
import json, sys
from serve_client import Api
api = Api(sys.argv[1], sys.argv[2])
print(json.dumps({s["id"]: api.json("/v1/segments/%s/customers?limit=10" % s["id"])["next_cursor"]
                  for s in api.json("/v1/segments")["segments"]}))
PY

# ---- a new run: watched, and on SIGHUP -------------------------------------------------------------
publish r2 "$TMP/c2.h5"
check "the watching server serves r2 within 10 s of its publication" $SC wait "$SERVE_URL_w" "$RD" r2 10
N2=$($PY -c "import h5py, sys; print(len(h5py.File(sys.argv[1])['/segments/id']))" "$O/runs/r2/results.h5")
check "the log says so" grep -q "serve: now serving run r2 ($N2 customers, 4 segments" "$TMP/w.log"
sleep 1.5
check "a server started with --watch 0 still serves r1" test "$($SC current "$SERVE_URL_h" "$RD")" = r1
kill -HUP "$SERVE_PID_h"
check "SIGHUP makes it serve r2 within 10 s" $SC wait "$SERVE_URL_h" "$RD" r2 10
pycheck "after the reload" "$SERVE_URL_w" "$RD" "$O" "$TMP/cursors.json" <<'PY'
import json, random
from serve_client import Api, Run, main, problem, metric

def run(c, argv):
    url, tok, out, cursors = argv
    api, r1, r2 = Api(url, tok), Run(out + "/runs/r1/results.h5"), Run(out + "/runs/r2/results.h5")
    cursors = json.load(open(cursors))
    # r1's cursors on r2's segments (those that kept their id, else any: a cursor names a run, not a segment)
    both = [s for s in cursors if int(s) in set(int(v) for v in r2.seg_id)]
    pairs = [(s, cursors[s]) for s in both] or [(str(int(v)), c_) for v, c_ in zip(r2.seg_id, cursors.values())]
    seg, cursor = pairs[0]
    with c.case("a page cursor of r1 is 410 cursor-expired once r2 is served"):
        p = problem(api.get("/v1/segments/%s/customers?limit=10&cursor=%s" % (seg, cursor)), 410, "cursor-expired")
        assert "r2" in p["detail"], p
        for s, cur in pairs[1:]:
            problem(api.get("/v1/segments/%s/customers?limit=10&cursor=%s" % (s, cur)), 410, "cursor-expired")
    with c.case("segments of r1 that r2 does not have are 404 not-found"):
        for s in set(cursors) - set(both):
            problem(api.get("/v1/segments/%s/customers?limit=10&cursor=%s" % (s, cursors[s])), 404, "not-found")
    with c.case("paging again from the start walks r2's customers"):
        want = sorted(int(v) for v in r2.ids[r2.seg_id[r2.label] == int(seg)])
        got, cur = [], None
        while True:
            page = api.json("/v1/segments/%s/customers?limit=500%s" % (seg, "&cursor=" + cur if cur else ""))
            got += [int(x["customer_id"]) for x in page["customers"]]
            cur = page["next_cursor"]
            if not cur:
                break
        assert got == want, (len(got), len(want))
    with c.case("customers are answered from r2 (its new customers too; r1-only customers are 404)"):
        new = sorted(set(r2.row) - set(r1.row))
        assert new, "c2 has no new customers"
        for cid in random.Random(1).sample(sorted(r2.row), 40) + new[:10]:
            d = api.json("/v1/customers/%d" % cid)
            assert d["run"]["id"] == "r2" and (d["segment"]["id"], d["segment"]["name"]) == r2.segment_of(cid), (cid, d)
        for cid in sorted(set(r1.row) - set(r2.row))[:5]:
            problem(api.get("/v1/customers/%d" % cid), 404, "not-found")
    with c.case("GET /v1/runs: r2 (current, with its transitions) then r1"):
        runs = api.json("/v1/runs")["runs"]
        assert [(x["id"], x["current"]) for x in runs] == [("r2", True), ("r1", False)], runs
        assert runs[0]["changes"] and runs[0]["changes"]["transitions"], runs[0]
        assert runs[1]["changes"] is None, runs[1]
    with c.case("/readyz, /v1/runs/current and the metrics name r2; one reload, none failed"):
        assert Api(url).json("/readyz")["run"]["id"] == "r2"
        cur = api.json("/v1/runs/current")
        assert cur["run"]["id"] == "r2" and cur["run"]["customers"] == len(r2.ids) and cur["changes"], cur["run"]
        assert metric(api, 'tribe_run_loaded{run_id="r2"}') == 1 and metric(api, "tribe_run_customers") == len(r2.ids)
        assert metric(api, 'tribe_reloads_total{result="ok"}') == 1
        assert metric(api, 'tribe_reloads_total{result="failed"}') == 0

main(run)
PY

# ---- a damaged run at reload: the previous one stays served ---------------------------------------
cp -a "$O/runs/r2" "$O/runs/bad"
truncate -s 20000 "$O/runs/bad/results.h5"
point_latest runs/bad
check "watching: a truncated results.h5 is a failed reload within 10 s" $SC wait-metric "$SERVE_URL_w" "$RD" 'tribe_reloads_total{result="failed"}' 1 10
check "the failure is logged, naming the file" grep -q "serve: reload failed, still serving the previous run: .*runs/bad/results.h5" "$TMP/w.log"
check "r2 is still served" test "$($SC current "$SERVE_URL_w" "$RD")" = r2
check "/readyz stays 200" curl -fsS -o /dev/null "$SERVE_URL_w/readyz"
sleep 2
check "the damaged run is not retried at every check (still one failure)" test "$(failed_reloads "$SERVE_URL_w")" = 1.0
kill -HUP "$SERVE_PID_h"
check "SIGHUP: the damaged run is a failed reload too" $SC wait-metric "$SERVE_URL_h" "$RD" 'tribe_reloads_total{result="failed"}' 1 10
check "and r2 stays served" test "$($SC current "$SERVE_URL_h" "$RD")" = r2

# latest pointing at a directory without results.h5 (the top-level results.h5 is still r2's copy)
mkdir -p "$O/runs/empty"
point_latest runs/empty
check "watching: latest naming a directory without results.h5 is a failed reload" $SC wait-metric "$SERVE_URL_w" "$RD" 'tribe_reloads_total{result="failed"}' 2 10
check "it is logged, naming the directory" grep -q "runs/empty" "$TMP/w.log"
check "r2 is still served" test "$($SC current "$SERVE_URL_w" "$RD")" = r2
kill -HUP "$SERVE_PID_h"
check "SIGHUP: latest naming a directory without results.h5 is a failed reload too" $SC wait-metric "$SERVE_URL_h" "$RD" 'tribe_reloads_total{result="failed"}' 2 10
check "/readyz stays 200" curl -fsS -o /dev/null "$SERVE_URL_h/readyz"
point_latest runs/r2
rm -rf "$O/runs/bad" "$O/runs/empty"
sleep 1.5

# ---- a missing or damaged run at start -----------------------------------------------------------
expect 4 "'$TMP/nope': no such file or directory" -- "$SERVE_BIN" serve "$TMP/nope" --tokens "$TMP/tokens" --port 0
expect 3 "raw_c1.*without results.h5" -- "$SERVE_BIN" serve "$TMP/raw_c1" --tokens "$TMP/tokens" --port 0
mkdir -p "$TMP/damaged"
head -c 20000 "$O/runs/r2/results.h5" >"$TMP/damaged/results.h5"
rc=0
"$SERVE_BIN" serve "$TMP/damaged" --tokens "$TMP/tokens" --port 0 --ready-file "$TMP/damaged.ready" 2>"$TMP/damaged.err" || rc=$?
check "a truncated results.h5 at start exits 3 or 4 ($rc) naming it, never listening" \
  test \( $rc -eq 3 -o $rc -eq 4 \) -a ! -e "$TMP/damaged.ready"
check "the message names the damaged file" grep -q "damaged/results.h5" "$TMP/damaged.err"
echo "not hdf5" >"$TMP/damaged/results.h5"
expect 3 "damaged/results.h5: not an HDF5 file" -- "$SERVE_BIN" serve "$TMP/damaged" --tokens "$TMP/tokens" --port 0
mkdir -p "$TMP/hollow/runs/r9"
ln -s runs/r9 "$TMP/hollow/latest"
cp "$O/runs/r2/results.h5" "$TMP/hollow/results.h5"
expect 3 "latest" -- "$SERVE_BIN" serve "$TMP/hollow" --tokens "$TMP/tokens" --port 0

# ---- reloads under load --------------------------------------------------------------------------
$PY - "$TMP/c1.h5" "$TMP/c2.h5" >"$TMP/ids.txt" <<'PY'
import sys, h5py
ids = set()
for p in sys.argv[1:]:
    ids |= set(int(v) for v in h5py.File(p)["/customers/id"][:])
print("\n".join(str(v) for v in sorted(ids) + [max(ids) + 1, max(ids) + 2]))
PY
rm -f "$TMP/stop"
$SC load "$SERVE_URL_w" "$RD" "$O" "$TMP/stop" 4 "$TMP/ids.txt" >"$TMP/load.out" 2>"$TMP/load.err" &
LOAD=$!
sleep 1
n=0
for spec in r3:c1 r4:c2 r5:c1; do
  publish "${spec%%:*}" "$TMP/${spec##*:}.h5"
  $SC wait "$SERVE_URL_w" "$RD" "${spec%%:*}" 20 && n=$((n + 1))
  kill -HUP "$SERVE_PID_w" # a forced reload of the same run is a swap too
  sleep 1
done
touch "$TMP/stop"
rc=0
wait $LOAD || rc=$?
check "the server followed 3 runs published under load" test $n -eq 3
cat "$TMP/load.out"
PASSES=$((PASSES + $(grep -c '^ok - ' "$TMP/load.out" || true)))
FAILS=$((FAILS + $(grep -c '^FAIL - ' "$TMP/load.out" || true)))
[[ $rc -eq 0 ]] || { fail "the load client exited $rc"; tail -10 "$TMP/load.err"; }
check "six reloads under load (3 runs, 3 SIGHUPs), none failed" \
  test "$($SC metric "$SERVE_URL_w" "$RD" 'tribe_reloads_total{result="ok"}') $(failed_reloads "$SERVE_URL_w")" = "7.0 2.0"

serve_stop w
serve_stop h
finish
