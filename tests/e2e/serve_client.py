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
