/* tribe publish (tribe/publish.h): a finished run into PostgreSQL, in one
 * transaction on one connection:
 *   BEGIN; lock the schema against other publishers; create the tables when
 *   missing; delete the run's rows; COPY runs, segments, personas and the
 *   customers (streamed from results.h5 in slices); move the current-run
 *   pointer; COMMIT.
 * Any failure rolls back: the database is left as it was. */
#include "pg.h"
#include "publish_internal.h"
#include "tribe/id.h"

#include <stdlib.h>
#include <string.h>

/* COPY data goes to the server in pieces of about this many bytes. */
#define PUT_BYTES (1 << 20)

/* The tables and views of layout version 1 (docs/outputs.md, "PostgreSQL");
 * %1$s is the schema. A later layout adds its migration from this one. */
static const char DDL_V1[] =
    "CREATE SCHEMA IF NOT EXISTS \"%1$s\";\n"
    "CREATE TABLE \"%1$s\".schema_version (version integer NOT NULL, tribe_version text NOT NULL);\n"
    "INSERT INTO \"%1$s\".schema_version VALUES (1, '" TRIBE_VERSION "');\n"
    "CREATE TABLE \"%1$s\".runs (run_id text PRIMARY KEY, created timestamptz, input text, input_hash text,\n"
    "  customers bigint NOT NULL, k integer NOT NULL, seed bigint, silhouette double precision,\n"
    "  ltv_horizon_days integer, tribe_version text, job_spec jsonb, settings jsonb, record jsonb);\n"
    "CREATE TABLE \"%1$s\".segments (run_id text NOT NULL REFERENCES \"%1$s\".runs ON DELETE CASCADE,\n"
    "  segment_id bigint NOT NULL, label integer NOT NULL, name text NOT NULL, size bigint NOT NULL,\n"
    "  share double precision, revenue_share double precision, outliers bigint, ltv_mean double precision,\n"
    "  ltv_median double precision, ltv_total double precision, profile jsonb NOT NULL,\n"
    "  PRIMARY KEY (run_id, segment_id), UNIQUE (run_id, label));\n"
    "CREATE TABLE \"%1$s\".personas (run_id text NOT NULL, segment_id bigint NOT NULL, name text, age_band text,\n"
    "  occupation text, bio text, goals text[], frustrations text[], channels text[], quote text,\n"
    "  email_subject text, email_body text, tagline text, image_prompt text, provider text,\n"
    "  PRIMARY KEY (run_id, segment_id),\n"
    "  FOREIGN KEY (run_id, segment_id) REFERENCES \"%1$s\".segments ON DELETE CASCADE);\n"
    "CREATE TABLE \"%1$s\".customers (run_id text NOT NULL REFERENCES \"%1$s\".runs ON DELETE CASCADE,\n"
    "  customer_id text NOT NULL, segment_id bigint NOT NULL, distance real, outlier boolean,\n"
    "  outlier_score real, top_segment_id bigint, top_probability real, predicted_value real,\n"
    "  PRIMARY KEY (run_id, customer_id));\n"
    "CREATE TABLE \"%1$s\".current (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),\n"
    "  run_id text NOT NULL REFERENCES \"%1$s\".runs DEFERRABLE INITIALLY DEFERRED);\n"
    "CREATE VIEW \"%1$s\".current_run AS SELECT r.* FROM \"%1$s\".runs r JOIN \"%1$s\".current USING (run_id);\n"
    "CREATE VIEW \"%1$s\".current_segments AS\n"
    "  SELECT s.* FROM \"%1$s\".segments s JOIN \"%1$s\".current USING (run_id);\n"
    "CREATE VIEW \"%1$s\".current_personas AS\n"
    "  SELECT p.* FROM \"%1$s\".personas p JOIN \"%1$s\".current USING (run_id);\n"
    "CREATE VIEW \"%1$s\".current_customers AS\n"
    "  SELECT c.*, s.name AS segment_name FROM \"%1$s\".customers c JOIN \"%1$s\".current USING (run_id)\n"
    "  JOIN \"%1$s\".segments s USING (run_id, segment_id);\n";

