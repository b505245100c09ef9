#!/usr/bin/env bash
# tribe publish into a PostgreSQL server this test starts (its own data directory under the test's
# tmp dir, a unix socket there, no TCP listener): row counts and values equal results.h5's, hostile
# segment names and persona texts (tab, newline, CR, quotes, backslashes, \N, non-ASCII) arrive as
# written, publishing again leaves the same database, a second run (with predicted lifetime value)
# moves the current views and keeps the history, --no-current backfills, and a row the server
# rejects mid-COPY, a connection killed mid-COPY, a segment name that is not UTF-8, a newer table
# layout and a server that refuses connections leave the database as it was (exit 3 / 4).
source "$(dirname "$0")/lib.sh"

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [[ -z $PGBIN || ! -x $PGBIN/initdb || ! -x $PGBIN/pg_ctl ]] || ! command -v psql >/dev/null; then
  echo "SKIP: the PostgreSQL server binaries (initdb, pg_ctl, psql) are missing;" \
    "tools/setup.sh --test installs 'postgresql'"
  exit 77
fi

# ---- the server: postgres refuses to run as root, so root runs it as the postgres user ----
PGD=$TMP/pg
SOCK=$PGD/sock
PORT=$((20000 + $$ % 20000))
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
  echo "SKIP: running as root and there is no 'postgres' user to run the server as (the 'postgresql' package makes it)"
  exit 77
fi
chmod 711 "$TMP"
mkdir -p "$SOCK"
[[ $(id -u) -ne 0 ]] || chown -R postgres "$PGD"
stop_pg() { as_pg "$PGBIN/pg_ctl" -D "$PGD/data" -m immediate stop >/dev/null 2>&1 || true; }
trap 'stop_pg; [[ -n ${KEEP_TMP:-} ]] || rm -rf "$TMP"' EXIT
as_pg "$PGBIN/initdb" -D "$PGD/data" -A trust -U tribe -E UTF8 --locale=C --no-sync >"$PGD/initdb.log" 2>&1 ||
  { fail "initdb"; tail -5 "$PGD/initdb.log"; finish; }
as_pg "$PGBIN/pg_ctl" -D "$PGD/data" -l "$PGD/server.log" -w -t 30 \
  -o "-c listen_addresses='' -k $SOCK -p $PORT -c fsync=off -c full_page_writes=off" start >/dev/null ||
  { fail "the PostgreSQL server starts"; tail -5 "$PGD/server.log"; finish; }
DB="host=$SOCK port=$PORT user=tribe dbname=postgres"
sql() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }

# ---- two small runs in one output directory ---------------------------------------------
setup_failed() { fail "$1 failed"; tail -5 "$TMP/setup.log"; finish; }
tribe_np 2 gen --customers 1500 --seed 5 -o "$TMP/raw" >"$TMP/setup.log" 2>&1 || setup_failed gen
tribe_np 1 ingest --transactions "$TMP/raw/transactions.csv" --web "$TMP/raw/web_events.csv" \
  --demographics "$TMP/raw/demographics.csv" -o "$TMP/c.h5" >"$TMP/setup.log" 2>&1 || setup_failed ingest
# r2 predicts lifetime value: transactions only, with a training and a test window (docs/ltv.md)
for w in "ctx" "train --cutoff 2011-06-12 --horizon 90" "test --cutoff 2011-09-10 --horizon 90"; do
  read -r name cut <<<"$w"
  # shellcheck disable=SC2086
  tribe_np 1 ingest --transactions "$TMP/raw/transactions.csv" -o "$TMP/$name.h5" $cut >"$TMP/setup.log" 2>&1 ||
    setup_failed "ingest $name"
done
OFF='"drivers": {"enabled": false}, "ward": {"enabled": false}'
write_job "$TMP/job1.json" "$TMP/c.h5" "$TMP/out" 3 "\"run_id\": \"r1\", $OFF"
write_job "$TMP/job2.json" "$TMP/ctx.h5" "$TMP/out" 4 "\"run_id\": \"r2\", $OFF,
  \"ltv\": {\"train\": \"$TMP/train.h5\", \"test\": \"$TMP/test.h5\", \"horizon_days\": 90, \"n_rounds\": 20}"
for r in 1 2; do
  tribe_np 2 run "$TMP/job$r.json" >"$TMP/setup.log" 2>&1 || setup_failed "run r$r"
done
R1=$TMP/out/runs/r1

