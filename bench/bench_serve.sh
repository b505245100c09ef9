#!/usr/bin/env bash
# `tribe serve` under load (docs/benchmarks.md, "Serving"; issue "tribe serve", Numbers), all in one run:
#   bench/bench_serve.sh [CUSTOMERS]        (default 10000000; 16 features, K = 8 fixed)
# 1. Data and runs (cached in the work directory): tribe gen --blobs, then two runs of a fixed-K job with
#    the default optional stages (outliers, mixture memberships, segment drivers) into one output
#    directory: run "a", then run "b" following it (previous = the directory), as a monthly rerun does.
#    `latest` is pointed back at run a, so run b is the "new run" the reload phase publishes.
# 2. tribe serve on it (--rate-limit 0, --threads 2): load seconds (/metrics) and resident memory.
# 3. wrk: GET /v1/customers/{id} with keep-alive, ids drawn at random from the run's ids
#    (bench/serve_wrk.lua), in three forms (docs/api.md, "Fields"): the whole object (no fields: the
#    per-customer TreeSHAP drivers included) and the website's form (?fields= all but drivers and
#    features) at 1, 4 and 32 connections, ?fields=segment at 4 and 32; the same wrk settings against
#    nginx serving a static 200-byte file on loopback, in the same run (the anchor: the HTTP ceiling of
#    this machine). Server-side p99 from the /metrics histogram (bucket differences around each wrk run),
#    the server's CPU per request from /proc.
# 4. POST /v1/customers:batch with 1,000 random ids a request, whole objects and "fields": ["segment"],
#    at 2 and 8 connections: look-ups a second.
# 5. Hot reload under load: wrk at 32 connections (whole objects) while `latest` is swapped between the
#    two runs (ln -sfn + mv -T: atomic) and SIGHUP is sent; reloads from /metrics, failed requests from wrk.
# Any non-2xx answer or socket error fails the bench (exit 6). Prints markdown tables and writes them to
# bench/results/serve-<date>.md (RESULT: another file).
# Environment: TRIBE_BENCH_DIR (scratch, default /tmp/tribe-bench-serve), TRIBE_BUILD (a build directory
# to use as it is instead of building $root/build), DURATION (seconds per wrk run, default 15),
# RELOAD_SECONDS (default 40: a 10M-customer run takes ~10 s to load beside the served one).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10000000}
dur=${DURATION:-15}
reload_s=${RELOAD_SECONDS:-40}
build=${TRIBE_BUILD:-$root/build}
[ -n "${TRIBE_BUILD:-}" ] || "$root/tools/build.sh" "$build"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
work=${TRIBE_BENCH_DIR:-/tmp/tribe-bench-serve}
mkdir -p "$work" "$root/bench/results"
py=/usr/bin/python3
mpi() { OMP_NUM_THREADS=1 mpiexec -n 2 --oversubscribe --bind-to none "$@"; }
now() { date +%s.%N; }
die() { echo "bench_serve: $*" >&2; exit 6; }

# wrk and nginx (Debian wrk, nginx-light): installed when missing.
if ! command -v wrk >/dev/null || ! [ -x /usr/sbin/nginx ]; then
  [ "$(id -u)" = 0 ] || { echo "bench_serve: needs wrk and nginx (apt-get install wrk nginx-light)" >&2; exit 4; }
  DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk nginx-light >&2
fi
"$py" -c "import h5py" 2>/dev/null || { echo "bench_serve: needs /usr/bin/python3 with h5py" >&2; exit 4; }

