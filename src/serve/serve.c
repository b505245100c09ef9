/* tribe serve: start-up, the run history, sessions, and the reload loop.
 *
 * The main thread loads runs (HDF5 and MPI stay on it) and swaps the served
 * snapshot under a mutex; a request holds a reference to the snapshot it
 * started with, so a reload never fails a request or shows it half a run. A
 * reload happens on SIGHUP and whenever the run the output directory names
 * (its `latest` pointer, else its results.h5) changes; a run that fails to
 * load is logged and counted, and the previous one stays served. */
#include "server.h"

#include "tribe/continuity.h"
#include "tribe/record.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static volatile sig_atomic_t got_hup, got_stop;

static void on_hup(int sig)
{
    got_hup = 1;
}

static void on_stop(int sig)
{
    got_stop = 1;
}

void tribe_serve_cfg_defaults(tribe_serve_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = "127.0.0.1";
    cfg->port = 8080;
    cfg->threads = 2;
    cfg->max_body = 1 << 20;
    cfg->rate = 2000;
    cfg->write_rate = 60;
    cfg->watch_s = 2;
    cfg->max_per_customer = 1;
    cfg->window_seconds = 7 * 86400;
}

tribe_snap *tribe_server_acquire(tribe_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    tribe_snap *s = srv->cur;
    if (s)
        tribe_snap_retain(s);
    pthread_mutex_unlock(&srv->lock);
    return s;
}

const tribe_serve_cfg *tribe_server_cfg(const tribe_server *srv)
{
    return &srv->cfg;
}

/* ---- the history: GET /v1/runs -------------------------------------------- */

