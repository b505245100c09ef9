#!/usr/bin/env bash
# The dashboard in a real headless Chromium (Debian chromium, driven by playwright-core from
# tests/browser) against a real `tribe serve` over two runs made here (gen -> ingest -> run, then a
# rerun that follows it: drift and transitions), with personas from tools/llm_server.py (the refine
# provider) and campaigns to tools/mail_server.py. tests/browser/dashboard.test.mjs does the
# clicking; this script checks what the servers saw. Screenshots (laptop and phone widths) are
# kept in $TRIBE_BUILD_DIR/Testing/dashboard/.
# Skips (77) without chromium, node or tests/browser/node_modules (tools/setup.sh --test).
source "$(dirname "$0")/lib.sh"
BROWSER_DIR=$TRIBE_SOURCE_DIR/tests/browser
CHROMIUM=${TRIBE_CHROMIUM:-/usr/bin/chromium}
[[ -x $CHROMIUM ]] || { echo "SKIP: no Chromium at $CHROMIUM (apt-get install chromium, or tools/setup.sh --test)"; exit 77; }
command -v node >/dev/null || { echo "SKIP: no node (apt-get install nodejs npm, or tools/setup.sh --test)"; exit 77; }
[[ -d $BROWSER_DIR/node_modules/playwright-core ]] ||
  { echo "SKIP: playwright-core not installed: run 'npm ci' in tests/browser (tools/setup.sh --test does)"; exit 77; }

SHOTS=$TRIBE_BUILD_DIR/Testing/dashboard
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; [[ -n ${KEEP_TMP:-} ]] || rm -rf "$TMP"' EXIT

# wait_file FILE: waits up to 10 s for FILE to be non-empty.
wait_file() { for _ in $(seq 100); do [[ -s $1 ]] && return 0; sleep 0.1; done; return 1; }
setup_failed() { fail "$1"; tail -5 "$TMP/setup.log"; finish; exit 1; }

# ---- the persona provider and the mail endpoint ---------------------------------------------
export TRIBE_LLM_TEST_KEY="sk-tribe-dash-$RANDOM$RANDOM"
$PY "$TRIBE_SOURCE_DIR/tools/llm_server.py" --mode ok --log "$TMP/llm.jsonl" --key-env TRIBE_LLM_TEST_KEY >"$TMP/llm.port" &
PIDS+=($!)
$PY "$TRIBE_SOURCE_DIR/tools/mail_server.py" --record "$TMP/mail.rec" >"$TMP/mail.port" 2>"$TMP/mail.err" &
PIDS+=($!)
wait_file "$TMP/llm.port" && wait_file "$TMP/mail.port" || setup_failed "the test LLM or mail server did not start"
LLM=$(head -1 "$TMP/llm.port")
MAIL=$(head -1 "$TMP/mail.port")

# ---- two runs of one history (the second has drift and transitions) -------------------------
for p in 1 2; do
  tribe_np 1 gen --customers $((2000 + 400 * p)) --seed $((30 + p)) -o "$TMP/raw$p" >"$TMP/setup.log" 2>&1 || setup_failed "gen $p"
  tribe_np 1 ingest --transactions "$TMP/raw$p/transactions.csv" --web "$TMP/raw$p/web_events.csv" \
    --demographics "$TMP/raw$p/demographics.csv" -o "$TMP/c$p.h5" >"$TMP/setup.log" 2>&1 || setup_failed "ingest $p"
  cat >"$TMP/job$p.json" <<JSON
{"input": "$TMP/c$p.h5", "output": "$TMP/out", "run_id": "m$p", "previous": "$TMP/out", "seed": 7,
 "kmeans": {"k": [3, 5]},
 "persona": {"provider": "openai", "base_url": "http://127.0.0.1:$LLM/v1", "model": "test-model",
             "api_key_env": "TRIBE_LLM_TEST_KEY", "prompt": "$TRIBE_SOURCE_DIR/jobs/prompts/persona-v1.txt",
             "timeout_s": 5, "deadline_s": 30, "backoff_s": 0.05, "retries": 1}}
JSON
  tribe_np 2 run "$TMP/job$p.json" >"$TMP/setup.log" 2>&1 || setup_failed "run $p"
done

