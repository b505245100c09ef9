#!/usr/bin/env bash
# gen -> ingest -> run -> campaign audience and export. Audience files for Google Customer Match and Meta
# per segment, checked against an independent Python implementation of the platforms' normalisation rules
# (hashlib for the hashes) on contacts with planted mixed-case, Gmail-dotted, national, "(0)", invalid,
# hostile and suppressed addresses; every customer counted once; identical on 1 and 2 ranks. The export
# (the same on 1, 2 and 4 ranks) has the run's columns (distance, outlier, membership) as results.h5 holds
# them, read with h5py.
source "$(dirname "$0")/lib.sh"

setup_failed() { fail "$1 failed"; tail -5 "$TMP/setup.log"; finish; exit 1; }
tribe_np 1 gen --customers 2000 --seed 9 -o "$TMP/raw" >"$TMP/setup.log" 2>&1 || setup_failed gen
tribe_np 1 ingest --transactions "$TMP/raw/transactions.csv" --web "$TMP/raw/web_events.csv" \
  --demographics "$TMP/raw/demographics.csv" -o "$TMP/c.h5" >"$TMP/setup.log" 2>&1 || setup_failed ingest
write_job "$TMP/job.json" c.h5 out 3 '"run_id": "aud", "outliers": {"threshold": 1.5}'
tribe_np 2 run "$TMP/job.json" >"$TMP/setup.log" 2>&1 || setup_failed run
OUT=$TMP/out

# Plant addresses in a copy of contacts.csv, and a suppression list.
$PY - "$TMP/raw/contacts.csv" "$TMP/contacts.csv" "$TMP/suppress.txt" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
full = [r for r in rows if r["Email"] and r["Phone"] and r["EmailOptIn"] == "1" and r["SmsOptIn"] == "1"]
sup = ["# asked not to be contacted"]
for i, r in enumerate(full[:180]):
    cid, k = r["CustomerID"], i % 9
    if k == 0: r["Email"] = f"  J.Doe.{cid}@GMAIL.com "           # trimmed, lower-cased, Google drops the dots
    if k == 1: r["Email"], r["Phone"] = '=HYPERLINK("http://x")', "call me"  # hostile and invalid: never written
    if k == 2: r["Email"] = f"no-at-sign.{cid}.example.com"       # invalid e-mail, the phone still goes out
    if k == 3: r["Phone"] = f"07700 9{int(cid) % 100000:05d}"     # national: needs --country-code 44
    if k == 4: r["Phone"] = f"+44 (0)7700 8{int(cid) % 100000:05d}"
    if k == 5: r["Email"], r["Phone"] = f"a@@{cid}.example.com", "+1234"  # both invalid
    if k == 6: sup.append(r["Email"].upper())                    # suppressed by e-mail, case-insensitively
    if k == 7: sup.append(" ".join([r["Phone"][:3], r["Phone"][3:7], r["Phone"][7:]]))  # by phone, spaced
    if k == 8: r["Email"] = f"-2+3.{cid}@example.com"             # a formula-like but valid address
