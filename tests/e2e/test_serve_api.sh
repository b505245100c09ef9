#!/usr/bin/env bash
# tribe serve's API v1 (docs/api.md) against a real server on loopback: every read endpoint
# compared with the run's own files (results.h5, tribe export's CSV, tribe explain), paging, the
# metrics, every documented problem type (400/401/403/404/405/413/429), path traversal and huge
# paths, ids that overflow int64, dashboard sessions with their cookie and CSRF token.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"

serve_data c1 2000 5
serve_job "$TMP/job.json" "$TMP/c1.h5" "$TMP/out" r1 '"drivers": {"n_rounds": 10, "sample_size": 0}'
tribe_np 2 run "$TMP/job.json" >"$TMP/run.log" 2>&1 || { fail "tribe run"; tail -5 "$TMP/run.log"; finish; exit 1; }
R=$TMP/out/results.h5
tribe_np 1 export "$R" --csv "$TMP/export.csv" >/dev/null 2>"$TMP/export.log" || fail "tribe export"
# tribe explain's top 3 drivers of a few customers (rows 0, 7, 500 and the last)
for row in 0 7 500 -1; do
  id=$($PY -c "import h5py, sys; print(h5py.File(sys.argv[1])['/segments/id'][$row])" "$R")
  "$TRIBE_BIN" explain "$R" --customer "$id" --top 3 >"$TMP/explain_$id.txt" 2>&1 || fail "tribe explain $id"
done

serve_start api "$TMP/out" --max-body 65536 --watch 0 --write-rate-limit 0 || { finish; exit 1; }
N=$($PY -c "import h5py, sys; print(len(h5py.File(sys.argv[1])['/segments/id']))" "$R")
check "the log names the loaded run" grep -q "serve: loaded run r1 ($N customers, 4 segments)" "$TMP/api.log"

# ---- customers ---------------------------------------------------------------------------------
pycheck "customers" "$SERVE_URL_api" "$RD" "$R" "$TMP/export.csv" "$TMP/out/personas.json" "$TMP" <<'PY'
import csv, glob, json, math, re, random
import numpy as np
from serve_client import Api, Run, main, problem