void tribe_publish_cfg_default(tribe_publish_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->schema = "tribe";
    cfg->set_current = 1;
    cfg->batch_rows = TRIBE_PUBLISH_BATCH_ROWS;
}

tribe_status tribe_publish_check_schema(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    int ok = n >= 1 && n <= 63 && !(s[0] >= '0' && s[0] <= '9');
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_';
    return ok ? TRIBE_OK
              : tribe_fail(TRIBE_ERR_USAGE, "schema '%s': use 1 to 63 lower-case letters, digits and underscores, "
                           "not starting with a digit", s ? s : "");
}

/* The text customer row i is published as (customers.customer_id): the
 * string id as given, or the number (tribe_id_format). */
static const char *customer_id_text(const pub_slice *s, int64_t i, char buf[TRIBE_ID_BUF])
{
    return tribe_id_format(s->id_text ? s->id_text + (size_t)i * (size_t)s->id_width : NULL, s->id[i], buf);
}

/* A statement with the schema put in (every %1$s). */
static tribe_status sql_of(tribe_sbuf *b, const char *fmt, const char *schema)
{
    b->len = 0;
    return tribe_sbuf_printf(b, fmt, schema);
}

/* Sends what b holds when it passed PUT_BYTES (or always, when flush). */
static tribe_status put(tribe_pg *pg, tribe_sbuf *b, int flush)
{
    tribe_status st = TRIBE_OK;
    if (b->len && (flush || b->len >= PUT_BYTES)) {
        st = tribe_pg_copy_put(pg, b->p, b->len);
        b->len = 0;
    }
    return st;
}

/* One COPY of the rows in b (already formatted: small tables). */
static tribe_status copy_all(tribe_pg *pg, const char *what, const char *table, const char *schema, tribe_sbuf *rows)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf sql = {0};
    TRIBE_TRY(tribe_sbuf_printf(&sql, "COPY \"%s\".%s FROM STDIN", schema, table));
    TRIBE_TRY(tribe_pg_copy_begin(pg, what, sql.p));
    TRIBE_TRY(put(pg, rows, 1));
    TRIBE_TRY(tribe_pg_copy_end(pg, NULL));
cleanup:
    tribe_sbuf_free(&sql);
    return st;
}

static tribe_status add_i64(tribe_sbuf *b, const int64_t *v, int c)
{
    return v ? tribe_sbuf_printf(b, "\t%lld", (long long)v[c]) : tribe_sbuf_add(b, "\t\\N");
}

static tribe_status add_f64(tribe_sbuf *b, const double *v, int c)
{
    tribe_status st = tribe_sbuf_add(b, "\t");
    return st != TRIBE_OK ? st : v ? tribe_sbuf_copy_f64(b, v[c]) : tribe_sbuf_add(b, "\\N");
}

static tribe_status add_text(tribe_sbuf *b, const char *s)
{
    tribe_status st = tribe_sbuf_add(b, "\t");
    return st != TRIBE_OK ? st : tribe_sbuf_copy_text(b, s);
}

/* A JSON number, null when not finite. */
static tribe_status json_num(tribe_sbuf *b, double v)
{
    return isfinite(v) ? tribe_sbuf_printf(b, "%.17g", v) : tribe_sbuf_add(b, "null");
}

/* Segment c's profile as JSON: {"<feature>": {"mean": .., "median": ..,
 * "q1": .., "q3": ..}, ...} (the figures the run has). */
