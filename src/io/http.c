/* Asynchronous POSTs over curl multi (tribe/http.h). The only file of tribe
 * that includes <curl/curl.h>. */
#include "tribe/http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* A reply larger than this is not a persona; the transfer is cut. */
#define MAX_BODY (24u << 20) /* an image reply: up to 16 MiB of bytes as base64 */

typedef struct req {
    struct req *next;
    CURL *easy;
    struct curl_slist *hdrs;
    char *auth;           /* "Authorization: Bearer ..."; wiped before free */
    char *buf;
    size_t len, cap;
    double retry_after_s;
    int tag;
    int oom;
} req;

struct tribe_http {
    CURLM *multi;
    req *reqs; /* in flight */
    int active;
    int global;
};

static void req_free(req *r)
{
    if (!r)
        return;
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->hdrs);
    if (r->auth) {
        /* A plain memset may be optimised away before free. */
        volatile char *p = r->auth;
        while (*p)
            *p++ = 0;
        free(r->auth);
    }
    free(r->buf);
    free(r);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    req *r = ud;
    size_t n = size * nmemb;
    if (r->len + n + 1 > MAX_BODY)
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + n + 1)
            cap *= 2;
        if (tribe_realloc((void **)&r->buf, cap) != TRIBE_OK) {
            r->oom = 1;
            return 0;
        }
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, n);
    r->len += n;
    r->buf[r->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    req *r = ud;
    size_t n = size * nmemb;
    if (n > 12 && strncasecmp(data, "retry-after:", 12) == 0) {
        char v[64];
        size_t m = n - 12 < sizeof v - 1 ? n - 12 : sizeof v - 1;
        memcpy(v, data + 12, m);
        v[m] = '\0';
        char *s = v, *end;
        while (*s == ' ' || *s == '\t')
            s++;
        s[strcspn(s, "\r\n")] = '\0';
        double sec = strtod(s, &end);
        if (end != s && *end == '\0' && sec >= 0)
            r->retry_after_s = sec;
        else {
            /* The other form: an HTTP date. */
            time_t t = curl_getdate(s, NULL);
            if (t != -1) {
                double d = difftime(t, time(NULL));
                r->retry_after_s = d > 0 ? d : 0;
            }
        }
    }
    return n;
}

tribe_status tribe_http_create(tribe_http **out)
{
    tribe_status st = TRIBE_OK;
    tribe_http *h = NULL;
    TRIBE_TRY(tribe_calloc((void **)&h, 1, sizeof *h));
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        st = tribe_fail(TRIBE_ERR_ENV, "libcurl: global initialisation failed");
        goto cleanup;
    }
    h->global = 1;
    h->multi = curl_multi_init();
    if (!h->multi) {
        st = tribe_fail(TRIBE_ERR_ENV, "libcurl: cannot create a multi handle");
        goto cleanup;
    }
    *out = h;
    h = NULL;
cleanup:
    tribe_http_destroy(&h);
    return st;
}

void tribe_http_destroy(tribe_http **hp)
{
    if (!hp || !*hp)
        return;
    tribe_http *h = *hp;
    for (req *r = h->reqs, *n; r; r = n) {
        n = r->next;
        if (h->multi)
            (void)curl_multi_remove_handle(h->multi, r->easy); /* teardown: nothing left to report to */
        req_free(r);
    }
    if (h->multi)
        (void)curl_multi_cleanup(h->multi);
    if (h->global)
        curl_global_cleanup();
    free(h);
    *hp = NULL;
}

int tribe_http_active(const tribe_http *h) { return h ? h->active : 0; }

#define SET(opt, val)                                                                    \
    do {                                                                                 \
        if (curl_easy_setopt(r->easy, opt, val) != CURLE_OK) {                           \
            st = tribe_fail(TRIBE_ERR_ENV, "libcurl: cannot set option %s", #opt);       \
            goto cleanup;                                                                \
        }                                                                                \
    } while (0)

static tribe_status add_header(req *r, const char *line)
{
    struct curl_slist *t = curl_slist_append(r->hdrs, line);
    if (!t)
        return tribe_fail(TRIBE_ERR_NOMEM, "libcurl: out of memory for request headers");
    r->hdrs = t;
    return TRIBE_OK;
}

tribe_status tribe_http_start(tribe_http *h, int tag, const tribe_http_request *rq)
{
    tribe_status st = TRIBE_OK;
    req *r = NULL;
    TRIBE_TRY(tribe_calloc((void **)&r, 1, sizeof *r));
    r->tag = tag;
    r->retry_after_s = -1;
    if (!(r->easy = curl_easy_init())) {
        st = tribe_fail(TRIBE_ERR_ENV, "libcurl: cannot create a handle");
        goto cleanup;
    }
    for (const char *const *p = rq->headers; p && *p; p++)
        TRIBE_TRY(add_header(r, *p));
    /* "Expect: 100-continue" would add a round trip per large body. */
    TRIBE_TRY(add_header(r, "Expect:"));
    if (rq->bearer && rq->bearer[0]) {
        size_t n = strlen(rq->bearer) + 32;
        TRIBE_TRY(tribe_alloc((void **)&r->auth, n));
        snprintf(r->auth, n, "Authorization: Bearer %s", rq->bearer);
        TRIBE_TRY(add_header(r, r->auth));
    }
    long ms = (long)(rq->timeout_s * 1000.0 + 0.5);
    if (ms < 1)
        ms = 1;
    SET(CURLOPT_URL, rq->url);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len);
    SET(CURLOPT_COPYPOSTFIELDS, rq->body);
    SET(CURLOPT_HTTPHEADER, r->hdrs);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, r);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, r);
    SET(CURLOPT_TIMEOUT_MS, ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, ms < 10000 ? ms : 10000L);
    SET(CURLOPT_NOSIGNAL, 1L); /* no SIGALRM for timeouts in an MPI process */
    SET(CURLOPT_PRIVATE, (void *)r);
    SET(CURLOPT_USERAGENT, "tribe/" TRIBE_VERSION);
    if (rq->userpwd)
        SET(CURLOPT_USERPWD, rq->userpwd);
    if (curl_multi_add_handle(h->multi, r->easy) != CURLM_OK) {
        st = tribe_fail(TRIBE_ERR_ENV, "libcurl: cannot start a request");
        goto cleanup;
    }
    r->next = h->reqs;
    h->reqs = r;
    h->active++;
    r = NULL;
