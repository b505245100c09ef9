#!/usr/bin/env bash
# Progress lines (docs/cli.md, "Progress"): `tribe ingest --progress` and `tribe run --progress` on 2 ranks
# print progress lines to stderr for the long loops (ingest reading, K sweep, EM, drivers training and
# TreeSHAP, LTV training), from rank 0 only, each loop ending at 100%; without --progress and with stderr
# a file there are none; --no-progress beats TRIBE_PROGRESS=1; results are the same bits either way; and
# TRIBE_LOG=debug says something in every stage that ran. TRIBE_PROGRESS_INTERVAL=0 (a test hook) prints
# every step, so small data shows every loop.
source "$(dirname "$0")/lib.sh"
export TRIBE_PROGRESS_INTERVAL=0

tribe_np 2 gen --customers 2000 --seed 3 -o "$TMP/raw" --no-web --no-demographics 2>"$TMP/gen.log" ||
  { cat "$TMP/gen.log"; fail "gen"; finish; exit 1; }
tx="$TMP/raw/transactions.csv"
tribe_np 2 ingest --progress --transactions "$tx" -o "$TMP/all.h5" >"$TMP/i1.out" 2>"$TMP/i1.err" ||
  { cat "$TMP/i1.err"; fail "ingest --progress"; }
tribe_np 2 ingest --transactions "$tx" -o "$TMP/train.h5" --cutoff 2011-06-12 --horizon 90 >"$TMP/i2.out" 2>"$TMP/i2.err" ||
  { cat "$TMP/i2.err"; fail "ingest train"; }
TRIBE_PROGRESS=1 tribe_np 2 ingest --no-progress --transactions "$tx" -o "$TMP/test.h5" --cutoff 2011-09-10 \
  --horizon 90 >"$TMP/i3.out" 2>"$TMP/i3.err" || { cat "$TMP/i3.err"; fail "ingest test"; }
check "ingest --progress counts the rows read and ends at 100%" \
  grep -qE '^progress: ingest: reading 100% \([0-9]+ rows read by rank 0\) in [0-9.]+ s$' "$TMP/i1.err"
check "ingest without --progress, stderr a file: no progress line" bash -c "! grep -q '^progress:' '$TMP/i2.err'"
check "--no-progress beats TRIBE_PROGRESS=1" bash -c "! grep -q '^progress:' '$TMP/i3.err'"
TRIBE_PROGRESS=1 tribe_np 1 ingest --transactions "$tx" -o "$TMP/env.h5" >/dev/null 2>"$TMP/i4.err" || fail "ingest env"
check "TRIBE_PROGRESS=1 asks for progress without the flag" grep -q '^progress: ingest: reading 100%' "$TMP/i4.err"
expect 2 'applies to run and ingest only' -- tribe_np 1 gen --progress --customers 10 -o "$TMP/g"
expect 2 'TRIBE_PROGRESS_INTERVAL' -- env TRIBE_PROGRESS_INTERVAL=soon "$TRIBE_BIN" ingest --transactions "$tx" -o "$TMP/x.h5"

for v in p q; do
  cat >"$TMP/job$v.json" <<JSON
{"input": "$TMP/all.h5", "output": "$TMP/out$v", "seed": 7, "run_id": "r", "kmeans": {"k_min": 2, "k_max": 4},
 "drivers": {"n_rounds": 6, "sample_size": 1000},
 "ltv": {"train": "$TMP/train.h5", "test": "$TMP/test.h5", "horizon_days": 90, "n_rounds": 12}}
JSON
done
tribe_np 2 run --progress "$TMP/jobp.json" >"$TMP/p.out" 2>"$TMP/p.err" || { tail -5 "$TMP/p.err"; fail "run --progress"; }
TRIBE_LOG=debug tribe_np 2 run "$TMP/jobq.json" >"$TMP/q.out" 2>"$TMP/q.err" || { tail -5 "$TMP/q.err"; fail "run"; }

$PY - "$TMP/p.err" <<'PY' && ok "run --progress: every long loop has lines, from rank 0 only, each ending at 100%" || fail "run progress lines"
import re, sys
lines = [l.rstrip("\n") for l in open(sys.argv[1]) if l.startswith("progress: ")]
pat = re.compile(r"^progress: (\w+): ([\w /-]+?) (\d+% \(|\(\d+ )")
keys = []
for l in lines:
    m = pat.match(l)
    assert m, l
    keys.append(m.group(1) + ": " + m.group(2))
for want in ("kmeans: K sweep", "segments: statistics", "gmm: EM", "drivers: training", "drivers: TreeSHAP",
             "ltv: training", "ltv: BG/NBD fit", "ltv: Gamma-Gamma fit"):
    assert want in keys, (want, sorted(set(keys)))
# each run of lines of one loop ends at 100% (ltv trains several models, and takes two statistics, one
# after another: a 100% line may also stand inside a run)
for i, l in enumerate(lines):
    if i + 1 == len(lines) or keys[i + 1] != keys[i]:
        assert " 100% (" in l, l
    else:
        assert (" 100% (" in l or re.search(r" \d{1,2}% \(.* \d+/\d+\) .* elapsed", l) or
                re.search(r" \(\d+ [^)]*\) .* elapsed", l)), l
# one 100% line per loop: rank 1 prints none (the drivers fit once, the K sweep once)
for k in ("kmeans: K sweep", "drivers: training", "drivers: TreeSHAP", "gmm: EM"):
    n = sum(1 for kk, l in zip(keys, lines) if kk == k and " 100% (" in l)
    assert n == 1, (k, n)
assert any(re.search(r" \d+% \(tree \d+/\d+\) [0-9.]+ s elapsed, (~\d+ s|<1 s) left$", l) for l in lines), lines[:5]
PY
check "run without --progress, stderr a file: no progress line" bash -c "! grep -q '^progress:' '$TMP/q.err'"
check "results are the same with and without progress" same_outputs "$TMP/outp" "$TMP/outq"

$PY - "$TMP/outq/run.json" "$TMP/q.err" <<'PY' && ok "TRIBE_LOG=debug: every stage that ran logs its parameters, start and time" || fail "debug lines"
import json, re, sys
stages = [s for s in json.load(open(sys.argv[1]))["timings"] if s not in ("read", "results", "outputs", "total")]
log = open(sys.argv[2]).read()
assert len(stages) >= 10, stages
for s in stages:
    for pat in (rf"debug: stage {s}: start on \d+ customers", rf"debug: stage {s}: done in [0-9.]+ s", rf"debug: {s}: "):
        assert re.search(pat, log), (s, pat)
PY
finish
