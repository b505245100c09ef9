#!/usr/bin/env bash
# tribe serve's write side against the stand-ins tests use for paid APIs: a
# persona refined through the run's LLM provider (tools/llm_server.py) with
# the marketer's inputs in the request, its cache, bad inputs, drafts saved as
# versions; campaign previews and sandboxed sends to tools/mail_server.py with
# progress, counts and the frequency cap; roles, sessions and CSRF; the audit
# log. Every expected number comes from the run's own files.
source "$(dirname "$0")/lib.sh"

LLM="$TRIBE_SOURCE_DIR/tools/llm_server.py"
MAIL="$TRIBE_SOURCE_DIR/tools/mail_server.py"
PROMPT="$TRIBE_SOURCE_DIR/jobs/prompts/persona-v1.txt"
RT=read-token-$RANDOM$RANDOM-aaaaaaaa
WT=write-token-$RANDOM$RANDOM-bbbbbbbb
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; [[ -n ${KEEP_TMP:-} ]] || rm -rf "$TMP"' EXIT

# port_of FILE: waits for a server to print its port on the first line.
port_of() {
  for _ in $(seq 200); do [[ -s "$1" ]] && break; sleep 0.05; done
  [[ -s "$1" ]] || { fail "server of $1 did not start"; finish; exit 1; }
  head -1 "$1"
}

tribe_np 1 gen --customers 3000 --seed 5 -o "$TMP/raw" 2>"$TMP/gen.log"
tribe_np 1 ingest --transactions "$TMP/raw/transactions.csv" --web "$TMP/raw/web_events.csv" \
  --demographics "$TMP/raw/demographics.csv" -o "$TMP/c.h5" >"$TMP/ingest.log" 2>&1
$PY "$LLM" --mode ok --log "$TMP/llm.jsonl" >"$TMP/llm.port" &
PIDS+=($!)
LPORT=$(port_of "$TMP/llm.port")
$PY "$MAIL" --record "$TMP/mail.jsonl" >"$TMP/mail.port" &
PIDS+=($!)
MPORT=$(port_of "$TMP/mail.port")
cat >"$TMP/job.json" <<JSON
{"input": "$TMP/c.h5", "output": "$TMP/out", "seed": 3, "kmeans": {"k": 4},
 "persona": {"provider": "openai", "base_url": "http://127.0.0.1:$LPORT/v1", "model": "test-model",
             "prompt": "$PROMPT", "cache_dir": "$TMP/cache", "timeout_s": 5, "retries": 1, "k_min": 20}}
JSON
tribe_np 1 run "$TMP/job.json" >"$TMP/run.log" 2>&1 || { fail "tribe run"; tail "$TMP/run.log"; finish; exit 1; }
printf '# tokens\nread %s\nwrite %s\n' "$RT" "$WT" >"$TMP/tokens"
"$TRIBE_BIN" serve "$TMP/out" --tokens "$TMP/tokens" --port 0 --ready-file "$TMP/ready" \
  --contacts "$TMP/raw/contacts.csv" --mail-endpoint "http://127.0.0.1:$MPORT" --write-rate-limit 0 \
  >"$TMP/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [[ -s "$TMP/ready" ]] && break; sleep 0.05; done
URL=$(cat "$TMP/ready")

# The client: every call prints "<status> <body>"; cookies kept in $TMP/jar.
$PY - "$URL" "$RT" "$WT" "$TMP" <<'PY' && ok "write API: refine, versions, campaigns, roles, CSRF, audit" || fail "write API"
import json, sys, time, urllib.request, csv, http.cookiejar
url, rt, wt, tmp = sys.argv[1:5]
jar = http.cookiejar.CookieJar()
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
bad = []
def call(method, path, body=None, token=None, headers=None):
    h = dict(headers or {})
    if token: h["Authorization"] = "Bearer " + token
    data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
    if data is not None: h["Content-Type"] = "application/json"
    rq = urllib.request.Request(url + path, data=data, method=method, headers=h)
    try:
        with op.open(rq, timeout=30) as r: return r.status, json.loads(r.read() or b"null"), r.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), e.headers