# ---- 1. data and the two runs (cached) ----------------------------------------------------------------
data="$work/blobs-$n.h5"
out="$work/out-$n"
[ -s "$data" ] || mpi "$build/tribe" gen --blobs --customers "$n" --features 16 --clusters 8 --seed 5 -o "$data" >/dev/null
job() { # job RUN_ID [extra members]
  cat >"$work/$1.json" <<JOB
{"input": "$data", "output": "$out", "run_id": "$1", "seed": 3, "kmeans": {"k": 8},
 "persona": {"provider": "offline"}${2:+, $2}}
JOB
}
if [ ! -s "$out/runs/b/results.h5" ] || [ ! -s "$work/run-a.seconds" ]; then
  rm -rf "$out" # a run id is never reused in one output directory's history
  job a
  job b "\"previous\": \"$out\""
  for r in a b; do
    t0=$(now)
    mpi "$build/tribe" run "$work/$r.json" >/dev/null 2>"$work/run-$r.err" || { cat "$work/run-$r.err" >&2; exit 5; }
    awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.1f\n", b-a}' >"$work/run-$r.seconds"
  done
  date -u +%Y-%m-%d >"$work/run.date"
fi
flip() { # flip RUN: point `latest` at runs/RUN atomically
  ln -sfn "runs/$1" "$out/latest.tmp"
  mv -T "$out/latest.tmp" "$out/latest"
}
flip a
[ "${PREPARE_ONLY:-0}" = 1 ] && exit 0

# ---- 2. the server -----------------------------------------------------------------------------------
tok=bench-read-token-0123456789
printf 'read %s\n' "$tok" >"$work/tokens"
rm -f "$work/ready"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
load0=$(cut -d' ' -f1-3 /proc/loadavg)
start_serve() { # start_serve DIR NAME: sets spid and url
  rm -f "$work/ready"
  OMP_NUM_THREADS=2 "$build/tribe" serve "$1" --tokens "$work/tokens" --rate-limit 0 --threads 2 --port 0 \
    --watch 1 --ready-file "$work/ready" >"$work/serve-$2.log" 2>&1 &
  spid=$!
  pids+=("$spid")
  for _ in $(seq 600); do [ -s "$work/ready" ] && break; kill -0 "$spid" 2>/dev/null || break; sleep 0.5; done
  [ -s "$work/ready" ] || { cat "$work/serve-$2.log" >&2; die "tribe serve did not start"; }
  url=$(cat "$work/ready")
}
start_serve "$out" main
metrics() { curl -sf -H "Authorization: Bearer $tok" "$url/metrics"; }
metric() { metrics | awk -v k="$1" '$1 == k {print $2}'; }
sleep 1
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$spid/status")
load_s=$(metric tribe_run_load_seconds)

# The ids: the run's own (/segments/id); wrk draws from their range when contiguous, else from a sample.
# ids-1000.txt: 1,000 of them for the batch's response size.
"$py" - "$out/latest/results.h5" "$work/ids.lua" "$work/ids-1000.txt" <<'PY'
import sys, h5py, numpy as np
ids = h5py.File(sys.argv[1], "r")["/segments/id"][...]
with open(sys.argv[3], "w") as f:
    f.write(",".join(str(int(v)) for v in np.random.default_rng(2).choice(ids, size=min(len(ids), 1000), replace=False)))
with open(sys.argv[2], "w") as f:
    if ids[-1] - ids[0] + 1 == len(ids):
        f.write("id_lo, id_hi, id_list = %d, %d, nil\n" % (ids[0], ids[-1]))
    else:
        pick = np.random.default_rng(1).choice(ids, size=min(len(ids), 200000), replace=False)
        f.write("id_lo, id_hi = nil, nil\nid_list = {" + ",".join(str(int(v)) for v in pick) + "}\n")
PY