cleanup:
    req_free(r);
    return st;
}

tribe_status tribe_http_post(tribe_http *h, int tag, const char *url, const char *bearer, const char *body,
                             double timeout_s)
{
    static const char *const json[] = {"Content-Type: application/json", NULL};
    tribe_http_request rq = {.url = url, .headers = json, .bearer = bearer, .body = body,
                             .len = strlen(body), .timeout_s = timeout_s};
    return tribe_http_start(h, tag, &rq);
}

/* Takes one finished transfer off the multi handle, if any. */
static tribe_status take_done(tribe_http *h, tribe_http_result *res, int *got)
{
    tribe_status st = TRIBE_OK;
    int left = 0;
    CURLMsg *m;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *e = m->easy_handle;
        CURLcode cc = m->data.result;
        req *r = NULL, **pp = &h->reqs;
        for (; *pp; pp = &(*pp)->next)
            if ((*pp)->easy == e) {
                r = *pp;
                *pp = r->next;
                break;
            }
        if (!r)
            continue;
        h->active--;
        (void)curl_multi_remove_handle(h->multi, e); /* finished: removal cannot lose data */
        memset(res, 0, sizeof *res);
        res->tag = r->tag;
        res->retry_after_s = r->retry_after_s;
        if (r->oom) {
            req_free(r);
            return tribe_fail(TRIBE_ERR_NOMEM, "HTTP reply: out of memory");
        }
        if (cc == CURLE_OK) {
            long code = 0;
            if (curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
                code = 0;
            res->status = code;
        } else {
            res->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
            snprintf(res->error, sizeof res->error, "%s",
                     cc == CURLE_OPERATION_TIMEDOUT ? "timeout" : curl_easy_strerror(cc));
        }
        if (r->buf) {
            res->body = r->buf;
            r->buf = NULL;
        } else {
            st = tribe_strdup("", &res->body);
        }
        req_free(r);
        *got = st == TRIBE_OK;
        return st;
    }
    return st;
}

tribe_status tribe_http_wait(tribe_http *h, double wait_s, tribe_http_result *res, int *got)
{
    tribe_status st = TRIBE_OK;
    *got = 0;
    double until = tribe_now() + (wait_s > 0 ? wait_s : 0);
    for (;;) {
        int running = 0;
        if (curl_multi_perform(h->multi, &running) != CURLM_OK)
            return tribe_fail(TRIBE_ERR_ENV, "libcurl: transfer loop failed");
        TRIBE_TRY(take_done(h, res, got));
        if (*got)
            return TRIBE_OK;
        double left = until - tribe_now();
        if (left <= 0)
            return TRIBE_OK;
        int ms = (int)(left * 1000.0) + 1;
        if (ms > 200)
            ms = 200;
        if (curl_multi_poll(h->multi, NULL, 0, ms, NULL) != CURLM_OK)
            return tribe_fail(TRIBE_ERR_ENV, "libcurl: poll failed");
    }
cleanup:
    return st;
}

void tribe_http_result_free(tribe_http_result *r)
{
    if (!r)
        return;
    free(r->body);
    r->body = NULL;
}

tribe_status tribe_http_fetch(const tribe_http_request *rq, tribe_http_result *res)
{
    tribe_status st = TRIBE_OK;
    tribe_http *h = NULL;
    int got = 0;
    memset(res, 0, sizeof *res);
    TRIBE_TRY(tribe_http_create(&h));
    TRIBE_TRY(tribe_http_start(h, 0, rq));
    while (!got)
        TRIBE_TRY(tribe_http_wait(h, 1.0, res, &got));
    if (res->status == 0)
        st = tribe_fail(TRIBE_ERR_ENV, "POST %s failed: %s", rq->url, res->error);
cleanup:
    tribe_http_destroy(&h);
    return st;
}
