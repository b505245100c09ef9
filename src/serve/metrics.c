/* Prometheus metrics of the server (text exposition format 0.0.4): requests
 * by route and status class, a latency histogram (request start to response
 * queued, the server's own time), reloads, and the served run. Counters are
 * relaxed atomics: a scrape may see one request counted in `requests` and not
 * yet in the histogram, never a torn value. */
#include "serve_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upper bounds of the latency buckets, seconds (+Inf implied). */
static const double BOUNDS[] = {10e-6, 20e-6, 30e-6, 50e-6, 75e-6, 100e-6, 150e-6, 250e-6, 500e-6, 1e-3,
                                2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 1.0};
#define NB (sizeof BOUNDS / sizeof *BOUNDS)

static const char *const ROUTES[TRIBE_ROUTE_COUNT] = {
    "customer", "customers_batch", "segments", "segment", "segment_customers", "runs", "session", "persona",
    "campaign", "health", "metrics", "static", "other"};

struct tribe_metrics {
    atomic_llong requests[TRIBE_ROUTE_COUNT][6]; /* status class 1xx..5xx (index 1..5) */
    atomic_llong bucket[NB + 1];
    atomic_llong ns_sum;                        /* total latency, nanoseconds */
    atomic_llong reloads_ok, reloads_failed;
    _Atomic double last_reload_seconds;
    double started;
};

tribe_status tribe_metrics_create(tribe_metrics **out)
{
    tribe_status st = tribe_calloc((void **)out, 1, sizeof **out);
    if (st == TRIBE_OK)
        (*out)->started = tribe_now();
    return st;
}

void tribe_metrics_destroy(tribe_metrics **m)
{
    free(*m);
    *m = NULL;
}

void tribe_metrics_request(tribe_metrics *m, int route, int status, double seconds)
{
    int cls = status / 100;
    size_t b = 0;
    if (route < 0 || route >= TRIBE_ROUTE_COUNT)
        route = TRIBE_ROUTE_OTHER;
    if (cls < 1 || cls > 5)
        cls = 5;
    atomic_fetch_add_explicit(&m->requests[route][cls], 1, memory_order_relaxed);
    while (b < NB && seconds > BOUNDS[b])
        b++;
    atomic_fetch_add_explicit(&m->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->ns_sum, (long long)(seconds * 1e9), memory_order_relaxed);
}

void tribe_metrics_reload(tribe_metrics *m, int ok, double seconds)
{
    atomic_fetch_add(ok ? &m->reloads_ok : &m->reloads_failed, 1);
    if (ok)
        atomic_store(&m->last_reload_seconds, seconds);
}

static tribe_status histogram(tribe_metrics *m, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    long long cum = 0;
    TRIBE_TRY(tribe_sbuf_add(b, "# HELP tribe_http_request_duration_seconds Time from a request's start to its "
                                "response being queued (the server's own time).\n"
                                "# TYPE tribe_http_request_duration_seconds histogram\n"));
    for (size_t i = 0; i <= NB; i++) {
        cum += atomic_load_explicit(&m->bucket[i], memory_order_relaxed);
        if (i < NB)
            TRIBE_TRY(tribe_sbuf_printf(b, "tribe_http_request_duration_seconds_bucket{le=\"%g\"} %lld\n", BOUNDS[i],
                                        cum));
        else
            TRIBE_TRY(tribe_sbuf_printf(b, "tribe_http_request_duration_seconds_bucket{le=\"+Inf\"} %lld\n", cum));
    }
    TRIBE_TRY(tribe_sbuf_printf(b, "tribe_http_request_duration_seconds_sum %.9f\n"
                                   "tribe_http_request_duration_seconds_count %lld\n",
                                (double)atomic_load(&m->ns_sum) * 1e-9, cum));
cleanup:
    return st;
}

tribe_status tribe_metrics_text(tribe_metrics *m, const tribe_snap *s, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_add(b, "# HELP tribe_http_requests_total Requests answered, by route and status class.\n"
                                "# TYPE tribe_http_requests_total counter\n"));
    for (int r = 0; r < TRIBE_ROUTE_COUNT; r++)
        for (int c = 1; c <= 5; c++) {
            long long v = atomic_load_explicit(&m->requests[r][c], memory_order_relaxed);
            if (v)
                TRIBE_TRY(tribe_sbuf_printf(b, "tribe_http_requests_total{route=\"%s\",code=\"%dxx\"} %lld\n",
                                            ROUTES[r], c, v));
        }
    TRIBE_TRY(histogram(m, b));
    TRIBE_TRY(tribe_sbuf_printf(b, "# HELP tribe_reloads_total Runs loaded after the first, by result.\n"
                                   "# TYPE tribe_reloads_total counter\n"
                                   "tribe_reloads_total{result=\"ok\"} %lld\n"
                                   "tribe_reloads_total{result=\"failed\"} %lld\n"
                                   "# HELP tribe_run_load_seconds Seconds the served run took to load.\n"
                                   "# TYPE tribe_run_load_seconds gauge\n"
                                   "tribe_run_load_seconds %.3f\n"
                                   "# HELP tribe_uptime_seconds Seconds since the server started.\n"
                                   "# TYPE tribe_uptime_seconds gauge\n"
                                   "tribe_uptime_seconds %.0f\n",
                                (long long)atomic_load(&m->reloads_ok), (long long)atomic_load(&m->reloads_failed),
                                s ? s->load_seconds : 0.0, tribe_now() - m->started));
    TRIBE_TRY(tribe_sbuf_add(b, "# HELP tribe_run_loaded The served run (value 1), by run id.\n"
                                "# TYPE tribe_run_loaded gauge\n"));
    if (s) {
        TRIBE_TRY(tribe_sbuf_add(b, "tribe_run_loaded{run_id="));
        TRIBE_TRY(tribe_sbuf_json_str(b, s->run_id)); /* a JSON string is a valid label value */
        TRIBE_TRY(tribe_sbuf_printf(b, "} 1\n# HELP tribe_run_customers Customers in the served run.\n"
                                       "# TYPE tribe_run_customers gauge\ntribe_run_customers %lld\n"
                                       "# HELP tribe_run_segments Segments in the served run.\n"
                                       "# TYPE tribe_run_segments gauge\ntribe_run_segments %d\n",
                                    (long long)s->n, s->k));
    }
cleanup:
    return st;
}
