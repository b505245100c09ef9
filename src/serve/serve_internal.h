/* Internal to src/serve: the loaded run (a snapshot), the HTTP layer's
 * request context, and the pieces between them. docs/api.md is the contract.
 *
 * Threads: the main thread loads snapshots (HDF5 and MPI are only ever
 * called there) and swaps them in; libmicrohttpd's threads answer requests
 * from whatever snapshot they acquired, which stays alive until released.
 */
#ifndef TRIBE_SERVE_INTERNAL_H
#define TRIBE_SERVE_INTERNAL_H

#include "tribe/core.h"
#include "tribe/currency.h"
#include "tribe/gbdt.h"
#include "tribe/par.h"
#include "tribe/sbuf.h"
#include "tribe/serve.h"

#include <stdatomic.h>

/* The most segments a served run may have (label stored as int16). */
#define TRIBE_SERVE_MAX_K 4096
/* Bins of the per-segment feature histograms. */
#define TRIBE_SERVE_BINS 20

/* One run, read-only once loaded. */
typedef struct tribe_snap {
    atomic_long refs;         /* holders: the server's "current" + requests */
    char *dir;                /* the run directory (realpath) */
    char *results;            /* its results.h5 */
    char *run_id, *created;
    tribe_currency currency;  /* of the money values (results.h5's; GBP for an older file) */
    char gen[17];             /* fingerprint of the run, for page cursors */
    int64_t n;
    int k;
    /* per customer, by row (ids ascending) */
    int64_t *id;
    char *id_text;            /* string ids (tribe/id.h): [n][id_width], or NULL */
    int id_width;
    int16_t *label;
    float *dist;
    float *memb;              /* [n][k] or NULL */
    uint8_t *outlier;         /* or NULL */
    float *oscore;            /* or NULL */
    float *ltv;               /* or NULL */
    double ltv_horizon;       /* NaN without ltv */
    float *churn;             /* /segments/churn_risk (docs/churn.md), or NULL */
    /* per segment (label index) */
    int64_t *seg_id;          /* persistent ids */
    char **seg_name;
    char **persona_name;      /* may hold NULLs */
    int64_t *seg_start;       /* [k + 1] into seg_rows */
    uint32_t *seg_rows;       /* rows grouped by segment, ascending id within */
    /* the customer's raw features (the run's input customers.h5), or d = 0 */
    int d;
    char **feat;
    float *x;                 /* [n][d] */
    tribe_gbdt_model *drivers; /* or NULL */
    tribe_gbdt_model **drv_seg; /* [k] or NULL: the drivers model's trees of one segment (render.c) */
    tribe_gbdt_shap_table **drv_tab; /* [k] or NULL: their TreeSHAP tables */
    int *drv_col;             /* driver model feature j -> column of x */
    /* documents rendered at load */
    char *segments_json;      /* GET /v1/segments */
    char **segment_json;      /* [k] GET /v1/segments/{id} */
    char *current_json;       /* GET /v1/runs/current */
    char *runs_json;          /* GET /v1/runs (serve.c adds it) */
    char *job_spec;           /* the run's job spec (JSON text) */
    double load_seconds;
} tribe_snap;

/* The results.h5 that `target` names: a results.h5, a run directory, or an
 * output directory (its `latest` run when it has that pointer, and only then
 * its top-level results.h5). IO when target does not exist; INPUT naming it
 * when it names no results.h5. *out is malloc'd (a real path). */
tribe_status tribe_snap_resolve(const char *target, char **out);
/* Loads the run that `target` names (a run directory or a results.h5).
 * Collective over a one-rank par; main thread only. INPUT / IO naming the
 * file for anything missing or inconsistent. *out has one reference. */
tribe_status tribe_snap_load(tribe_par *par, const char *target, tribe_snap **out);
void tribe_snap_retain(tribe_snap *s);
/* Drops a reference; the last one frees the snapshot. Accepts NULL. */
void tribe_snap_release(tribe_snap *s);
/* Row of customer `id`, or -1. */
int64_t tribe_snap_find(const tribe_snap *s, int64_t id);
/* Label index of persistent segment id `sid`, or -1. */
int tribe_snap_segment(const tribe_snap *s, int64_t sid);
/* Renders the documents of a loaded snapshot (snapshot.c calls it). */
tribe_status tribe_snap_render(tribe_snap *s, const char *run_json, const char *personas_json,
                               const char *plan_csv, void *h5);
/* Appends v printed with fmt, or null when it is not finite. */
tribe_status tribe_snap_num(tribe_sbuf *b, const char *fmt, double v);
/* The printf format of a money value in the run's currency: its minor
 * digits ("%.2f"; "%.0f" for JPY). */
const char *tribe_snap_money_fmt(const tribe_snap *s);
/* Appends ,"run":{"id":...,"created":...} to b. */
tribe_status tribe_snap_run_ref(const tribe_snap *s, tribe_sbuf *b);
/* The optional parts of a customer object (docs/api.md "fields"), as bits. */
enum {
    TRIBE_CF_SEGMENT, TRIBE_CF_PERSONA, TRIBE_CF_MEMBERSHIP, TRIBE_CF_DISTANCE, TRIBE_CF_OUTLIER, TRIBE_CF_VALUE,
    TRIBE_CF_CHURN, TRIBE_CF_FEATURES, TRIBE_CF_DRIVERS, TRIBE_CF_RUN, TRIBE_CF_COUNT
};
#define TRIBE_CF_ALL ((1u << TRIBE_CF_COUNT) - 1)
extern const char *const TRIBE_CUSTOMER_FIELDS[TRIBE_CF_COUNT];
/* Index of a field name (name[0..len)), or -1. */
int tribe_customer_field(const char *name, size_t len);
/* Appends customer `row`'s JSON object (docs/api.md) to b: customer_id and
 * the fields whose bits are set. */
