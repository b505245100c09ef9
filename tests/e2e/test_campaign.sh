#!/usr/bin/env bash
# gen -> ingest -> run -> campaign send against tools/mail_server.py: counts, batches, retries
# without double sends (idempotency), signatures, outbox lines, skips by reason, frequency cap.
source "$(dirname "$0")/lib.sh"
SERVER="$TRIBE_SOURCE_DIR/tools/mail_server.py"
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
export TRIBE_TEST_SECRET=$SECRET TRIBE_WRONG_SECRET=whsec_AAAAAAAAAAAAAAAAAAAAAAAA
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT

# start_server NAME args...: starts the endpoint, sets PORT.
start_server() {
  local name=$1
  shift
  $PY "$SERVER" --record "$TMP/$name.rec" "$@" >"$TMP/$name.port" 2>"$TMP/$name.err" &
  PIDS+=($!)
  for _ in $(seq 50); do [[ -s "$TMP/$name.port" ]] && break; sleep 0.1; done
  PORT=$(head -1 "$TMP/$name.port")
}

setup_failed() { fail "$1 failed"; tail -5 "$TMP/setup.log"; finish; }
tribe_np 2 gen --customers 6000 --seed 21 -o "$TMP/raw" >"$TMP/setup.log" 2>&1 || setup_failed gen
tribe_np 1 ingest --transactions "$TMP/raw/transactions.csv" --web "$TMP/raw/web_events.csv" \
  --demographics "$TMP/raw/demographics.csv" -o "$TMP/c.h5" >"$TMP/setup.log" 2>&1 || setup_failed ingest
write_job "$TMP/job.json" c.h5 out 3 '"run_id": "camp1", "campaign": {"rules": [{"segment_match": "Lost", "campaign": "sunset", "response_rate": 0.02}]}'
tribe_np 2 run "$TMP/job.json" >"$TMP/setup.log" 2>&1 || setup_failed run
OUT=$TMP/out
check "run wrote campaign_plan.csv with one row per segment" test "$(wc -l <"$OUT/campaign_plan.csv")" -eq 4
check "report has the campaign plan section" grep -q '<section id="campaigns" data-nav="Campaigns"><h2>Campaign plan' "$OUT/report.html"

$PY - "$TMP/raw/contacts.csv" "$TMP/raw/truth.json" <<'PY' && ok "contacts.csv counts match truth.json" || fail "contacts.csv counts match truth.json"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
t = json.load(open(sys.argv[2]))["contacts"]
got = {"contact_rows": len(rows),
       "contacts_without_email": sum(not r["Email"] for r in rows),
       "contacts_without_phone": sum(not r["Phone"] for r in rows),
       "contacts_email_opted_out": sum(bool(r["Email"]) and r["EmailOptIn"] == "0" for r in rows),
       "contacts_sms_opted_out": sum(bool(r["Phone"]) and r["SmsOptIn"] == "0" for r in rows)}
sys.exit(0 if got == t and min(got.values()) > 0 else print(got, t) or 1)
PY