static tribe_status profile_json(const pub_run *r, int c, tribe_sbuf *j)
{
    tribe_status st = TRIBE_OK;
    static const char *const KEY[4] = {"mean", "median", "q1", "q3"};
    j->len = 0;
    TRIBE_TRY(tribe_sbuf_add(j, "{"));
    for (int f = 0; f < r->d; f++) {
        TRIBE_TRY(tribe_sbuf_add(j, f ? ", " : ""));
        TRIBE_TRY(tribe_sbuf_json_str(j, r->feat[f]));
        TRIBE_TRY(tribe_sbuf_add(j, ": {"));
        for (int s = 0, first = 1; s < 4; s++)
            if (r->stat[s]) {
                TRIBE_TRY(tribe_sbuf_printf(j, "%s\"%s\": ", first ? "" : ", ", KEY[s]));
                TRIBE_TRY(json_num(j, r->stat[s][(size_t)c * r->d + f]));
                first = 0;
            }
        TRIBE_TRY(tribe_sbuf_add(j, "}"));
    }
    TRIBE_TRY(tribe_sbuf_add(j, "}"));
cleanup:
    return st;
}

/* The runs row: identity from results.h5, facts and settings from run.json. */
static tribe_status copy_run(tribe_pg *pg, const pub_run *r, const char *schema, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    char *settings = NULL;
    const tribe_rec *set = tribe_rec_get(r->rec, "settings");
    double seed = tribe_rec_number(tribe_rec_get(r->rec, "seed"));
    b->len = 0;
    TRIBE_TRY(tribe_sbuf_copy_text(b, r->run_id));
    TRIBE_TRY(add_text(b, r->created));
    TRIBE_TRY(add_text(b, r->input));
    TRIBE_TRY(add_text(b, tribe_rec_string(tribe_rec_get(r->rec, "input_hash"))));
    TRIBE_TRY(tribe_sbuf_printf(b, "\t%lld\t%d", (long long)r->n, r->k));
    TRIBE_TRY(isfinite(seed) ? tribe_sbuf_printf(b, "\t%.0f", seed) : tribe_sbuf_add(b, "\t\\N"));
    double sil = tribe_rec_number(tribe_rec_get(r->rec, "silhouette"));
    TRIBE_TRY(add_f64(b, &sil, 0));
    double horizon = tribe_rec_number(tribe_rec_get(tribe_rec_get(r->rec, "ltv"), "horizon_days"));
    TRIBE_TRY(isfinite(horizon) ? tribe_sbuf_printf(b, "\t%.0f", horizon) : tribe_sbuf_add(b, "\t\\N"));
    TRIBE_TRY(add_text(b, r->tribe_version));
    TRIBE_TRY(add_text(b, r->job_spec));
    if (set)
        TRIBE_TRY(tribe_rec_print(set, 0, &settings));
    TRIBE_TRY(add_text(b, settings));
    TRIBE_TRY(add_text(b, r->run_json));
    TRIBE_TRY(tribe_sbuf_add(b, "\n"));
    TRIBE_TRY(copy_all(pg, "copying the run", "runs", schema, b));
cleanup:
    free(settings);
    return st;
}

static tribe_status copy_segments(tribe_pg *pg, const pub_run *r, const char *schema, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf j = {0};
    b->len = 0;
    for (int c = 0; c < r->k; c++) {
        TRIBE_TRY(tribe_sbuf_copy_text(b, r->run_id));
        TRIBE_TRY(tribe_sbuf_printf(b, "\t%lld\t%d", (long long)r->seg_id[c], c));
        TRIBE_TRY(add_text(b, r->seg_names[c]));
        TRIBE_TRY(add_i64(b, r->size, c));
        TRIBE_TRY(add_f64(b, r->share, c));
        TRIBE_TRY(add_f64(b, r->revenue_share, c));
        TRIBE_TRY(add_i64(b, r->outliers, c));
        TRIBE_TRY(add_f64(b, r->ltv_mean, c));
        TRIBE_TRY(add_f64(b, r->ltv_median, c));
        TRIBE_TRY(add_f64(b, r->ltv_total, c));
        TRIBE_TRY(profile_json(r, c, &j));
        TRIBE_TRY(add_text(b, j.p));
        TRIBE_TRY(tribe_sbuf_add(b, "\n"));
    }
    TRIBE_TRY(copy_all(pg, "copying the segments", "segments", schema, b));
cleanup:
    tribe_sbuf_free(&j);
    return st;
}