# Hostile texts in run r1: segment names (results.h5) and persona fields (personas.json).
$PY - "$R1" <<'PY' || setup_failed "hostile texts"
import h5py, json, numpy, sys
d = sys.argv[1]
H = ["tab\there", "line\nbreak", "cr\rhere", 'quote "q" and \'s\'', "back\\slash \\N \\. \\t",
     "non-ASCII: Zoë, 東京, 🙂", "{braces},commas", "NULL", "", "\\", "end\\"]
with h5py.File(d + "/results.h5", "r+") as f:
    k = len(f["/segments"].attrs["names"])
    names = [("Seg%d " % c + H[c % len(H)]) for c in range(k)]
    del f["/segments"].attrs["names"]
    f["/segments"].attrs["names"] = numpy.array([n.encode() for n in names])
p = json.load(open(d + "/personas.json"))
for i, q in enumerate(p):
    q["name"] = H[(i + 1) % len(H)] + " Name"
    q["bio"] = "\t".join(H)
    q["tagline"] = "\n".join(H) + "\r\n"
    q["goals"] = H[:6]
    q["frustrations"] = H[5:]
    q["channels"] = []
json.dump(p, open(d + "/personas.json", "w"), ensure_ascii=False)
PY

# state: a fingerprint of every table (md5 of the rows in a fixed order), to compare states
state() { sql "SELECT string_agg(t || '=' || h, ' ' ORDER BY t) FROM (
  SELECT 'runs' t, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) h FROM tribe.runs x UNION ALL
  SELECT 'segments', md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM tribe.segments x UNION ALL
  SELECT 'personas', md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM tribe.personas x UNION ALL
  SELECT 'customers', md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM tribe.customers x UNION ALL
  SELECT 'current', coalesce((SELECT run_id FROM tribe.current), '-')) s"; }
h5n() { $PY -c "import h5py; print(h5py.File('$1/results.h5', 'r')['/segments/id'].shape[0])"; }

# ---- first publish: tables created, counts and values equal results.h5's ----------------
expect 0 "" -- "$TRIBE_BIN" publish "$R1" --db "$DB" --batch-rows 250
grep -q "published run r1 to schema tribe: .* (tables created) .*current run: r1" "$TMP/out.txt" &&
  ok "the summary names the run, the created tables and the current run" || { fail "summary"; cat "$TMP/out.txt"; }
N1=$(h5n "$R1")
check "customers: one row per results.h5 row ($N1)" test "$(sql "SELECT count(*) FROM tribe.customers")" -eq "$N1"
check "segments: K = 3 rows, personas: 3" \
  test "$(sql "SELECT count(*) FROM tribe.segments")/$(sql "SELECT count(*) FROM tribe.personas")" = 3/3
check "schema version 1" test "$(sql "SELECT version FROM tribe.schema_version")" = 1
check "the current views show r1" \
  test "$(sql "SELECT run_id, count(*) FROM tribe.current_customers GROUP BY 1")" = "r1|$N1"
# compare_run DIR RUN_ID: every row of the run in the tables equals the run's files.
compare_run() {
  sql "SELECT coalesce(json_agg(t), '[]') FROM (SELECT customer_id, segment_id, distance, outlier, outlier_score,
     top_segment_id, top_probability, predicted_value, name AS segment_name
     FROM tribe.customers JOIN tribe.segments USING (run_id, segment_id) WHERE run_id = '$2') t" >"$TMP/cust.json"
  sql "SELECT coalesce(json_agg(t), '[]') FROM (SELECT * FROM tribe.segments WHERE run_id = '$2') t" >"$TMP/seg.json"
  sql "SELECT coalesce(json_agg(t), '[]') FROM (SELECT * FROM tribe.personas WHERE run_id = '$2') t" >"$TMP/per.json"
  sql "SELECT coalesce(json_agg(t), '[]') FROM (SELECT * FROM tribe.runs WHERE run_id = '$2') t" >"$TMP/run.json"
  local rc=0
  $PY - "$1" "$TMP" <<'PY' || rc=$?