tribe_status tribe_snap_customer_json(const tribe_snap *s, int64_t row, unsigned fields, tribe_sbuf *b);

/* Parses a customer id as written in a path or batch: an integer or its
 * float form "17850.0". 0 on success. */
int tribe_serve_parse_id(const char *s, size_t len, int64_t *out);
/* Row of the customer a client names (a path segment, decoded, or a batch
 * string): with integer ids tribe_serve_parse_id then tribe_snap_find; with
 * string ids the text (tribe_table_find_id's rules). -1 not found, -2 not
 * an id. */
int64_t tribe_snap_find_name(const tribe_snap *s, const char *name);
/* Appends prefix, then customer `row`'s id as a JSON string. */
tribe_status tribe_snap_add_customer_id(const tribe_snap *s, tribe_sbuf *b, const char *prefix, int64_t row);

/* ---- the server ---------------------------------------------------------- */

typedef struct tribe_server tribe_server;
struct MHD_Connection;

/* The snapshot being served, with a reference (NULL when none is loaded). */
tribe_snap *tribe_server_acquire(tribe_server *srv);
const tribe_serve_cfg *tribe_server_cfg(const tribe_server *srv);

enum { TRIBE_ROLE_NONE = 0, TRIBE_ROLE_READ = 1, TRIBE_ROLE_WRITE = 2 };

/* One request, as the handlers see it. */
typedef struct {
    tribe_server *srv;
    struct MHD_Connection *conn;
    const char *method, *url;
    const char *body;
    size_t body_len;
    int role;              /* TRIBE_ROLE_* of the credential */
    char who[24];          /* the credential's fingerprint ("tok:1a2b3c4d", "ses:..."), for the audit log */
} tribe_req;

/* What a handler answers. */
typedef struct tribe_reply_s {
    int status;
    const char *ctype;     /* static string */
    char *body;            /* malloc'd, owned */
    size_t len;
    char cookie[256];      /* Set-Cookie value, "" = none */
    int retry_after;       /* seconds, 0 = no header */
    int route;             /* TRIBE_ROUTE_* for the metrics */
    /* A slow answer (an LLM call, a send): set defer instead of a body and
     * the server suspends the connection, runs defer(defer_arg, reply) on a
     * worker thread (which owns and frees defer_arg) and answers with what it
     * wrote, so no request thread ever waits on the network. */
    void (*defer)(void *arg, struct tribe_reply_s *out);
    void *defer_arg;
} tribe_reply;

/* A JSON reply: copies text[len] (len < 0: strlen). */
void tribe_reply_json(tribe_reply *r, int status, const char *text, long len);
/* Takes a tribe_sbuf's text as the JSON body (the sbuf is left empty). */
void tribe_reply_sbuf(tribe_reply *r, int status, tribe_sbuf *b);
/* An RFC 9457 problem: type is the last part of the stable URI
 * (docs/api.md "Problem types"). */
void tribe_reply_problem(tribe_reply *r, int status, const char *type, const char *instance, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The read API (api.c): answers GET /v1/... and POST /v1/customers:batch;
 * returns 0 when the path is not one of its routes. */
int tribe_api_read(const tribe_req *q, tribe_snap *s, tribe_reply *r);
/* The write API (write.c): personas and campaigns; 0 when not its route. */
int tribe_api_write(const tribe_req *q, tribe_snap *s, tribe_reply *r);
/* Sessions (auth.c): POST/GET /v1/session. */
int tribe_api_session(tribe_req *q, tribe_reply *r);

/* Metrics (metrics.c). Routes are counted by a small index. */
enum {
    TRIBE_ROUTE_CUSTOMER, TRIBE_ROUTE_BATCH, TRIBE_ROUTE_SEGMENTS, TRIBE_ROUTE_SEGMENT, TRIBE_ROUTE_SEGMENT_CUSTOMERS,
    TRIBE_ROUTE_RUNS, TRIBE_ROUTE_SESSION, TRIBE_ROUTE_PERSONA, TRIBE_ROUTE_CAMPAIGN, TRIBE_ROUTE_HEALTH,
    TRIBE_ROUTE_METRICS, TRIBE_ROUTE_STATIC, TRIBE_ROUTE_OTHER, TRIBE_ROUTE_COUNT
};
typedef struct tribe_metrics tribe_metrics;
tribe_status tribe_metrics_create(tribe_metrics **out);
void tribe_metrics_destroy(tribe_metrics **m);
/* Thread-safe: one finished request (status code, seconds from its start to
 * the response being queued). */
void tribe_metrics_request(tribe_metrics *m, int route, int status, double seconds);
void tribe_metrics_reload(tribe_metrics *m, int ok, double seconds);
/* The Prometheus text exposition of everything, with the served run. */
tribe_status tribe_metrics_text(tribe_metrics *m, const tribe_snap *s, tribe_sbuf *b);

/* Static files of the dashboard (assets.c, generated at build time). */
typedef struct {
    const char *path;      /* "/", "/assets/app.js" */
    const char *mime;
    const unsigned char *data;
    size_t len;
} tribe_asset;
const tribe_asset *tribe_asset_find(const char *path);

#endif
