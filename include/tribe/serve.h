/* tribe/serve.h: `tribe serve`, the look-up API and dashboard over the
 * latest run of an output directory (docs/api.md, docs/dashboard.md).
 *
 * Usage:
 *     tribe_serve_cfg cfg;
 *     tribe_serve_cfg_defaults(&cfg);
 *     cfg.dir = "out/demo/results"; cfg.tokens_path = "tokens.txt";
 *     st = tribe_serve(par, &cfg);      // returns on SIGTERM / SIGINT
 *
 * Ownership: cfg is borrowed for the call.
 * Not collective: one process (refuses a par of more than one rank).
 */
#ifndef TRIBE_SERVE_H
#define TRIBE_SERVE_H

#include "tribe/core.h"
#include "tribe/par.h"

typedef struct {
    const char *dir;          /* output directory (its `latest` run), run directory or results.h5 */
    const char *listen;       /* address to bind, default "127.0.0.1" */
    int port;                 /* default 8080; 0 = any free port (printed) */
    const char *tokens_path;  /* "read|write TOKEN" lines; required */
    int threads;              /* request threads, default 2 */
    int64_t max_body;         /* bytes, default 1 MiB */
    double rate;              /* requests per second per client address, 0 = no limit */
    double burst;             /* bucket size, default 2 x rate */
    double write_rate;        /* write requests per minute per client address, 0 = no limit */
    double watch_s;           /* seconds between checks of the latest pointer, 0 = SIGHUP only */
    const char *audit_path;   /* append-only audit log, default <dir>/audit.jsonl */
    const char *tls_cert, *tls_key; /* PEM files: HTTPS through libmicrohttpd's GnuTLS */
    const char *ready_file;   /* written with the URL once listening (tests, scripts) */
    /* campaigns (docs/dashboard.md) */
    const char *contacts;     /* contacts.csv; NULL: campaigns unavailable */
    const char *mail_endpoint; /* sandbox or stand-in base URL; NULL = dry run */
    const char *suppress;
    const char *outbox;       /* default <dir>/outbox.jsonl */
    int allow_live;           /* live sends possible at all */
    int max_per_customer;
    int64_t window_seconds;
} tribe_serve_cfg;

void tribe_serve_cfg_defaults(tribe_serve_cfg *cfg);
/* Serves until SIGTERM or SIGINT (exit 0). USAGE for a bad cfg, ENV when the
 * address cannot be bound, INPUT / IO when the first run cannot be loaded. */
tribe_status tribe_serve(tribe_par *par, const tribe_serve_cfg *cfg);

#endif
