/* The HTTP server (libmicrohttpd, a thread pool on epoll): per request it
 * authenticates, rate-limits, acquires the current snapshot and hands the
 * request to the read or write API; the answer is queued with the security
 * headers and counted in the metrics. */
#include "auth.h"
#include "server.h"

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Per-connection request state (MHD's con_cls). */
typedef struct {
    double t0;
    tribe_sbuf body;
    int too_large;
    atomic_int state;       /* 0 answering, 1 deferred (suspended), 2 deferred answer ready */
    tribe_reply pending;    /* the deferred answer */
    tribe_server *srv;
    struct MHD_Connection *conn;
    void (*defer)(void *, tribe_reply *);
    void *arg;
} req_ctx;

void tribe_reply_json(tribe_reply *r, int status, const char *text, long len)
{
    size_t n = len < 0 ? strlen(text) : (size_t)len;
    free(r->body);
    r->body = malloc(n + 1);
    r->status = r->body ? status : 500;
    r->len = r->body ? n : 0;
    r->ctype = "application/json; charset=utf-8";
    if (r->body) {
        memcpy(r->body, text, n);
        r->body[n] = '\0';
    }
}

void tribe_reply_sbuf(tribe_reply *r, int status, tribe_sbuf *b)
{
    char *text = NULL;
    size_t len = b->len;
    if (tribe_sbuf_take(b, &text) != TRIBE_OK || !text) {
        tribe_reply_problem(r, 500, "internal", "", "out of memory");
        return;
    }
    free(r->body);
    r->body = text;
    r->len = len;
    r->status = status;
    r->ctype = "application/json; charset=utf-8";
}

void tribe_reply_problem(tribe_reply *r, int status, const char *type, const char *instance, const char *fmt, ...)
{
    static const struct {
        int status;
        const char *title;
    } TITLES[] = {{400, "Bad request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not found"},
                  {405, "Method not allowed"}, {409, "Conflict"}, {410, "Gone"}, {413, "Payload too large"},
                  {429, "Too many requests"}, {500, "Internal error"}, {502, "Bad gateway"},
                  {503, "Service unavailable"}};
    char detail[768], type_uri[128];
    const char *title = "Error";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < sizeof TITLES / sizeof *TITLES; i++)
        if (TITLES[i].status == status)
            title = TITLES[i].title;
    snprintf(type_uri, sizeof type_uri, "https://tribe.dev/problems/%s", type);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", type_uri);
    cJSON_AddStringToObject(o, "title", title);
    cJSON_AddNumberToObject(o, "status", status);
    cJSON_AddStringToObject(o, "detail", detail);
    cJSON_AddStringToObject(o, "instance", instance ? instance : "");
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    free(r->body);
    r->body = text;
    r->len = text ? strlen(text) : 0;
    r->status = text ? status : 500;
    r->ctype = "application/problem+json";
}

/* ---- credentials ---------------------------------------------------------- */

/* The role of the request's credential: a bearer token, else the session
 * cookie (then a POST must carry its CSRF token and a same-origin Origin). */
static int authenticate(tribe_server *srv, struct MHD_Connection *c, tribe_req *q, const char **why)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h) {
        if (strncasecmp(h, "Bearer ", 7) != 0) {
            *why = "the Authorization header must be 'Bearer <token>'";
            return TRIBE_ROLE_NONE;
        }
        int role = tribe_auth_token(srv->auth, h + 7, strlen(h + 7), q->who);
        *why = role ? NULL : "unknown token";
        return role;
    }
    const char *cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "tribe_session");
    char csrf[65];
    int role = cookie ? tribe_auth_session(srv->auth, cookie, csrf, q->who) : TRIBE_ROLE_NONE;
    if (!role) {
        *why = cookie ? "the session expired; sign in again" : "no credentials: send 'Authorization: Bearer <token>'";
        return TRIBE_ROLE_NONE;
    }
    if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "HEAD") != 0) {
        const char *sent = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
        const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
        const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
        const char *o = origin ? strstr(origin, "://") : NULL;
        if (!sent || !tribe_auth_same_text(sent, csrf)) {
            *why = "csrf";
            return -1;
        }
        if (origin && (!o || !host || strcmp(o + 3, host) != 0)) {
            *why = "origin";
            return -1;
        }
    }
    return role;
}