import h5py, json, numpy, sys
d, t = sys.argv[1], sys.argv[2]
f = h5py.File(d + "/results.h5", "r")
ids, lab = f["/segments/id"][:], f["/segments/label"][:]
sid = f["/segments/segment_id"][:]
names = [n.decode() for n in f["/segments"].attrs["names"]]
memb = f["/segments/membership"][:]
rows = {int(r["customer_id"]): r for r in json.load(open(t + "/cust.json"))}
assert len(rows) == len(ids)
f32 = lambda v: numpy.float32(v) if v is not None else None
for i in range(len(ids)):
    r = rows[int(ids[i])]
    assert r["segment_id"] == sid[lab[i]] and r["segment_name"] == names[lab[i]], (i, r)
    assert f32(r["distance"]) == f["/segments/distance"][i], (i, r)
    assert r["outlier"] == bool(f["/segments/outlier"][i])
    assert f32(r["outlier_score"]) == f["/segments/outlier_score"][i]
    top = int(numpy.argmax(memb[i]))
    assert r["top_segment_id"] == sid[top] and f32(r["top_probability"]) == memb[i][top], (i, r, memb[i])
    ltv = f["/segments/ltv"][i] if "/segments/ltv" in f else None
    assert (r["predicted_value"] is None) if ltv is None else f32(r["predicted_value"]) == ltv, (i, r, ltv)
segs = {s["segment_id"]: s for s in json.load(open(t + "/seg.json"))}
feats = [n.decode() for n in f["/segments/median"].attrs["feature_names"]]
for c in range(len(names)):
    s = segs[int(sid[c])]
    assert s["name"] == names[c] and s["label"] == c and s["size"] == f["/segments/size"][c]
    assert s["share"] == f["/segments/share"][c] and s["outliers"] == f["/segments/outlier_count"][c]
    for j, n in enumerate(feats):
        assert s["profile"][n]["median"] == f["/segments/median"][c][j], (n, s["profile"][n])
        assert s["profile"][n]["q3"] == f["/segments/q3"][c][j]
per = {p["segment_id"]: p for p in json.load(open(t + "/per.json"))}
for q in json.load(open(d + "/personas.json")):
    p = per[q["segment_id"]]
    for key in ["name", "age_band", "occupation", "bio", "goals", "frustrations", "channels", "quote",
                "email_subject", "email_body", "tagline", "image_prompt", "provider"]:
        assert p[key] == q[key], (key, p[key], q[key])
run = json.load(open(t + "/run.json"))[0]
rec = json.load(open(d + "/run.json"))
assert run["record"] == rec and run["settings"] == rec["settings"] and run["customers"] == len(ids)
assert run["k"] == len(names) and run["seed"] == rec["seed"] and run["input_hash"] == rec["input_hash"]
assert run["silhouette"] == rec["silhouette"] and run["ltv_horizon_days"] == rec.get("ltv", {}).get("horizon_days")
if "/segments/ltv" in f:
    assert all(segs[int(sid[c])]["ltv_mean"] == f["/segments/ltv_mean"][c] for c in range(len(names)))
    assert run["ltv_horizon_days"] == 90
PY
  if ((rc == 0)); then ok "$2: every customer's row, the segments, personas and run equal the run's files"
  else fail "$2: values equal the run's"; fi
}
compare_run "$R1" r1

# ---- idempotent: the same run again, on 2 ranks (rank 0 publishes), gives the same database ----
S1=$(state)
expect 0 "" -- tribe_np 2 publish "$R1" --db "$DB"
check "publishing the same run again leaves the same database" test "$(state)" = "$S1"
check "the summary says the run's rows were replaced" grep -q "replacing its earlier rows" "$TMP/out.txt"

# ---- a second run through the PG* variables and the output directory (latest = r2) ------
expect 0 "" -- env PGHOST="$SOCK" PGPORT="$PORT" PGUSER=tribe PGDATABASE=postgres "$TRIBE_BIN" publish "$TMP/out"
N2=$(h5n "$TMP/out/runs/r2")
check "the current views move to r2 (K = 4, $N2 customers)" \
  test "$(sql "SELECT run_id, count(*) FROM tribe.current_customers GROUP BY 1")/$(
    sql "SELECT count(*) FROM tribe.current_segments")" = "r2|$N2/4"
compare_run "$TMP/out/runs/r2" r2
check "the history keeps both runs" test "$(sql "SELECT string_agg(run_id || ':' || n, ',' ORDER BY run_id) FROM
  (SELECT run_id, count(*) n FROM tribe.customers GROUP BY 1) x")" = "r1:$N1,r2:$N2"
S2=$(state)
expect 0 "" -- "$TRIBE_BIN" publish "$R1" --db "$DB" --no-current
check "--no-current republishes r1 and leaves r2 current" test "$(state)" = "$S2"
check "the summary names r2 as the current run" grep -q "current run: r2" "$TMP/out.txt"

# ---- failures leave the database as it was ---------------------------------------------
# A server-side constraint rejects one customer of r1 mid-COPY (row 1000 of ~1500, fifth slice of 250).
BAD=$($PY -c "import h5py; print(h5py.File('$R1/results.h5', 'r')['/segments/id'][1000])")
sql "ALTER TABLE tribe.customers ADD CONSTRAINT reject_one CHECK (customer_id <> '$BAD') NOT VALID"
expect 3 "PostgreSQL, copying the customers: .*reject_one.*SQLSTATE 23514" -- \
  "$TRIBE_BIN" publish "$R1" --db "$DB" --batch-rows 250
