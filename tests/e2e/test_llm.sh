#!/usr/bin/env bash
# tribe run with persona.provider "openai" against tools/llm_server.py, one
# server mode per fault: every run completes with exit 0, personas.json says
# which segments came from the model and why the others fell back, what was
# sent holds aggregates only, the API key is never written, and a rerun over
# unchanged segments is served from the cache. run.json counts the fallbacks by kind; with
# persona.require_llm a fallback fails the run (exit 4) naming the segments and reasons; a cache
# entry that fails today's grounding rules is not served.
source "$(dirname "$0")/lib.sh"

SERVER="$TRIBE_SOURCE_DIR/tools/llm_server.py"
PROMPT="$TRIBE_SOURCE_DIR/jobs/prompts/persona-v1.txt"
K=5
export TRIBE_LLM_TEST_KEY="sk-tribe-test-$RANDOM$RANDOM-do-not-leak"
SRV_PID=
trap '[[ -n "$SRV_PID" ]] && kill "$SRV_PID" 2>/dev/null; rm -rf "$TMP"' EXIT

tribe_np 1 gen --customers 2000 --seed 11 -o "$TMP/raw" 2>"$TMP/gen.log"
tribe_np 1 ingest --transactions "$TMP/raw/transactions.csv" --web "$TMP/raw/web_events.csv" \
  --demographics "$TMP/raw/demographics.csv" -o "$TMP/c.h5" >"$TMP/ingest.log" 2>&1
tribe_np 1 export "$TMP/c.h5" --csv "$TMP/customers.csv" >/dev/null

# start_server MODE [server args...]: PORT and SRV_PID; requests go to $TMP/req-MODE.jsonl.
start_server() {
  local mode=$1
  shift
  : >"$TMP/req-$mode.jsonl"
  rm -f "$TMP/port" # else the previous server's port may be read before the new one is written
  $PY "$SERVER" --mode "$mode" --log "$TMP/req-$mode.jsonl" --key-env TRIBE_LLM_TEST_KEY "$@" >"$TMP/port" &
  SRV_PID=$!
  for _ in $(seq 200); do [[ -s "$TMP/port" ]] && break; sleep 0.05; done
  [[ -s "$TMP/port" ]] || { fail "llm_server.py did not start"; finish; exit 1; }
  PORT=$(head -1 "$TMP/port")
}
stop_server() { kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null || true; SRV_PID=; }

# llm_job NAME [extra persona members]: a job spec writing into $TMP/out-NAME.
llm_job() {
  local name=$1 extra=${2:-}
  cat >"$TMP/job-$name.json" <<JSON
{"input": "$TMP/c.h5", "output": "$TMP/out-$name", "seed": 7, "kmeans": {"k": $K},
 "persona": {"provider": "openai", "base_url": "http://127.0.0.1:$PORT/v1", "model": "test-model",
             "api_key_env": "TRIBE_LLM_TEST_KEY", "prompt": "$PROMPT", "timeout_s": 2, "deadline_s": 20,
             "backoff_s": 0.05, "retries": 2, "max_concurrency": 3${extra:+, $extra}}}
JSON
}

# run_mode NAME: runs the job; checks exit 0.
run_mode() {
  local name=$1 rc=0
  tribe_np 1 run "$TMP/job-$name.json" >"$TMP/run-$name.out" 2>"$TMP/run-$name.err" || rc=$?
  if [[ $rc -eq 0 ]]; then ok "$name: run exits 0"; else fail "$name: run exited $rc"; tail -5 "$TMP/run-$name.err"; fi
}

# expect_personas NAME LOG PROVIDER_REGEX N_REQUESTS [N_MODEL]: every persona's provider
# matches the regex, the server saw N requests, and N_MODEL personas (default: all or
# none, by the regex) came from the model.
expect_personas() {
  $PY - "$TMP/out-$1/personas.json" "$TMP/req-$2.jsonl" "$3" "$4" <<'PY' && ok "$1: personas.json providers /$3/, $4 requests" || fail "$1: providers /$3/, $4 requests"
import json, re, sys
p = json.load(open(sys.argv[1]))
reqs = [json.loads(l) for l in open(sys.argv[2])]
provs = [x["provider"] for x in p]
bad = [v for v in provs if not re.search(sys.argv[3], v)]
if bad or len(reqs) != int(sys.argv[4]):
    print("providers:", provs, "requests:", len(reqs)); sys.exit(1)
PY
}