static uint64_t client_key(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    uint64_t h = 1469598103934665603ull;
    const uint8_t *p = NULL;
    size_t n = 0;
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
        p = (const uint8_t *)&((const struct sockaddr_in *)ci->client_addr)->sin_addr;
        n = 4;
    } else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6) {
        p = (const uint8_t *)&((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr;
        n = 16;
    }
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* ---- routes that need no snapshot ---------------------------------------- */

static int open_route(tribe_server *srv, tribe_req *q, tribe_reply *r)
{
    const char *u = q->url;
    if (strcmp(u, "/healthz") == 0) {
        r->route = TRIBE_ROUTE_HEALTH;
        tribe_reply_json(r, 200, "{\"status\":\"ok\"}", -1);
        return 1;
    }
    if (strcmp(u, "/readyz") == 0) {
        tribe_snap *s = tribe_server_acquire(srv);
        char buf[1024];
        r->route = TRIBE_ROUTE_HEALTH;
        if (s) {
            tribe_sbuf b = {0};
            tribe_sbuf_add(&b, "{\"status\":\"ready\",\"run\":{\"id\":");
            tribe_sbuf_json_str(&b, s->run_id);
            tribe_sbuf_printf(&b, ",\"customers\":%lld}}", (long long)s->n);
            tribe_reply_sbuf(r, 200, &b);
            tribe_sbuf_free(&b);
        } else {
            snprintf(buf, sizeof buf, "{\"status\":\"not ready\"}");
            tribe_reply_json(r, 503, buf, -1);
        }
        tribe_snap_release(s);
        return 1;
    }
    const tribe_asset *a = strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0 ? tribe_asset_find(u) : NULL;
    if (a) {
        r->route = TRIBE_ROUTE_STATIC;
        tribe_reply_json(r, 200, (const char *)a->data, (long)a->len);
        r->ctype = a->mime;
        return 1;
    }
    return 0;
}

static void metrics(tribe_server *srv, tribe_reply *r)
{
    tribe_sbuf b = {0};
    tribe_snap *s = tribe_server_acquire(srv);
    r->route = TRIBE_ROUTE_METRICS;
    if (tribe_metrics_text(srv->metrics, s, &b) == TRIBE_OK) {
        tribe_reply_sbuf(r, 200, &b);
        r->ctype = "text/plain; version=0.0.4; charset=utf-8";
    } else {
        tribe_reply_problem(r, 500, "internal", "/metrics", "%s", tribe_errmsg());
    }
    tribe_sbuf_free(&b);
    tribe_snap_release(s);
}

/* Everything after the open routes: credentials, limits, the snapshot. */
static void dispatch(tribe_server *srv, struct MHD_Connection *c, tribe_req *q, tribe_reply *r)
{
    const char *why = NULL;
    int write = strcmp(q->method, "GET") != 0 && strcmp(q->method, "HEAD") != 0 &&
                strcmp(q->url, "/v1/customers:batch") != 0;
    if (strcmp(q->url, "/v1/session") == 0) {
        r->route = TRIBE_ROUTE_SESSION;
        /* a sign-in (POST) spends the write budget, the page's check of its cookie (GET) a read */
        int wait = tribe_auth_limit(srv->auth, client_key(c), strcmp(q->method, "POST") == 0);
        if (wait) {
            r->retry_after = wait;
            tribe_reply_problem(r, 429, "rate-limited", q->url, "too many sign-in attempts; retry in %d s", wait);
        } else {
            q->role = authenticate(srv, c, q, &why);
            tribe_api_session(q, r);
        }
        return;
    }
    /* limited before the credential is checked: 401s count too, so tokens
     * cannot be guessed at the full speed of the server */
    int wait = tribe_auth_limit(srv->auth, client_key(c), write);
    if (wait) {
        r->retry_after = wait;
        tribe_reply_problem(r, 429, "rate-limited", q->url, "over the rate limit; retry in %d s", wait);
        return;
    }
    q->role = authenticate(srv, c, q, &why);
    if (q->role < 0) {
        tribe_reply_problem(r, 403, "forbidden", q->url,
                            strcmp(why, "csrf") == 0 ? "missing or wrong X-CSRF-Token for this session"
                                                     : "the Origin of the request is not this server");
        return;
    }
    if (q->role == TRIBE_ROLE_NONE) {
        tribe_reply_problem(r, 401, "unauthorized", q->url, "%s", why);
        return;
    }
    if (strcmp(q->url, "/metrics") == 0) {
        metrics(srv, r);
        return;
    }
    tribe_snap *s = tribe_server_acquire(srv);
    if (!s)
        tribe_reply_problem(r, 503, "not-ready", q->url, "no run is loaded yet");
    else if (!tribe_api_read(q, s, r) && !tribe_api_write(q, s, r))
        tribe_reply_problem(r, strncmp(q->url, "/v1/", 4) == 0 ? 404 : 404, "not-found", q->url, "no such resource");
    tribe_snap_release(s);
}

static enum MHD_Result queue(struct MHD_Connection *c, tribe_server *srv, req_ctx *x, tribe_reply *r)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
    char num[24];
    if (!resp)
        return MHD_NO;
    r->body = NULL;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype ? r->ctype : "application/json");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (r->route == TRIBE_ROUTE_STATIC)
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    else
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    if (r->cookie[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->cookie);
    if (r->retry_after) {
        snprintf(num, sizeof num, "%d", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, num);
    }
    if (r->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"tribe\"");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    tribe_metrics_request(srv->metrics, r->route, r->status, tribe_now() - x->t0);
    return ret;
}

static void *deferred(void *p)
{
    req_ctx *x = p;
    tribe_server *srv = x->srv;
    x->pending.status = 500;
    x->defer(x->arg, &x->pending);
    if (!x->pending.body)
        tribe_reply_problem(&x->pending, 500, "internal", "", "no answer");
    atomic_store(&x->state, 2);
    MHD_resume_connection(x->conn);
    atomic_fetch_sub(&srv->workers, 1);
    return NULL;
}

/* Suspends the connection and answers r on a worker thread. */
static enum MHD_Result defer(tribe_server *srv, struct MHD_Connection *c, req_ctx *x, tribe_reply *r)
{
    pthread_t t;
    pthread_attr_t attr;
    if (atomic_fetch_add(&srv->workers, 1) >= TRIBE_SERVE_MAX_WORKERS) {
        atomic_fetch_sub(&srv->workers, 1);
        r->defer(r->defer_arg, NULL); /* frees the argument only */
        r->defer = NULL;
        r->retry_after = 5;
        tribe_reply_problem(r, 429, "rate-limited", "", "%d slow requests (persona, campaign) already running",
                            TRIBE_SERVE_MAX_WORKERS);
        return queue(c, srv, x, r);
    }
    x->srv = srv;
    x->conn = c;
    x->defer = r->defer;
    x->arg = r->defer_arg;
    x->pending.route = r->route;
    atomic_store(&x->state, 1);
    MHD_suspend_connection(c);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, deferred, x) != 0) {
        x->defer = NULL;
        r->defer(r->defer_arg, NULL);
        tribe_reply_problem(&x->pending, 503, "not-ready", "", "cannot start a worker thread");
        atomic_store(&x->state, 2);
        atomic_fetch_sub(&srv->workers, 1);
        MHD_resume_connection(c);
    }
    pthread_attr_destroy(&attr);
    return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    tribe_server *srv = cls;
    req_ctx *x = *con_cls;
    if (!x) {
        x = calloc(1, sizeof *x);
        if (!x)
            return MHD_NO;
        x->t0 = tribe_now();
        *con_cls = x;
        /* The answer comes on a later call (after the body, if any): one
         * queued on the first call, before libmicrohttpd has read the whole
         * request, makes it close the connection after the reply (no
         * keep-alive, a new TCP connection for every request). */
        return MHD_YES;
    }
    if (atomic_load(&x->state) == 2) { /* a deferred answer is ready */
        enum MHD_Result ret = queue(c, srv, x, &x->pending);
        free(x->pending.body);
        x->pending.body = NULL;
        return ret;
    }
    if (atomic_load(&x->state) == 1)
        return MHD_YES;
    if (*upload_size) {
        if (x->too_large || x->body.len + *upload_size > (size_t)srv->cfg.max_body ||
            tribe_sbuf_addn(&x->body, upload, *upload_size) != TRIBE_OK)
            x->too_large = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    tribe_req q = {.srv = srv, .conn = c, .method = method, .url = url, .body = x->body.p,
                   .body_len = x->body.len};
    tribe_reply r = {.status = 500, .route = TRIBE_ROUTE_OTHER};
    if (x->too_large)
        tribe_reply_problem(&r, 413, "too-large", url, "the body is over %lld bytes", (long long)srv->cfg.max_body);
    else if (strlen(url) > 2048)
        tribe_reply_problem(&r, 400, "bad-request", "", "the path is over 2048 bytes");
    else if (strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "POST"))
        tribe_reply_problem(&r, 405, "method-not-allowed", url, "%s is not used by this API", method);
    else if (!open_route(srv, &q, &r))
        dispatch(srv, c, &q, &r);
    if (r.defer)
        return defer(srv, c, x, &r);
    if (!r.body)
        tribe_reply_problem(&r, 500, "internal", url, "no answer");
    enum MHD_Result ret = queue(c, srv, x, &r);
    free(r.body);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    req_ctx *x = *con_cls;
    if (x) {
        tribe_sbuf_free(&x->body);
        free(x->pending.body);
        free(x);
        *con_cls = NULL;
    }
}

