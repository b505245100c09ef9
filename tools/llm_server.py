#!/usr/bin/python3
"""A fake OpenAI-compatible Chat Completions server for tribe's tests.

    /usr/bin/python3 tools/llm_server.py --mode ok --log requests.jsonl [--port 0]

Listens on 127.0.0.1 only; prints the port it bound on the first line of
stdout (port 0 = any free port). Every request to POST .../chat/completions is
appended to --log as one JSON line: {"n", "segment", "auth", "path", "inflight",
"body"} where inflight counts the requests being answered at its arrival, body
is the request body as received (parsed JSON, or the raw text) and auth is
"none", "match" (Bearer equal to $<--key-env>) or "other"; the key itself is
never recorded.

Modes (--mode):
  ok             a persona built from the prompt's profile figures (passes grounding)
  slow           like ok after --delay seconds
  429            first request per segment: 429 + Retry-After: --retry-after; then ok
  500            always 500
  500once        first request per segment: 500; then ok
  quota          429 with error code insufficient_quota
  401            401 invalid_api_key
  malformed      200 whose message content is not JSON
  badjson        200 whose body is not JSON at all
  schema         200 whose content misses 'email' and has goals as a string
  invent         a persona stating a number that is not in the profile, always
  invent-once    invents on the first ask, grounded when re-asked
  invent-wide    invents in digits a scanner of ASCII digits misses: fullwidth
                 "９８７６５４" and glued "GBP4321", always
  badband        age_band "4321-987654" (not one of the six bands), always
  reject-schema  400 mentioning response_format for json_schema; ok for json_object
  length         finish_reason "length"
  refusal        message.refusal set

POST .../images/generations (OpenAI-style: {model, prompt, size,
response_format: "b64_json", n}) answers by --image-mode, independent of --mode:
  ok             {"data": [{"b64_json": <a 4x4 PNG made here with zlib>}]}
  500            always 500
  notimage       200 whose b64_json decodes to bytes that are neither PNG nor JPEG
  badb64         200 whose b64_json is not base64
Image requests are logged like chat requests, with segment "image".
Standard library only.
"""
import argparse
import base64
import http.server
import json
import os
import struct
import sys
import threading
import time
import zlib

LOCK = threading.Lock()
SEEN = {}  # segment -> requests so far
COUNT = [0]
INFLIGHT = [0]  # requests being answered right now


def profile_of(body):
    """The profile JSON inside the first user message, or {}."""
    try:
        for m in body.get("messages", []):
            if m.get("role") == "user":
                t = m.get("content", "")
                a, b = t.find("{"), t.rfind("}")
                if a >= 0 and b > a:
                    return json.loads(t[a:b + 1])
    except (ValueError, AttributeError):
        pass
    return {}


