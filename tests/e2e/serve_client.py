"""A small HTTP client and check tally for the tribe serve end-to-end tests
(serve_lib.sh runs the scripts; every expectation is computed from the run's
own files, results.h5 read with h5py)."""
import http.client
import json
import sys
import traceback
import urllib.parse

PROBLEM = "https://tribe.dev/problems/"


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body.decode())

    def __repr__(self):
        return "%d %s" % (self.status, self.body[:300])


class Api:
    """Requests to one server; a fresh connection per request unless keep=True.
    Paths are sent byte for byte (no normalisation of '..' or '//')."""

    def __init__(self, url, token=None, keep=False, timeout=30):
        u = urllib.parse.urlsplit(url.strip())
        self.host, self.port, self.token, self.keep, self.timeout = u.hostname, u.port, token, keep, timeout
        self.conn = None

    def _conn(self):
        if self.keep and self.conn is not None:
            return self.conn
        c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        if self.keep:
            self.conn = c
        return c

    def req(self, method, path, body=None, headers=None, token="default"):
        h = dict(headers or {})
        tk = self.token if token == "default" else token
        if tk is not None:
            h["Authorization"] = "Bearer " + tk
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode()
        c = self._conn()
        try:
            c.putrequest(method, path, skip_accept_encoding=True)
            for k, v in h.items():
                c.putheader(k, v)
            if body is not None:
                c.putheader("Content-Length", str(len(body)))
            c.endheaders(body)
            r = c.getresponse()
            out = Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        except Exception:
            if self.keep:
                c.close()
                self.conn = None
            raise
        if not self.keep:
            c.close()
        return out

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.req("POST", path, body=body, **kw)

    def json(self, path, **kw):
        r = self.get(path, **kw)
        assert r.status == 200, "GET %s: %r" % (path, r)
        return r.json()


def problem(r, status, kind):
    """Asserts r is an RFC 9457 problem of the documented stable type."""
    assert r.status == status, "status %d, expected %d: %r" % (r.status, status, r)
    ct = r.header("content-type") or ""
    assert ct.startswith("application/problem+json"), "content-type %r" % ct
    p = r.json()
    assert p.get("type") == PROBLEM + kind, "type %r, expected %s" % (p.get("type"), kind)
    assert p.get("status") == status and p.get("title"), p
    assert isinstance(p.get("detail"), str) and isinstance(p.get("instance"), str), p
    return p


class Checks:
    """case(what) as a context manager: ok when the block finishes, FAIL with
    the assertion's message when it raises."""

    def __init__(self):
        self.failed = 0

    def case(self, what):
        return _Case(self, what)

    def ok(self, what):
        print("ok - " + what, flush=True)

    def fail(self, what, why):
        self.failed += 1
        print("FAIL - %s: %s" % (what, why), flush=True)

    def skip(self, what, why):
        print("# skip - %s: %s" % (what, why), flush=True)


class _Case:
    def __init__(self, checks, what):
        self.checks, self.what = checks, what

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is None:
            self.checks.ok(self.what)
        elif issubclass(et, Exception):
            why = str(ev) or et.__name__
            if not isinstance(ev, AssertionError):
                why = "".join(traceback.format_exception_only(et, ev)).strip()
            self.checks.fail(self.what, why[:800])
        else:
            return False
        return True


def strs(a):
    return [s.decode() if isinstance(s, bytes) else str(s) for s in a]


class Run:
    """What a results.h5 says, for comparing with the server."""

    def __init__(self, path):
        import h5py
        import numpy as np

        with h5py.File(path, "r") as f:
            self.run_id = f.attrs["run_id"]
            self.run_id = self.run_id.decode() if isinstance(self.run_id, bytes) else str(self.run_id)
            self.ids = f["/segments/id"][:].ravel().astype(np.int64)
            self.label = f["/segments/label"][:].ravel()
            self.names = strs(f["/segments"].attrs["names"])
            self.k = len(self.names)
            self.seg_id = (f["/segments/segment_id"][:].ravel().astype(np.int64) if "/segments/segment_id" in f
                           else np.arange(self.k))
            self.dist = f["/segments/distance"][:].ravel()
            self.memb = f["/segments/membership"][:] if "/segments/membership" in f else None
            self.outlier = f["/segments/outlier"][:].ravel() if "/segments/outlier" in f else None
            self.oscore = f["/segments/outlier_score"][:].ravel() if "/segments/outlier_score" in f else None
            self.ltv = f["/segments/ltv"][:].ravel() if "/segments/ltv" in f else None
            self.churn = f["/segments/churn_risk"][:].ravel() if "/segments/churn_risk" in f else None
            self.median = f["/segments/median"][:]
            self.stat_names = strs(f["/segments/median"].attrs["feature_names"]
                                   if "feature_names" in f["/segments/median"].attrs
                                   else f["/segments/mean"].attrs["feature_names"])
        self.row = {int(v): i for i, v in enumerate(self.ids)}

    def segment_of(self, cid):
        """(persistent segment id as a string, name) of customer cid."""
        lab = int(self.label[self.row[cid]])
        return str(int(self.seg_id[lab])), self.names[lab]