# ---- 3. wrk against tribe and nginx --------------------------------------------------------------------
# run_wrk NAME CONNS URL [LUA [SECONDS]]: wrk output in $work/wrk-NAME.txt; fails on non-2xx or socket errors
# (a request unanswered after 10 s counts as one: wrk's timeout, 2 s by default, is below a batch's p99 under load).
run_wrk() {
  local th=$(( $2 < 2 ? 1 : 2 ))
  SERVE_IDS="$work/ids.lua" SERVE_TOKEN="$tok" SERVE_BATCH="${batch:-0}" SERVE_FIELDS="${fields:-}" wrk -t"$th" -c"$2" -d"${5:-$dur}s" --timeout 10s --latency \
    ${4:+-s "$4"} "$3" >"$work/wrk-$1.txt" 2>&1 || { cat "$work/wrk-$1.txt" >&2; die "wrk $1 failed"; }
  if grep -qE 'Non-2xx|Socket errors' "$work/wrk-$1.txt"; then
    cat "$work/wrk-$1.txt" >&2
    die "wrk $1: failed requests (above)"
  fi
}
rps() { awk '/^Requests\/sec/ {print $2}' "$work/wrk-$1.txt"; }
# p99 (or another percentile: pct NAME 50%) in microseconds from wrk's latency distribution
p99() { pct "$1" 99%; }
pct() { awk -v q="$2" '$1 == q {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        m = (u == "us") ? 1 : (u == "ms") ? 1000 : (u == "s") ? 1e6 : 1; printf "%.0f", v * m}' "$work/wrk-$1.txt"; }
# the server's CPU time (user + system, all threads), and per request of a wrk run since cpu0
cpu() { awk '{print $14 + $15}' "/proc/$spid/stat"; }
cpu_per_req() { awk -v a="$2" -v b="$(cpu)" -v hz="$(getconf CLK_TCK)" '/requests in/ {printf "%.0f\n", (b - a) / hz * 1e6 / $1}' "$work/wrk-$1.txt"; }
# server-side p99 from two /metrics scrapes: the upper bound of the bucket holding the 99th percentile
hist() { metrics | awk '/^tribe_http_request_duration_seconds_bucket/ {print $2}' >"$1"; }
bounds() { metrics | sed -n 's/^tribe_http_request_duration_seconds_bucket{le="\([^"]*\)"}.*/\1/p'; }
server_p99() {
  paste "$1" "$2" <(bounds) | awk '{d[NR] = $2 - $1; b[NR] = $3} END {
    n = d[NR]; for (i = 1; i <= NR; i++) if (d[i] >= 0.99 * n) {
      if (b[i] == "+Inf") print "> 1 s"; else printf "%g\n", b[i] * 1e6; exit } }'
}

# nginx: a static 200-byte file, 2 workers, keep-alive, no access log.
ng="$work/nginx"
rm -rf "$ng" && mkdir -p "$ng/www" "$ng/logs"
head -c 200 /dev/zero | tr '\0' 'x' >"$ng/www/static.txt"
ngport=$("$py" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
cat >"$ng/nginx.conf" <<CONF
worker_processes 2;
user root;
pid $ng/nginx.pid;
error_log $ng/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type text/plain;
  keepalive_timeout 65;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:$ngport; root $ng/www; }
}
CONF
/usr/sbin/nginx -p "$ng" -c "$ng/nginx.conf" -e "$ng/logs/error.log" -g 'daemon off;' &
pids+=("$!")
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$ngport/static.txt" >/dev/null && break; sleep 0.1; done
[ "$(curl -sf "http://127.0.0.1:$ngport/static.txt" | wc -c)" = 200 ] || die "nginx did not serve the file"
# the forms of a look-up: NAME and its fields (empty: the whole object)
lean=segment,persona,membership,distance,outlier,predicted_value,churn_risk,run
form_fields() { case $1 in get) echo "" ;; lean) echo "$lean" ;; seg) echo segment ;; esac; }
id1=$(grep -o '[0-9]\+' "$work/ids.lua" | head -1)
for f in get lean seg; do
  q=$(form_fields "$f")
  curl -sf -H "Authorization: Bearer $tok" "$url/v1/customers/$id1${q:+?fields=$q}" >"$work/customer-$f.json" ||
    die "GET /v1/customers/{id} ($f) failed"
