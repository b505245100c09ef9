#!/usr/bin/env bash
# tribe ingest with several files per source (repeated options, quoted glob patterns, plain and .gz
# mixed): the same customers.h5 and ledger as one file holding the same rows, on 1, 2 and 4 ranks;
# rejected rows name their own file and line and are otherwise those of the one file.
source "$(dirname "$0")/lib.sh"
$PY -c "import h5py, numpy" 2>/dev/null || { echo "skip: needs /usr/bin/python3 with h5py and numpy"; exit 77; }

G=$TMP/g
P=$TMP/parts
mkdir -p "$P"
tribe_np 2 gen --customers 3000 --dirt 4 --seed 11 -o "$G" >/dev/null

# Splits a CSV into N record-aligned parts (a record ends at a newline after an even number of
# quotes), each with the header; parts named in PATTERN ({} = 1..N) get gzip when they end in .gz.
# Writes PART_FIRST_LINE lines "part first_line_in_whole" to $P/map.txt.
$PY - "$G/transactions.csv" "$P/tx-2011-{}.csv" 4 \
      "$G/web_events.csv" "$P/web-{}.csv" 2 \
      "$G/demographics.csv" "$P/demo-{}.csv" 3 >"$P/map.txt" <<'PY'
import gzip, sys
args = sys.argv[1:]
for i in range(0, len(args), 3):
    src, pat, n = args[i], args[i + 1], int(args[i + 2])
    data = open(src, "rb").read()
    recs, start, quotes, line = [], 0, 0, 1
    firsts, lines_at = [], []
    pos = 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl + 1
        quotes += data.count(b'"', pos, end)
        pos = end
        if quotes % 2 == 0 or pos == len(data):
            recs.append(data[start:pos])
            lines_at.append(line)
            line += recs[-1].count(b"\n")
            start, quotes = pos, 0
    header, body, body_lines = recs[0], recs[1:], lines_at[1:]
    per = (len(body) + n - 1) // n
    for k in range(n):
        chunk = body[k * per:(k + 1) * per]
        name = pat.replace("{}", str(k + 1))
        if k % 2 == 1:  # every other part compressed: plain and .gz mixed
            name += ".gz"
            with gzip.open(name, "wb") as f:
                f.write(header + b"".join(chunk))
        else:
            open(name, "wb").write(header + b"".join(chunk))
        print(name, body_lines[k * per] if chunk else 0)
PY

expect 0 "" -- tribe_np 1 ingest --transactions "$G/transactions.csv" --web "$G/web_events.csv" \
  --demographics "$G/demographics.csv" -o "$TMP/whole.h5"
tribe_np 1 export "$TMP/whole.h5" --csv "$TMP/whole.csv" >/dev/null

# The one-file rejects with every row renamed to its part file and line: what the parts must give.
$PY - "$TMP/whole.rejects.csv" "$P/map.txt" "$G" >"$TMP/expected.rejects.csv" <<'PY'
import csv, io, sys
rej, mapf, gdir = sys.argv[1:]
parts = {}
for ln in open(mapf):
    name, first = ln.split()
    base = name.rsplit("/", 1)[1].split("-")[0]
    parts.setdefault(base, []).append((int(first), name))
src_of = {"transactions.csv": "tx", "web_events.csv": "web", "demographics.csv": "demo"}
out = io.StringIO()
w = csv.writer(out, lineterminator="\n")
with open(rej, newline="") as f:
    r = csv.reader(f)
    w.writerow(next(r))
    for row in r:
        if row[0] == "customers":  # a customer left out at net spend <= 0: no file, no line
            w.writerow(row)
            continue
        plist = parts[src_of[row[0].rsplit("/", 1)[1]]]
        line = int(row[1])
        first, name = max((p for p in plist if p[0] and p[0] <= line), key=lambda p: p[0])
        row[0], row[1] = name, str(line - first + 2)
        w.writerow(row)
sys.stdout.write(out.getvalue())
PY