def main(fn):
    c = Checks()
    fn(c, sys.argv[1:])
    sys.exit(0)


# ---- command line: python3 -m serve_client COMMAND URL TOKEN ... -------------------------------

def metric(api, name):
    """The value of one sample line of /metrics (None when absent)."""
    for l in api.get("/metrics").body.decode().splitlines():
        if l.startswith(name + " "):
            return float(l.split(" ")[-1])
    return None


def current(api):
    r = api.get("/v1/runs/current")
    return r.json()["run"]["id"] if r.status == 200 else None


def wait_for(pred, seconds):
    import time
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def load(api_url, token, out_dir, stop_file, ids, threads=4):
    """Look-ups of random ids at `threads` keep-alive connections until
    stop_file exists; then every answer is checked against the results.h5 of
    the run it names (out_dir/runs/<id>). Prints ok/FAIL lines."""
    import os, random, re, threading, time
    got, errors, lock = [], [], threading.Lock()

    def worker(seed):
        api, rng, mine = Api(api_url, token, keep=True, timeout=10), random.Random(seed), []
        while not os.path.exists(stop_file):
            cid = rng.choice(ids)
            try:
                r = api.get("/v1/customers/%d" % cid)
                mine.append((cid, r.status, r.body))
            except Exception as e:  # a failed request
                with lock:
                    errors.append("%d: %r" % (cid, e))
        with lock:
            got.extend(mine)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.monotonic() - t0
    c, runs, seen, bad = Checks(), {}, {}, []
    for cid, status, body in got:
        if status == 200:
            d = json.loads(body)
            rid = d["run"]["id"]
        elif status == 404:
            d = json.loads(body)
            m = re.search(r"is not in run (\S+)$", d.get("detail", ""))
            rid = m.group(1) if m and d.get("type") == PROBLEM + "not-found" else None
        else:
            bad.append("%d: %d %r" % (cid, status, body[:200]))
            continue
        if rid not in runs:
            path = os.path.join(out_dir, "runs", str(rid), "results.h5")
            runs[rid] = Run(path) if rid and os.path.exists(path) else None
        r = runs[rid]
        seen[rid] = seen.get(rid, 0) + 1
        if r is None:
            bad.append("%d: names run %r, which is not in the history" % (cid, rid))
        elif status == 404 and cid in r.row:
            bad.append("%d: 404 from run %s, which has it" % (cid, rid))
        elif status == 200 and (cid not in r.row or
                                (d["segment"]["id"], d["segment"]["name"]) != r.segment_of(cid)):
            bad.append("%d: segment %r in run %s, whose results.h5 says %r" % (cid, d["segment"], rid,
                                                                                r.segment_of(cid) if cid in r.row else None))
    print("# %d look-ups in %.1f s at %d connections; answers by run: %s" % (len(got), took, threads, seen))
    with c.case("under load, no request failed (%d look-ups, %d errors)" % (len(got), len(errors))):
        assert not errors, errors[:5]
    with c.case("under load, every answer is a 200 or a 404 of the run it names, consistent with that run's results.h5"):
        assert not bad, (len(bad), bad[:5])
    return seen


if __name__ == "__main__":
    cmd, url, token = sys.argv[1:4]
    api = Api(url, token)
    if cmd == "current":
        print(current(api))
    elif cmd == "wait":  # wait URL TOKEN RUN_ID SECONDS
        sys.exit(0 if wait_for(lambda: current(api) == sys.argv[4], float(sys.argv[5])) else 1)
    elif cmd == "metric":  # metric URL TOKEN SAMPLE
        print(metric(api, sys.argv[4]))
    elif cmd == "wait-metric":  # wait-metric URL TOKEN SAMPLE VALUE SECONDS
        sys.exit(0 if wait_for(lambda: metric(api, sys.argv[4]) == float(sys.argv[5]), float(sys.argv[6])) else 1)
    elif cmd == "load":  # load URL TOKEN OUT_DIR STOP_FILE MIN_RUNS IDS_FILE
        ids = [int(x) for x in open(sys.argv[7]).read().split()]
        seen = load(url, token, sys.argv[4], sys.argv[5], ids)
        n = len([k for k in seen if k])
        print(("ok - " if n >= int(sys.argv[6]) else "FAIL - ") + "the load saw answers from %d runs (>= %s)" % (n, sys.argv[6]))
    else:
        sys.exit("unknown command " + cmd)
