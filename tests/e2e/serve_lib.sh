# Helpers for the tribe serve end-to-end tests (sourced after lib.sh): tokens,
# a small history directory, servers on loopback that the EXIT trap always
# stops, and the Python checks of serve_client.py.
SERVE_PIDS=()
# TRIBE_SERVE_BIN: another tribe for the servers only (e.g. the ASan build's; tribe gen, ingest
# and run stay $TRIBE_BIN, whose Open MPI plugins LeakSanitizer cannot name)
SERVE_BIN=${TRIBE_SERVE_BIN:-$TRIBE_BIN}
# LeakSanitizer reports do not change exit codes here: serve_stop reads them and fails on leaks
# it can name (Open MPI's unloaded plugins show as "<unknown module>" and cannot be suppressed).
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}exitcode=0
RD=read-token-0123456789abcdef
WR=write-token-0123456789abcdef
printf '# test tokens\nread %s\nwrite %s\n' "$RD" "$WR" >"$TMP/tokens"
export PYTHONPATH="$TRIBE_SOURCE_DIR/tests/e2e${PYTHONPATH:+:$PYTHONPATH}"
$PY -c "import h5py, numpy" 2>/dev/null || { echo "skip: needs /usr/bin/python3 with h5py and numpy"; exit 77; }

serve_cleanup() {
  local p
  for p in "${SERVE_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [[ -n ${KEEP_TMP:-} ]] || rm -rf "$TMP"
}
trap serve_cleanup EXIT

# serve_start NAME DIR [options...]: starts tribe serve on a free loopback port
# (log $TMP/NAME.log); sets SERVE_PID_<NAME> and SERVE_URL_<NAME>. Fails when it
# does not come up within 60 s.
serve_start() {
  local name=$1 dir=$2
  shift 2
  rm -f "$TMP/$name.ready"
  "$SERVE_BIN" serve "$dir" --tokens "$TMP/tokens" --port 0 --ready-file "$TMP/$name.ready" "$@" \
    >"$TMP/$name.out" 2>"$TMP/$name.log" &
  local pid=$!
  SERVE_PIDS+=("$pid")
  printf -v "SERVE_PID_$name" %s "$pid"
  for _ in $(seq 600); do
    [[ -s "$TMP/$name.ready" ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ ! -s "$TMP/$name.ready" ]]; then
    fail "server $name did not start"
    sed 's/^/    /' "$TMP/$name.log" | tail -20
    return 1
  fi
  printf -v "SERVE_URL_$name" %s "$(cat "$TMP/$name.ready")"
}

# serve_stop NAME: SIGTERM, then the exit status must be 0 (and, under
# AddressSanitizer, no leak or error report).
serve_stop() {
  local name=$1 pidv="SERVE_PID_$1" rc=0
  local pid=${!pidv}
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || rc=$?
  if [[ $rc -eq 0 ]] && ! grep -qE "ERROR: AddressSanitizer|runtime error:" "$TMP/$name.log" && ! named_leaks "$TMP/$name.log"; then
    ok "server $name stops on SIGTERM with exit 0$(grep -q 'ERROR: LeakSanitizer' "$TMP/$name.log" && echo ' (leaks only in unnamed MPI plugins)')"
  else
    fail "server $name stopped with exit $rc"
    grep -A12 -E "Sanitizer|runtime error" "$TMP/$name.log" | head -40 | sed 's/^/    /'
  fi
}

# named_leaks LOG: a LeakSanitizer report in LOG has a leak allocated through tribe's code,
# libmicrohttpd, HDF5 or cJSON (the rest is Open MPI's plugins, through libc at most).
named_leaks() {
  awk -v src="$TRIBE_SOURCE_DIR/" '/^(Direct|Indirect) leak/{f=1} /^$/{f=0}
    f && (/#[0-9]+ 0x[0-9a-f]+ in (tribe_|MHD_|H5|cJSON_)/ || index($0, src))' "$1" | grep -q .
}

# pycheck DESCRIPTION [args...] <<'PY': runs a Python check script that prints
# "ok - ..." / "FAIL - ..." lines (serve_client.Checks); they are counted here,
# and the script dying is one more failure.
pycheck() {
  local what=$1 rc=0
  shift
  $PY - "$@" >"$TMP/py.out" 2>"$TMP/py.err" || rc=$?
  cat "$TMP/py.out"
  PASSES=$((PASSES + $(grep -c '^ok - ' "$TMP/py.out" || true)))
  FAILS=$((FAILS + $(grep -c '^FAIL - ' "$TMP/py.out" || true)))
  if [[ $rc -ne 0 ]]; then
    fail "$what: the check script exited $rc"
    tail -15 "$TMP/py.err" | sed 's/^/    /'
  fi
}

# serve_job FILE INPUT OUTPUT RUN_ID [extra json members]: a K=4 run that keeps
# the history of OUTPUT (its own previous run).
serve_job() {
  local extra=${5:-}
  cat >"$1" <<JSON
{"input": "$2", "output": "$3", "run_id": "$4", "previous": "$3", "seed": 7, "kmeans": {"k": 4}${extra:+, $extra}}
JSON
}

# serve_data NAME CUSTOMERS SEED: gen + ingest into $TMP/NAME.h5.
serve_data() {
  tribe_np 2 gen --customers "$2" --seed "$3" -o "$TMP/raw_$1" >"$TMP/setup.log" 2>&1 &&
    tribe_np 1 ingest --transactions "$TMP/raw_$1/transactions.csv" --web "$TMP/raw_$1/web_events.csv" \
      --demographics "$TMP/raw_$1/demographics.csv" -o "$TMP/$1.h5" >"$TMP/setup.log" 2>&1 ||
    { fail "gen + ingest $1"; tail -5 "$TMP/setup.log"; finish; exit 1; }
}