# ---- tribe serve ----------------------------------------------------------------------------
printf 'read read-dashboard-test-token-1\nwrite write-dashboard-test-token-2\n' >"$TMP/tokens"
"$TRIBE_BIN" serve "$TMP/out" --tokens "$TMP/tokens" --port 0 --ready-file "$TMP/ready" --audit "$TMP/audit.jsonl" \
  --contacts "$TMP/raw2/contacts.csv" --mail-endpoint "http://127.0.0.1:$MAIL" --outbox "$TMP/outbox.jsonl" --allow-live \
  >"$TMP/serve.log" 2>&1 &
PIDS+=($!)
wait_file "$TMP/ready" || { cp "$TMP/serve.log" "$TMP/setup.log"; setup_failed "tribe serve did not start"; }
URL=$(head -1 "$TMP/ready")

# The write side's steps are skipped, by name, on a server that does not have it yet: its read
# routes (the persona versions, a campaign's status) answer 404 "no such resource". GETs, so as
# not to spend the session's write budget (--write-rate-limit) before the page does.
missing() { # missing PATH: true when the route is unknown to the server
  curl -s -H "Authorization: Bearer read-dashboard-test-token-1" "$URL$1" | grep -q '"no such resource"'
}
SEG=$(curl -s -H "Authorization: Bearer read-dashboard-test-token-1" "$URL/v1/segments" |
  $PY -c 'import json,sys; print(json.load(sys.stdin)["segments"][0]["id"])')
SKIP=()
missing "/v1/segments/$SEG/persona/versions" &&
  { echo "# SKIP refine: the server lacks /v1/segments/{id}/persona/versions (and so persona:refine)"; SKIP+=(refine); }
missing "/v1/campaigns/probe" && { echo "# SKIP campaign: the server lacks /v1/campaigns"; SKIP+=(campaign); }
SKIP_LIST=$(IFS=,; echo "${SKIP[*]:-}")

# ---- the browser ----------------------------------------------------------------------------
LLM_BEFORE=$(wc -l <"$TMP/llm.jsonl")
rc=0
(cd "$BROWSER_DIR" && node dashboard.test.mjs --url "$URL" --write write-dashboard-test-token-2 \
  --read read-dashboard-test-token-1 --shots "$SHOTS" --chromium "$CHROMIUM" --skip "$SKIP_LIST") >"$TMP/browser.out" 2>&1 || rc=$?
cat "$TMP/browser.out"
PASSES=$((PASSES + $(grep -c '^ok - ' "$TMP/browser.out" || true)))
FAILS=$((FAILS + $(grep -c '^FAIL - ' "$TMP/browser.out" || true)))
check "the browser test exited 0" test "$rc" -eq 0
check "screenshots at laptop and phone widths kept in $SHOTS" \
  test -s "$SHOTS/overview-laptop.png" -a -s "$SHOTS/overview-phone.png" -a -s "$SHOTS/segment-phone.png"

# ---- what the servers saw -------------------------------------------------------------------
if [[ ! " ${SKIP[*]:-} " =~ " refine " ]]; then
  check "refine asked the test LLM" test "$(wc -l <"$TMP/llm.jsonl")" -gt "$LLM_BEFORE"
  check "the saved persona version is in the audit log" grep -q 'persona' "$TMP/audit.jsonl"
fi
if [[ ! " ${SKIP[*]:-} " =~ " campaign " ]]; then
  SENT=$(sed -n 's/^# sent //p' "$TMP/browser.out")
  check "the mail server recorded, in sandbox mode, exactly the customers the page says were sent ($SENT); the live send's requests without it" \
    $PY - "$TMP/mail.rec" "${SENT:--1}" <<'PY'
import json, os, sys
recs = [json.loads(l) for l in open(sys.argv[1])] if os.path.exists(sys.argv[1]) else []
sandbox = [r for r in recs if r["sandbox"] is True]
n = sum(len(r["recipients"]) for r in sandbox)
live_ok = all(r["sandbox"] in (False, None) for r in recs if r["sandbox"] is not True)
sys.exit(0 if sandbox and n == int(sys.argv[2]) and live_ok else print(n, sys.argv[2], len(recs)) or 1)
PY
  check "the campaign is in the audit log" grep -q 'campaign' "$TMP/audit.jsonl"
fi
finish