def expect(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond: bad.append(what)
def problem(res, status, typ, what):
    st, b, h = res
    expect(st == status and h.get("Content-Type", "").startswith("application/problem+json")
           and b["type"] == "https://tribe.dev/problems/" + typ, f"{what}: {status} {typ} (got {st} {b})")

personas = json.load(open(f"{tmp}/out/personas.json"))
segs = json.load(open(f"{tmp}/out/segments.json"))
sid = str(personas[0]["segment_id"])
llm = lambda: [json.loads(l) for l in open(f"{tmp}/llm.jsonl")]
n0 = len(llm())

# roles
problem(call("POST", f"/v1/segments/{sid}/persona:refine", {"tone": "warm"}, rt), 403, "forbidden", "read token refines")
problem(call("POST", "/v1/campaigns:preview", {"segment_id": sid, "channel": "email"}, rt), 403, "forbidden", "read token previews")
problem(call("POST", f"/v1/segments/{sid}/persona:refine", {"tone": "warm"}, "nope-nope-nope-nope"), 401, "unauthorized", "unknown token")

# refine through the LLM with the inputs in the request
inp = {"tone": "warm and playful", "brand_guidance": "say Acme, never ACME", "emphasis": "order frequency",
       "channels": ["sms", "email"]}
st, r, _ = call("POST", f"/v1/segments/{sid}/persona:refine", inp, wt)
expect(st == 200, f"refine 200 (got {st})")
sent = llm()[n0:]
expect(len(sent) == 1, f"one request reached the LLM ({len(sent)})")
text = json.dumps(sent[-1]["body"]) if sent else ""
expect("Marketer's guidance" in text and "warm and playful" in text and "say Acme, never ACME" in text,
       "the inputs are in the LLM request as the guidance block")
expect(r["proposed"]["provider"] == "test-model", f"proposed by the model ({r['proposed'].get('provider')})")
expect(r["proposed"]["channels"][:2] == ["SMS", "E-mail"], f"channels in the given order ({r['proposed']['channels']})")
expect(r["current"]["name"] == personas[0]["name"] and r["current"]["version"] == 0, "current = the run's persona")
expect(r["inputs"] == inp, "inputs echoed")
# the same inputs again: the cache answers, nothing sent
st2, r2, _ = call("POST", f"/v1/segments/{sid}/persona:refine", inp, wt)
expect(st2 == 200 and len(llm()) == n0 + 1, f"a repeat is served from the cache ({len(llm()) - n0} requests)")
# bad inputs never reach the LLM
for body, what in [({"channels": ["fax"]}, "channels"), ({"tone": "x" * 600}, "tone"), ({"mood": "x"}, "unknown field"),
                   (b"{not json", "JSON"), ({"channels": "sms"}, "channels must be an array")]:
    res = call("POST", f"/v1/segments/{sid}/persona:refine", body, wt)
    problem(res, 400, "bad-request", f"refine rejects {what}")
expect(len(llm()) == n0 + 1, "no bad input reached the LLM")
problem(call("POST", "/v1/segments/999/persona:refine", inp, wt), 404, "not-found", "refine of an unknown segment")

# save as a version; it becomes the segment's persona
st, v, _ = call("POST", f"/v1/segments/{sid}/persona/versions", {"draft": r["draft"]}, wt)
expect(st == 201 and v["version"] == 1 and v["persona"]["version"] == 1, f"draft saved as version 1 ({st})")
problem(call("POST", f"/v1/segments/{sid}/persona/versions", {"draft": r["draft"]}, wt), 404, "not-found", "a draft saves once")
st, d, _ = call("GET", f"/v1/segments/{sid}", token=rt)
expect(d["persona"]["version"] == 1 and d["persona"]["channels"][:2] == ["SMS", "E-mail"], "GET segment shows version 1")
st, vs, _ = call("GET", f"/v1/segments/{sid}/persona/versions", token=rt)
expect([x["version"] for x in vs["versions"]] == [1] and vs["versions"][0]["inputs"] == inp, "versions list")
st, v2, _ = call("POST", f"/v1/segments/{sid}/persona/versions", {"draft": r2["draft"]}, wt)
expect(st == 201 and v2["version"] == 2, "second draft is version 2")

# sessions and CSRF
st, s, h = call("POST", "/v1/session", {"token": wt})
cookie = h.get("Set-Cookie", "")
expect(st == 201 and "HttpOnly" in cookie and "SameSite=Strict" in cookie and s["role"] == "write",
       f"session cookie HttpOnly SameSite=Strict ({cookie})")
st, g, _ = call("GET", "/v1/session")
expect(st == 200 and g["csrf"] == s["csrf"], "GET /v1/session with the cookie")
problem(call("POST", "/v1/campaigns:preview", {"segment_id": sid, "channel": "email"}), 403, "forbidden",
        "cookie POST without X-CSRF-Token")
problem(call("POST", "/v1/campaigns:preview", {"segment_id": sid, "channel": "email"},
             headers={"X-CSRF-Token": "0" * 64}), 403, "forbidden", "cookie POST with a wrong CSRF token")
problem(call("POST", "/v1/campaigns:preview", {"segment_id": sid, "channel": "email"},
             headers={"X-CSRF-Token": s["csrf"], "Origin": "http://evil.example"}), 403, "forbidden",
        "cookie POST from another origin")
st, pv, _ = call("POST", "/v1/campaigns:preview", {"segment_id": sid, "channel": "email", "customers": 4},
                 headers={"X-CSRF-Token": s["csrf"]})
expect(st == 200, f"cookie POST with the CSRF token ({st} {pv})")
jar.clear()

# the preview: counts add up to the segment, messages for real customers with their contacts
contacts = {r["CustomerID"]: r for r in csv.DictReader(open(f"{tmp}/raw/contacts.csv"))}
c = pv["counts"]
seg_size = next(p["size"] for p in personas if str(p["segment_id"]) == sid)
expect(c["customers"] == seg_size and c["would_send"] + c["no_contact"] + c["opted_out"] + c["suppressed"] + c["capped"] == seg_size,
       f"preview counts add up to the segment's {seg_size} ({c})")
expect(len(pv["messages"]) == 4 and all(contacts[m["customer_id"]]["Email"] == m["to"] for m in pv["messages"]),
       "preview messages go to the customers' addresses")
expect(all("{{" not in m["body"] and "{{" not in m["subject"] for m in pv["messages"]), "merge fields filled")

# the send: sandboxed, progress, summary equal to the preview; then the cap holds them back
problem(call("POST", "/v1/campaigns", {"segment_id": sid, "channel": "email", "live": True, "confirm": "x"}, wt),
        403, "forbidden", "live send without --allow-live")
st, j, _ = call("POST", "/v1/campaigns", {"segment_id": sid, "channel": "email"}, wt)
expect(st == 202 and j["state"] == "running", f"send accepted ({st} {j})")
for _ in range(200):
    st, js, _ = call("GET", f"/v1/campaigns/{j['id']}", token=rt)
    if js["state"] != "running": break
    time.sleep(0.1)
sm = js["summary"]
expect(js["state"] == "done" and sm["sent"] == c["would_send"] and sm["failed"] == 0
       and js["progress"]["done"] == js["progress"]["total"] == seg_size, f"send done, sent = would_send ({js})")
mail = [json.loads(l) for l in open(f"{tmp}/mail.jsonl")]
expect(sum(len(m["recipients"]) for m in mail) == sm["sent"] and all(m["sandbox"] is True for m in mail),
       f"the mail stand-in got {sm['sent']} recipients, all sandboxed")
st, pv2, _ = call("POST", "/v1/campaigns:preview", {"segment_id": sid, "channel": "email"}, wt)
expect(pv2["counts"]["capped"] == sm["sent"] and pv2["counts"]["would_send"] == 0, f"the frequency cap holds them ({pv2['counts']})")
problem(call("GET", "/v1/campaigns/nope", token=rt), 404, "not-found", "unknown campaign")

# the audit log: every write, by fingerprint, never a token
audit = [json.loads(l) for l in open(f"{tmp}/out/audit.jsonl")]
acts = [a["action"] for a in audit]
expect(acts.count("persona.save") == 2 and acts.count("campaign.send") == 1 and acts.count("campaign.finished") == 1,
       f"audit actions {acts}")
raw = open(f"{tmp}/out/audit.jsonl").read()
expect(wt not in raw and rt not in raw and all(a["who"].startswith("token:") for a in audit), "no token in the audit log")
sys.exit(1 if bad else 0)
PY

# HTTPS through libmicrohttpd's GnuTLS, with a throw-away self-signed certificate.
if command -v openssl >/dev/null && command -v curl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 1 \
    -subj "/CN=127.0.0.1" >/dev/null 2>&1
  "$TRIBE_BIN" serve "$TMP/out" --tokens "$TMP/tokens" --port 0 --ready-file "$TMP/ready-tls" \
    --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" --audit "$TMP/audit-tls.jsonl" >"$TMP/tls.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do [[ -s "$TMP/ready-tls" ]] && break; sleep 0.05; done
  TURL=$(cat "$TMP/ready-tls")
  check "HTTPS: the ready file names an https URL" grep -q '^https://' "$TMP/ready-tls"
  check "HTTPS: a look-up over TLS (certificate checked against the test's own)" \
    curl -sf --cacert "$TMP/cert.pem" -H "Authorization: Bearer $RT" "$TURL/v1/segments" -o "$TMP/tls.json"
  check "HTTPS: plain HTTP to the TLS port gets no answer" bash -c "! curl -sf http://${TURL#https://}/healthz"
  check "HTTPS: a session cookie is Secure" bash -c "curl -s --cacert '$TMP/cert.pem' -D - -o /dev/null \
    -H 'Content-Type: application/json' -d '{\"token\": \"$WT\"}' '$TURL/v1/session' | grep -qi 'set-cookie:.*; Secure'"
else
  echo "skip - HTTPS check: openssl or curl is not installed"
fi

finish
