#!/usr/bin/env bash
# Proves that a change left the results unchanged (docs/architecture.md, "Checking that results did not
# change"): builds BASE_REV in a temporary git worktree and this checkout, generates the inputs once (with
# this checkout's build), runs the same jobs with both binaries on 2 MPI ranks (every stage on), and
# compares results.h5 (/segments and /model bit for bit, the run record's figures), personas.json,
# segments.csv and campaign_plan.csv (byte for byte). report.html is not compared.
#
#   tools/same_results.sh [BASE_REV] [options]        (BASE_REV: any rev or branch; default c2bf84b,
#                                                      the main before issue 10)
#   --customers N         demo customers (tribe gen + ingest, as tools/demo.sh; default 20000)
#   --blobs N             rows of the tribe gen --blobs table (default 30000)
#   --build DIR           build this checkout into DIR (default: build/ of this checkout)
#   --keep DIR            work in DIR (must be empty or absent) and keep it: inputs, job specs, outputs, logs
#   --allow-missing NAME  an intended difference: NAME may be missing from the new results (not a failure);
#                         repeatable. NAME: a dataset or group (/segments/ltv), an attribute
#                         (/model/k_sweep@stability_ari), a run-record figure (/runs@inertia) or an output
#                         file (personas.json); shell patterns allowed (/model/foo/*)
#   --allow-diff NAME     an intended difference: NAME may differ or be absent (reported, not a failure)
#   --cmake ARG           extra argument for both builds (repeatable), e.g. --cmake -DSOME_OPTION=OFF
#
# Datasets only the NEW results have are reported as "added" and do not fail (new outputs are allowed);
# anything removed or changed fails. Exit codes: 0 everything identical, 1 differences, 2 usage,
# 3 a build or the input generation failed (or python3-h5py is missing: tools/setup.sh --test),
# 4 a job key is not documented or not accepted in both versions (renamed?), 5 a run failed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base_rev=c2bf84b
customers=20000
blob_rows=30000
new_build=$root/build
keep=""
allow=()
cmake_args=()
PY=/usr/bin/python3
MPIEXEC=${MPIEXEC:-mpiexec}

usage() { sed -n '2,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
die() { # die CODE message
  local code=$1
  shift
  echo "same_results: $*" >&2
  exit "$code"
}
say() { echo "== [$(date +%T)] $*" >&2; }

positional=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --customers) customers=${2:?}; shift 2 ;;
    --blobs) blob_rows=${2:?}; shift 2 ;;
    --build) new_build=$(realpath -m "${2:?}"); shift 2 ;;
    --keep) keep=$(realpath -m "${2:?}"); shift 2 ;;
    --allow-missing) allow+=("missing=${2:?}"); shift 2 ;;
    --allow-diff) allow+=("diff=${2:?}"); shift 2 ;;
    --cmake) cmake_args+=("${2:?}"); shift 2 ;;
    -h | --help) usage ;;
    -*) echo "same_results: unknown option '$1'" >&2; usage ;;
    *)
      [[ $positional -eq 0 ]] || { echo "same_results: one BASE_REV only ('$1')" >&2; usage; }
      base_rev=$1; positional=1; shift ;;
  esac
done
[[ $customers =~ ^[1-9][0-9]*$ && $blob_rows =~ ^[1-9][0-9]*$ ]] || die 2 "--customers and --blobs take a positive integer"
base_sha=$(git -C "$root" rev-parse --verify --quiet "$base_rev^{commit}") || die 2 "'$base_rev' is not a revision of $root"
"$PY" -c 'import h5py, numpy' 2>/dev/null || die 3 "$PY cannot import h5py and numpy: run tools/setup.sh --test"

start=$SECONDS
if [[ -n $keep ]]; then
  [[ ! -e $keep || -z $(ls -A "$keep") ]] || die 2 "--keep $keep: not empty"
  mkdir -p "$keep"
  W=$keep
else
  W=$(mktemp -d /tmp/same-results-XXXXXX)
