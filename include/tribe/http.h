/* tribe/http.h: tribe's one HTTP client, asynchronous over curl multi; the
 * only place that includes <curl/curl.h>. The LLM provider starts POSTs
 * tagged with an integer and collects them as they finish; the campaign
 * sender makes one blocking request at a time with tribe_http_fetch.
 *
 * Usage:
 *     tribe_http *h = NULL;
 *     tribe_http_create(&h);
 *     tribe_http_post(h, tag, url, bearer_or_NULL, body, timeout_s);
 *     while (tribe_http_active(h) > 0) {
 *         tribe_http_result r; int got = 0;
 *         tribe_http_wait(h, 0.5, &r, &got);
 *         if (got) { ...; tribe_http_result_free(&r); }
 *     }
 *     tribe_http_destroy(&h);   // aborts whatever is still in flight
 *
 * Never logs headers: the bearer token exists only in the request's header
 * list and is wiped when the request is freed. Not collective (rank 0).
 */
#ifndef TRIBE_HTTP_H
#define TRIBE_HTTP_H

#include "tribe/core.h"

typedef struct tribe_http tribe_http;

typedef struct {
    int tag;
    long status;          /* HTTP status, 0 when the transfer failed */
    char *body;           /* response body (NUL-terminated, may be empty) */
    double retry_after_s; /* Retry-After in seconds, -1 when absent */
    char error[128];      /* transport error ("timeout", "connection refused") when status == 0 */
    int timed_out;
} tribe_http_result;

/* Returns ENV when libcurl cannot be initialised, NOMEM. */
tribe_status tribe_http_create(tribe_http **out);
/* One POST. Every pointer is read during the call only (curl copies). */
typedef struct {
    const char *url;
    const char *const *headers; /* "Name: value" lines, NULL-terminated; may be NULL */
    const char *bearer;         /* adds "Authorization: Bearer <bearer>", wiped after; may be NULL */
    const char *userpwd;        /* basic auth "user:password"; may be NULL */
    const char *body;           /* len bytes */
    size_t len;
    double timeout_s;           /* whole transfer; connecting gets at most 10 s of it */
} tribe_http_request;

/* Starts a POST. Returns ENV/NOMEM when it cannot be started. */
tribe_status tribe_http_start(tribe_http *h, int tag, const tribe_http_request *rq);
/* Starts a POST of a JSON body (NUL-terminated) with an optional bearer token. */
tribe_status tribe_http_post(tribe_http *h, int tag, const char *url, const char *bearer, const char *body,
                             double timeout_s);
/* Transfers in flight. */
int tribe_http_active(const tribe_http *h);
/* Drives transfers for up to wait_s seconds or until one finishes; *got = 1
 * and *res filled (caller frees with tribe_http_result_free) when one did.
 * Returns ENV on a curl multi failure, NOMEM. */
tribe_status tribe_http_wait(tribe_http *h, double wait_s, tribe_http_result *res, int *got);
void tribe_http_result_free(tribe_http_result *r);
void tribe_http_destroy(tribe_http **h);

/* One blocking POST: *res is filled in every case (caller frees it). Returns
 * TRIBE_OK when a response arrived (any status), ENV "POST <url> failed:
 * <reason>" when none did (refused, timed out), NOMEM. */
tribe_status tribe_http_fetch(const tribe_http_request *rq, tribe_http_result *res);

#endif