static cJSON *run_entry(const char *path, const tribe_snap *s)
{
    char *text = NULL;
    if (tribe_read_file(path, &text, NULL) != TRIBE_OK) {
        tribe_clear_error();
        return NULL;
    }
    cJSON *run = cJSON_Parse(text), *o = cJSON_CreateObject();
    free(text);
    static const char *const KEYS[] = {"run_id", "created", "customers", "k", "silhouette"};
    for (size_t i = 0; i < sizeof KEYS / sizeof *KEYS; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(run, KEYS[i]);
        cJSON_AddItemToObject(o, i == 0 ? "id" : KEYS[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(run, "run_id");
    cJSON_AddBoolToObject(o, "current", cJSON_IsString(id) && strcmp(id->valuestring, s->run_id) == 0);
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(run, "continuity"), "changes");
    cJSON *sum = ch ? cJSON_AddObjectToObject(o, "changes") : cJSON_AddNullToObject(o, "changes");
    static const char *const CH[] = {"previous", "continuing_customers", "stayed", "moved", "new_customers",
                                     "gone_customers", "transitions", "warnings"};
    for (size_t i = 0; ch && i < sizeof CH / sizeof *CH; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(ch, CH[i]);
        cJSON_AddItemToObject(sum, CH[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
    }
    cJSON_Delete(run);
    return o;
}

static const char *text_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Newest first; runs of the same second by run id, descending. */
static int by_created_desc(const void *a, const void *b)
{
    const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;
    int c = strcmp(text_of(y, "created"), text_of(x, "created"));
    return c ? c : strcmp(text_of(y, "id"), text_of(x, "id"));
}

/* The runs of the output directory `root` (its runs/<id>/run.json), newest
 * first; just the served run when root keeps no history. */
static tribe_status history(const char *root, tribe_snap *s)
{
    tribe_status st = TRIBE_OK;
    char path[4096 + 512];
    cJSON *items[4096], *arr = cJSON_CreateArray(), *doc = cJSON_CreateObject();
    int n = 0;
    DIR *d = NULL;
    if (tribe_fmt(path, sizeof path, "%s/runs", root) == TRIBE_OK && (d = opendir(path)) != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL && n < 4096) {
            if (e->d_name[0] == '.' || tribe_fmt(path, sizeof path, "%s/runs/%s/run.json", root, e->d_name) != TRIBE_OK)
                continue;
            if ((items[n] = run_entry(path, s)) != NULL)
                n++;
        }
        closedir(d);
    }
    if (n == 0 && tribe_fmt(path, sizeof path, "%s/run.json", s->dir) == TRIBE_OK &&
        (items[0] = run_entry(path, s)) != NULL)
        n = 1;
    qsort(items, (size_t)n, sizeof *items, by_created_desc);
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, items[i]);
    cJSON_AddItemToObject(doc, "runs", arr);
    TRIBE_TRY(tribe_json_text(doc, 1, 0, "run history", &s->runs_json));
cleanup:
    cJSON_Delete(doc);
    return st;
}

/* ---- sessions: /v1/session -------------------------------------------------- */

static void session_doc(tribe_reply *r, int status, int role, const char *csrf)
{
    char buf[256];
    snprintf(buf, sizeof buf, "{\"role\":\"%s\",\"csrf\":\"%s\"}", role == TRIBE_ROLE_WRITE ? "write" : "read", csrf);
    tribe_reply_json(r, status, buf, -1);
}

int tribe_api_session(tribe_req *q, tribe_reply *r)
{
    tribe_server *srv = q->srv;
    char id[65], csrf[65], who[24] = "";
    r->route = TRIBE_ROUTE_SESSION;
    if (strcmp(q->method, "GET") == 0) {
        const char *cookie = MHD_lookup_connection_value(q->conn, MHD_COOKIE_KIND, "tribe_session");
        int role = cookie ? tribe_auth_session(srv->auth, cookie, csrf, who) : TRIBE_ROLE_NONE;
        if (!role)
            tribe_reply_problem(r, 401, "unauthorized", q->url, "not signed in");
        else
            session_doc(r, 200, role, csrf);
        return 1;
    }
    cJSON *body = cJSON_ParseWithLength(q->body ? q->body : "", q->body_len);
    const cJSON *tk = cJSON_GetObjectItemCaseSensitive(body, "token");
    int role = cJSON_IsString(tk) ? tribe_auth_token(srv->auth, tk->valuestring, strlen(tk->valuestring), who) : 0;
    if (!cJSON_IsString(tk))
        tribe_reply_problem(r, 400, "bad-request", q->url, "the body must be {\"token\": \"...\"}");
    else if (!role)
        tribe_reply_problem(r, 401, "unauthorized", q->url, "unknown token");
    else if (tribe_auth_session_new(srv->auth, role, who, id, csrf) != 0)
        tribe_reply_problem(r, 500, "internal", q->url, "no randomness for a session id");
    else {
        session_doc(r, 201, role, csrf);
        snprintf(r->cookie, sizeof r->cookie, "tribe_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200%s",
                 id, srv->tls_cert ? "; Secure" : "");
    }
    cJSON_Delete(body);
    return 1;
}

/* ---- loading and reloading -------------------------------------------------- */

/* What identifies the run `dir` names now: the results.h5 it resolves to,
 * with its inode and modification time (a rewrite in place changes them). */
static int run_key(const char *dir, char *key, size_t cap)
{
    char *path = NULL;
    struct stat sb;
    if (tribe_snap_resolve(dir, &path) != TRIBE_OK || stat(path, &sb) != 0) {
        if (path)
            tribe_fail_errno(TRIBE_ERR_IO, "%s", path);
        free(path);
        return -1; /* the error says why */
    }
    snprintf(key, cap, "%s|%llu|%lld.%09ld", path, (unsigned long long)sb.st_ino, (long long)sb.st_mtim.tv_sec,
             sb.st_mtim.tv_nsec);
    free(path);
    return 0;
}

static tribe_status load(tribe_par *par, tribe_server *srv, tribe_snap **out)
{
    tribe_status st = TRIBE_OK;
    tribe_snap *s = NULL;
    TRIBE_TRY(tribe_snap_load(par, srv->cfg.dir, &s));
    TRIBE_TRY(history(srv->cfg.dir, s));
    *out = s;
    s = NULL;
cleanup:
    tribe_snap_release(s);
    return st;
}

static void swap_in(tribe_server *srv, tribe_snap *s)
{
    pthread_mutex_lock(&srv->lock);
    tribe_snap *old = srv->cur;
    srv->cur = s;
    pthread_mutex_unlock(&srv->lock);
    tribe_snap_release(old); /* freed here, or by the last request still holding it */
}

/* One check: reload when forced or when the named run changed. */
static void check(tribe_par *par, tribe_server *srv, int forced, char *served, char *failed, size_t cap)
{
    char key[4096 + 128];
    tribe_snap *s = NULL;
    if (run_key(srv->cfg.dir, key, sizeof key) != 0) { /* names no loadable run: a failed reload, logged once */
        snprintf(key, sizeof key, "error: %s", tribe_errmsg());
        tribe_clear_error();
        if (forced || strcmp(key, failed) != 0) {
            tribe_metrics_reload(srv->metrics, 0, 0);
            TRIBE_WARN("serve: reload failed, still serving the previous run: %s", key + 7);
            snprintf(failed, cap, "%s", key);
        }
        return;
    }
    if (!forced && (strcmp(key, served) == 0 || strcmp(key, failed) == 0))
        return;
    double t0 = tribe_now();
    tribe_status st = load(par, srv, &s);
    if (st != TRIBE_OK) {
        tribe_metrics_reload(srv->metrics, 0, tribe_now() - t0);
        TRIBE_WARN("serve: reload failed, still serving the previous run: %s", tribe_errmsg());
        snprintf(failed, cap, "%s", key);
        return;
    }
    tribe_metrics_reload(srv->metrics, 1, tribe_now() - t0);
    TRIBE_INFO("serve: now serving run %s (%lld customers, %d segments; loaded in %.2f s)", s->run_id,
               (long long)s->n, s->k, s->load_seconds);
    swap_in(srv, s);
    snprintf(served, cap, "%s", key);
    failed[0] = '\0';
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static tribe_status write_ready(const tribe_server *srv)
{
    char tmp[4096 + 32];
    FILE *f = NULL;
    if (!srv->cfg.ready_file)
        return TRIBE_OK;
    tribe_status st = tribe_fmt(tmp, sizeof tmp, "%s.tmp", srv->cfg.ready_file);
    if (st != TRIBE_OK)
        return st;
    if (!(f = fopen(tmp, "w")))
        return tribe_fail_errno(TRIBE_ERR_IO, "%s", tmp);
    fprintf(f, "%s://%s:%d\n", srv->tls_cert ? "https" : "http", srv->cfg.listen, srv->port);
    if (fclose(f) != 0 || rename(tmp, srv->cfg.ready_file) != 0)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s", srv->cfg.ready_file);
    return TRIBE_OK;
}

static void serve_loop(tribe_par *par, tribe_server *srv, char *served)
{
    char failed[4096 + 128] = "";
    double next = tribe_now() + srv->cfg.watch_s;
    while (!got_stop) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        int hup = got_hup;
        if (hup || (srv->cfg.watch_s > 0 && tribe_now() >= next)) {
            got_hup = 0;
            check(par, srv, hup, served, failed, 4096 + 128);
            next = tribe_now() + srv->cfg.watch_s;
        }
    }
}

static tribe_status setup(tribe_par *par, tribe_server *srv, char *served)
{
    tribe_status st = TRIBE_OK;
    tribe_snap *s = NULL;
    if (tribe_par_size(par) != 1)
        return tribe_fail(TRIBE_ERR_USAGE, "tribe serve runs as one process: start it without mpiexec or srun");
    if (!srv->cfg.tokens_path)
        return tribe_fail(TRIBE_ERR_USAGE, "--tokens FILE is required (lines 'read TOKEN' or 'write TOKEN')");
    if ((srv->cfg.tls_cert != NULL) != (srv->cfg.tls_key != NULL))
        return tribe_fail(TRIBE_ERR_USAGE, "--tls-cert and --tls-key go together");
    if (srv->cfg.tls_cert) {
        TRIBE_TRY(tribe_read_file(srv->cfg.tls_cert, &srv->tls_cert, NULL));
        TRIBE_TRY(tribe_read_file(srv->cfg.tls_key, &srv->tls_key, NULL));
    }
    TRIBE_TRY(tribe_auth_create(srv->cfg.tokens_path, srv->cfg.rate, srv->cfg.burst, srv->cfg.write_rate, &srv->auth));
    TRIBE_TRY(tribe_metrics_create(&srv->metrics));
    if (run_key(srv->cfg.dir, served, 4096 + 128) != 0) {
        served[0] = '\0';
        tribe_clear_error(); /* load says why */
    }
    TRIBE_TRY(load(par, srv, &s));
    swap_in(srv, s);
    TRIBE_INFO("serve: loaded run %s (%lld customers, %d segments) in %.2f s", s->run_id, (long long)s->n, s->k,
               s->load_seconds);
    TRIBE_TRY(tribe_writes_create(srv, &srv->writes));
    TRIBE_TRY(tribe_server_start(srv));
    TRIBE_TRY(write_ready(srv));
    TRIBE_INFO("serve: listening on %s://%s:%d (dashboard at /, API at /v1, reload: SIGHUP%s)",
               srv->tls_cert ? "https" : "http", srv->cfg.listen, srv->port,
               srv->cfg.watch_s > 0 ? " or a new run in the directory" : "");
cleanup:
    return st;
}

tribe_status tribe_serve(tribe_par *par, const tribe_serve_cfg *cfg)
{
    tribe_status st = TRIBE_OK;
    tribe_server srv;
    char served[4096 + 128];
    memset(&srv, 0, sizeof srv);
    srv.cfg = *cfg;
    pthread_mutex_init(&srv.lock, NULL);
    got_stop = got_hup = 0;
    catch_signals();
    TRIBE_TRY(setup(par, &srv, served));
    serve_loop(par, &srv, served);
    TRIBE_INFO("serve: stopping");
cleanup:
    tribe_server_stop(&srv);
    tribe_writes_destroy(&srv.writes);
    swap_in(&srv, NULL);
    tribe_auth_destroy(&srv.auth);
    tribe_metrics_destroy(&srv.metrics);
    free(srv.tls_cert);
    free(srv.tls_key);
    pthread_mutex_destroy(&srv.lock);
    return st;
}