done
# measure NAME CONNS FORM [BATCH]: a wrk run against tribe with its server-side p99 ($work/sp99-NAME) and
# CPU per request ($work/cpu-NAME)
measure() {
  hist "$work/h0"
  local cpu0
  cpu0=$(cpu)
  fields=$(form_fields "$3") batch=${4:-0} run_wrk "$1" "$2" "$url" "$root/bench/serve_wrk.lua"
  cpu_per_req "$1" "$cpu0" >"$work/cpu-$1"
  hist "$work/h1"
  server_p99 "$work/h0" "$work/h1" >"$work/sp99-$1"
}
for c in 1 4 32; do
  run_wrk "nginx-$c" "$c" "http://127.0.0.1:$ngport/static.txt"
  for f in get lean seg; do
    [ "$f" = seg ] && [ "$c" = 1 ] && continue
    measure "$f-$c" "$c" "$f"
  done
done

# ---- 4. the batch look-up --------------------------------------------------------------------------------
for f in get seg; do
  q=$(form_fields "$f")
  printf '{"ids":[%s]%s}' "$(cat "$work/ids-1000.txt")" "${q:+,\"fields\":[\"${q//,/\",\"}\"]}" >"$work/batch-$f.body"
  curl -sf -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' --data-binary "@$work/batch-$f.body" \
    "$url/v1/customers:batch" >"$work/batch-$f.json" || die "POST /v1/customers:batch ($f) failed"
  for c in 2 8; do measure "batch-$f-$c" "$c" "$f" 1000; done
done

# ---- 5. hot reload under load ------------------------------------------------------------------------------
reloads0=$(metric 'tribe_reloads_total{result="ok"}')
failed0=$(metric 'tribe_reloads_total{result="failed"}')
run_wrk reload 32 "$url" "$root/bench/serve_wrk.lua" "$reload_s" &
wpid=$!
t_end=$(awk -v t="$(now)" -v s="$reload_s" 'BEGIN{printf "%.3f", t + s - 12}')
swaps=0 hups=0 next=b
sleep 1
while awk -v t="$(now)" -v e="$t_end" 'BEGIN{exit !(t < e)}'; do
  before=$(metric 'tribe_reloads_total{result="ok"}')
  if [ $((swaps % 2)) = 0 ]; then
    flip "$next"; swaps=$((swaps + 1)); next=$([ "$next" = b ] && echo a || echo b)
  else
    kill -HUP "$spid"; hups=$((hups + 1)); swaps=$((swaps + 1))
  fi
  for _ in $(seq 300); do # wait for that reload to land (the watch polls every second)
    [ "$(metric 'tribe_reloads_total{result="ok"}')" != "$before" ] && break
    sleep 0.1
  done
done
wait "$wpid" || die "the reload phase failed"
reloads=$(( $(metric 'tribe_reloads_total{result="ok"}') - reloads0 ))
rfailed=$(( $(metric 'tribe_reloads_total{result="failed"}') - failed0 ))
served_run=$(curl -sf -H "Authorization: Bearer $tok" "$url/readyz" | "$py" -c "import json,sys; print(json.load(sys.stdin)['run']['id'])")
rss_after_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$spid/status")
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$spid/status")
flip a
kill "$spid"
wait "$spid" || die "tribe serve did not stop cleanly"

load1=$(cut -d' ' -f1-3 /proc/loadavg)
cleanup
trap - EXIT