static tribe_status copy_personas(tribe_pg *pg, const pub_run *r, const char *schema, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    b->len = 0;
    for (int i = 0; i < r->n_personas; i++) {
        const tribe_persona *p = &r->personas[i];
        TRIBE_TRY(tribe_sbuf_copy_text(b, r->run_id));
        TRIBE_TRY(tribe_sbuf_printf(b, "\t%d", p->segment));
        const char *text1[] = {p->name, p->age_band, p->occupation, p->bio};
        for (size_t t = 0; t < sizeof text1 / sizeof *text1; t++)
            TRIBE_TRY(add_text(b, text1[t]));
        TRIBE_TRY(tribe_sbuf_add(b, "\t"));
        TRIBE_TRY(tribe_sbuf_copy_array(b, p->goals, p->n_goals));
        TRIBE_TRY(tribe_sbuf_add(b, "\t"));
        TRIBE_TRY(tribe_sbuf_copy_array(b, p->frustrations, p->n_frustrations));
        TRIBE_TRY(tribe_sbuf_add(b, "\t"));
        TRIBE_TRY(tribe_sbuf_copy_array(b, p->channels, p->n_channels));
        const char *text2[] = {p->quote, p->email_subject, p->email_body, p->tagline, p->image_prompt, p->provider};
        for (size_t t = 0; t < sizeof text2 / sizeof *text2; t++)
            TRIBE_TRY(add_text(b, text2[t]));
        TRIBE_TRY(tribe_sbuf_add(b, "\n"));
    }
    if (r->n_personas)
        TRIBE_TRY(copy_all(pg, "copying the personas", "personas", schema, b));
cleanup:
    return st;
}

/* One customer's row: id, segment, distance, outlier flag and score, the
 * segment of its top membership and that probability, predicted value. */
static tribe_status customer_row(const pub_run *r, const pub_slice *s, int64_t i, const char *run_id_field,
                                 tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    char id[TRIBE_ID_BUF];
    TRIBE_TRY(tribe_sbuf_add(b, run_id_field));
    TRIBE_TRY(add_text(b, customer_id_text(s, i, id)));
    TRIBE_TRY(tribe_sbuf_printf(b, "\t%lld\t", (long long)r->seg_id[s->label[i]]));
    TRIBE_TRY(tribe_sbuf_copy_f32(b, s->dist[i]));
    TRIBE_TRY(tribe_sbuf_add(b, !s->outlier ? "\t\\N\t" : s->outlier[i] ? "\tt\t" : "\tf\t"));
    TRIBE_TRY(s->oscore ? tribe_sbuf_copy_f32(b, s->oscore[i]) : tribe_sbuf_add(b, "\\N"));
    if (s->memb) {
        const float *m = s->memb + (size_t)i * r->k;
        int top = 0;
        for (int c = 1; c < r->k; c++)
            if (m[c] > m[top])
                top = c;
        TRIBE_TRY(tribe_sbuf_printf(b, "\t%lld\t", (long long)r->seg_id[top]));
        TRIBE_TRY(tribe_sbuf_copy_f32(b, m[top]));
    } else {
        TRIBE_TRY(tribe_sbuf_add(b, "\t\\N\t\\N"));
    }
    TRIBE_TRY(tribe_sbuf_add(b, "\t"));
    TRIBE_TRY(s->ltv ? tribe_sbuf_copy_f32(b, s->ltv[i]) : tribe_sbuf_add(b, "\\N"));
    TRIBE_TRY(tribe_sbuf_add(b, "\n"));
cleanup:
    return st;
}