def num(v):
    """A profile figure as the model would copy it."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def persona(p, invent=False, wide=False, band="35-44"):
    seg = p.get("segment", "Segment")
    n = p.get("customers", 0)
    share = p.get("share_of_customers_pct")
    bio = f"One of {num(n)} customers of the {seg} segment"
    if share is not None:
        bio += f", {num(share)}% of the base"
    for f in p.get("features", []):
        if f.get("name") == "monetary" and f.get("segment_median") is not None:
            bio += f"; a median monetary value of {num(f['segment_median'])}"
    bio += "."
    if invent:
        bio += " Spends 7777777.77 every week."
    if wide:
        bio += " Spends \uff19\uff18\uff17\uff16\uff15\uff14 a week, GBP4321 a year."
    return {
        "name": "Alex Morgan",
        "age_band": band,
        "occupation": "office manager",
        "bio": bio,
        "goals": ["Get good value", "Save time"],
        "frustrations": ["Slow delivery"],
        "channels": ["email", "web"],
        "quote": "I buy when it suits me.",
        "email": {"subject": f"Something for our {seg} customers",
                  "body": f"Dear customer, as one of our {num(n)} {seg} customers you get early access."},
        "tagline": "Value, when you want it.",
        "image_prompt": "Portrait photo of a friendly office manager in a bright kitchen.",
    }


def tiny_png(w=4, h=4):
    """A valid w x h RGB PNG, built from its chunks (signature, IHDR, IDAT, IEND)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    # Each scanline: filter byte 0, then w RGB pixels (a small gradient).
    raw = b"".join(b"\x00" + b"".join(bytes((60 * x, 120, 220 - 40 * y)) for x in range(w)) for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def completion(content, finish="stop", refusal=None):
    return {"id": "chatcmpl-test", "object": "chat.completion", "model": "test-model",
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": content, "refusal": refusal}}]}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, obj=None, raw=None, headers=()):
        data = raw.encode() if raw is not None else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        with LOCK:
            INFLIGHT[0] += 1
        try:
            self.answer()
        finally:
            with LOCK:
                INFLIGHT[0] -= 1

    def answer(self):
        a = self.server.args
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("utf-8", "replace")
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        prof = profile_of(body) if isinstance(body, dict) else {}
        seg = "image" if self.path.endswith("/images/generations") else prof.get("segment", "?")
        authz = self.headers.get("Authorization")
        key = os.environ.get(a.key_env, "") if a.key_env else ""
        auth = "none" if not authz else ("match" if key and authz == "Bearer " + key else "other")
        with LOCK:
            COUNT[0] += 1
            SEEN[seg] = SEEN.get(seg, 0) + 1
            first = SEEN[seg] == 1
            with open(a.log, "a") as f:
                f.write(json.dumps({"n": COUNT[0], "segment": seg, "auth": auth, "path": self.path,
                                    "inflight": INFLIGHT[0],
                                    "body": body if body is not None else raw}) + "\n")
        if self.path.endswith("/images/generations") and isinstance(body, dict):
            im = a.image_mode
            if im == "500":
                return self.send(500, {"error": {"message": "boom", "type": "server_error"}})
            if im == "notimage":
                return self.send(200, {"created": 0, "data": [{"b64_json": base64.b64encode(b"GIF89a not ok").decode()}]})
            if im == "badb64":
                return self.send(200, {"created": 0, "data": [{"b64_json": "this is *not* base64!"}]})
            return self.send(200, {"created": 0, "data": [{"b64_json": base64.b64encode(tiny_png()).decode()}]})
        if not self.path.endswith("/chat/completions") or body is None:
            return self.send(404, {"error": {"message": "not found", "code": "not_found"}})
        mode = a.mode
        rf = (body.get("response_format") or {}).get("type")
        reask = len(body.get("messages", [])) > 2
        if mode == "slow":
            time.sleep(a.delay)
        if mode == "429" and first:
            return self.send(429, {"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}},
                             headers=[("Retry-After", str(a.retry_after))])
        if mode == "500" or (mode == "500once" and first):
            return self.send(500, {"error": {"message": "boom", "type": "server_error"}})
        if mode == "quota":
            return self.send(429, {"error": {"message": "You exceeded your current quota",
                                             "type": "insufficient_quota", "code": "insufficient_quota"}})
        if mode == "401":
            return self.send(401, {"error": {"message": "Incorrect API key provided: sk-***",
                                             "code": "invalid_api_key"}})
        if mode == "reject-schema" and rf == "json_schema":
            return self.send(400, {"error": {"message": "response_format 'json_schema' is not supported",
                                             "type": "invalid_request_error", "param": "response_format"}})
        if mode == "badjson":
            return self.send(200, raw="{\"choices\": [ this is not json")
        if mode == "malformed":
            return self.send(200, completion("Sure! Here is your persona: name=Alex"))
        if mode == "schema":
            bad = persona(prof)
            del bad["email"]
            bad["goals"] = "save money"
            return self.send(200, completion(json.dumps(bad)))
        if mode == "length":
            return self.send(200, completion(json.dumps(persona(prof))[:40], finish="length"))
        if mode == "refusal":
            return self.send(200, completion(None, refusal="I can't help with that."))
        invent = mode == "invent" or (mode == "invent-once" and not reask)
        band = "4321-987654" if mode == "badband" else "35-44"
        return self.send(200, completion(json.dumps(persona(prof, invent, mode == "invent-wide", band))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", default="ok")
    ap.add_argument("--log", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--delay", type=float, default=5.0)
    ap.add_argument("--retry-after", type=int, default=1)
    ap.add_argument("--key-env", default="")
    ap.add_argument("--image-mode", default="ok")
    args = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.args = args
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