tribe_status tribe_server_start(tribe_server *srv)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)srv->cfg.port);
    if (inet_pton(AF_INET, srv->cfg.listen, &sa.sin_addr) != 1)
        return tribe_fail(TRIBE_ERR_USAGE, "--listen '%s' is not an IPv4 address", srv->cfg.listen);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (srv->tls_cert)
        flags |= MHD_USE_TLS;
    srv->daemon = srv->tls_cert
                      ? MHD_start_daemon(flags, 0, NULL, NULL, handler, srv, MHD_OPTION_SOCK_ADDR, &sa,
                                         MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->cfg.threads,
                                         MHD_OPTION_CONNECTION_LIMIT, 4000u, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
                                         MHD_OPTION_NOTIFY_COMPLETED, completed, srv, MHD_OPTION_HTTPS_MEM_CERT,
                                         srv->tls_cert, MHD_OPTION_HTTPS_MEM_KEY, srv->tls_key, MHD_OPTION_END)
                      : MHD_start_daemon(flags, 0, NULL, NULL, handler, srv, MHD_OPTION_SOCK_ADDR, &sa,
                                         MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->cfg.threads,
                                         MHD_OPTION_CONNECTION_LIMIT, 4000u, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
                                         MHD_OPTION_NOTIFY_COMPLETED, completed, srv, MHD_OPTION_END);
    if (!srv->daemon)
        return tribe_fail(TRIBE_ERR_ENV, "cannot listen on %s:%d (in use, or not an address of this host)",
                          srv->cfg.listen, srv->cfg.port);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : srv->cfg.port;
    return TRIBE_OK;
}

void tribe_server_stop(tribe_server *srv)
{
    for (int i = 0; i < 600 && atomic_load(&srv->workers) > 0; i++) { /* slow requests finish (60 s at most) */
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
}