fi
cleanup() {
  if [[ -d $W/base-src ]]; then
    git -C "$root" worktree remove --force "$W/base-src" >/dev/null 2>&1 || true
  fi
  git -C "$root" worktree prune >/dev/null 2>&1 || true
  [[ -n $keep ]] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
OLD=$W/base-build/tribe
NEW=$new_build/tribe
np_run() { # np_run RANKS BINARY args...
  local n=$1
  shift
  "$MPIEXEC" -n "$n" --oversubscribe --bind-to none "$@"
}

D=$W/data
# ---- job specs: every stage on; only keys documented in docs/job-spec.md of both versions ----------------
J=$W/jobs
mkdir -p "$J"
LOG1P='"log1p": ["recency_days", "frequency", "monetary", "avg_order_value", "tenure_days",
                    "mean_days_between", "distinct_products", "sessions", "pages_per_session", "minutes_on_site"]'
LTV='"ltv": {"train": "'$D/ltv_train.h5'", "test": "'$D/ltv_test.h5'", "horizon_days": 90'
RULES='"campaign": {"rules": [
   {"segment_match": "At Risk", "campaign": "20% comeback code", "channel": "sms", "response_rate": 0.1},
   {"segment_match": "*", "channel": "auto"}]}'
# demo-fixed: fixed K, the default engine (mini-batch, k-means++)
cat >"$J/demo-fixed.json" <<JSON
{"input": "$D/customers.h5", "output": "@OUT@", "run_id": "demo-fixed", "seed": 42,
 "features": {$LOG1P, "standardize": true},
 "kmeans": {"k": 6, "batch_size": 2048, "max_steps": 200},
 "silhouette": {"sample_size": 2000},
 "projection": {"sample_size": 3000},
 "outliers": {"enabled": true, "method": "iqr", "threshold": 1.5},
 "gmm": {"enabled": true, "max_iter": 100, "sample_size": 0},
 "ward": {"enabled": true},
 "drivers": {"enabled": true, "n_rounds": 20, "sample_size": 4000},
 $LTV, "n_rounds": 60},
 "persona": {"provider": "offline"},
 $RULES}
JSON
# demo-sweep: a K range (k_min/k_max), chosen by the sweep's criteria; another LTV objective
cat >"$J/demo-sweep.json" <<JSON
{"input": "$D/customers.h5", "output": "@OUT@", "run_id": "demo-sweep", "seed": 7,
 "features": {$LOG1P, "standardize": true},
 "kmeans": {"k_min": 3, "k_max": 7},
 "silhouette": {"sample_size": 1500},
 "projection": {"sample_size": 2000},
 "outliers": {"enabled": true, "threshold": 2},
 "gmm": {"enabled": true, "sample_size": 8000},
 "ward": {"enabled": true},
 "drivers": {"enabled": true, "n_rounds": 15, "train_rows": 12000},
 $LTV, "n_rounds": 40, "objective": "poisson"},
 "persona": {"provider": "offline"},
 $RULES}
JSON
# blobs-fixed: fixed K with k-means|| seeding, full-batch Lloyd and restarts
cat >"$J/blobs-fixed.json" <<JSON
{"input": "$D/blobs.h5", "output": "@OUT@", "run_id": "blobs-fixed", "seed": 3,
 "kmeans": {"k": 5, "init": "kmeans||", "algorithm": "lloyd", "n_init": 2},
 "silhouette": {"sample_size": 2000},
 "projection": {"sample_size": 3000},
 "outliers": {"enabled": true, "threshold": 1.5},
 "gmm": {"enabled": true},
 "ward": {"enabled": true},
 "drivers": {"enabled": true, "n_rounds": 10, "sample_size": 2000},
 "persona": {"provider": "offline"},
 "campaign": {"rules": [{"segment_match": "*", "channel": "email", "response_rate": 0.05}]}}
JSON
# blobs-sweep: a K range written as [k_min, k_max], k-means++ then Lloyd on the sample, best of 3
cat >"$J/blobs-sweep.json" <<JSON
{"input": "$D/blobs.h5", "output": "@OUT@", "run_id": "blobs-sweep", "seed": 11,
 "kmeans": {"k": [4, 7], "init": "kmeans++-lloyd", "algorithm": "lloyd", "n_init": 3, "init_sample": 5000},
 "silhouette": {"sample_size": 2000},
 "projection": {"sample_size": 3000},
 "outliers": {"enabled": true, "threshold": 2.5},
 "gmm": {"enabled": true, "sample_size": 10000},
 "ward": {"enabled": true},
 "drivers": {"enabled": true, "n_rounds": 8},
 "persona": {"provider": "offline"}}
