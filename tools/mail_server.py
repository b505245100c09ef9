#!/usr/bin/python3
"""A loopback test endpoint for `tribe campaign send` (tests only; stdlib only).

Accepts SendGrid v3 mail/send-shaped requests (POST /v3/mail/send, JSON) and Twilio
Messages-shaped requests (POST /2010-04-01/Accounts/<sid>/Messages.json, form-encoded),
and records every accepted request as one JSON line in --record:
    {"kind": "sendgrid"|"twilio", "idempotency_key": ..., "recipients": [...], "sandbox": bool|null,
     "signature": "ok"|"none", "bytes": N}

- Idempotency-Key: a repeated key is acknowledged with the same status (and the header
  Idempotent-Replayed: true) but not recorded twice.
- --fail N --fail-status 500|429 [--retry-after S]: the first N requests are refused with that
  status (not recorded, their keys not remembered), to exercise retries.
- --secret S: requests must carry a valid Standard Webhooks signature (webhook-id,
  webhook-timestamp, webhook-signature "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>", key =
  base64 after "whsec_" or the secret's bytes); a bad or missing one gets 401 and is counted.
- GET /stats: {"received", "recorded", "replayed", "injected_failures", "bad_signatures"}.

Binds 127.0.0.1 on --port (0 = any free port) and prints the port on the first stdout line.
"""
import argparse
import base64
import hashlib
import hmac
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def secret_key(secret):
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[6:])
    return secret.encode()


def signature_ok(key, headers, body):
    mid, ts, sigs = headers.get("webhook-id"), headers.get("webhook-timestamp"), headers.get("webhook-signature")
    if not (mid and ts and sigs):
        return False
    mac = hmac.new(key, mid.encode() + b"." + ts.encode() + b"." + body, hashlib.sha256).digest()
    want = "v1," + base64.b64encode(mac).decode()
    return any(hmac.compare_digest(want, s) for s in sigs.split())


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.seen = {}
        self.stats = {"received": 0, "recorded": 0, "replayed": 0, "injected_failures": 0, "bad_signatures": 0}
        self.key = secret_key(args.secret) if args.secret else None
        self.out = open(args.record, "a") if args.record else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):  # quiet: the record file is the log
        pass

    def reply(self, status, body=b"", ctype="application/json", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        st = self.server.state
        if self.path == "/stats":
            with st.lock:
                self.reply(200, json.dumps(st.stats).encode())
        else:
            self.reply(404, b'{"error": "not found"}')

    def do_POST(self):
        st = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path
        if path == "/v3/mail/send":
            kind, ok_status = "sendgrid", 202
        elif path.startswith("/2010-04-01/Accounts/") and path.endswith("/Messages.json"):
            kind, ok_status = "twilio", 201
        else:
            return self.reply(404, b'{"error": "unknown path"}')
        with st.lock:
            st.stats["received"] += 1
            if st.stats["injected_failures"] < st.args.fail:
                st.stats["injected_failures"] += 1
                extra = {"Retry-After": st.args.retry_after} if st.args.fail_status == 429 and st.args.retry_after else None
                return self.reply(st.args.fail_status, b'{"errors": [{"message": "injected failure"}]}', extra=extra)
            signed = "none"
            if st.key is not None:
                if not signature_ok(st.key, self.headers, body):
                    st.stats["bad_signatures"] += 1
                    return self.reply(401, b'{"errors": [{"message": "bad signature"}]}')
                signed = "ok"
            key = self.headers.get("Idempotency-Key")
            if key and key in st.seen:
                st.stats["replayed"] += 1
                return self.reply(st.seen[key], b"", extra={"Idempotent-Replayed": "true"})
            try:
                if kind == "sendgrid":
                    doc = json.loads(body)
                    recips = [t["email"] for p in doc["personalizations"] for t in p["to"]]
                    sandbox = bool(doc.get("mail_settings", {}).get("sandbox_mode", {}).get("enable", False))
                    subs = [p.get("substitutions", {}) for p in doc["personalizations"]]
                    if len(doc["personalizations"]) > 1000:
                        return self.reply(400, b'{"errors": [{"message": "more than 1000 personalizations"}]}')
                    if not doc.get("subject") or not doc.get("content") or not doc.get("from"):
                        return self.reply(400, b'{"errors": [{"message": "subject, content and from are required"}]}')
                else:
                    form = urllib.parse.parse_qs(body.decode(), strict_parsing=True)
                    recips = form["To"]
                    sandbox, subs = None, [{"Body": form["Body"][0]}]
                    if not form.get("From") or not form.get("Body"):
                        return self.reply(400, b'{"message": "From and Body are required"}')
            except (ValueError, KeyError, TypeError) as e:
                return self.reply(400, json.dumps({"errors": [{"message": "malformed: %s" % e}]}).encode())
            rec = {"kind": kind, "idempotency_key": key, "recipients": recips, "sandbox": sandbox,
                   "signature": signed, "bytes": len(body), "substitutions": subs}
            if st.out:
                st.out.write(json.dumps(rec) + "\n")
                st.out.flush()
            st.stats["recorded"] += 1
            if key:
                st.seen[key] = ok_status
        if kind == "twilio":
            return self.reply(ok_status, json.dumps({"sid": "SM" + hashlib.sha1(body).hexdigest()[:32],
                                                     "status": "queued"}).encode())
        return self.reply(ok_status)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--record", help="JSON-lines file of accepted requests (appended)")
    ap.add_argument("--fail", type=int, default=0, help="refuse the first N requests")
    ap.add_argument("--fail-status", type=int, default=500, choices=[429, 500, 502, 503])
    ap.add_argument("--retry-after", default=None, help="Retry-After seconds sent with injected 429s")
    ap.add_argument("--secret", help="require Standard Webhooks signatures made with this secret")
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.state = State(args)
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
