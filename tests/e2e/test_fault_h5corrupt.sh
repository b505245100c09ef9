#!/usr/bin/env bash
# A corrupted HDF5 file set (tests/e2e/h5corrupt.py: flipped bytes in string attributes and in the
# superblock, variable-length strings with a damaged global heap, truncated, empty and non-HDF5 files,
# datasets of the wrong type or shape, dimensions claiming what is not stored) made from a real
# customers.h5 and results.h5. Every command that reads them (run, assign, explain, serve, a run
# continuing from a previous results.h5) ends in bounded time with exit 3 and a message naming the file:
# no crash, no hang, and the previous outputs stay byte-identical.
source "$(dirname "$0")/lib.sh"
$PY -c "import h5py, numpy" 2>/dev/null || { echo "skip: needs /usr/bin/python3 with h5py and numpy"; exit 77; }

setup_failed() { fail "$1 failed"; tail -5 "$TMP/setup.log"; finish; }
"$TRIBE_BIN" gen --customers 300 --seed 3 -o "$TMP/raw" >"$TMP/setup.log" 2>&1 || setup_failed gen
"$TRIBE_BIN" ingest --transactions "$TMP/raw/transactions.csv" -o "$TMP/c.h5" >"$TMP/setup.log" 2>&1 ||
  setup_failed ingest
write_job "$TMP/good.json" "$TMP/c.h5" "$TMP/out" 3 '"run_id": "r1", "drivers": {"n_rounds": 5, "sample_size": 0}'
"$TRIBE_BIN" run "$TMP/good.json" >"$TMP/setup.log" 2>&1 || setup_failed run
R=$TMP/out/results.h5
ID=$($PY -c "import h5py; print(h5py.File('$R', 'r')['/segments/id'][10])")
printf 'read read-token-0123456789abcdef\n' >"$TMP/tokens"
$PY "$TRIBE_SOURCE_DIR/tests/e2e/h5corrupt.py" "$TMP/c.h5" "$R" "$TMP/bad" >"$TMP/made.txt" 2>"$TMP/setup.log" ||
  setup_failed h5corrupt.py
outputs() { (cd "$TMP/out" && find . -type f ! -name .lock | LC_ALL=C sort | xargs md5sum) } # .lock: not an output
before=$(outputs)
cp "$TMP/c.h5" "$TMP/c.keep.h5"

# bounded LABEL FILE [PATTERN] -- command...: exit 3 within 30 s (killed 2 s later if it ignores
# SIGTERM), stderr naming FILE (and matching PATTERN), no crash.
bounded() {
  local label=$1 file=$2 pattern=${3:-}
  shift 4
  local rc=0
  timeout -k 2 30 "$@" >"$TMP/o.txt" 2>"$TMP/e.txt" </dev/null || rc=$?
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    fail "$label: hung (killed after 30 s)"
  elif [[ $rc -ne 3 ]]; then
    fail "$label: exit $rc, expected 3"; { grep -v ' info: ' "$TMP/e.txt" || true; } | tail -3 | sed 's/^/    /'
  elif ! grep -q -- "$(basename "$file")" "$TMP/e.txt"; then
    fail "$label: the message does not name $(basename "$file")"; tail -3 "$TMP/e.txt" | sed 's/^/    /'
  elif [[ -n $pattern ]] && ! grep -qE -- "$pattern" "$TMP/e.txt"; then
    fail "$label: stderr lacks /$pattern/"; tail -3 "$TMP/e.txt" | sed 's/^/    /'
  else
    ok "$label: exit 3 naming the file${pattern:+ (/$pattern/)}"
  fi
}

# What each damage must be reported as (the rest: any exit-3 message naming the file).
expected() {
  case $1 in
    *_vlen*) echo "variable-length string" ;;
    *_empty.h5 | *_text.h5) echo "not an HDF5 file" ;;
    *_truncated.h5 | *_superblock.h5) echo "cannot open HDF5 file" ;;
    *_f64.h5 | *_f32.h5 | *_i64.h5) echo "is not stored as" ;;
    c_features_wide.h5) echo "columns but [0-9]+ feature names" ;;
    c_huge_dims.h5) echo "claims 100000000000 x" ;;
  esac
}

n=0
while read -r name kind _; do
  f=$TMP/bad/$name
  pat=$(expected "$name")
  if [[ $kind == customers ]]; then
    # Into the good run's output directory: nothing there may change.
    n=$((n + 1)) # a run id of its own: a run that wrongly succeeded must not make the next ones fail
    write_job "$TMP/j.json" "$f" "$TMP/out" 3 "\"run_id\": \"bad$n\""
    bounded "run $name" "$f" "$pat" -- "$TRIBE_BIN" run "$TMP/j.json"
    bounded "assign $name" "$f" "$pat" -- "$TRIBE_BIN" assign "$R" "$f" -o "$TMP/labels.csv"
    if [[ $n -le 2 || $name == c_vlen_heap_high.h5 ]]; then # the collective read path: ranks agree, none hangs
      bounded "run $name on 2 ranks" "$f" "$pat" -- "$MPIEXEC" -n 2 --oversubscribe --bind-to none "$TRIBE_BIN" run "$TMP/j.json"
    fi
  else
    # A damaged dataset reaches only the commands that read it: explain and serve read no centroids,
    # assign no labels; the whole file's damage reaches all four.
    readers="explain assign serve previous"
    [[ $name == r_centroids_f32.h5 ]] && readers="assign previous"
    [[ $name == r_label_i64.h5 ]] && readers="explain serve previous"
    for r in $readers; do
      case $r in
        explain) bounded "explain $name" "$f" "$pat" -- "$TRIBE_BIN" explain "$f" --customer "$ID" ;;
        assign) bounded "assign with model $name" "$f" "$pat" -- "$TRIBE_BIN" assign "$f" "$TMP/c.h5" -o "$TMP/labels.csv" ;;
        serve) bounded "serve $name" "$f" "$pat" -- "$TRIBE_BIN" serve "$f" --tokens "$TMP/tokens" --port 0 ;;
        previous)
          n=$((n + 1))
          write_job "$TMP/j.json" "$TMP/c.h5" "$TMP/out2" 3 "\"run_id\": \"bad$n\", \"previous\": \"$f\""
          bounded "run with previous $name" "$f" "$pat" -- "$TRIBE_BIN" run "$TMP/j.json" ;;
      esac
    done
  fi
done <"$TMP/made.txt"
check "the corrupted set has every kind of damage ($(wc -l <"$TMP/made.txt") files)" test "$(wc -l <"$TMP/made.txt")" -eq 24
check "no labels file was written from a corrupted input" test ! -e "$TMP/labels.csv"
check "the previous run's outputs are byte-identical" test "$before" = "$(outputs)"
check "the input customers.h5 is unchanged" cmp -s "$TMP/c.h5" "$TMP/c.keep.h5"
check "no staging directory left behind" test -z "$(ls -A "$TMP/out" | grep staging || true)"
finish