with open(sys.argv[2], "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
open(sys.argv[3], "w").write("\n".join(sup) + "\n")
PY

run_audience() { # run_audience NP DIR
  tribe_np "$1" campaign audience --results "$OUT" --contacts "$TMP/contacts.csv" --platform all --all \
    --suppress "$TMP/suppress.txt" --country-code 44 --out "$2" >"$2.out" 2>"$2.err"
}
check "campaign audience on 1 rank exits 0" run_audience 1 "$TMP/a1"
check "campaign audience on 2 ranks exits 0" run_audience 2 "$TMP/a2"
check "audience files identical on 1 and 2 ranks" diff -r "$TMP/a1" "$TMP/a2"

check "audience files match an independent implementation of the platforms' rules" \
  $PY - "$OUT/results.h5" "$TMP/contacts.csv" "$TMP/suppress.txt" "$TMP/a1" <<'PY'
import csv, hashlib, h5py, os, re, sys
h5, contacts, supp, d = sys.argv[1:]
WS = " \t\r\n\f\v"
def email(raw, google):
    s = raw.strip(WS)
    if len(s) > 254 or any(ord(c) < 0x20 or ord(c) == 0x7f or c in WS or c in ',;:<>()[]\\"' for c in s):
        return None
    s = "".join(c.lower() if "A" <= c <= "Z" else c for c in s)
    if s.count("@") != 1: return None
    local, dom = s.split("@")
    if not local or not re.fullmatch(r"[^.]+(\.[^.]+)+", dom): return None
    if google and dom in ("gmail.com", "googlemail.com"):
        local = local.replace(".", "")
        if not local: return None
    return local + "@" + dom
def phone(raw, google, cc="44"):
    s = raw.strip(WS)
    intl = s.startswith("+") or s.startswith("00")
    s = s[1:] if s.startswith("+") else s[2:] if intl else s
    if intl: s = s.replace("(0)", "")
    if set(s) - set("0123456789 -./()"): return None
    d = re.sub(r"\D", "", s)
    if not intl: d = cc + (d[1:] if d.startswith("0") else d)
    if not (8 <= len(d) <= 15) or d[0] == "0": return None
    return ("+" if google else "") + d
def sha(s): return hashlib.sha256(s.encode()).hexdigest()
sup = set()
for l in open(supp):
    p = l.strip(WS).lower()
    if not p or p.startswith("#"): continue
    sup |= {p, email(l, True), phone(l, True)} - {None}
def suppressed(a):
    return a and bool({a.strip(WS).lower(), email(a, True), phone(a, True)} & sup)
f = h5py.File(h5, "r")
ids, lab = f["/segments/id"][:], f["/segments/label"][:]
sid = f["/segments/segment_id"][:]
names = [n.decode() if isinstance(n, bytes) else n for n in f["/segments"].attrs["names"]]
c = {int(r["CustomerID"]): r for r in csv.DictReader(open(contacts, newline=""))}
summary = list(csv.DictReader(open(os.path.join(d, "audience_summary.csv"), newline="")))
assert len(summary) == 2 * len(names), len(summary)
seen = {"suppressed": 0, "invalid": 0, "gmail": 0, "national": 0}
for s in summary:
    pos = list(sid).index(int(s["segment_id"]))
    assert s["segment_name"] == names[pos]
    google = s["platform"] == "google"
    want, cnt = [], dict(no_contact=0, opted_out=0, suppressed=0, invalid=0, exported=0,
                         emails=0, phones=0, invalid_emails=0, invalid_phones=0)
    for i in ids[lab == pos]:
        r = c.get(int(i))
        if r is None or not (r["Email"] or r["Phone"]): cnt["no_contact"] += 1; continue
        if suppressed(r["Email"]) or suppressed(r["Phone"]): cnt["suppressed"] += 1; continue
        e = p = None
        wanted = False
        if r["Email"] and r["EmailOptIn"] == "1":
            wanted = True; e = email(r["Email"], google); cnt["invalid_emails"] += e is None
        if r["Phone"] and r["SmsOptIn"] == "1":
            wanted = True; p = phone(r["Phone"], google); cnt["invalid_phones"] += p is None
        if e or p:
            cnt["exported"] += 1; cnt["emails"] += bool(e); cnt["phones"] += bool(p)
            want.append([sha(e) if e else "", sha(p) if p else ""])
            seen["gmail"] += bool(e and "gmail.com" in e and google)
            seen["national"] += bool(p and r["Phone"].startswith("07"))
        else:
            cnt["invalid" if wanted else "opted_out"] += 1
    seen["suppressed"] += cnt["suppressed"]; seen["invalid"] += cnt["invalid"]
    for k, v in cnt.items():
        assert int(s[k]) == v, (s["file"], k, s[k], v)
    assert int(s["customers"]) == (lab == pos).sum()
    assert sum(int(s[k]) for k in ("exported", "no_contact", "opted_out", "suppressed", "invalid")) == int(s["customers"])
    rows = list(csv.reader(open(os.path.join(d, s["file"]), newline="")))
    assert rows[0] == (["Email", "Phone"] if google else ["email", "phone"]), rows[0]
    assert rows[1:] == want, (s["file"], rows[1:3], want[:2])
    assert s["file"].startswith("google_customer_match_segment_" if google else "meta_custom_audience_segment_")
assert all(v > 0 for v in seen.values()), seen   # every planted case was met
PY

# No address text reaches a file: every cell of every audience file is empty or 64 lower-case hex digits.
check "audience files hold nothing but SHA-256 hex" $PY - "$TMP/a1" <<'PY'
import csv, glob, os, re, sys
for p in glob.glob(os.path.join(sys.argv[1], "*_segment_*.csv")):
    for row in list(csv.reader(open(p, newline="")))[1:]:
        assert len(row) == 2 and all(re.fullmatch(r"([0-9a-f]{64})?", x) for x in row) and any(row), (p, row)
PY

# Bad input.
A=(campaign audience --results "$OUT" --contacts "$TMP/contacts.csv" --platform google)
expect 2 "segments are 0, 1, 2" -- tribe_np 1 "${A[@]}" --segment 9 --out "$TMP/bad"
expect 2 "either --segment ID" -- tribe_np 1 "${A[@]}" --out "$TMP/bad"
expect 2 "not a calling code" -- tribe_np 1 "${A[@]}" --all --country-code 0044 --out "$TMP/bad"
expect 2 "google, meta or all" -- tribe_np 1 campaign audience --results "$OUT" --contacts "$TMP/contacts.csv" \
  --platform tiktok --all --out "$TMP/bad"
expect 4 "nothere.txt" -- tribe_np 2 "${A[@]}" --all --suppress "$TMP/nothere.txt" --out "$TMP/bad"
check "a refused audience writes no file" test ! -e "$TMP/bad/audience_summary.csv"

# Hostile segment names (a results.h5 rewritten with h5py): file names keep letters and digits only and stay
# in OUTDIR; the summary's and the export's name cells get the formula rule (docs/outputs.md, "CSV files").
mkdir -p "$TMP/hostile"
cp "$OUT/results.h5" "$TMP/hostile/"
$PY - "$TMP/hostile/results.h5" <<'PY'
import h5py, numpy as np, sys
f = h5py.File(sys.argv[1], "r+")
names = ['=HYPERLINK("http://x")', "../../evil", "@SUM(A1)"]
del f["/segments"].attrs["names"]
f["/segments"].attrs.create("names", np.array([n.encode() for n in names], dtype="S32"),
                            dtype=h5py.string_dtype("utf-8", 32))
PY
tribe_np 1 campaign audience --results "$TMP/hostile" --contacts "$TMP/contacts.csv" --platform meta --all \
  --out "$TMP/hostile/aud" >"$TMP/setup.log" 2>&1 || setup_failed "audience with hostile names"
tribe_np 1 export "$TMP/hostile/results.h5" --csv "$TMP/hostile/e.csv" >"$TMP/setup.log" 2>&1 ||
  setup_failed "export with hostile names"
check "hostile segment names: safe file names, neutralised cells" $PY - "$TMP/hostile" <<'PY'
import csv, os, re, sys
d = sys.argv[1]
files = sorted(os.listdir(os.path.join(d, "aud")))
assert files == ["audience_summary.csv", "meta_custom_audience_segment_0_hyperlink-http-x.csv",
                 "meta_custom_audience_segment_1_evil.csv", "meta_custom_audience_segment_2_sum-a1.csv"], files
assert not os.path.exists(os.path.join(d, "..", "evil")) and not os.path.exists(os.path.join(d, "evil"))
s = list(csv.DictReader(open(os.path.join(d, "aud", "audience_summary.csv"), newline="")))
assert [r["segment_name"] for r in s] == ["'=HYPERLINK(\"http://x\")", "../../evil", "'@SUM(A1)"], s
number = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")
for p in (os.path.join(d, "aud", "audience_summary.csv"), os.path.join(d, "e.csv")):
    bad = [c for row in csv.reader(open(p, newline="")) for c in row
           if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not number.match(c)]
    assert not bad, (p, bad[:3])
e = list(csv.DictReader(open(os.path.join(d, "e.csv"), newline="")))
assert {r["top_segment_name"] for r in e} <= {"'=HYPERLINK(\"http://x\")", "../../evil", "'@SUM(A1)"}
PY

# The export carries every per-customer output of the run, after the old columns.
tribe_np 1 export "$OUT/results.h5" --csv "$TMP/e1.csv" >"$TMP/setup.log" 2>&1 || setup_failed "export on 1 rank"
tribe_np 2 export "$OUT/results.h5" --csv "$TMP/e2.csv" >"$TMP/setup.log" 2>&1 || setup_failed "export on 2 ranks"
tribe_np 4 export "$OUT/results.h5" --csv "$TMP/e4.csv" >"$TMP/setup.log" 2>&1 || setup_failed "export on 4 ranks"
check "export identical on 1, 2 and 4 ranks" bash -c "cmp '$TMP/e1.csv' '$TMP/e2.csv' && cmp '$TMP/e1.csv' '$TMP/e4.csv'"
check "export's run columns equal results.h5" $PY - "$OUT/results.h5" "$TMP/e1.csv" <<'PY'
import csv, h5py, numpy as np, sys
f = h5py.File(sys.argv[1], "r")
rows = list(csv.reader(open(sys.argv[2], newline="")))
head, body = rows[0], rows[1:]
col = lambda name: [r[head.index(name)] for r in body]
f32 = lambda name: np.array(col(name), dtype=np.float32)
names = [n.decode() if isinstance(n, bytes) else n for n in f["/segments"].attrs["names"]]
sid, lab = f["/segments/segment_id"][:], f["/segments/label"][:]
m = f["/segments/membership"][:]
old = head[:head.index("segment_name") + 1]
assert old[0] == "customer_id" and old[-2:] == ["segment_id", "segment_name"], old
assert head[len(old):] == ["distance", "outlier", "outlier_score_iqr", "top_segment_id", "top_segment_name",
                           "top_membership_probability"] + ["membership_segment_%d" % s for s in sid], head
assert [int(x) for x in col("customer_id")] == list(f["/segments/id"][:])
assert [int(x) for x in col("segment_id")] == list(sid[lab])
assert (f32("distance") == f["/segments/distance"][:]).all()
assert [int(x) for x in col("outlier")] == list(f["/segments/outlier"][:])
assert (f32("outlier_score_iqr") == f["/segments/outlier_score"][:]).all()
top = m.argmax(axis=1)
assert [int(x) for x in col("top_segment_id")] == list(sid[top])
assert col("top_segment_name") == [names[t] for t in top]
assert (f32("top_membership_probability") == m[np.arange(len(top)), top]).all()
for c, s in enumerate(sid):
    assert (f32("membership_segment_%d" % s) == m[:, c]).all()
assert f["/segments/outlier"][:].sum() > 0
PY
finish
