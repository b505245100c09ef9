/* tribe/publish.h: a finished run published into PostgreSQL through libpq
 * COPY (`tribe publish`; tables, views and guarantees in docs/outputs.md,
 * "PostgreSQL").
 *
 * Usage:
 *     tribe_publish_cfg cfg;
 *     tribe_publish_cfg_default(&cfg);
 *     cfg.run = "out";                       // results.h5, a run directory or an output directory
 *     cfg.conninfo = "host=db dbname=crm";   // NULL: the PG* environment variables
 *     tribe_publish_result res;
 *     TRIBE_TRY(tribe_publish(&cfg, &res));
 *
 * One publish is one transaction on one connection: readers see the
 * database before it or after it, never half a run, and a failure at any
 * point leaves the database as it was (the transaction is rolled back).
 * Publishing the same run again replaces its rows (same run, same state).
 *
 * Ownership: the configuration's strings stay the caller's.
 * Not collective: one process (the CLI's rank 0) reads the run and holds the
 * connection.
 */
#ifndef TRIBE_PUBLISH_H
#define TRIBE_PUBLISH_H

#include "tribe/core.h"
#include "tribe/sbuf.h"

/* The layout of the tables a publish writes; stored in <schema>.schema_version
 * so that a later tribe can migrate an older layout (and this one refuses a
 * newer one). */
#define TRIBE_PG_SCHEMA_VERSION 1
/* Customers read from results.h5 and sent per slice by default. */
#define TRIBE_PUBLISH_BATCH_ROWS 65536

typedef struct {
    const char *run;      /* results.h5, a run directory or an output directory (its latest run) */
    const char *conninfo; /* libpq conninfo or postgresql:// URI; NULL or "": the PG* variables */
    const char *schema;   /* the schema holding the tables ("tribe") */
    int set_current;      /* 1: the run becomes the current run (the views' run) */
    int64_t batch_rows;   /* customers read and sent per slice (memory bound) */
} tribe_publish_cfg;

typedef struct {
    char run_id[256];
    char current[256];   /* the current run after the publish ("" when none) */
    int64_t customers;
    int k;
    int personas;        /* personas published (0 without personas.json) */
    int replaced;        /* 1 when the run had been published before */
    int installed;       /* 1 when this publish created the schema's tables */
} tribe_publish_result;

void tribe_publish_cfg_default(tribe_publish_cfg *cfg);

/* Publishes the run. Errors: USAGE for a schema name that is not a plain
 * lower-case identifier; IO / INPUT for a run that cannot be found or read
 * (as tribe_prev_resolve and the HDF5 readers say); ENV when the server
 * cannot be reached, the connection breaks, the server refuses for reasons
 * of its own, or the schema holds a newer layout than TRIBE_PG_SCHEMA_VERSION;
 * INPUT when the server rejects the run's data (a row the server refuses).
 * The database is unchanged on every error. *res is filled on success. */
tribe_status tribe_publish(const tribe_publish_cfg *cfg, tribe_publish_result *res);

/* USAGE unless s is 1..63 characters of [a-z0-9_], not starting with a digit
 * (PostgreSQL's unquoted identifiers, folded to lower case). */
tribe_status tribe_publish_check_schema(const char *s);

/* ---- COPY text format (the helpers behind every row, for tests) ---------- */
/* Appends s as one COPY text-format field: backslash, tab, newline and
 * carriage return escaped (\\ \t \n \r), NULL as \N (SQL NULL); any other
 * byte, UTF-8 included, as it is. NOMEM. */
tribe_status tribe_sbuf_copy_text(tribe_sbuf *b, const char *s);
/* Appends the n strings as one COPY field holding a text[] literal
 * {"a","b"} (each element quoted, '"' and '\' escaped inside, then the
 * field escaped as above); n 0 gives {}. NOMEM. */
tribe_status tribe_sbuf_copy_array(tribe_sbuf *b, char *const *s, int n);
/* Appends a float8 / float4 field with 17 / 9 significant digits (reads
 * back as the same double / float); NaN and infinities as \N. NOMEM. */
tribe_status tribe_sbuf_copy_f64(tribe_sbuf *b, double v);
tribe_status tribe_sbuf_copy_f32(tribe_sbuf *b, float v);

#endif