/* The customers, streamed: results.h5 read `batch` rows at a time, each
 * slice formatted and sent before the next is read (memory: one slice and
 * at most about PUT_BYTES of text). A failure while reading aborts the COPY. */
static tribe_status copy_customers(tribe_pg *pg, pub_run *r, const char *schema, int64_t batch, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    pub_slice s = {0};
    tribe_sbuf rid = {0};
    int copying = 0;
    int64_t rows = batch < r->n ? batch : r->n;
    TRIBE_TRY(pub_slice_alloc(r, rows, &s));
    TRIBE_TRY(tribe_sbuf_copy_text(&rid, r->run_id));
    TRIBE_TRY(sql_of(b, "COPY \"%1$s\".customers FROM STDIN", schema));
    TRIBE_TRY(tribe_pg_copy_begin(pg, "copying the customers", b->p));
    copying = 1;
    b->len = 0;
    for (int64_t off = 0; off < r->n; off += rows) {
        int64_t m = r->n - off < rows ? r->n - off : rows;
        TRIBE_TRY(pub_slice_read(r, off, m, &s));
        for (int64_t i = 0; i < m; i++) {
            TRIBE_TRY(customer_row(r, &s, i, rid.p, b));
            TRIBE_TRY(put(pg, b, 0));
        }
        TRIBE_TRY(put(pg, b, 1)); /* each slice on its way before the next is read */
    }
    copying = 0;
    TRIBE_TRY(tribe_pg_copy_end(pg, NULL));
cleanup:
    if (copying) { /* keep the reading error's message, not the abort's */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", tribe_errmsg());
        tribe_status end = tribe_pg_copy_end(pg, "tribe publish stopped");
        if (end == TRIBE_OK)
            tribe_set_errmsg(msg);
    }
    pub_slice_free(&s);
    tribe_sbuf_free(&rid);
    return st;
}

/* Creates the schema's tables and views when missing (*installed = 1);
 * refuses a layout newer than this tribe's. */
static tribe_status install(tribe_pg *pg, const char *schema, tribe_sbuf *b, int *installed)
{
    tribe_status st = TRIBE_OK;
    char *reg = NULL, *version = NULL;
    TRIBE_TRY(sql_of(b, "\"%1$s\".schema_version", schema));
    TRIBE_TRY(tribe_pg_exec(pg, "looking for the schema", "SELECT to_regclass($1)", b->p, &reg));
    *installed = !reg;
    if (!reg) {
        TRIBE_TRY(sql_of(b, DDL_V1, schema));
        TRIBE_TRY(tribe_pg_exec(pg, "creating the tables", b->p, NULL, NULL));
    }
    TRIBE_TRY(sql_of(b, "SELECT max(version) FROM \"%1$s\".schema_version", schema));
    TRIBE_TRY(tribe_pg_exec(pg, "reading the schema version", b->p, NULL, &version));
    long v = version ? strtol(version, NULL, 10) : 0;
    if (v > TRIBE_PG_SCHEMA_VERSION)
        st = tribe_fail(TRIBE_ERR_ENV, "PostgreSQL: schema %s holds tribe's table layout version %ld, newer than "
                        "this tribe's %d; publish with a newer tribe", schema, v, TRIBE_PG_SCHEMA_VERSION);
    else if (v < 1)
        st = tribe_fail(TRIBE_ERR_ENV, "PostgreSQL: %s.schema_version holds no version; it is not tribe's "
                        "(give another --schema)", schema);
cleanup:
    free(reg);
    free(version);
    return st;
}