# The largest segment, and a suppression list of three of its reachable customers.
SEG=$($PY -c "
import h5py, numpy as np; f = h5py.File('$OUT/results.h5', 'r'); print(int(np.argmax(f['/segments/size'][:])))")
$PY - "$OUT/results.h5" "$TMP/raw/contacts.csv" "$SEG" "$TMP/suppress.txt" <<'PY'
import csv, h5py, sys
f = h5py.File(sys.argv[1], "r")
ids = f["/segments/id"][:][f["/segments/label"][:] == int(sys.argv[3])]
c = {int(r["CustomerID"]): r for r in csv.DictReader(open(sys.argv[2]))}
ok = [i for i in ids if i in c and c[i]["Email"] and c[i]["EmailOptIn"] == "1"]
open(sys.argv[4], "w").write("".join(c[i]["Email"].upper() + "\n" for i in ok[:3]))
PY

# 1. e-mail, default batches, 3 injected 500s, signed.
start_server mail --fail 3 --fail-status 500 --secret "$SECRET"
MAIL=$PORT
tribe_np 2 campaign send --results "$OUT" --segment "$SEG" --contacts "$TMP/raw/contacts.csv" --channel email \
  --endpoint "http://127.0.0.1:$MAIL" --outbox "$TMP/mail.jsonl" --suppress "$TMP/suppress.txt" \
  --retry-base-ms 5 --signing-secret-env TRIBE_TEST_SECRET >"$TMP/send1.out" 2>"$TMP/send1.err" || rc=$?
check "e-mail send exits 0 after retries" test "${rc:-0}" -eq 0
check_counts() { # check_counts RECORD OUTBOX SENDOUT CHANNEL STATS_PORT
  $PY - "$OUT/results.h5" "$TMP/raw/contacts.csv" "$SEG" "$TMP/suppress.txt" "$@" <<'PY'
import csv, h5py, json, re, sys, urllib.request
h5, contacts, seg, supp, rec, outbox, sendout, channel, port = sys.argv[1:]
f = h5py.File(h5, "r")
ids = [int(i) for i in f["/segments/id"][:][f["/segments/label"][:] == int(seg)]]
c = {int(r["CustomerID"]): r for r in csv.DictReader(open(contacts))}
sup = {l.strip().lower() for l in open(supp) if l.strip()}
addr, optin = ("Email", "EmailOptIn") if channel == "email" else ("Phone", "SmsOptIn")
exp = {"no_contact": 0, "opted_out": 0, "suppressed": 0}
want = set()
for i in ids:
    r = c.get(i)
    if r is None or not r[addr]: exp["no_contact"] += 1
    elif r[optin] != "1": exp["opted_out"] += 1
    elif r[addr].lower() in sup: exp["suppressed"] += 1
    else: want.add(r[addr].lower() if channel == "email" else i)
recs = [json.loads(l) for l in open(rec)]
got = [t.lower() for r in recs for t in r["recipients"]] if channel == "email" else None
out = [json.loads(l) for l in open(outbox)]
summary = open(sendout).read()
stats = json.load(urllib.request.urlopen("http://127.0.0.1:%s/stats" % port))
errs = []
def need(cond, what):
    if not cond: errs.append(what)
if channel == "email":
    need(len(got) == len(set(got)), "a recipient was recorded twice")
    need(set(got) == want, "recorded recipients != segment minus skips (%d vs %d)" % (len(got), len(want)))
    need(all(len(r["recipients"]) <= 1000 for r in recs), "a batch over 1000")
    need(len(recs) == (len(want) + 999) // 1000, "not the fewest batches of <= 1000")
    need(all(r["sandbox"] is True for r in recs), "sandbox_mode not on")
else:
    phones = [r["recipients"][0] for r in recs]
    need(len(recs) == len(want), "sms recorded %d, want %d" % (len(recs), len(want)))
    need(all("Reply STOP" in r["substitutions"][0]["Body"] and "{{" not in r["substitutions"][0]["Body"] for r in recs), "sms body not personalised")
need(all(r["signature"] == "ok" for r in recs), "unsigned request recorded")
need(stats["recorded"] == len(recs), "server stats disagree with its record")
# outbox: one line per skipped customer plus one per recipient per attempt
skips = [o for o in out if o["status"] == "skipped"]
att = [o for o in out if o["attempt"] >= 1]
need(len(out) == len(skips) + len(att), "outbox has lines that are neither skips nor attempts")
final = {o["customer"]: o["status"] for o in out}
need(sorted(final) == sorted(ids), "outbox does not account for every customer of the segment")
need(sum(s == "sent" for s in final.values()) == len(want), "sent lines != recorded recipients")
m = re.search(r"attempts (\d+)", summary)
reqs = {}
for o in att: reqs.setdefault(o["request"], set()).add(o["attempt"])
need(m and int(m.group(1)) == sum(len(a) for a in reqs.values()), "attempts in the summary != attempts in the outbox")
for k, v in exp.items():
    need(sum(o["reason"] == k for o in skips) == v, "outbox %s count != %d" % (k, v))
    need(re.search(r"%s %d\b" % (k, v), summary), "summary lacks %s %d" % (k, v))
need(exp["no_contact"] > 0, "the segment has no customer without a contact (weak test)")
if errs: print("\n".join(errs), summary, stats); sys.exit(1)
PY
}
check "e-mail: received = segment - counted skips, batches <= 1000, signed, outbox complete" \
  check_counts "$TMP/mail.rec" "$TMP/mail.jsonl" "$TMP/send1.out" email "$MAIL"
check "e-mail: the injected 500s were retried" grep -q '"status": "retry", "http": 500' "$TMP/mail.jsonl"

# 2. The same send again (a retried command): acknowledged, not recorded twice.
cp "$TMP/mail.rec" "$TMP/mail.rec.before"
tribe_np 1 campaign send --results "$OUT" --segment "$SEG" --contacts "$TMP/raw/contacts.csv" --channel email \
  --endpoint "http://127.0.0.1:$MAIL" --outbox "$TMP/mail2.jsonl" --suppress "$TMP/suppress.txt" \
  --signing-secret-env TRIBE_TEST_SECRET >"$TMP/send2.out" 2>&1 || rc=$?
check "repeated send succeeds" test "${rc:-0}" -eq 0
check "repeated send records nothing new (idempotency keys)" cmp -s "$TMP/mail.rec" "$TMP/mail.rec.before"
check "repeated send was replayed by the endpoint" $PY -c "
import json, urllib.request, sys
s = json.load(urllib.request.urlopen('http://127.0.0.1:$MAIL/stats'))
n = sum(1 for _ in open('$TMP/mail.rec'))
sys.exit(0 if s['replayed'] == n else 1)"

# 3. A wrong signing secret: 401 is not retried, the customers are counted as failed, exit 4.
expect 4 "not delivered" -- tribe_np 1 campaign send --results "$OUT" --segment "$SEG" --contacts "$TMP/raw/contacts.csv" \
  --channel email --endpoint "http://127.0.0.1:$MAIL" --outbox "$TMP/bad.jsonl" --campaign other \
  --signing-secret-env TRIBE_WRONG_SECRET
check "wrong signature: failures in the outbox, nothing recorded" bash -c \
  "grep -q '\"status\": \"failed\", \"http\": 401' '$TMP/bad.jsonl' && cmp -s '$TMP/mail.rec' '$TMP/mail.rec.before'"

# 4. SMS with 429s (Retry-After 0), then the same campaign again under a cap of 1: all capped.
start_server sms --fail 2 --fail-status 429 --retry-after 0 --secret "$SECRET"
SMS=$PORT
tribe_np 2 campaign send --results "$OUT" --segment "$SEG" --contacts "$TMP/raw/contacts.csv" --channel sms \
  --endpoint "http://127.0.0.1:$SMS" --outbox "$TMP/sms.jsonl" --suppress "$TMP/suppress.txt" \
  --signing-secret-env TRIBE_TEST_SECRET >"$TMP/sms1.out" 2>&1 || rc=$?
check "sms send exits 0 after 429s" test "${rc:-0}" -eq 0
check "sms: one message per reachable customer, personalised, signed, outbox complete" \
  check_counts "$TMP/sms.rec" "$TMP/sms.jsonl" "$TMP/sms1.out" sms "$SMS"
SENT=$(grep -c '"status": "sent"' "$TMP/sms.jsonl")
tribe_np 1 campaign send --results "$OUT" --segment "$SEG" --contacts "$TMP/raw/contacts.csv" --channel sms \
  --endpoint "http://127.0.0.1:$SMS" --outbox "$TMP/sms.jsonl" --suppress "$TMP/suppress.txt" \
  --max-per-customer 1 --signing-secret-env TRIBE_TEST_SECRET >"$TMP/sms2.out" 2>&1
check "cap of 1: every customer sent before is capped, no request made" \
  grep -qE "capped $SENT, failed 0" "$TMP/sms2.out"
check "cap of 1: requests 0" grep -q "requests 0, attempts 0" "$TMP/sms2.out"

# 5. Dry run: no endpoint, outbox only.
tribe_np 1 campaign send --results "$OUT" --segment 0 --contacts "$TMP/raw/contacts.csv" --channel email \
  --outbox "$TMP/dry.jsonl" >"$TMP/dry.out" 2>&1
check "dry run writes one outbox line per customer" test "$(wc -l <"$TMP/dry.jsonl")" -eq \
  "$(grep -oE 'customers [0-9]+' "$TMP/dry.out" | grep -oE '[0-9]+')"
check "dry run sends nothing" grep -q "sent 0," "$TMP/dry.out"

# 6. verify-webhook: a valid signature passes; a tampered body, an old timestamp (replay window 300 s
# by default), a timestamp not written plainly and a missing signature fail with exit 3.
printf '{"event": "delivered", "customer": 12346}' >"$TMP/hook.json"
sign() { # sign TS: the Standard Webhooks signature of hook.json at timestamp TS
  $PY -c "
import base64, hashlib, hmac, sys
k = base64.b64decode('$SECRET'[6:]); b = open('$TMP/hook.json', 'rb').read()
print('v1,' + base64.b64encode(hmac.new(k, b'evt_1.' + sys.argv[1].encode() + b'.' + b, hashlib.sha256).digest()).decode())" "$1"
}
NOW=$(date +%s)
verify() { "$TRIBE_BIN" campaign verify-webhook --secret-env TRIBE_TEST_SECRET --id evt_1 "$@"; }
expect 0 "" -- verify --timestamp "$NOW" --signature "$(sign "$NOW")" --body "$TMP/hook.json"
printf '{"event": "bounced", "customer": 12346}' >"$TMP/hook2.json"
expect 3 "no signature" -- verify --timestamp "$NOW" --signature "$(sign "$NOW")" --body "$TMP/hook2.json"
OLD=$((NOW - 3600))
expect 3 "more than 300 s from now" -- verify --timestamp "$OLD" --signature "$(sign "$OLD")" --body "$TMP/hook.json"
expect 0 "" -- verify --timestamp "$OLD" --signature "$(sign "$OLD")" --body "$TMP/hook.json" --tolerance 0
for ts in "+$NOW" "000$NOW" " $NOW"; do
  expect 3 "not unix seconds written plainly" -- verify --timestamp "$ts" --signature "$(sign "$NOW")" --body "$TMP/hook.json"
done
expect 3 "carries no signature" -- verify --timestamp "$NOW" --body "$TMP/hook.json"
expect 3 "carries no signature" -- verify --timestamp "$NOW" --signature "" --body "$TMP/hook.json"
expect 2 "channel" -- "$TRIBE_BIN" campaign send --results "$OUT" --segment 0 --contacts "$TMP/raw/contacts.csv" --channel fax
expect 2 "the run's segments are 0, 1, 2" -- "$TRIBE_BIN" campaign send --results "$OUT" --segment 9 --contacts "$TMP/raw/contacts.csv" --channel email

# 7. Holdout experiment (docs/experiments.md): send every segment with a 20% holdout, plant a known
# effect on the arms (gen --effect), measure it: arms disjoint, recorded, deterministic; every planted
# lift inside its 99.9% interval (16 intervals: a 95% one would miss one in two tests); bad input.
EXP=$TMP/exp.jsonl
for s in 0 1 2; do
  for box in "$EXP" "$TMP/exp2.jsonl"; do
    "$TRIBE_BIN" campaign send --results "$OUT" --segment "$s" --contacts "$TMP/raw/contacts.csv" --channel email \
      --holdout 0.2 --campaign "spring test" --outbox "$box" >>"$TMP/exp.out" 2>&1
  done
done
$PY - "$EXP" "$TMP/exp2.jsonl" "$TMP/exp.out" <<'PY' && ok "holdout: arms disjoint, recorded once each, ~20% of the eligible, the same on a rerun" || fail "holdout arms"
import json, re, sys
def arms(path):
    a = {}
    for line in open(path):
        r = json.loads(line)
        if r["status"] in ("holdout", "dry_run"):
            assert r["customer"] not in a, r
            a[r["customer"]] = r["status"]
            if r["status"] == "holdout":
                assert r["reason"] == "control" and r["request"] is None and r["attempt"] == 0, r
    return a
a, b = arms(sys.argv[1]), arms(sys.argv[2])
held = sum(v == "holdout" for v in a.values())
printed = sum(int(x) for x in re.findall(r"holdout (\d+) \(control", open(sys.argv[3]).read()))
assert a == b and 2 * held == printed, (len(a), held, printed)
assert 0.15 < held / len(a) < 0.25, held / len(a)
PY
"$TRIBE_BIN" gen --effect "$EXP" -o "$TMP/eff" --seed 3 >"$TMP/eff.out" 2>&1 || fail "gen --effect failed"
"$TRIBE_BIN" campaign measure --outbox "$EXP" --transactions "$TMP/eff/transactions.csv" --confidence 0.999 \
  --cost-per-message 0.05 --out "$TMP" >"$TMP/measure.out" 2>&1 || fail "campaign measure failed"
check "measure writes the CSV and the HTML section" test -s "$TMP/experiment_spring-test.csv" -a \
  -s "$TMP/experiment_spring-test.html"
check "measure prints the table with the overall row" grep -qE "^all +[0-9]+ +[0-9]+" "$TMP/measure.out"
$PY - "$TMP/experiment_spring-test.csv" "$TMP/eff/effect_truth.csv" <<'PY' && ok "every planted lift is inside its interval" || fail "planted lift outside an interval"
import csv, sys
got = {r["segment"]: r for r in csv.DictReader(open(sys.argv[1]))}
truth = {r["segment"]: r for r in csv.DictReader(open(sys.argv[2]))}
assert set(got) == set(truth) and len(got) == 4, (set(got), set(truth))
for seg, t in truth.items():
    g = got[seg]
    assert (g["n_treatment"], g["n_control"]) == (t["n_treatment"], t["n_control"]), seg
    for k in ("conversion_lift", "conversion_rel_lift", "spend_lift", "spend_rel_lift"):
        assert float(g[k + "_lo"]) <= float(t[k]) <= float(g[k + "_hi"]), (seg, k, g[k + "_lo"], t[k], g[k + "_hi"])
PY
mkdir -p "$TMP/np2"
tribe_np 2 campaign measure --outbox "$EXP" --transactions "$TMP/eff/transactions.csv" --confidence 0.999 \
  --cost-per-message 0.05 --out "$TMP/np2" >/dev/null 2>&1
check "measure on 2 ranks writes the same CSV" cmp -s "$TMP/experiment_spring-test.csv" \
  "$TMP/np2/experiment_spring-test.csv"
$PY - "$TMP/eff/transactions.csv" "$TMP/fin.csv" <<'PY'
import csv, sys
w = csv.writer(open(sys.argv[2], "w", newline=""))
w.writerow("id,date,client_id,card_id,amount,use_chip,merchant_id,merchant_city,merchant_state,zip,mcc,errors".split(","))
for r in csv.DictReader(open(sys.argv[1])):
    w.writerow([r["InvoiceNo"], r["InvoiceDate"], r["CustomerID"], 1, "$%.2f" % (float(r["UnitPrice"]) * int(r["Quantity"])),
                "Chip Transaction", 7, "X", "", "", 5411, ""])
PY
mkdir -p "$TMP/fin"
"$TRIBE_BIN" campaign measure --outbox "$EXP" --transactions "$TMP/fin.csv" --confidence 0.999 --cost-per-message 0.05 \
  --mapping "$TRIBE_SOURCE_DIR/jobs/mappings/financial.json" --out "$TMP/fin" >/dev/null 2>&1
check "measure reads a mapped layout (--mapping financial.json) to the same table" cmp -s \
  "$TMP/experiment_spring-test.csv" "$TMP/fin/experiment_spring-test.csv"
M=(campaign measure --outbox "$EXP" --transactions "$TMP/eff/transactions.csv")
expect 2 "--holdout expects a number between 0 and 1" -- "$TRIBE_BIN" campaign send --results "$OUT" --segment 0 --contacts "$TMP/raw/contacts.csv" --channel email --holdout 1.5
expect 3 "no line of campaign 'autumn'.*'spring test'" -- "$TRIBE_BIN" "${M[@]}" --campaign autumn
cat "$EXP" "$TMP/dry.jsonl" >"$TMP/two.jsonl"
expect 2 "holds 2 campaigns.*--campaign" -- "$TRIBE_BIN" campaign measure --outbox "$TMP/two.jsonl" --transactions "$TMP/eff/transactions.csv"
expect 3 "has no control \(holdout\) customer" -- "$TRIBE_BIN" campaign measure --outbox "$TMP/dry.jsonl" --transactions "$TMP/eff/transactions.csv"
{ head -3 "$EXP"; echo '{"ts": 1, "segment": "x"}'; } >"$TMP/bad.jsonl"
expect 3 "bad.jsonl:4: key 'segment' is missing or not an integer" -- "$TRIBE_BIN" campaign measure --outbox "$TMP/bad.jsonl" --transactions "$TMP/eff/transactions.csv"
sed '2s/"status": "[a-z_]*"/"status": "bounced"/' "$EXP" >"$TMP/status.jsonl"
check "the outbox's line 2 now has status 'bounced'" grep -q '"status": "bounced"' "$TMP/status.jsonl"
expect 3 "status.jsonl:2: key 'status' has the unknown value 'bounced'" -- "$TRIBE_BIN" campaign measure --outbox "$TMP/status.jsonl" --transactions "$TMP/eff/transactions.csv"
expect 4 "nomapping.json" -- "$TRIBE_BIN" "${M[@]}" --mapping "$TMP/nomapping.json"
sed '3s/,[0-9-]* 10:00:00,/,yesterday,/' "$TMP/eff/transactions.csv" >"$TMP/badtx.csv"
expect 3 "badtx.csv:3: InvoiceDate 'yesterday' is not a date" -- "$TRIBE_BIN" campaign measure --outbox "$EXP" --transactions "$TMP/badtx.csv"
cp "$EXP" "$TMP/mixed.jsonl"
"$TRIBE_BIN" campaign send --results "$OUT" --segment 0 --contacts "$TMP/raw/contacts.csv" --channel email \
  --holdout 0.5 --campaign "spring test" --outbox "$TMP/mixed.jsonl" >/dev/null 2>&1
expect 3 "customer [0-9]+ of campaign 'spring test' is in (control|treatment).*different --holdout" -- "$TRIBE_BIN" campaign measure --outbox "$TMP/mixed.jsonl" --transactions "$TMP/eff/transactions.csv"
expect 0 "window of the last send runs [0-9]+ day\(s\) past the transactions' last day" -- "$TRIBE_BIN" "${M[@]}" --window-days 400 --out "$TMP/np2"
expect 4 "missing.csv" -- "$TRIBE_BIN" campaign measure --outbox "$EXP" --transactions "$TMP/missing.csv"
expect 2 "--window-days" -- "$TRIBE_BIN" "${M[@]}" --window-days 0

finish