# --- well-formed answers, then the cache -----------------------------------------
start_server ok
llm_job ok '"cache_dir": "'"$TMP/cache"'"'
run_mode ok
expect_personas ok ok '^test-model$' $K
$PY - "$TMP/req-ok.jsonl" <<'PY' && ok "ok: requests carry model, seed, strict json_schema and the key" || fail "ok: request shape"
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l); b = r["body"]
    assert r["auth"] == "match", r["auth"]
    assert b["model"] == "test-model" and b["seed"] == 7 and "temperature" in b
    rf = b["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["strict"] is True
    props = rf["json_schema"]["schema"]["properties"]
    assert set(props) == {"name", "age_band", "occupation", "bio", "goals", "frustrations", "channels",
                          "quote", "email", "tagline", "image_prompt"}, props
    assert [m["role"] for m in b["messages"]] == ["system", "user"]
PY
grep -q '"figure"' "$TMP/out-ok/personas.json" && ok "ok: model personas carry evidence" || fail "ok: evidence"
cp "$TMP/out-ok/personas.json" "$TMP/personas-first.json"
run_mode ok
expect_personas ok ok '^test-model$' $K # still K: the rerun sent nothing
check "rerun: personas.json identical from the cache" cmp -s "$TMP/personas-first.json" "$TMP/out-ok/personas.json"
grep -q "($K cached)" "$TMP/run-ok.err" && ok "rerun: log reports $K cached" || fail "rerun: cached count"

# --- privacy: only aggregates of segments >= k_min leave the job ---------------------
llm_job kmin '"k_min": 300'
run_mode kmin
$PY - "$TMP/out-kmin/personas.json" "$TMP/req-ok.jsonl" <<'PY' && ok "k_min: small segments written offline and never sent" || fail "k_min"
import json, sys
p = json.load(open(sys.argv[1]))
sent = {json.loads(l)["segment"] for l in open(sys.argv[2])}
small = [x for x in p if x["size"] < 300]
big = [x for x in p if x["size"] >= 300]
assert small and big, [x["size"] for x in p]
for x in small:
    assert x["provider"].startswith("offline (fallback:") and "k_min" in x["provider"], x["provider"]
for x in big:
    assert x["provider"] == "test-model", x["provider"]
# The k_min run added requests for the big segments only.
lines = [json.loads(l) for l in open(sys.argv[2])][5:]
assert {r["segment"] for r in lines} == {x["segment_name"] for x in big}, [r["segment"] for r in lines]
PY

# --- a poisoned cache is held to today's grounding rules --------------------------------
# Two entries of the first run now state figures in digits an ASCII scanner misses; the rerun
# must not serve them: it warns, asks the server for those two segments, and replaces the entries.
n_before=$(wc -l <"$TMP/req-ok.jsonl")
$PY - "$TMP/cache" <<'PY'
import glob, json, sys
files = sorted(glob.glob(sys.argv[1] + "/*.json"))
assert len(files) == 5, files
for f, extra, ascii_only in ((files[0], " They spend \uff19\uff18\uff17\uff16\uff15\uff14 a week.", False),
                             (files[1], " Order x4321, \u0664\u0663\u0662\u0661 items.", True)):
    c = json.load(open(f))
    c["bio"] += extra
    open(f, "w", encoding="utf-8").write(json.dumps(c, ensure_ascii=ascii_only))
PY
run_mode ok
expect_personas ok ok '^test-model$' $((n_before + 2))
grep -c "cache entry [0-9a-f]*\.json fails today's checks" "$TMP/run-ok.err" | grep -qx 2 &&
  ok "poisoned cache: both entries refused with a warning" || fail "poisoned cache: warnings"
grep -q "(3 cached, 2 cache entries refused)" "$TMP/run-ok.err" && ok "poisoned cache: summary counts them" ||
  fail "poisoned cache: summary line"
$PY - "$TMP/out-ok/personas.json" "$TMP/cache" <<'PY' && ok "poisoned cache: nothing poisoned served or kept" || fail "poisoned cache: served"
import glob, sys
for path in [sys.argv[1]] + glob.glob(sys.argv[2] + "/*.json"):
    t = open(path, encoding="utf-8").read()
    for bad in ("\uff19\uff18", "\\uff19", "x4321", "\u0664\u0663", "\\u0664"):
        assert bad not in t, (path, bad)
PY
stop_server

# --- faults ---------------------------------------------------------------------
fault() { # fault MODE PROVIDER_REGEX N_REQUESTS [job extra] [server args...]
  local mode=$1 re=$2 n=$3 extra=${4:-}
  shift 4 || shift $#
  start_server "$mode" "$@"
  llm_job "$mode" "$extra"
  run_mode "$mode"
  expect_personas "$mode" "$mode" "$re" "$n"
  stop_server
}
fault 429 '^test-model$' $((2 * K)) '' --retry-after 1
fault 500once '^test-model$' $((2 * K)) ''
fault 500 '^offline \(fallback: HTTP 500 server_error after 3 attempts\)$' $((3 * K)) ''
fault quota '^offline \(fallback: HTTP 429 insufficient_quota\)$' $K ''
fault 401 '^offline \(fallback: HTTP 401 invalid_api_key\)$' $K ''
fault malformed '^offline \(fallback: schema violation: the message content is not a JSON object after 3 attempts\)$' $((3 * K)) ''
fault badjson '^offline \(fallback: reply is not a chat completion.* after 3 attempts\)$' $((3 * K)) ''
fault schema '^offline \(fallback: schema violation: .* after 3 attempts\)$' $((3 * K)) ''
fault length '^offline \(fallback: finish_reason length' $K ''
fault refusal '^offline \(fallback: refusal' $K ''
fault invent '^offline \(fallback: ungrounded after a re-ask: bio states .7777777\.77' $((2 * K)) ''
fault invent-once '^test-model$' $((2 * K)) ''
$PY - "$TMP/req-invent-once.jsonl" <<'PY' && ok "invent-once: the re-ask names the invented number" || fail "invent-once: re-ask"
import json, sys
re_asks = [json.loads(l)["body"] for l in open(sys.argv[1])]
re_asks = [b for b in re_asks if len(b["messages"]) == 4]
assert len(re_asks) == 5, len(re_asks)
for b in re_asks:
    assert [m["role"] for m in b["messages"]] == ["system", "user", "assistant", "user"]
    assert "7777777.77" in b["messages"][3]["content"], b["messages"][3]["content"]
PY
fault reject-schema '^test-model$' $((2 * K)) ''
$PY - "$TMP/req-reject-schema.jsonl" <<'PY' && ok "reject-schema: falls back to json_object" || fail "reject-schema: json_object"
import json, sys
kinds = [json.loads(l)["body"]["response_format"]["type"] for l in open(sys.argv[1])]
assert kinds.count("json_schema") == 5 and kinds.count("json_object") == 5, kinds
PY
fault slow '^test-model$' $K '"max_concurrency": 2' --delay 0.4
$PY - "$TMP/req-slow.jsonl" <<'PY' && ok "slow: requests overlap, at most max_concurrency = 2 at once" || fail "slow: concurrency cap"
import json, sys
inflight = [json.loads(l)["inflight"] for l in open(sys.argv[1])]
assert max(inflight) == 2, inflight
PY
fault slow '^offline \(fallback: timeout after 2 attempts\)$' $((2 * K)) '"timeout_s": 0.3, "retries": 1' --delay 3
# Requests are cut at the deadline, so a segment may record its timeout or the deadline.
fault slow '^offline \(fallback: (persona.deadline_s = 0.5 s passed|timeout; next retry in .* past the deadline)\)$' $K '"timeout_s": 5, "deadline_s": 0.5, "max_concurrency": 8' --delay 3

# --- the server is down -------------------------------------------------------------
start_server ok
stop_server # PORT is now closed
llm_job down '"retries": 1'
run_mode down
$PY - "$TMP/out-down/personas.json" <<'PY' && ok "down: every segment offline, reason recorded" || fail "down: fallback"
import json, sys
for x in json.load(open(sys.argv[1])):
    assert x["provider"].startswith("offline (fallback: ") and "after 2 attempts" in x["provider"], x["provider"]
PY

# --- fallbacks counted by kind in run.json and the log -----------------------------------------
fault invent-wide '^offline \(fallback: ungrounded after a re-ask: bio states .\uff19\uff18\uff17' $((2 * K)) ''
fault badband '^offline \(fallback: age band after a re-ask: age_band .4321-987654. is not one of' $((2 * K)) ''
$PY - "$TMP" $K <<'PY' && ok "run.json: personas.fallbacks counts every run's fallbacks by kind" || fail "run.json fallbacks"
import json, sys
tmp, k = sys.argv[1], int(sys.argv[2])
want = {"ok": {}, "500": {"http error": k}, "401": {"http error": k}, "quota": {"http error": k},
        "malformed": {"invalid JSON": k}, "badjson": {"invalid reply": k}, "schema": {"schema violation": k},
        "length": {"cut short": k}, "refusal": {"refused": k}, "invent": {"ungrounded figure": k},
        "invent-wide": {"ungrounded figure": k}, "badband": {"band invalid": k}, "down": {"connection error": k},
        "invent-once": {}, "429": {}}
for name, fb in want.items():
    per = json.load(open(f"{tmp}/out-{name}/run.json"))["personas"]
    assert per["fallbacks"] == fb and per["require_llm"] is False, (name, per)
kmin = json.load(open(f"{tmp}/out-kmin/run.json"))["personas"]["fallbacks"]
small = sum(p["size"] < 300 for p in json.load(open(f"{tmp}/out-kmin/personas.json")))
assert kmin == {"under k_min": small}, kmin
PY
grep -q "info: personas: $K of $K from the offline writer: $K http error" "$TMP/run-500.err" &&
  ok "log: the fallbacks by kind" || fail "log: fallbacks by kind"

# --- persona.require_llm: a fallback fails the run, naming segments and reasons ---------------
start_server 500
llm_job strict500 '"retries": 0, "k_min": 300, "require_llm": true'
rc=0
tribe_np 1 run "$TMP/job-strict500.json" >"$TMP/run-strict500.out" 2>"$TMP/run-strict500.err" || rc=$?
check "require_llm: a run with fallbacks exits 4 (environment)" test "$rc" -eq 4
$PY - "$TMP/run-strict500.err" "$TMP/req-500.jsonl" "$TMP/out-strict500" <<'PY' && ok "require_llm: the error names each sent segment and its reason, not the k_min ones; nothing published" || fail "require_llm: message"
import json, os, re, sys
err = open(sys.argv[1]).read()
sent = sorted({json.loads(l)["segment"] for l in open(sys.argv[2])})
m = re.search(r"error \(environment\): persona.require_llm: (\d) of 5 personas fell back to the offline writer: (.*)", err)
assert m, err[-600:]
assert int(m.group(1)) == len(sent) and 0 < len(sent) < 5, (m.group(1), sent)
named = re.findall(r"segment \d+ \(([^)]*)\): HTTP 500 server_error after 1 attempts", m.group(2))
assert sorted(named) == sent, (named, sent)
assert "k_min" not in m.group(2)
assert not os.path.exists(sys.argv[3] + "/run.json") and not os.path.exists(sys.argv[3] + "/personas.json")
PY
stop_server
start_server ok
llm_job strictok '"k_min": 300, "require_llm": true'
run_mode strictok
$PY - "$TMP/out-strictok" <<'PY' && ok "require_llm: segments under k_min do not fail a strict run; counted" || fail "require_llm: k_min"
import json, sys
per = json.load(open(sys.argv[1] + "/run.json"))["personas"]
small = sum(p["size"] < 300 for p in json.load(open(sys.argv[1] + "/personas.json")))
assert per["require_llm"] is True and per["fallbacks"] == {"under k_min": small} and small > 0, per
PY
stop_server

# --- persona images (persona.image_base_url) ---------------------------------------------
# image_run NAME IMAGE_MODE: the chat server answers well, the images endpoint by IMAGE_MODE;
# requests go to $TMP/img-NAME.jsonl (not req-*: the privacy check below reads chat bodies).
image_run() {
  local name=$1 imode=$2
  : >"$TMP/img-$name.jsonl"
  rm -f "$TMP/port"
  $PY "$SERVER" --mode ok --image-mode "$imode" --log "$TMP/img-$name.jsonl" --key-env TRIBE_LLM_TEST_KEY >"$TMP/port" &
  SRV_PID=$!
  for _ in $(seq 200); do [[ -s "$TMP/port" ]] && break; sleep 0.05; done
  PORT=$(head -1 "$TMP/port")
  llm_job "$name" '"image_base_url": "http://127.0.0.1:'"$PORT"'/v1", "image_model": "test-image", "image_size": "256x256"'
  run_mode "$name"
  stop_server
}
image_run img ok
$PY - "$TMP/out-img" "$TMP/img-img.jsonl" "$SERVER" <<'PY' && ok "images: one PNG per segment embedded as data:image/png;base64, requests OpenAI-shaped" || fail "images: embedded"
import base64, json, re, sys
sys.path.insert(0, sys.argv[3].rsplit("/", 1)[0])
import llm_server
html = open(sys.argv[1] + "/report.html").read()
personas = json.load(open(sys.argv[1] + "/personas.json"))
uris = re.findall(r'<img class="pimg" alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', html)
assert len(uris) == len(personas) == 5, len(uris)
for u in uris:
    assert base64.b64decode(u) == llm_server.tiny_png()
assert "http://" not in html and "https://" not in html
reqs = [json.loads(l) for l in open(sys.argv[2])]
imgs = [r for r in reqs if r["path"].endswith("/images/generations")]
assert len(imgs) == 5, len(imgs)
prompts = sorted(p["image_prompt"] for p in personas)
assert sorted(r["body"]["prompt"] for r in imgs) == prompts
for r in imgs:
    b = r["body"]
    assert r["auth"] == "match" and r["path"] == "/v1/images/generations", r["path"]
    assert b["model"] == "test-image" and b["size"] == "256x256" and b["response_format"] == "b64_json" and b["n"] == 1, b
PY
image_run img500 500
image_run imgbad notimage
$PY - "$TMP" <<'PY' && ok "images: a failing or non-image endpoint leaves the cards without images, the run says why" || fail "images: faults"
import json, re, sys
for name, n_req, why in (("img500", 15, "no image: HTTP 500 server_error after 3 attempts"),
                         ("imgbad", 15, "no image: image reply: neither PNG nor JPEG (13 bytes) after 3 attempts")):
    html = open(f"{sys.argv[1]}/out-{name}/report.html").read()
    assert "data:image" not in html and "<img" not in html, name
    assert html.count(why) == 5, (name, re.findall(r"no image: [^<]*", html)[:2])
    reqs = [json.loads(l) for l in open(f"{sys.argv[1]}/img-{name}.jsonl")]
    assert sum(r["path"].endswith("/images/generations") for r in reqs) == n_req, name
    assert all(p["provider"] == "test-model" for p in json.load(open(f"{sys.argv[1]}/out-{name}/personas.json")))
PY

# --- what left the job --------------------------------------------------------------
cat "$TMP"/req-*.jsonl >"$TMP/all-requests.jsonl"
$PY - "$TMP/all-requests.jsonl" "$TMP/customers.csv" "$PROMPT" <<'PY' && ok "sent bodies hold the segment profile only: no customer id, e-mail or row" || fail "privacy of sent bodies"
import csv, json, re, sys
ids = {r["customer_id"] for r in csv.DictReader(open(sys.argv[2]))}
tmpl = open(sys.argv[3]).read().split("--- user\n")[1].split("--- reask")[0].rstrip("\n")
top = {"segment", "customers", "share_of_customers_pct", "share_of_revenue_pct", "customers_in_whole_base",
       "currency", "features", "mix"}
n = n_drv = 0
for l in open(sys.argv[1]):
    raw = l
    b = json.loads(l)["body"]
    assert "@" not in json.dumps(b), "an e-mail address was sent"
    user = b["messages"][1]["content"]
    pre, post = tmpl.split("{{profile}}")
    assert user.startswith(pre) and user.endswith(post), "user message is not the template"
    prof = json.loads(user[len(pre):len(user) - len(post)])
    assert set(prof) - {"top_drivers", "buys_more_than_base"} == top, set(prof)
    for o in prof.get("buys_more_than_base", []):  # products, no customer (docs/offers.md)
        assert set(o) == {"item", "times_as_often_as_base", "segment_bought_pct", "base_bought_pct"}, o
    names = [f["name"] for f in prof["features"]]
    n_drv += "top_drivers" in prof
    for d in prof.get("top_drivers", []):
        assert set(d) == {"name", "segment_vs_base"} and d["name"] in names, d
        assert d["segment_vs_base"] in ("higher", "lower", "similar", "unknown"), d
    assert len({d["name"] for d in prof.get("top_drivers", [])}) == len(prof.get("top_drivers", [])) <= 5
    assert prof["customers"] >= 50
    for f in prof["features"]:
        assert set(f) - ({"meaning"} if f["name"] == "monetary" else set()) == {
            "name", "unit", "segment_mean", "segment_median", "segment_q1", "segment_q3",
            "base_mean", "base_median", "base_q1", "base_q3", "segment_vs_base"}, f
        assert f.get("meaning") == ("net spend: purchases minus returns" if f["name"] == "monetary" else None), f
        assert f["segment_q1"] <= f["segment_median"] <= f["segment_q3"], f
    for m in prof["mix"]:
        for lv in m["levels"]:
            assert set(lv) == {"level", "segment_pct", "base_pct"}, lv
    strings = set(re.findall(r'"((?:[^"\\]|\\.)*)"', json.dumps(b)))
    assert not (strings & ids), strings & ids
    n += 1
assert n > 50, n
assert n_drv > 0, "no profile carried top_drivers"
PY
if grep -rlF "$TRIBE_LLM_TEST_KEY" "$TMP" >"$TMP/leaks.txt" 2>/dev/null; then
  fail "the API key was written to: $(tr '\n' ' ' <"$TMP/leaks.txt")"
else
  ok "the API key appears in no output, log or cache file"
fi
finish