for np in 1 2 4; do
  # a quoted glob (expanded by tribe, sorted), a repeated option, and a glob again
  expect 0 "" -- tribe_np $np ingest --transactions "$P/tx-2011-*" \
    --web "$P/web-1.csv" --web "$P/web-2.csv.gz" --demographics "$P/demo-?.csv*" -o "$TMP/parts$np.h5"
  tribe_np $np export "$TMP/parts$np.h5" --csv "$TMP/parts$np.csv" >/dev/null
  check "$np ranks: the same table as the one file" cmp -s "$TMP/whole.csv" "$TMP/parts$np.csv"
  check "$np ranks: the same ledger as the one file" $PY -c "
import sys, h5py
a, b = (h5py.File(p)['/customers'].attrs['ledger'] for p in sys.argv[1:])
sys.exit(a != b)" "$TMP/whole.h5" "$TMP/parts$np.h5"
  check "$np ranks: rejects are the one file's, named by part file and line" \
    cmp -s "$TMP/expected.rejects.csv" "$TMP/parts$np.rejects.csv"
  check "$np ranks: no temporary part left" test -z "$(ls "$TMP" | grep '\.tmp\.' || true)"
done
check "the rejects name every part" test "$(cut -d, -f1 "$TMP/parts4.rejects.csv" | sort -u | wc -l)" -ge 8

check "source lists every file, in order" $PY -c "
import sys, json, h5py
s = json.loads(h5py.File(sys.argv[1])['/customers'].attrs['source'])
want = sys.argv[2:]
sys.exit(not (s['transactions'] == want[:4] and s['web'] == want[4:6] and s['demographics'] == want[6:]))" \
  "$TMP/parts2.h5" "$P/tx-2011-1.csv" "$P/tx-2011-2.csv.gz" "$P/tx-2011-3.csv" "$P/tx-2011-4.csv.gz" \
  "$P/web-1.csv" "$P/web-2.csv.gz" "$P/demo-1.csv" "$P/demo-2.csv.gz" "$P/demo-3.csv"

# A repeated --transactions keeps every file (it once kept only the last).
tribe_np 2 ingest --transactions "$P/tx-2011-1.csv" --transactions "$P/tx-2011-3.csv" -o "$TMP/two.h5" \
  >/dev/null 2>&1
tribe_np 1 ingest --transactions "$P/tx-2011-1.csv" -o "$TMP/one1.h5" >/dev/null 2>&1
tribe_np 1 ingest --transactions "$P/tx-2011-3.csv" -o "$TMP/one3.h5" >/dev/null 2>&1
check "a repeated --transactions reads both files" $PY -c "
import sys, json, h5py
r = [json.loads(h5py.File(p)['/customers'].attrs['ledger'])['rows_read'] for p in sys.argv[1:]]
sys.exit(not (r[0] == r[1] + r[2] and r[1] > 0 and r[2] > 0))" "$TMP/two.h5" "$TMP/one1.h5" "$TMP/one3.h5"

expect 2 "tx-1999-\*.: no file matches the pattern" -- tribe_np 1 ingest --transactions "$P/tx-2011-*" \
  --transactions "$P/tx-1999-*" -o "$TMP/x.h5"
expect 2 "given twice" -- tribe_np 1 ingest --transactions "$P/tx-2011-*" --transactions "$P/tx-2011-3.csv" \
  -o "$TMP/x.h5"
cp "$P/tx-2011-1.csv" "$TMP/odd[1].csv"
expect 0 "" -- tribe_np 1 ingest --transactions "$TMP/odd[1].csv" -o "$TMP/odd.h5"
sed '1s/Country/Land/' "$P/tx-2011-3.csv" >"$P/bad-3.csv"
expect 3 "bad-3.csv: missing required column 'Country'" -- tribe_np 2 ingest --transactions "$P/tx-2011-1.csv" \
  --transactions "$P/tx-2011-2.csv.gz" --transactions "$P/bad-3.csv" --transactions "$P/tx-2011-4.csv.gz" \
  -o "$TMP/x.h5"
check "no customers.h5 from a bad header" test ! -e "$TMP/x.h5"
finish