check "a row rejected mid-COPY leaves every table as it was" test "$(state)" = "$S2"
sql "ALTER TABLE tribe.customers DROP CONSTRAINT reject_one"
# The connection killed mid-COPY: a trigger ends its own server process at that customer.
sql "CREATE FUNCTION public.kill_me() RETURNS trigger LANGUAGE plpgsql AS
  \$\$BEGIN IF NEW.customer_id = '$BAD' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
  RETURN NEW; END\$\$;
  CREATE TRIGGER kill_me BEFORE INSERT ON tribe.customers FOR EACH ROW EXECUTE FUNCTION public.kill_me()"
expect 4 "PostgreSQL, copying the customers: .*terminat" -- "$TRIBE_BIN" publish "$R1" --db "$DB" --batch-rows 250
cp "$TMP/err.txt" "$TMP/killed.txt"
sql "DROP TRIGGER kill_me ON tribe.customers; DROP FUNCTION public.kill_me()"
check "a connection killed mid-COPY leaves every table as it was" test "$(state)" = "$S2"
# A segment name that is not UTF-8: the server rejects it (exit 3).
mkdir "$TMP/bad" && cp "$R1"/{results.h5,run.json,personas.json} "$TMP/bad/"
$PY -c "import h5py, numpy; f = h5py.File('$TMP/bad/results.h5', 'r+'); n = list(f['/segments'].attrs['names'])
del f['/segments'].attrs['names']; f['/segments'].attrs['names'] = numpy.array([b'bad \xff byte'] + n[1:])"
expect 3 "PostgreSQL, copying the segments: invalid byte sequence .*SQLSTATE 22021" -- \
  "$TRIBE_BIN" publish "$TMP/bad" --db "$DB"
sql "UPDATE tribe.schema_version SET version = 99"
expect 4 "layout version 99, newer than this tribe's 1" -- "$TRIBE_BIN" publish "$R1" --db "$DB"
sql "UPDATE tribe.schema_version SET version = 1"
check "a newer table layout is refused with nothing changed" test "$(state)" = "$S2"
expect 4 "PostgreSQL, connecting: .*127.0.0.1.*refused" -- \
  "$TRIBE_BIN" publish "$R1" --db "host=127.0.0.1 port=1 dbname=x password=Sekr1t-pw connect_timeout=5"
check "the connection string's password is never printed" bash -c "! grep -q Sekr1t-pw '$TMP/err.txt' '$TMP/out.txt'"
expect 2 "--schema schema 'Bad-Name'" -- "$TRIBE_BIN" publish "$R1" --db "$DB" --schema Bad-Name
expect 4 "no such file or directory" -- "$TRIBE_BIN" publish "$TMP/nowhere" --db "$DB"
check "after the failures the database is as the last publish left it" test "$(state)" = "$S2"

# Another schema is independent of the first.
expect 0 "" -- "$TRIBE_BIN" publish "$TMP/out" --db "$DB" --schema tribe_b
check "--schema tribe_b holds its own tables" test "$(sql "SELECT count(*) FROM tribe_b.current_customers")" -eq "$N2"

# String customer ids (docs/ingest.md): a copy of r1 whose customers are C-00000, C-00001, ... (keys as
# tribe_id_key makes them for texts of up to 7 bytes) publishes the texts as customer_id.
cp -r "$R1" "$TMP/sid"
$PY - "$TMP/sid/results.h5" <<'PY' || fail "string-id copy of r1"
import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "r+") as f:
    n = f["/segments/id"].shape[0]
    texts = [b"C-%05d" % i for i in range(n)]
    keys = [(1 << 61) | (7 << 56) | int.from_bytes(t, "big") for t in texts]
    f["/segments/id"][:] = np.array(keys, dtype=np.int64)
    f.create_dataset("/segments/id_text", data=np.array(texts, dtype="S8"))
PY
expect 0 "" -- "$TRIBE_BIN" publish "$TMP/sid" --db "$DB" --schema tribe_s
check "string ids are published as given" \
  test "$(sql "SELECT string_agg(customer_id, ',' ORDER BY customer_id) FROM (SELECT customer_id FROM tribe_s.customers
        ORDER BY customer_id LIMIT 3) x")" = "C-00000,C-00001,C-00002"

finish