JSON
jobs=(demo-fixed demo-sweep blobs-fixed blobs-sweep)

# ---- the comparison program (python3 + h5py) --------------------------------------------------------------
cat >"$W/same_results.py" <<'PY'
"""keys: job keys used vs docs/job-spec.md of both versions. compare: old vs new outputs, the table."""
import fnmatch, json, os, re, sys

def doc_keys(path):
    """Every `key` in the first cell of a table row of a job-spec.md."""
    keys = set()
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^\|([^|]*)\|", line)
        if m:
            keys.update(re.findall(r"`([^`]+)`", m.group(1)))
    return keys

def leaf_keys(v, path=""):
    if isinstance(v, dict):
        out = []
        for k, w in v.items():
            out += leaf_keys(w, path + "." + k if path else k)
        return out
    return [path]   # scalars and arrays (campaign.rules: its items are documented in docs/campaigns.md)

def cmd_keys(base_doc, new_doc, base_name, specs):
    old, new = doc_keys(base_doc), doc_keys(new_doc)
    used = {}
    for spec in specs:
        for k in leaf_keys(json.load(open(spec))):
            used.setdefault(k, []).append(os.path.basename(spec)[:-5])
    bad = []
    for k, jobs in sorted(used.items()):
        where = [n for n, s in ((base_name, old), ("this checkout", new)) if k not in s]
        if where:
            bad.append("job key '%s' (jobs %s) is not in docs/job-spec.md of %s" %
                       (k, ", ".join(jobs), " nor ".join(where)))
            print("same_results: " + bad[-1], file=sys.stderr)
    if bad:
        print("same_results: a key renamed or removed by the change? Use a key both versions know, or list "
              "the rename as an intended difference and adapt the jobs in tools/same_results.sh",
              file=sys.stderr)
    return 4 if bad else 0

# ---- comparison ----
import numpy as np
import h5py

class Allow:
    def __init__(self, specs):
        self.specs = [s.split("=", 1) for s in specs]
        self.used = set()

    def __call__(self, name, kind):   # kind: "missing" or "diff"
        for how, pat in self.specs:
            if (how == "diff" or kind == "missing") and fnmatch.fnmatchcase(name, pat):
                self.used.add(pat)
                return True
        return False

def norm(v):
    """An attribute value or dataset content as (kind, dtype, shape, comparable)."""
    a = np.asarray(v)
    if a.dtype.kind in "OUS":
        items = a.ravel().tolist()
        # Strings compare by content: h5py gives str for variable-length strings (tribe before issue 15)
        # and bytes for the fixed-length ones tribe writes since (docs/hdf5-layout.md).
        flat = [x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x) for x in items]
        return "str", "strings", a.shape, flat
    return "num", a.dtype.str, a.shape, a

def show(x):
    if isinstance(x, float) and x != x:
        return "nan"
    r = repr(x)
    return r if len(r) <= 60 else r[:57] + "..."

