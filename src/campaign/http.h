/* Internal to src/campaign: one blocking HTTP POST over libcurl. The only
 * file that includes <curl/curl.h> is http.c. Not collective (rank 0). */
#ifndef TRIBE_CAMPAIGN_HTTP_H
#define TRIBE_CAMPAIGN_HTTP_H

#include "tribe/core.h"

typedef struct {
    long status;          /* HTTP status, 0 when no response arrived */
    double retry_after;   /* Retry-After seconds, -1 when absent */
    char body[512];       /* start of the response body (for the outbox) */
} cm_http_resp;

/* POSTs body[len] to url with the NULL-terminated "Name: value" headers;
 * userpwd ("user:password", may be NULL) turns on basic auth. Returns
 * TRIBE_OK when a response arrived (any status), ENV naming the URL and curl's
 * reason when none did (refused, timed out). */
tribe_status cm_http_post(const char *url, const char *const *headers, const char *body, size_t len,
                          const char *userpwd, double timeout, cm_http_resp *resp);

#endif