/* Lock, tables, the run's old rows gone (*replaced), the new rows in. */
static tribe_status write_run(tribe_pg *pg, pub_run *r, const tribe_publish_cfg *cfg, tribe_sbuf *b,
                              tribe_publish_result *res)
{
    tribe_status st = TRIBE_OK;
    char *had = NULL, *cur = NULL;
    static const char *const CHILD[] = {"customers", "personas", "segments", "runs"};
    const char *schema = cfg->schema;
    /* one publisher per schema at a time: CREATE ... and the pointer would race */
    TRIBE_TRY(tribe_pg_exec(pg, "locking the schema",
                            "SELECT pg_advisory_xact_lock(hashtext('tribe publish ' || $1))", schema, NULL));
    TRIBE_TRY(install(pg, schema, b, &res->installed));
    TRIBE_TRY(sql_of(b, "SELECT run_id FROM \"%1$s\".runs WHERE run_id = $1", schema));
    TRIBE_TRY(tribe_pg_exec(pg, "looking for the run", b->p, r->run_id, &had));
    res->replaced = had != NULL;
    for (size_t t = 0; t < sizeof CHILD / sizeof *CHILD; t++) {
        b->len = 0;
        TRIBE_TRY(tribe_sbuf_printf(b, "DELETE FROM \"%s\".%s WHERE run_id = $1", schema, CHILD[t]));
        TRIBE_TRY(tribe_pg_exec(pg, "deleting the run's earlier rows", b->p, r->run_id, NULL));
    }
    TRIBE_TRY(copy_run(pg, r, schema, b));
    TRIBE_TRY(copy_segments(pg, r, schema, b));
    TRIBE_TRY(copy_personas(pg, r, schema, b));
    TRIBE_TRY(copy_customers(pg, r, schema, cfg->batch_rows, b));
    if (cfg->set_current) {
        TRIBE_TRY(sql_of(b, "INSERT INTO \"%1$s\".current (run_id) VALUES ($1) ON CONFLICT (singleton) DO UPDATE "
                         "SET run_id = EXCLUDED.run_id", schema));
        TRIBE_TRY(tribe_pg_exec(pg, "setting the current run", b->p, r->run_id, NULL));
    }
    TRIBE_TRY(sql_of(b, "SELECT run_id FROM \"%1$s\".current", schema));
    TRIBE_TRY(tribe_pg_exec(pg, "reading the current run", b->p, NULL, &cur));
    snprintf(res->current, sizeof res->current, "%s", cur ? cur : "");
cleanup:
    free(had);
    free(cur);
    return st;
}

tribe_status tribe_publish(const tribe_publish_cfg *cfg, tribe_publish_result *res)
{
    tribe_status st = TRIBE_OK;
    pub_run r = {0};
    tribe_pg *pg = NULL;
    tribe_sbuf b = {0};
    memset(res, 0, sizeof *res);
    TRIBE_TRY(tribe_publish_check_schema(cfg->schema));
    if (cfg->batch_rows < 1)
        return tribe_fail(TRIBE_ERR_USAGE, "publish: batch_rows must be at least 1");
    TRIBE_TRY(pub_run_open(cfg->run, &r));
    snprintf(res->run_id, sizeof res->run_id, "%s", r.run_id);
    res->customers = r.n;
    res->k = r.k;
    res->personas = r.n_personas;
    TRIBE_TRY(tribe_pg_connect(cfg->conninfo, &pg));
    TRIBE_TRY(tribe_pg_exec(pg, "starting the transaction", "BEGIN", NULL, NULL));
    TRIBE_TRY(write_run(pg, &r, cfg, &b, res));
    /* A connection lost during COMMIT leaves its outcome unknown to us;
     * publishing again is safe either way (idempotent). */
    st = tribe_pg_exec(pg, "committing", "COMMIT", NULL, NULL);
    if (st != TRIBE_OK && !tribe_pg_connected(pg)) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", tribe_errmsg());
        st = tribe_fail(st, "%s (whether the run was published is unknown: publish it again)", msg);
    }
cleanup:
    tribe_pg_close(&pg); /* rolls back an open transaction */
    tribe_sbuf_free(&b);
    pub_run_free(&r);
    return st;
}
