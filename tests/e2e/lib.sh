# Shared helpers for the end-to-end shell tests (sourced).
# Environment from CTest: TRIBE_BIN, TRIBE_SOURCE_DIR, TRIBE_BUILD_DIR, TRIBE_MPIEXEC, TRIBE_SHARED_DATA.
set -euo pipefail
: "${TRIBE_BIN:?run through ctest}"
MPIEXEC=${TRIBE_MPIEXEC:-mpiexec}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
PY=/usr/bin/python3
TMP=$(mktemp -d /tmp/tribe-e2e-XXXXXX)
trap '[[ -n ${KEEP_TMP:-} ]] || rm -rf "$TMP"' EXIT
FAILS=0
PASSES=0

# tribe_np N args...: run tribe on N ranks.
tribe_np() {
  local n=$1
  shift
  "$MPIEXEC" -n "$n" --oversubscribe --bind-to none "$TRIBE_BIN" "$@"
}

ok() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL - $*"; }

# expect CODE PATTERN -- command...: exit code and a stderr pattern.
expect() {
  local code=$1 pattern=$2
  shift 3
  local rc=0
  "$@" >"$TMP/out.txt" 2>"$TMP/err.txt" || rc=$?
  if [[ $rc -ne $code ]]; then
    fail "'$*' exited $rc, expected $code"; sed 's/^/    /' "$TMP/err.txt" | tail -5
  elif [[ -n "$pattern" ]] && ! grep -qE -- "$pattern" "$TMP/err.txt"; then
    fail "'$*' stderr lacks /$pattern/"; sed 's/^/    /' "$TMP/err.txt" | tail -5
  else
    ok "exit $code /$pattern/: ${*: -3}"
  fi
}

check() { # check "description" command...
  local what=$1
  shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}

finish() {
  echo "$PASSES passed, $FAILS failed"
  [[ $FAILS -eq 0 ]]
}

# same_outputs A B: two runs' output directories hold the same outputs:
# personas.json, segments.csv, campaign_plan.csv byte for byte and the
# datasets of results.h5 bit for bit (attributes such as timings and the spec
# text may differ).
same_outputs() {
  local a=$1 b=$2 f
  for f in personas.json segments.csv campaign_plan.csv; do
    cmp -s "$a/$f" "$b/$f" || { echo "    $f differs"; return 1; }
  done
  h5diff "$a/results.h5" "$b/results.h5" >"$TMP/h5diff.txt" 2>&1 || true
  ! grep -vE '^attribute: |differences found$|^$' "$TMP/h5diff.txt" | grep -q .
}

write_job() { # write_job FILE INPUT OUTPUT K [extra json members]
  local extra=${5:-}
  cat >"$1" <<JSON
{"input": "$2", "output": "$3", "seed": 7, "kmeans": {"k": $4}${extra:+, $extra}}
JSON
}