def run(c, argv):
    url, tok, res, export, personas, tmp = argv
    api, r = Api(url, tok), Run(res)
    rows = {int(x["customer_id"]): x for x in csv.DictReader(open(export))}
    head = list(next(iter(rows.values())))
    feats = head[1:head.index("segment_id")]  # the customer's columns; the run's outputs follow segment_name
    def number(v):
        try:
            return v == "" or float(v) == float(v) or True
        except ValueError:
            return False
    numeric = [f for f in feats if all(number(x[f]) for x in rows.values())]
    assert 5 < len(numeric) < len(feats), (numeric, feats)
    pname = {int(p["segment_id"]): p["name"] for p in json.load(open(personas))}
    rng = random.Random(3)
    sample = sorted(set([0, len(r.ids) - 1] + rng.sample(range(len(r.ids)), 60)))
    docs = {}
    with c.case("GET /v1/customers/{id} for %d customers: 200, the id as a string, the run named" % len(sample)):
        for i in sample:
            cid = int(r.ids[i])
            resp = api.get("/v1/customers/%d" % cid)
            assert resp.status == 200, (cid, resp)
            assert resp.header("content-type").startswith("application/json"), resp.headers
            d = docs[cid] = resp.json()
            assert d["customer_id"] == str(cid), d
            assert d["run"]["id"] == r.run_id and d["run"]["created"], d["run"]
    with c.case("segment id and name are /segments/segment_id and names at /segments/label; the persona is personas.json's"):
        for cid, d in docs.items():
            sid, name = r.segment_of(cid)
            assert d["segment"] == {"id": sid, "name": name}, (cid, d["segment"], sid, name)
            assert d["persona"] == {"name": pname[int(sid)]}, (cid, d["persona"])
    with c.case("export's segment_id and segment_name agree with the server"):
        for cid, d in docs.items():
            assert rows[cid]["segment_id"] == d["segment"]["id"] and rows[cid]["segment_name"] == d["segment"]["name"]
    with c.case("membership: /segments/membership above 0.01, largest first (4 significant digits); distance, outlier flag and score"):
        assert r.memb is not None and r.outlier is not None and r.oscore is not None
        for cid, d in docs.items():
            i = r.row[cid]
            p = r.memb[i]
            want = sorted([(float(p[c_]), int(r.seg_id[c_])) for c_ in range(r.k) if p[c_] > 0.01], key=lambda t: -t[0])
            got = [(m["p"], int(m["segment_id"])) for m in d["membership"]]
            assert [g[1] for g in got] == [w[1] for w in want], (cid, got, want)
            assert all(abs(g[0] - w[0]) <= 5e-4 * w[0] for g, w in zip(got, want)), (cid, got, want)
            assert all(isinstance(m["segment_id"], str) for m in d["membership"])
            assert math.isclose(d["distance"], float(r.dist[i]), rel_tol=1e-5), (cid, d["distance"], r.dist[i])
            assert d["outlier"]["flag"] == bool(r.outlier[i]), (cid, d["outlier"])
            assert math.isclose(d["outlier"]["score"], float(r.oscore[i]), rel_tol=1e-3, abs_tol=1e-4), (cid, d["outlier"])
    with c.case("predicted_value is /segments/ltv, churn_risk /segments/churn_risk (null without the models)"):
        for cid, d in docs.items():
            if r.ltv is None:
                assert d["predicted_value"] is None, d["predicted_value"]
            else:
                assert math.isclose(d["predicted_value"]["amount"], float(r.ltv[r.row[cid]]), abs_tol=0.006)
            if r.churn is None:
                assert d["churn_risk"] is None, d["churn_risk"]
            else:
                assert math.isclose(d["churn_risk"], float(r.churn[r.row[cid]]), rel_tol=1e-5), (cid, d["churn_risk"])
    with c.case("features equal tribe export's values (float32, missing = null)"):
        for cid, d in docs.items():
            assert sorted(d["features"]) == sorted(numeric), (sorted(d["features"]), numeric)
            for f, v in d["features"].items():
                want = rows[cid][f]
                if want == "":
                    assert v is None, (cid, f, v)
                else:
                    assert np.float32(v) == np.float32(float(want)), (cid, f, v, want)
    with c.case("drivers equal tribe explain's top 3 contributions (feature, value, SHAP)"):
        files = glob.glob(tmp + "/explain_*.txt")
        assert len(files) == 4, files
        for fn in files:
            cid = int(re.search(r"explain_(\d+)", fn).group(1))
            lines = open(fn).read().splitlines()
            at = next(i for i, l in enumerate(lines) if re.match(r"^  feature +value +contribution$", l))
            want = [l.split() for l in lines[at + 1:at + 4]]
            got = api.json("/v1/customers/%d" % cid)["drivers"]
            assert [g["feature"] for g in got] == [w[0] for w in want], (cid, got, want)
            for g, w in zip(got, want):
                # the server prints 6 significant digits, explain 6 decimals
                assert abs(g["shap"] - float(w[2])) <= 5e-6 * max(1, abs(g["shap"])) + 5e-7, (cid, g, w)
                assert math.isclose(g["value"], float(w[1]), rel_tol=1e-3), (cid, g, w)
    with c.case("every customer of the run (keep-alive) answers valid JSON with its own segment"):
        keep = Api(url, tok, keep=True)
        for i, v in enumerate(r.ids):
            resp = keep.get("/v1/customers/%d" % v)
            assert resp.status == 200, (int(v), resp)
            try:
                d = json.loads(resp.body)
            except ValueError as e:
                raise AssertionError("customer %d: %s: %r" % (v, e, resp.body[max(0, e.pos - 80):e.pos + 40]))
            assert (d["segment"]["id"], d["segment"]["name"]) == r.segment_of(int(v)), (int(v), d["segment"])
    cid = int(r.ids[7])
    with c.case("the float form %d.0 (and .000) of an id gives the same customer" % cid):
        a = api.get("/v1/customers/%d" % cid).body
        assert api.get("/v1/customers/%d.0" % cid).body == a
        assert api.get("/v1/customers/%d.000" % cid).body == a
    with c.case("an unknown id is 404 not-found; a malformed one 400 bad-request"):
        unknown = int(r.ids.max()) + 1
        problem(api.get("/v1/customers/%d" % unknown), 404, "not-found")
        problem(api.get("/v1/customers/0"), 404, "not-found")
        for bad in ["abc", "12.5", "1e3", "0x10", "%20", "", "12a", "--1", "1.0.0", "%20" + str(cid), "%20+" + str(cid),
                    "+" + str(cid), "%09" + str(cid), str(cid) + ".", str(cid) + "%20", "-%20" + str(cid)]:
            problem(api.get("/v1/customers/" + bad), 400, "bad-request")
    with c.case("ids that overflow int64 are 400, the largest int64 an unknown id (404)"):
        for bad in ["9223372036854775808", "-9223372036854775809", "99999999999999999999999999", "1" * 40]:
            problem(api.get("/v1/customers/" + bad), 400, "bad-request")
        problem(api.get("/v1/customers/9223372036854775807"), 404, "not-found")