# ---- the table ------------------------------------------------------------------------------------------------
ver_nginx=$(/usr/sbin/nginx -v 2>&1 | sed 's/.*nginx\///')
ver_wrk=$(dpkg-query -W -f='${Version}' wrk 2>/dev/null || echo "?")
ver_mhd=$(dpkg-query -W -f='${Version}' libmicrohttpd12 2>/dev/null || echo "?")
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
res=${RESULT:-$root/bench/results/serve-$(date -u +%Y-%m-%d).md}
form_name() { case $1 in get) echo "whole object (drivers incl.)" ;; lean) echo "?fields= all but drivers, features" ;; seg) echo "?fields=segment" ;; esac; }
{
  echo "$n customers x 16 features, K = 8 (outliers, mixture memberships, segment drivers on); $(nproc) cores ($cpu);"
  echo "tribe $(git -C "$root" rev-parse --short HEAD), nginx $ver_nginx, wrk $ver_wrk, libmicrohttpd $ver_mhd; load average $load0 before, $load1 after."
  echo "wrk -d ${dur}s --latency, -t1 at 1 connection, -t2 above; tribe serve --threads 2 --rate-limit 0; nginx 2 workers."
  echo
  echo "| GET /v1/customers/{id} | conn | tribe requests/s | nginx requests/s | ratio (>= 0.5) | tribe p50 / p99 (wrk) | nginx p50 / p99 | p99 ratio (<= 1.5) | server-side p99 (<= 100 us) | server CPU a request | bytes |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for f in get lean seg; do
    for c in 1 4 32; do
      [ -s "$work/wrk-$f-$c.txt" ] || continue
      awk -v form="$(form_name "$f")" -v c="$c" -v tr="$(rps "$f-$c")" -v nr="$(rps "nginx-$c")" \
        -v t5="$(pct "$f-$c" 50%)" -v tp="$(p99 "$f-$c")" -v n5="$(pct "nginx-$c" 50%)" -v np="$(p99 "nginx-$c")" \
        -v sp="$(cat "$work/sp99-$f-$c")" -v cpu="$(cat "$work/cpu-$f-$c")" -v by="$(wc -c <"$work/customer-$f.json")" 'BEGIN{
        printf "| %s | %d | %.0f | %.0f | %.2f | %.0f / %.0f us | %.0f / %.0f us | %.2f | <= %s us | %.0f us | %d |\n",
          form, c, tr, nr, tr / nr, t5, tp, n5, np, tp / np, sp, cpu, by}'
    done
  done
  echo
  echo "| POST /v1/customers:batch, 1,000 random ids | conn | look-ups/s (>= 1,000,000) | requests/s | p99 (wrk) | server-side p99 | server CPU a look-up | bytes a look-up |"
  echo "|---|---|---|---|---|---|---|---|"
  for f in get seg; do
    for c in 2 8; do
      awk -v form="$([ "$f" = seg ] && echo '"fields": ["segment"]' || form_name "$f")" -v c="$c" -v br="$(rps "batch-$f-$c")" -v bp="$(p99 "batch-$f-$c")" \
        -v sp="$(cat "$work/sp99-batch-$f-$c")" -v cpu="$(cat "$work/cpu-batch-$f-$c")" -v by="$(wc -c <"$work/batch-$f.json")" 'BEGIN{
        printf "| %s | %d | %.0f | %.1f | %.1f ms | <= %g ms | %.2f us | %.0f |\n", form, c, br * 1000, br, bp / 1000, sp / 1000, cpu / 1000, by / 1000}'
    done
  done
  echo
  echo "| | tribe | target |"
  echo "|---|---|---|"
  echo "| hot reload under load (whole objects, 32 conn, ${reload_s} s): reloads done / failed requests | $reloads ($swaps swaps of \`latest\` and SIGHUPs, $rfailed failed loads) / 0 of $(awk '/requests in/ {print $1}' "$work/wrk-reload.txt") | 0 failed |"
  awk -v s="$load_s" -v n="$n" -v kb="$rss_kb" -v kb2="$rss_after_kb" -v hwm="$hwm_kb" 'BEGIN{
    printf "| load time of the run | %.2f s | |\n", s
    printf "| resident memory after load (VmRSS) / per customer | %.0f MiB / %.0f bytes | |\n", kb / 1024, kb * 1024 / n
    printf "| resident memory after the reloads / peak (VmHWM: two runs held during a swap) | %.0f MiB / %.0f MiB | |\n", kb2 / 1024, hwm / 1024}'
  echo
  echo "tribe run of the data (2 ranks x 1 thread, fixed K = 8, defaults otherwise, $(cat "$work/run.date")): run a $(cat "$work/run-a.seconds") s, run b (rerun with previous) $(cat "$work/run-b.seconds") s wall. Served at the end: run $served_run."
} | tee "$res"
