#!/usr/bin/env bash
# report.html read the way a marketer reads it, every figure on the page checked against results.h5
# (tests/e2e/report_truth.py): the model's feature count, sure members recomputed from the
# memberships, the silhouette's band and interval, the ledger's dates and sources, "n/a" days between
# orders for one-order segments, the shading of recency, illustrative demographics, each evidence
# item's figure and wording by the order profile. Two generated runs (without demographics and a
# model on 6 of the 7 features; with demographics and a cutoff), Online Retail when
# ../shared/data has it, and the page at 420 px in headless Chromium when there is one (no sideways
# scrolling, the glance chart's text at least 12 px).
source "$(dirname "$0")/lib.sh"
HELPER="$TRIBE_SOURCE_DIR/tests/e2e/report_truth.py"
CHROMIUM=${TRIBE_CHROMIUM:-/usr/bin/chromium}

# truth NAME DIR CUSTOMERS.h5 [--demographics]: the helper's checks on DIR/report.html.
truth() {
  local name=$1 dir=$2 cust=$3
  shift 3
  if $PY "$HELPER" "$dir/report.html" "$dir/results.h5" "$cust" "$@" >"$TMP/truth-$name.txt" 2>&1; then
    ok "$name: $(grep -c '^ok' "$TMP/truth-$name.txt") figures on the page agree with results.h5"
  else
    fail "$name: the page disagrees with results.h5"
    grep -v '^ok' "$TMP/truth-$name.txt" | head -20 | sed 's/^/    /'
  fi
}

# narrow NAME DIR: the page in a 420 px frame: scroll width and the glance chart's font size.
narrow() {
  local name=$1 dir=$2
  [[ -x $CHROMIUM ]] || { ok "$name: SKIP layout at 420 px (no Chromium at $CHROMIUM)"; return 0; }
  cat >"$dir/narrow.html" <<'HTML'
<!DOCTYPE html><html><body style="margin:0"><iframe id="f" src="report.html" style="width:420px;height:900px;border:0"></iframe>
<script>
document.getElementById('f').addEventListener('load', () => {
  const d = document.getElementById('f').contentDocument, w = d.defaultView;
  const fonts = [...d.querySelectorAll('#glance .bn, #glance .bar span')].map(e => parseFloat(w.getComputedStyle(e).fontSize));
  document.body.setAttribute('data-probe', JSON.stringify({
    scroll: d.scrollingElement.scrollWidth, width: w.innerWidth, glance_min_font: Math.min(...fonts), glance_texts: fonts.length}));
});
</script></body></html>
HTML
  timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --allow-file-access-from-files --window-size=800,1000 \
    --virtual-time-budget=3000 --dump-dom "file://$dir/narrow.html" 2>/dev/null >"$TMP/narrow-$name.html" || true
  $PY - "$TMP/narrow-$name.html" <<'PY' >"$TMP/narrow-$name.txt" 2>&1 && ok "$name: at 420 px no sideways scrolling, glance text >= 12 px ($(cat "$TMP/narrow-$name.txt"))" || { fail "$name: layout at 420 px"; cat "$TMP/narrow-$name.txt"; }
import html, json, re, sys
m = re.search(r'data-probe="([^"]*)"', open(sys.argv[1]).read())
assert m, "the probe did not run"
p = json.loads(html.unescape(m.group(1)))
print(p)
assert p["width"] == 420 and p["scroll"] <= 420, p
assert p["glance_texts"] > 0 and p["glance_min_font"] >= 12, p
PY
}

# ---- generated data: no demographics, the model on 6 of the 7 features -------------------------
tribe_np 1 gen --customers 3000 --seed 21 --no-web -o "$TMP/raw" >/dev/null 2>&1 || { fail "gen"; finish; exit 1; }
tribe_np 1 ingest --transactions "$TMP/raw/transactions.csv" -o "$TMP/plain.h5" >/dev/null 2>"$TMP/ingest.err" ||
  { fail "ingest"; cat "$TMP/ingest.err"; finish; exit 1; }
write_job "$TMP/plain.json" "$TMP/plain.h5" "$TMP/plain" 5 '"features": {"columns": ["recency_days", "frequency", "monetary", "avg_order_value", "tenure_days", "mean_days_between"]}'
tribe_np 2 run "$TMP/plain.json" >/dev/null 2>"$TMP/plain.err" && ok "run without demographics on 2 ranks" ||
  { fail "run without demographics"; tail -5 "$TMP/plain.err"; }
truth generated "$TMP/plain" "$TMP/plain.h5"
narrow generated "$TMP/plain"

# ---- with demographics and a cutoff ---------------------------------------------------------------
tribe_np 1 ingest --transactions "$TMP/raw/transactions.csv" --demographics "$TMP/raw/demographics.csv" \
  --cutoff 2011-09-30 --horizon 60 -o "$TMP/demo.h5" >/dev/null 2>"$TMP/ingest2.err" ||
  { fail "ingest with demographics and a cutoff"; cat "$TMP/ingest2.err"; }
write_job "$TMP/demo.json" "$TMP/demo.h5" "$TMP/demo" 4
tribe_np 1 run "$TMP/demo.json" >/dev/null 2>"$TMP/demo.err" && ok "run with demographics and a cutoff" ||
  { fail "run with demographics"; tail -5 "$TMP/demo.err"; }
truth demographics "$TMP/demo" "$TMP/demo.h5" --demographics

# ---- the real Online Retail data, when it is here (about 10 s) -----------------------------------
data="${TRIBE_SHARED_DATA:-$TRIBE_SOURCE_DIR/../shared/data}/online-retail.csv.gz"
if [[ -r "$data" ]]; then
  tribe_np 2 ingest --transactions "$data" -o "$TMP/retail.h5" >/dev/null 2>"$TMP/retail-ingest.err" ||
    { fail "Online Retail ingest"; cat "$TMP/retail-ingest.err"; }
  write_job "$TMP/retail.json" "$TMP/retail.h5" "$TMP/retail" 5
  tribe_np 2 run "$TMP/retail.json" >/dev/null 2>"$TMP/retail.err" && ok "Online Retail run on 2 ranks" ||
    { fail "Online Retail run"; tail -5 "$TMP/retail.err"; }
  truth online-retail "$TMP/retail" "$TMP/retail.h5"
  narrow online-retail "$TMP/retail"
else
  echo "note: $data not found: Online Retail part skipped"
fi
finish