def around(x, y):
    """Two differing strings cut to a window around their first difference."""
    i = next((j for j, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
    lo = max(0, i - 25)
    cut = lambda t: ("..." if lo else "") + t[lo:i + 35] + ("..." if len(t) > i + 35 else "")
    return repr(cut(x)), repr(cut(y))

def first_diffs(a, b, name):
    """Bit-level comparison of two same-dtype, same-shape arrays: (count, [(index, old, new)])."""
    ua = ub = None
    if a.dtype.itemsize in (1, 2, 4, 8):
        u = np.dtype("u%d" % a.dtype.itemsize)
        ua, ub = a.reshape(-1).view(u), b.reshape(-1).view(u)
        neq = ua != ub
    else:
        w = a.dtype.itemsize
        neq = (a.reshape(-1).view(np.uint8).reshape(-1, w) != b.reshape(-1).view(np.uint8).reshape(-1, w)).any(1)
    idx = np.flatnonzero(neq)
    out = []
    for i in idx[:3]:
        at = tuple(int(j) for j in np.unravel_index(i, a.shape)) if a.ndim > 1 else int(i)
        x, y = a.reshape(-1)[i].item(), b.reshape(-1)[i].item()
        if a.dtype == np.uint8 and name.endswith("_json"):   # JSON text stored as bytes: show the context
            x, y = around(bytes(a).decode("utf-8", "replace"), bytes(b).decode("utf-8", "replace"))
        elif show(x) == show(y) and ua is not None:   # -0.0 vs 0.0 prints apart; NaN payloads do not
            x, y = "bits %#x" % ua[i], "bits %#x" % ub[i]
        else:
            x, y = show(x), show(y)
        out.append((at, x, y))
    return len(idx), out

def diff_values(va, vb, name):
    """None when bit-identical, else a one-line description of the first differences."""
    ka, ta, sa, xa = norm(va)
    kb, tb, sb, xb = norm(vb)
    if (ka, ta) != (kb, tb):
        return "dtype %s -> %s" % (ta, tb)
    if sa != sb:
        return "shape %s -> %s" % (sa, sb)
    if ka == "str":
        bad = [i for i, (x, y) in enumerate(zip(xa, xb)) if x != y]
        if not bad:
            return None
        i = bad[0]
        x, y = around(str(xa[i]), str(xb[i]))
        return "%d of %d strings differ; first at [%d]: old %s, new %s" % (len(bad), len(xa), i, x, y)
    n, first = first_diffs(xa, xb, name)
    if n == 0:
        return None
    return "%d of %d values differ; first %s" % (n, xa.size, "; ".join(
        "at %s: old %s, new %s" % (at, x, y) for at, x, y in first))

def walk(f, top):
    """name -> h5py object for the group top and everything under it."""
    objs = {}
    if top in f:
        objs["/" + top] = f[top]
        f[top].visititems(lambda n, o: objs.__setitem__("/%s/%s" % (top, n), o))
    return objs

class Cell:
    def __init__(self):
        self.compared, self.added, self.fails, self.notes, self.allowed = 0, [], [], [], 0

    def record(self, what, allowed):
        """A difference: a failure, or a note when --allow-missing/--allow-diff names it."""
        if allowed:
            self.allowed += 1
            self.notes.append(what + " (allowed)")
        else:
            self.fails.append(what)

    def text(self):
        if self.fails:
            return "DIFFERS (%d)" % len(self.fails)
        s = "identical"
        if self.compared:
            s += " (%d)" % self.compared
        if self.allowed:
            s += ", %d allowed" % self.allowed
        if self.added:
            s += ", +%d added" % len(self.added)
        return s

def compare_group(fa, fb, top, allow, cell, names):
    oa, ob = walk(fa, top), walk(fb, top)
    for name in sorted(set(oa) | set(ob)):
        a, b = oa.get(name), ob.get(name)
        if a is None:
            cell.added.append(name)
            continue
        if b is None:
            cell.record("%s: in old only (removed)" % name, allow(name, "missing"))
            continue
        if isinstance(a, h5py.Dataset) != isinstance(b, h5py.Dataset):
            cell.fails.append("%s: a dataset in one file, a group in the other" % name)
            continue
        if isinstance(a, h5py.Dataset):
            cell.compared += 1
            names.append(name)
            d = diff_values(a[()], b[()], name)
            if d:
                cell.record("%s: %s" % (name, d), allow(name, "diff"))
        for at in sorted(set(a.attrs) | set(b.attrs)):
            an = "%s@%s" % (name, at)
            if at.endswith("_seconds") and at in a.attrs and at in b.attrs:
                continue  # wall-clock times (k_sweep's fit and score seconds) differ between any two runs
            if at not in a.attrs:
                cell.added.append(an)
            elif at not in b.attrs:
                cell.record("%s: in old only (removed)" % an, allow(an, "missing") or allow(name, "missing"))
            else:
                d = diff_values(a.attrs[at], b.attrs[at], an)
                if d:
                    cell.record("%s: %s" % (an, d), allow(an, "diff") or allow(name, "diff"))

RUN_FIGURES = ("seed", "customers", "k", "silhouette", "silhouette_ci95", "inertia", "k_reason", "outliers",
               "gmm_loglik", "gmm_iterations", "k_stability_ari")

def compare_runs(fa, fb, run_id, allow, cell):
    ga, gb = fa.get("runs/" + run_id), fb.get("runs/" + run_id)
    if ga is None or gb is None:
        cell.fails.append("/runs/%s: missing in %s" % (run_id, "old" if ga is None else "new"))
        return
    for at in RUN_FIGURES:
        an = "/runs@" + at
        if at in ga.attrs and at in gb.attrs:
            cell.compared += 1
            d = diff_values(ga.attrs[at], gb.attrs[at], an)
            if d:
                cell.record("%s: %s" % (an, d), allow(an, "diff"))
        elif at in ga.attrs or at in gb.attrs:
            cell.notes.append("%s only in %s: not compared" % (an, "old" if at in ga.attrs else "new"))

def compare_file(pa, pb, name, allow, cell):
    if not os.path.exists(pb) or not os.path.exists(pa):
        if not os.path.exists(pa) and not os.path.exists(pb):
            return
        if not os.path.exists(pa):
            cell.added.append(name)
        else:
            cell.record("%s: in old only (removed)" % name, allow(name, "missing"))
        return
    a, b = open(pa, "rb").read(), open(pb, "rb").read()
    cell.compared += 1
    if a == b:
        return
    la, lb = a.split(b"\n"), b.split(b"\n")
    bad = [i for i in range(max(len(la), len(lb))) if i >= len(la) or i >= len(lb) or la[i] != lb[i]]
    i = bad[0]
    if i < len(la) and i < len(lb):
        x, y = around(la[i].decode("utf-8", "replace"), lb[i].decode("utf-8", "replace"))
    else:
        x, y = ("(no line)", "(line)") if i >= len(la) else ("(line)", "(no line)")
    d = "%d of %d lines differ; first line %d: old %s, new %s" % (len(bad), max(len(la), len(lb)), i + 1, x, y)
    cell.record("%s: %s" % (name, d), allow(name, "diff"))

MAX_DIFF_LINES = 12   # per job; the count in the table is complete
COLUMNS = ("/segments", "/model", "run record", "personas.json", "segments.csv", "campaign_plan.csv")

def compact(names):
    """/segments/a /segments/b /model/x/y -> '/segments: a b; /model: x/y'."""
    by = {}
    for n in names:
        top, rest = n[1:].split("/", 1)
        by.setdefault("/" + top, []).append(rest)
    return "; ".join("%s (%d): %s" % (t, len(v), " ".join(v)) for t, v in by.items())

def cmd_compare(allow_specs, rows):
    allow = Allow(allow_specs)
    table, listed, failed = [], {}, False
    for row in rows:
        label, run_id, da, db = row.split("|")
        cells = {c: Cell() for c in COLUMNS}
        names = []
        ra, rb = os.path.join(da, "results.h5"), os.path.join(db, "results.h5")
        if not (os.path.exists(ra) and os.path.exists(rb)):
            for c in COLUMNS[:3]:
                cells[c].fails.append("results.h5 missing in " + ("old" if not os.path.exists(ra) else "new"))
        else:
            with h5py.File(ra, "r") as fa, h5py.File(rb, "r") as fb:
                compare_group(fa, fb, "segments", allow, cells["/segments"], names)
                compare_group(fa, fb, "model", allow, cells["/model"], names)
                compare_runs(fa, fb, run_id, allow, cells["run record"])
                for top in sorted(set(fb) - set(fa) - {"segments", "model", "runs"}):
                    cells["/model"].notes.append("top-level /%s only in new: not compared" % top)
                for top in sorted(set(fa) - {"segments", "model", "runs"}):
                    cells["/model"].notes.append("top-level /%s not compared" % top)
        for f in COLUMNS[3:]:
            compare_file(os.path.join(da, f), os.path.join(db, f), f, allow, cells[f])
        table.append((label, cells))
        key = compact(names)
        listed.setdefault(key, []).append(label)
        failed |= any(c.fails for c in cells.values())

    w = max([len("job")] + [len(t[0]) for t in table])
    cw = [max(len(c), max(len(cells[c].text()) for _, cells in table)) for c in COLUMNS]
    line = lambda first, rest: "| " + first.ljust(w) + " | " + " | ".join(r.ljust(n) for r, n in zip(rest, cw)) + " |"
    print(line("job", COLUMNS))
    print("|" + "-" * (w + 2) + "|" + "|".join("-" * (n + 2) for n in cw) + "|")
    for label, cells in table:
        print(line(label, [cells[c].text() for c in COLUMNS]))
    print("(n) = datasets, run-record figures or files compared, all bit for bit; n allowed = differences named by "
          "--allow-missing/--allow-diff; +n added = only in new (allowed)")
    for label, cells in table:
        lines = [("DIFF  %s  %s" % (label, f)) for c in COLUMNS for f in cells[c].fails]
        if len(lines) > MAX_DIFF_LINES:
            lines[MAX_DIFF_LINES:] = ["DIFF  %s  ... and %d more" % (label, len(lines) - MAX_DIFF_LINES)]
        lines += [("note  %s  %s" % (label, n)) for c in COLUMNS for n in cells[c].notes]
        lines += [("added %s  %s (only in new: allowed)" % (label, a)) for c in COLUMNS for a in cells[c].added]
        for l in lines:
            print(l)
    print("datasets compared:")
    for key, labels in listed.items():
        print("  %s:\n    %s" % (", ".join(labels), key))
    print("run-record figures compared when in both: " + " ".join(RUN_FIGURES))
    for how, pat in allow.specs:
        if pat not in allow.used:
            print("note  --allow-%s %s matched nothing" % (how, pat))
    allowed = sum(c.allowed for _, cells in table for c in cells.values())
    print("RESULT: " + ("DIFFERENCES" if failed else
                        "identical apart from %d allowed differences" % allowed if allowed else "identical"))
    return 1 if failed else 0

if __name__ == "__main__":
    if sys.argv[1] == "keys":
        sys.exit(cmd_keys(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]))
    allow_specs, rows = [], []
    for a in sys.argv[2:]:
        (allow_specs if a.startswith(("missing=", "diff=")) else rows).append(a)
    sys.exit(cmd_compare(allow_specs, rows))
PY

git -C "$root" show "$base_sha:docs/job-spec.md" >"$W/job-spec.base.md" 2>/dev/null ||
  die 4 "$base_rev has no docs/job-spec.md to check the job keys against"
"$PY" "$W/same_results.py" keys "$W/job-spec.base.md" "$root/docs/job-spec.md" "$base_rev" "$J"/*.json || exit 4

# ---- builds -------------------------------------------------------------------------------------------
say "building base $base_rev (${base_sha:0:10}) in a temporary worktree -> $W/base-build"
git -C "$root" worktree add --detach "$W/base-src" "$base_sha" >"$W/worktree.log" 2>&1 ||
  { cat "$W/worktree.log" >&2; die 3 "git worktree add $base_rev failed"; }
[[ -x $W/base-src/tools/build.sh ]] || die 3 "$base_rev has no tools/build.sh"
"$W/base-src/tools/build.sh" "$W/base-build" -DTRIBE_TESTS=OFF ${cmake_args[@]+"${cmake_args[@]}"} ||
  die 3 "building $base_rev failed (logs: $W/base-build.cmake.log, $W/base-build.build.log)"
git -C "$root" worktree remove --force "$W/base-src" >/dev/null 2>&1 || true
say "building this checkout ($root) -> $new_build"
"$root/tools/build.sh" "$new_build" ${cmake_args[@]+"${cmake_args[@]}"} ||
  die 3 "building this checkout failed (logs: $new_build.cmake.log, $new_build.build.log)"
[[ -x $OLD && -x $NEW ]] || die 3 "a build produced no tribe binary"
# ---- inputs, once, with this checkout's build -----------------------------------------------------------
mkdir -p "$D"
say "inputs: $customers demo customers (seed 42), LTV windows, a $blob_rows-row blobs table -> $D"
gen_step() { # gen_step LOGNAME args...: one input step on 2 ranks with the new binary
  local log=$D/$1.log
  shift
  np_run 2 "$NEW" "$@" >"$log" 2>&1 || { sed '/^-----/,$d' "$log" | tail -5 >&2; die 3 "input step failed: tribe $*"; }
}
gen_step gen gen --customers "$customers" --seed 42 -o "$D/raw"
sources=(--transactions "$D/raw/transactions.csv" --web "$D/raw/web_events.csv" --demographics "$D/raw/demographics.csv")
gen_step ingest ingest "${sources[@]}" --rejects "$D/rejects.csv" -o "$D/customers.h5"
# The two LTV windows, one horizon apart, the later one ending at gen's last invoice day (2011-12-09):
# <name>.h5 (features as of the cutoff) and <name>.target.h5 (spend in the horizon); docs/ltv.md.
gen_step ltv_train ingest "${sources[@]}" -o "$D/ltv_train.h5" --cutoff 2011-06-12 --horizon 90
gen_step ltv_test ingest "${sources[@]}" -o "$D/ltv_test.h5" --cutoff 2011-09-10 --horizon 90
gen_step blobs gen --blobs --customers "$blob_rows" --features 8 --clusters 5 --seed 3 -o "$D/blobs.h5"
# A base from before issue 15 reads only variable-length string attributes, which this checkout no longer
# writes: the old side gets a copy of the inputs with them rewritten (the data are the same bytes).
D_OLD=$D
if ! git -C "$root" show "$base_sha:src/io/h5.c" 2>/dev/null | grep -q fixed_str_type; then
  D_OLD=$D.old
  cp -r "$D" "$D_OLD"
  "$PY" "$root/tools/h5_vlen_strings.py" "$D_OLD"/*.h5 || die 3 "rewriting the inputs for $base_rev failed"
fi

# ---- runs -----------------------------------------------------------------------------------------------
run_job() { # run_job SIDE BINARY RANKS THREADS JOB
  local side=$1 bin=$2 n=$3 t=$4 job=$5
  local out=$W/out/$side/$job spec=$W/out/$side/$job.json
  mkdir -p "$W/out/$side"
  sed "s|@OUT@|$out|" "$J/$job.json" >"$spec"
  [[ $side != old ]] || sed -i "s|\"$D/|\"$D_OLD/|g" "$spec"
  local t0=$SECONDS rc=0
  OMP_NUM_THREADS=$t np_run "$n" "$bin" run "$spec" >"$out.log" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    sed '/^-----/,$d' "$out.log" | tail -5 >&2   # tribe's message, not mpiexec's banner
    if grep -q "unknown key" "$out.log"; then
      die 4 "the $side build rejects a key of $job.json ($(grep -o "unknown key '[^']*'" "$out.log" | head -1)):" \
        "renamed by the change?"
    fi
    die 5 "$side run of $job failed with exit code $rc${keep:+ (log: $out.log)}"
  fi
  say "  $side $job on $n rank(s) x $t thread(s): $((SECONDS - t0)) s"
}
say "running ${#jobs[@]} jobs with both builds on 2 ranks, and demo-fixed with the new build on 1 rank"
rows=()
for job in "${jobs[@]}"; do
  run_job old "$OLD" 2 1 "$job"
  run_job new "$NEW" 2 1 "$job"
  rows+=("$job|$job|$W/out/old/$job|$W/out/new/$job")
done
run_job new-1rank "$NEW" 1 2 demo-fixed
rows+=("demo-fixed (new: 1 rank)|demo-fixed|$W/out/old/demo-fixed|$W/out/new-1rank/demo-fixed")

# ---- compare --------------------------------------------------------------------------------------------
say "comparing (old = $base_rev ${base_sha:0:10} on 2 ranks, new = $root)"
rc=0
"$PY" "$W/same_results.py" compare ${allow[@]+"${allow[@]}"} "${rows[@]}" || rc=$?
[[ $rc -le 1 ]] || die 5 "the comparison itself failed (exit $rc)"
echo "took $((SECONDS - start)) s${keep:+; work dir kept: $W}"
exit $rc