main(run)
PY

# ---- batch -------------------------------------------------------------------------------------
pycheck "batch" "$SERVE_URL_api" "$RD" "$R" <<'PY'
from serve_client import Api, Run, main, problem

def run(c, argv):
    url, tok, res = argv
    api, r = Api(url, tok), Run(res)
    ids = [int(x) for x in r.ids]
    unknown = max(ids) + 10
    with c.case("POST /v1/customers:batch: partial results in request order, unknown ids in not_found"):
        body = {"ids": [str(ids[5]), unknown, ids[0], "%d.0" % ids[9], "nope", str(ids[3]), str(unknown + 1)]}
        d = api.post("/v1/customers:batch", body).json()
        assert [x["customer_id"] for x in d["customers"]] == [str(i) for i in (ids[5], ids[0], ids[9], ids[3])], d
        assert d["not_found"] == [str(unknown), "nope", str(unknown + 1)], d["not_found"]
        assert d["run"]["id"] == r.run_id
        for x in d["customers"]:
            assert x == api.json("/v1/customers/" + x["customer_id"]), x["customer_id"]
    with c.case("a batch of 1000 ids is answered in full"):
        d = api.post("/v1/customers:batch", {"ids": [str(i) for i in ids[:1000]]}).json()
        assert [x["customer_id"] for x in d["customers"]] == [str(i) for i in ids[:1000]] and d["not_found"] == []
        for x in d["customers"][::97]:
            assert (x["segment"]["id"], x["segment"]["name"]) == r.segment_of(int(x["customer_id"]))
    with c.case("fields: a sparse customer object, the same values as the full one"):
        full = api.json("/v1/customers/%d" % ids[7])
        for fl in (["segment"], ["segment", "predicted_value"], ["drivers", "run"], ["features", "membership", "outlier"]):
            got = api.json("/v1/customers/%d?fields=%s" % (ids[7], ",".join(fl)))
            assert got == {k: full[k] for k in ["customer_id"] + fl}, (fl, got)
        d = api.post("/v1/customers:batch", {"ids": [str(i) for i in ids[:50]], "fields": ["segment"]}).json()
        assert all(set(x) == {"customer_id", "segment"} for x in d["customers"]) and len(d["customers"]) == 50
        for x in d["customers"][::7]:
            assert (x["segment"]["id"], x["segment"]["name"]) == r.segment_of(int(x["customer_id"]))
    with c.case("fields: an unknown name, an empty name or a non-array is 400 bad-request"):
        for q in ("segment,bogus", "", "segment,,run"):
            problem(api.get("/v1/customers/%d?fields=%s" % (ids[7], q)), 400, "bad-request")
        for fl in ("segment", ["bogus"], [1]):
            problem(api.post("/v1/customers:batch", {"ids": [str(ids[0])], "fields": fl}), 400, "bad-request")
    with c.case("a batch of 1001 ids is 413 too-large"):
        problem(api.post("/v1/customers:batch", {"ids": [str(i) for i in ids[:1001]]}), 413, "too-large")
    with c.case("an empty batch gives empty lists"):
        d = api.post("/v1/customers:batch", {"ids": []}).json()
        assert d["customers"] == [] and d["not_found"] == [], d
    with c.case("batch ids overflowing int64 (string or number) are not found, not an error"):
        d = api.post("/v1/customers:batch", '{"ids": ["9223372036854775808", 1e300, 9223372036854775808, -1]}').json()
        assert d["customers"] == [] and len(d["not_found"]) == 4, d
    with c.case("malformed batch bodies are 400 bad-request"):
        for bad in ['{"ids": [1, 2', "not json", "", '{"ids": "12347"}', '{"ids": [{"id": 1}]}', "[1, 2]",
                    '{"ids": [true]}', '{"ids": [null]}', '{"id": [1]}']:
            problem(api.post("/v1/customers:batch", bad, headers={"Content-Type": "application/json"}), 400, "bad-request")
    with c.case("a body over --max-body (64 KiB here) is 413 too-large"):
        big = '{"ids": [' + ",".join(['"%d"' % ids[0]] * 9000) + "]}"
        assert len(big) > 65536
        problem(api.post("/v1/customers:batch", big), 413, "too-large")
        problem(api.post("/v1/customers:batch", "x" * (3 << 20)), 413, "too-large")
    with c.case("GET /v1/customers:batch is 405 method-not-allowed"):
        problem(api.get("/v1/customers:batch"), 405, "method-not-allowed")

