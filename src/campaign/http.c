/* The campaign HTTP client: libcurl easy interface, one request at a time
 * (a send is a handful of batches; retries and pacing matter more than
 * concurrency). */
#include "http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    cm_http_resp *r;
    size_t used;
} sink;

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb, room = sizeof s->r->body - 1 - s->used;
    size_t take = n < room ? n : room;
    memcpy(s->r->body + s->used, p, take);
    s->used += take;
    s->r->body[s->used] = '\0';
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    if (n > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        char v[32];
        size_t vl = n - 12 < sizeof v - 1 ? n - 12 : sizeof v - 1;
        memcpy(v, p + 12, vl);
        v[vl] = '\0';
        char *end = NULL;
        double d = strtod(v, &end);
        if (end != v && d >= 0)
            s->r->retry_after = d;
    }
    return n;
}

static int curl_ready;

tribe_status cm_http_post(const char *url, const char *const *headers, const char *body, size_t len,
                          const char *userpwd, double timeout, cm_http_resp *resp)
{
    tribe_status st = TRIBE_OK;
    CURL *h = NULL;
    struct curl_slist *hl = NULL;
    sink s = {resp, 0};
    resp->status = 0;
    resp->retry_after = -1;
    resp->body[0] = '\0';
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return tribe_fail(TRIBE_ERR_ENV, "campaign: libcurl could not be initialised");
        curl_ready = 1;
    }
    h = curl_easy_init();
    if (!h)
        return tribe_fail(TRIBE_ERR_ENV, "campaign: libcurl could not create a handle");
    for (const char *const *p = headers; p && *p; p++) {
        struct curl_slist *n = curl_slist_append(hl, *p);
        if (!n) {
            st = tribe_fail(TRIBE_ERR_NOMEM, "campaign: out of memory for request headers");
            goto cleanup;
        }
        hl = n;
    }
    /* "Expect: 100-continue" would add a round trip per large batch. */
    struct curl_slist *n = curl_slist_append(hl, "Expect:");
    if (!n) {
        st = tribe_fail(TRIBE_ERR_NOMEM, "campaign: out of memory for request headers");
        goto cleanup;
    }
    hl = n;
    long ms = (long)(timeout * 1000);
    if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POST, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms > 0 ? ms : 30000L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &s) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &s) != CURLE_OK ||
        (userpwd && curl_easy_setopt(h, CURLOPT_USERPWD, userpwd) != CURLE_OK)) {
        st = tribe_fail(TRIBE_ERR_ENV, "campaign: libcurl rejected an option for %s", url);
        goto cleanup;
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        st = tribe_fail(TRIBE_ERR_ENV, "campaign: POST %s failed: %s", url, curl_easy_strerror(rc));
        goto cleanup;
    }
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status) != CURLE_OK) {
        st = tribe_fail(TRIBE_ERR_ENV, "campaign: POST %s: no status code", url);
        goto cleanup;
    }
cleanup:
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    return st;
}
