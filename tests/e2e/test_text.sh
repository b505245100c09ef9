#!/usr/bin/env bash
# tribe ingest --text (docs/ingest.md, "Text source") on tribe gen's reviews.csv: the same
# customers.h5 on 1, 2 and 4 ranks; the planted topics come back as the topics' top terms; the
# planted sentiment order of the segments holds; the ledger and the rejects count every text row;
# bad text sources stop with the documented exit codes; a run leaves the text signals out of its
# default model columns and shows them in the segment profiles.
source "$(dirname "$0")/lib.sh"
$PY -c "import h5py, numpy" 2>/dev/null || { echo "skip: needs /usr/bin/python3 with h5py and numpy"; exit 77; }

G=$TMP/g
tribe_np 2 gen --customers 3000 --segments 4 --seed 5 -o "$G" >/dev/null

for np in 1 2 4; do
  expect 0 "text: [0-9]+ rows" -- tribe_np $np ingest --transactions "$G/transactions.csv" \
    --text "$G/reviews.csv" --text-topics 4 -o "$TMP/c$np.h5"
done
for np in 2 4; do
  check "customers.h5 with text on $np ranks = on 1 rank" h5diff "$TMP/c1.h5" "$TMP/c$np.h5"
  check "rejects on $np ranks = on 1 rank" cmp -s "$TMP/c1.rejects.csv" "$TMP/c$np.rejects.csv"
done

check "planted topics, sentiment order and ledger" $PY - "$TMP/c1.h5" "$G" "$TMP/c1.rejects.csv" <<'PY'
import csv, json, sys
import h5py, numpy as np
path, gdir, rejects = sys.argv[1:]
planted = {"delivery": {"delivery", "courier", "parcel", "arrived", "shipping", "tracking"},
           "price": {"price", "discount", "offer", "voucher", "money", "sale"},
           "quality": {"fabric", "stitching", "quality", "material", "size", "cotton"},
           "website": {"website", "checkout", "login", "app", "payment", "password"}}
truth = json.load(open(f"{gdir}/truth.json"))
seg_of = {int(r["customer_id"]): int(r["segment"]) for r in csv.DictReader(open(f"{gdir}/truth.csv"))}
bad = []
with h5py.File(path, "r") as f:
    names = [n.decode() for n in f["/customers/features"].attrs["feature_names"]]
    x = f["/customers/features"][:]
    ids = f["/customers/id"][:]
    topics = [t.decode().split() for t in f["/customers"].attrs["text_topics"]]
    led = json.loads(f["/customers"].attrs["ledger"])
want = ["text_docs", "sentiment", "negative_share", "topic_1", "topic_2", "topic_3", "topic_4"]
if names[-7:] != want:
    bad.append(f"columns {names[-7:]}")
# each topic's top 6 terms are one planted word set, each set once
match = []
for t in topics:
    m = [k for k, ws in planted.items() if set(t[:6]) == ws]
    match.append(m[0] if m else None)
if sorted(m for m in match if m) != sorted(planted):
    bad.append(f"topics {topics}")
col = {n: i for i, n in enumerate(names)}
seg = np.array([seg_of[int(i)] for i in ids])
docs = x[:, col["text_docs"]]
means = []
for s, st in enumerate(truth["reviews"]["segments"]):
    rows = (seg == s) & (docs > 0)
    means.append(float(np.mean(x[rows, col["sentiment"]])))
    # the segment's planted topic is its customers' largest mean share
    shares = [float(np.mean(x[rows, col[f"topic_{k + 1}"]])) for k in range(4)]
    if match[int(np.argmax(shares))] != st["topic"]:
        bad.append(f"segment {s}: shares {shares} for planted {st['topic']}")
if not all(a > b for a, b in zip(means, means[1:])):
    bad.append(f"sentiment by segment {means} not descending as planted")
if np.isnan(x[docs == 0, col["sentiment"]]).sum() != (docs == 0).sum():
    bad.append("customers without text should have sentiment NaN")
r = truth["reviews"]
# the reviews of customers left out at net spend <= 0 (the rejects' "customers" rows) are unmatched too
left = {int(q["line"]) for q in csv.DictReader(open(rejects)) if q["source"] == "customers"}
malformed = {int(q["line"]) for q in csv.DictReader(open(rejects)) if q["source"].endswith("reviews.csv")}
rd = csv.DictReader(open(f"{gdir}/reviews.csv", newline=""))
extra = sum(1 for q in rd if rd.line_num not in malformed and int(q["CustomerID"]) in left)
if (led["text_rows"], led["text_malformed"], led["text_rows_unmatched"]) != \
        (r["review_rows"], r["malformed"], r["text_rows_unmatched"] + extra):
    bad.append(f"ledger {led} vs truth {r} and {extra} reviews of customers at net spend <= 0")