main(run)
PY

# ---- segments, paging, runs --------------------------------------------------------------------
pycheck "segments" "$SERVE_URL_api" "$RD" "$R" "$TMP/c1.h5" <<'PY'
import math
import h5py
import numpy as np
from serve_client import Api, Run, main, problem, strs

def run(c, argv):
    url, tok, res, cust = argv
    api, r = Api(url, tok), Run(res)
    with h5py.File(cust) as f:
        x = f["/customers/features"][:]
        fnames = strs(f["/customers/features"].attrs["feature_names"])
    n = len(r.ids)
    segs = api.json("/v1/segments")
    with c.case("GET /v1/segments: every segment, ids and names of results.h5, sizes the label counts (sum n)"):
        assert segs["run"]["id"] == r.run_id and segs["k"] == r.k
        got = {s["id"]: s for s in segs["segments"]}
        assert sorted(got) == sorted(str(int(v)) for v in r.seg_id), got.keys()
        for c_ in range(r.k):
            s = got[str(int(r.seg_id[c_]))]
            assert s["name"] == r.names[c_] and s["size"] == int((r.label == c_).sum()), (s, c_)
            assert math.isclose(s["share"], s["size"] / n, rel_tol=1e-9), s
        assert sum(s["size"] for s in segs["segments"]) == n
    for c_ in range(r.k):
        sid = str(int(r.seg_id[c_]))
        d = api.json("/v1/segments/" + sid)
        members = r.label == c_
        with c.case("GET /v1/segments/%s: profile medians are /segments/median; histograms count the segment's non-missing values" % sid):
            assert d["segment"]["id"] == sid and d["run"]["id"] == r.run_id
            prof = {p["feature"]: p for p in d["profile"]}
            assert sorted(prof) == sorted(r.stat_names), (sorted(prof), r.stat_names)
            for j, f in enumerate(r.stat_names):
                want = float(r.median[c_, j])
                got = prof[f]["median"]
                assert (got is None and math.isnan(want)) or got == want, (f, got, want)
                h = prof[f]["histogram"]
                if f not in fnames:
                    continue
                col = x[:, fnames.index(f)]
                assert h is not None, f
                assert len(h["counts"]) == len(h["edges"]) - 1 == len(h["base_counts"]), f
                assert sum(h["counts"]) == int((members & ~np.isnan(col)).sum()), (f, sum(h["counts"]))
                assert sum(h["base_counts"]) == int((~np.isnan(col)).sum()), (f, sum(h["base_counts"]))
                assert all(a <= b for a, b in zip(h["counts"], h["base_counts"])), f
        with c.case("GET /v1/segments/%s: each feature's Cliff's delta against every other segment, from the data" % sid):
            for j, f in enumerate(r.stat_names):
                if f not in fnames:
                    continue
                col = x[:, fnames.index(f)]
                a = col[members & ~np.isnan(col)]
                for o in range(r.k):
                    b = np.sort(col[(r.label == o) & ~np.isnan(col)])
                    got = prof[f]["cliffs_delta"].get(str(int(r.seg_id[o])))
                    if o == c_ or not len(a) or not len(b):
                        assert got is None, (f, o, got)
                        continue
                    above = np.searchsorted(b, a, "left").sum()
                    below = (len(b) - np.searchsorted(b, a, "right")).sum()
                    want = (above - below) / (len(a) * len(b))
                    assert abs(got - want) <= 1e-12, (f, o, got, want)
        want = sorted(int(v) for v in r.ids[members])
        with c.case("GET /v1/segments/%s/customers: walking every page gives the segment's ids, ascending, once each" % sid):
            got, cursor, pages = [], None, 0
            while True:
                q = "/v1/segments/%s/customers?limit=37" % sid + ("&cursor=" + cursor if cursor else "")
                page = api.json(q)
                pages += 1
                assert len(page["customers"]) <= 37 and page["total"] == len(want), page.get("total")
                got += [int(p["customer_id"]) for p in page["customers"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
                assert len(page["customers"]) == 37 and pages < 1000
            assert got == want, (len(got), len(want))
            assert pages == max(1, -(-len(want) // 37)), pages
    sid = str(int(r.seg_id[0]))
    with c.case("page limits: default 100, 1 and 1000 accepted; 0, 1001, -1, abc 400 bad-request"):
        assert len(api.json("/v1/segments/%s/customers" % sid)["customers"]) == min(100, int((r.label == 0).sum()))
        assert len(api.json("/v1/segments/%s/customers?limit=1" % sid)["customers"]) == 1
        assert len(api.json("/v1/segments/%s/customers?limit=1000" % sid)["customers"]) == min(1000, int((r.label == 0).sum()))
        for bad in ["0", "1001", "-1", "abc", "", "1e2", "99999999999999999999"]:
            problem(api.get("/v1/segments/%s/customers?limit=%s" % (sid, bad)), 400, "bad-request")
    with c.case("a malformed cursor is 400 bad-request; a well-formed one of no served run 410 cursor-expired"):
        for bad in ["zzz", "abc.1", "0123456789abcdef", "0123456789abcdef.", "0123456789abcdef.-4", "0123456789abcdef.x"]:
            problem(api.get("/v1/segments/%s/customers?cursor=%s" % (sid, bad)), 400, "bad-request")
        cur = api.json("/v1/segments/%s/customers?limit=2" % sid)["next_cursor"]
        foreign = ("0" if cur[0] != "0" else "1") + cur[1:]
        problem(api.get("/v1/segments/%s/customers?cursor=%s" % (sid, foreign)), 410, "cursor-expired")
    with c.case("unknown segments are 404 not-found"):
        for bad in ["999", "-1", "abc", "9223372036854775808", str(int(r.seg_id.max()) + 1)]:
            problem(api.get("/v1/segments/" + bad), 404, "not-found")
            problem(api.get("/v1/segments/%s/customers" % bad), 404, "not-found")
        problem(api.get("/v1/segments/%s/nope" % sid), 404, "not-found")
    with c.case("GET /v1/runs: the history with run r1 current; /v1/runs/current names it with n and K"):
        runs = api.json("/v1/runs")["runs"]
        assert [x["id"] for x in runs] == [r.run_id] and runs[0]["current"] is True, runs
        assert runs[0]["customers"] == n and runs[0]["k"] == r.k, runs[0]
        cur = api.json("/v1/runs/current")
        assert cur["run"]["id"] == r.run_id and cur["run"]["customers"] == n and cur["run"]["k"] == r.k, cur["run"]
        pts = cur["projection"]["points"]
        assert 0 < len(pts) <= 3000 and all(p[2] in {str(int(v)) for v in r.seg_id} for p in pts)

main(run)
PY

# ---- health, metrics, openapi ----------------------------------------------------------------
pycheck "health and metrics" "$SERVE_URL_api" "$RD" "$R" <<'PY'
import json, re
from serve_client import Api, Run, main, problem

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)?\})? (\S+)$')

def scrape(api):
    r = api.get("/metrics")
    assert r.status == 200 and r.header("content-type").startswith("text/plain"), r
    vals, types = {}, {}
    for l in r.body.decode().splitlines():
        if l.startswith("# TYPE "):
            _, _, name, t = l.split(" ")
            types[name] = t
        elif l.startswith("#") or not l:
            continue
        else:
            m = LINE.match(l)
            assert m, "not Prometheus text: %r" % l
            name = m.group(1)
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            assert name in types or base in types, "no # TYPE before %r" % l
            vals[name + (m.group(2) or "")] = float(m.group(7))
    return vals

def run(c, argv):
    url, tok, res = argv
    api, anon, r = Api(url, tok), Api(url), Run(res)
    with c.case("/healthz answers without a token"):
        h = anon.get("/healthz")
        assert h.status == 200 and h.json() == {"status": "ok"}, h
    with c.case("/readyz is 200 and names the run, without a token"):
        h = anon.get("/readyz")
        assert h.status == 200 and h.json()["run"]["id"] == r.run_id and h.json()["run"]["customers"] == len(r.ids), h
    with c.case("/metrics needs a token"):
        problem(anon.get("/metrics"), 401, "unauthorized")
    with c.case("/metrics parses as Prometheus text; the served run, its size and K"):
        m = scrape(api)
        assert m['tribe_run_loaded{run_id="%s"}' % r.run_id] == 1
        assert m["tribe_run_customers"] == len(r.ids) and m["tribe_run_segments"] == r.k
        assert m['tribe_reloads_total{result="failed"}'] == 0
    with c.case("counters move: 5 look-ups and 2 not-found add 5 to customer 2xx and 2 to 4xx, 8 to the histogram"):
        a = scrape(api)
        for i in range(5):
            assert api.get("/v1/customers/%d" % r.ids[i]).status == 200
        for i in range(2):
            assert api.get("/v1/customers/%d" % (r.ids.max() + 1 + i)).status == 404
        b = scrape(api)
        k2, k4 = 'tribe_http_requests_total{route="customer",code="2xx"}', 'tribe_http_requests_total{route="customer",code="4xx"}'
        assert b[k2] - a.get(k2, 0) == 5 and b[k4] - a.get(k4, 0) == 2, (a.get(k2), b[k2], a.get(k4), b[k4])
        cnt = "tribe_http_request_duration_seconds_count"
        assert b[cnt] - a[cnt] == 8, (a[cnt], b[cnt])  # 7 look-ups and the first scrape
        inf = 'tribe_http_request_duration_seconds_bucket{le="+Inf"}'
        assert b[inf] == b[cnt] and b["tribe_http_request_duration_seconds_sum"] > 0
        buckets = sorted((float(k.split('"')[1]), v) for k, v in b.items() if "_bucket{" in k and "+Inf" not in k)
        assert all(x[1] <= y[1] for x, y in zip(buckets, buckets[1:])), "histogram buckets not cumulative"
    o = anon.get("/openapi.json")
    if o.status in (401, 404) and api.get("/openapi.json").status == 404:
        c.skip("/openapi.json", "not served yet (%d without a token, 404 with one)" % o.status)
    else:
        with c.case("/openapi.json is OpenAPI 3.1 JSON describing the v1 paths, without a token"):
            d = o.json()
            assert o.status == 200 and str(d.get("openapi", "")).startswith("3.1"), d.get("openapi")
            for p in ["/v1/customers/{id}", "/v1/customers:batch", "/v1/segments", "/v1/segments/{id}",
                      "/v1/segments/{id}/customers", "/v1/runs", "/v1/runs/current"]:
                assert p in d["paths"], p

main(run)
PY

# ---- errors: auth, methods, paths ------------------------------------------------------------
pycheck "errors" "$SERVE_URL_api" "$RD" "$WR" "$R" <<'PY'
from serve_client import Api, Run, main, problem

def run(c, argv):
    url, rd, wr, res = argv
    api, anon, r = Api(url, rd), Api(url), Run(res)
    cid = int(r.ids[3])
    with c.case("no token, an unknown token, another scheme: 401 unauthorized with WWW-Authenticate"):
        for tok, hdr in [(None, {}), ("wrong-token-0123456789abcdef", {}), (rd + "x", {}), (rd[:-1], {}),
                         (rd.upper(), {}), (None, {"Authorization": "Basic " + rd}), (None, {"Authorization": rd}),
                         ("", {})]:
            p = problem(anon.get("/v1/customers/%d" % cid, token=tok, headers=hdr), 401, "unauthorized")
        assert "Bearer" in anon.get("/v1/segments").header("www-authenticate")
    with c.case("both tokens read; the write token reads too"):
        assert api.get("/v1/customers/%d" % cid).status == 200
        assert api.get("/v1/customers/%d" % cid, token=wr).status == 200
    with c.case("unknown paths are 404 not-found (with a token), 401 without"):
        for p in ["/v1/nope", "/v2/customers/1", "/nope", "/v1", "/v1/customers", "/v1/segments/", "/v1/runs/old"]:
            problem(api.get(p), 404, "not-found")
        problem(anon.get("/v1/nope"), 401, "unauthorized")
    with c.case("methods the API does not use are 405 method-not-allowed"):
        for m in ["DELETE", "PUT", "PATCH", "OPTIONS"]:
            problem(api.req(m, "/v1/customers/%d" % cid), 405, "method-not-allowed")
    with c.case("path traversal never reaches a file: /assets/../../etc/passwd, %2e%2e, //etc/passwd ... are 404"):
        for p in ["/assets/../../etc/passwd", "/assets/%2e%2e/%2e%2e/etc/passwd", "/assets/..%2f..%2fetc%2fpasswd",
                  "//etc/passwd", "/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/assets//etc/passwd",
                  "/etc/passwd", "/assets/%252e%252e/etc/passwd", "/assets/....//....//etc/passwd",
                  "/v1/../../etc/passwd", "/assets/..\\..\\etc\\passwd", "/./assets/../etc/passwd"]:
            for who in (api, anon):
                resp = who.get(p)
                assert b"root:" not in resp.body, p
                if who is api:
                    problem(resp, 404, "not-found")
                else:
                    assert resp.status in (401, 404), (p, resp)
    with c.case("a 3000-byte path is 400 bad-request; a 200 KB one is refused (4xx) and the server lives on"):
        problem(api.get("/v1/customers/" + "1" * 3000), 400, "bad-request")
        problem(api.get("/v1/segments/" + "a" * 3000), 400, "bad-request")
        resp = api.get("/v1/customers/" + "9" * 200000)
        assert 400 <= resp.status < 500, resp
        assert api.get("/healthz").status == 200
    for path in ["/v1/campaigns", "/v1/campaigns:preview", "/v1/segments/%d/persona:refine" % int(r.seg_id[0]),
                 "/v1/segments/%d/persona/versions" % int(r.seg_id[0])]:
        resp = api.post(path, {"segment_id": str(int(r.seg_id[0])), "channel": "email"})
        if resp.status == 404:
            c.skip("a read token on POST " + path + " is 403 forbidden", "the route does not exist yet (404)")
            continue
        with c.case("a read token on POST %s is 403 forbidden" % path):
            problem(resp, 403, "forbidden")

main(run)
PY

# ---- sessions ------------------------------------------------------------------------------------
pycheck "sessions" "$SERVE_URL_api" "$RD" "$WR" "$R" <<'PY'
import re
from serve_client import Api, Run, main, problem

def run(c, argv):
    url, rd, wr, res = argv
    anon, r = Api(url), Run(res)
    cid = int(r.ids[11])
    with c.case("POST /v1/session with a token: 201, an HttpOnly SameSite=Strict cookie and a CSRF token"):
        s = anon.post("/v1/session", {"token": rd})
        assert s.status == 201, s
        ck = s.header("set-cookie")
        parts = [p.strip() for p in ck.split(";")]
        assert re.fullmatch(r"tribe_session=[0-9a-f]{64}", parts[0]), ck
        assert "HttpOnly" in parts and "SameSite=Strict" in parts and "Path=/" in parts, ck
        d = s.json()
        assert d["role"] == "read" and re.fullmatch(r"[0-9a-f]{64}", d["csrf"]), d
        cookie, csrf = {"Cookie": parts[0]}, d["csrf"]
        assert rd not in s.body.decode() and rd not in ck
    with c.case("GET with the cookie works; GET /v1/session gives the role and CSRF token back"):
        assert anon.get("/v1/customers/%d" % cid, headers=cookie).status == 200
        g = anon.get("/v1/session", headers=cookie)
        assert g.status == 200 and g.json() == {"role": "read", "csrf": csrf}, g
    batch = {"ids": [str(cid)]}
    with c.case("a POST with the cookie and no X-CSRF-Token, or a wrong one, is 403 forbidden"):
        problem(anon.post("/v1/customers:batch", batch, headers=cookie), 403, "forbidden")
        problem(anon.post("/v1/customers:batch", batch, headers=dict(cookie, **{"X-CSRF-Token": "0" * 64})), 403, "forbidden")
        problem(anon.post("/v1/customers:batch", batch, headers=dict(cookie, **{"X-CSRF-Token": csrf[:-1]})), 403, "forbidden")
    with c.case("a POST with the cookie and its X-CSRF-Token passes"):
        ok = anon.post("/v1/customers:batch", batch, headers=dict(cookie, **{"X-CSRF-Token": csrf}))
        assert ok.status == 200 and ok.json()["customers"][0]["customer_id"] == str(cid), ok
    with c.case("with the CSRF token but a foreign Origin: 403 forbidden; the server's own Origin passes"):
        h = dict(cookie, **{"X-CSRF-Token": csrf})
        problem(anon.post("/v1/customers:batch", batch, headers=dict(h, Origin="http://evil.example")), 403, "forbidden")
        own = "http://%s:%d" % (anon.host, anon.port)
        assert anon.post("/v1/customers:batch", batch, headers=dict(h, Origin=own)).status == 200
    with c.case("an unknown or malformed session cookie is 401 unauthorized"):
        real = cookie["Cookie"].split("=")[1]
        altered = real[:-1] + ("1" if real[-1] == "0" else "0")  # one hex digit changed (never the same value)
        for v in ["0" * 64, "abc", "", altered]:
            problem(anon.get("/v1/segments", headers={"Cookie": "tribe_session=" + v}), 401, "unauthorized")
    with c.case("a session needs a known token (401) in a JSON body (400)"):
        problem(anon.post("/v1/session", {"token": "wrong-token-0123456789abcdef"}), 401, "unauthorized")
        problem(anon.post("/v1/session", "{not json"), 400, "bad-request")
        problem(anon.post("/v1/session", {"token": 5}), 400, "bad-request")
    with c.case("a write token makes a write session"):
        s = anon.post("/v1/session", {"token": wr})
        assert s.status == 201 and s.json()["role"] == "write", s
        wcookie, wcsrf = {"Cookie": s.header("set-cookie").split(";")[0]}, s.json()["csrf"]
    sid = str(int(r.seg_id[0]))
    for path in ["/v1/campaigns", "/v1/segments/%s/persona:refine" % sid]:
        body = {"segment_id": sid, "channel": "email"}
        with c.case("POST %s with a write session cookie and no X-CSRF-Token is 403 forbidden" % path):
            problem(anon.post(path, body, headers=wcookie), 403, "forbidden")
        resp = anon.post(path, body, headers=dict(cookie, **{"X-CSRF-Token": csrf}))
        if resp.status == 404:
            c.skip("POST %s with a read session (and its CSRF token) is 403" % path, "the route does not exist yet (404)")
        else:
            with c.case("POST %s with a read session (and its CSRF token) is 403 forbidden" % path):
                problem(resp, 403, "forbidden")

main(run)
PY
serve_stop api

# ---- rate limit --------------------------------------------------------------------------------
serve_start rl "$TMP/out" --rate-limit 5 --burst 5 --watch 0 || { finish; exit 1; }
pycheck "rate limit" "$SERVE_URL_rl" "$RD" "$R" <<'PY'
import time
from serve_client import Api, Run, main, problem

def run(c, argv):
    url, rd, res = argv
    api, r = Api(url, rd, keep=True), Run(res)
    path = "/v1/customers/%d" % r.ids[0]
    with c.case("--rate-limit 5 --burst 5: 5 quick requests pass, then 429 rate-limited with Retry-After"):
        t0 = time.monotonic()
        got = [api.get(path) for _ in range(12)]
        took = time.monotonic() - t0
        codes = [g.status for g in got]
        assert took < 0.8, "12 requests took %.2f s: too slow to test a burst of 5" % took
        assert codes[:5] == [200] * 5, codes
        limited = [g for g in got if g.status == 429]
        assert 5 <= len(limited) <= 7, codes
        for g in limited:
            problem(g, 429, "rate-limited")
            assert int(g.header("retry-after")) >= 1, g.headers
    with c.case("health checks are never rate-limited"):
        assert all(api.get("/healthz").status == 200 for _ in range(10))
    with c.case("after Retry-After seconds the client is served again"):
        time.sleep(int(limited[-1].header("retry-after")))
        assert api.get(path).status == 200
    time.sleep(1.2)
    with c.case("requests with wrong tokens count against the limit too (no unlimited token guessing)"):
        codes = [api.get(path, token="guess-%020d" % i).status for i in range(12)]
        assert codes[:5] == [401] * 5 and 429 in codes, codes
    time.sleep(1.2)
    with c.case("sign-in attempts are rate-limited (the smaller of --rate-limit's burst and --write-rate-limit's 6)"):
        codes = [api.post("/v1/session", {"token": "guess-%020d" % i}).status for i in range(10)]
        assert codes[:5] == [401] * 5 and codes[6:] == [429] * 4, codes

main(run)
PY
serve_stop rl
finish