if led["text_rows"] != led["text_rows_kept"] + led["text_rows_unmatched"] + led["text_malformed"] \
        + led["text_rows_after_cutoff"] or led["text_rows_kept"] != int(docs.sum()):
    bad.append(f"ledger invariant {led}")
rej = [row for row in csv.DictReader(open(rejects)) if row["source"].endswith("reviews.csv")]
if len(rej) != r["malformed"] or not all("Date 'yesterday' is not a date" in q["reason"] for q in rej):
    bad.append(f"rejects {rej}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY

# --strict counts malformed text rows too (clean transactions: the text row is the first reject)
tribe_np 1 gen --customers 100 --dirt 0 --no-web --no-demographics --no-reviews -o "$TMP/clean" >/dev/null
printf 'CustomerID,Date,Text\n12346,2011-01-01,great\n12346,someday,"bad, very bad"\n' >"$TMP/onebad.csv"
expect 3 "onebad.csv:3: Date 'someday' is not a date \(--strict" -- tribe_np 2 ingest \
  --transactions "$TMP/clean/transactions.csv" --text "$TMP/onebad.csv" --strict -o "$TMP/strict.h5"
# bad text sources
printf 'CustomerID,Date,Comment\n12346,2011-01-01,great\n' >"$TMP/nocol.csv"
expect 3 "nocol.csv.*Text" -- tribe_np 2 ingest --transactions "$G/transactions.csv" --text "$TMP/nocol.csv" \
  -o "$TMP/bad.h5"
expect 4 "missing.csv" -- tribe_np 1 ingest --transactions "$G/transactions.csv" --text "$TMP/missing.csv" \
  -o "$TMP/bad.h5"
expect 2 "--text-topics '101'" -- tribe_np 1 ingest --transactions "$G/transactions.csv" \
  --text "$G/reviews.csv" --text-topics 101 -o "$TMP/bad.h5"
check "no customers.h5 after the failures" test ! -e "$TMP/bad.h5"

# a run: text signals are not default model columns, but are in the segment profiles; the topics
# reach results.h5, run.json and the report, whose text section leaves out segments under k_min
write_job "$TMP/job.json" "$TMP/c1.h5" "$TMP/out" 4 '"persona": {"k_min": 800}'
expect 0 "" -- tribe_np 2 run "$TMP/job.json"
check "model columns without text; profiles, results, run.json and report with it" \
  $PY - "$TMP/out" "$TMP/c1.h5" <<'PY'
import csv, html, json, re, sys
import h5py
out, cust = sys.argv[1:]
with h5py.File(cust, "r") as f:
    topics = [t.decode() for t in f["/customers"].attrs["text_topics"]]
with h5py.File(f"{out}/results.h5", "r") as f:
    cols = [c.decode() for c in f["/model"].attrs["feature_names"]]
    stored = [t.decode() for t in f["/model/text"].attrs["topics"]]
hdr = next(csv.reader(open(f"{out}/segments.csv")))
bad = [c for c in cols if c in ("sentiment", "text_docs") or c.startswith("topic_")]
if "monetary" not in cols:
    bad.append(f"model columns {cols}")
if not any("sentiment" in h for h in hdr):
    bad.append(f"segments.csv header {hdr}")
run = json.load(open(f"{out}/run.json"))
if stored != topics or run["text"]["topics"] != topics:
    bad.append(f"topics {stored} / {run['text']} vs {topics}")
page = open(f"{out}/report.html").read()
m = re.search(r'<section id="text".*?</section>', page, re.S)
segs = run["segments"]["segments"]
small = [g["name"] for g in segs if g["size"] < 800]
if not m:
    bad.append("no text section")
else:
    sec = html.unescape(m.group(0))
    for g in segs:
        if (g["name"] in sec) == (g["size"] < 800):
            bad.append(f"segment {g['name']} ({g['size']}) shown: {g['name'] in sec}")
    if not small or f"{len(small)} segment" not in sec:
        bad.append(f"k_min note for {small}")
    if not all(t in sec for t in topics):
        bad.append("topic terms missing")
# personas (segments of at least k_min): the offline bio names the segment's largest topic's terms
pers = json.load(open(f"{out}/personas.json"))
pers = pers["personas"] if isinstance(pers, dict) else pers
firsts = [t.split()[0] for t in topics if t]
for p in pers:
    bio = p.get("bio", "")
    if "write most about" not in bio or not any(w in bio for w in firsts):
        bad.append(f"persona bio without its topic: {bio[-160:]}")
print(bad)
sys.exit(1 if bad else 0)
PY
finish
