/* The read side of API v1 (docs/api.md): customers, segments, runs. Every
 * answer comes from the snapshot the request acquired, so a reload in the
 * middle of a request never mixes two runs. */
#include "writes.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX 1000

/* ?fields=segment,persona,... (docs/api.md): the bits of the fields named;
 * all without the parameter. 0 and a problem in r for an unknown name. */
static unsigned query_fields(const tribe_req *q, tribe_reply *r)
{
    const char *v = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "fields");
    unsigned bits = 0;
    if (!v)
        return TRIBE_CF_ALL;
    for (const char *p = v; *p;) {
        size_t len = strcspn(p, ",");
        int f = len ? tribe_customer_field(p, len) : -1;
        if (f < 0) {
            tribe_reply_problem(r, 400, "bad-request", q->url, "fields: '%.*s' is not one of segment, persona, "
                                "membership, distance, outlier, predicted_value, churn_risk, features, drivers, run",
                                (int)(len > 40 ? 40 : len), p);
            return 0;
        }
        bits |= 1u << f;
        p += len + (p[len] == ',');
    }
    if (!bits)
        tribe_reply_problem(r, 400, "bad-request", q->url, "fields is empty: name at least one field, or leave "
                            "the parameter out for all");
    return bits;
}

static void customer(const tribe_req *q, tribe_snap *s, const char *id_text, tribe_reply *r)
{
    tribe_sbuf b = {0};
    int64_t row = -1;
    unsigned fields = query_fields(q, r);
    r->route = TRIBE_ROUTE_CUSTOMER;
    if (!fields)
        return;
    if ((row = tribe_snap_find_name(s, id_text)) == -2) {
        tribe_reply_problem(r, 400, "bad-request", q->url, s->id_text ? "'%.40s' is not a customer id" :
                            "'%.40s' is not a customer id (an integer, e.g. 17850)", id_text);
        return;
    }
    if (row < 0) {
        tribe_reply_problem(r, 404, "not-found", q->url, "customer %.64s is not in run %s", id_text, s->run_id);
        return;
    }
    if (tribe_snap_customer_json(s, row, fields, &b) != TRIBE_OK) {
        tribe_sbuf_free(&b);
        tribe_reply_problem(r, 500, "internal", q->url, "%s", tribe_errmsg());
        return;
    }
    tribe_reply_sbuf(r, 200, &b);
}

/* A number id of a batch (integral, in int64_t's range: what its decimal form would parse to); strings
 * go through tribe_snap_find_name. */
static int batch_id(const cJSON *v, int64_t *id)
{
    double x = v->valuedouble;
    if (!cJSON_IsNumber(v) || !(x >= -0x1p63 && x < 0x1p63) || x != floor(x))
        return -1;
    *id = (int64_t)x;
    return 0;
}

/* rows[]: each id's row, -1 when not found (looked up once: a look-up is most of a lean batch's time) */
static tribe_status batch_body(tribe_snap *s, const cJSON *ids, unsigned fields, int64_t *rows, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    const cJSON *v;
    int first = 1, i = 0;
    TRIBE_TRY(tribe_sbuf_add(b, "{\"customers\":["));
    cJSON_ArrayForEach(v, ids)
    {
        int64_t id = 0, row = cJSON_IsString(v) ? tribe_snap_find_name(s, v->valuestring)
                              : batch_id(v, &id) == 0 ? tribe_snap_find(s, id) : -1;
        row = row < 0 ? -1 : row;
        rows[i++] = row;
        if (row >= 0) {
            TRIBE_TRY(tribe_sbuf_add(b, first ? "" : ","));
            TRIBE_TRY(tribe_snap_customer_json(s, row, fields, b));
            first = 0;
        }
    }
    TRIBE_TRY(tribe_sbuf_add(b, "],\"not_found\":["));
    first = 1;
    i = 0;
    cJSON_ArrayForEach(v, ids)
    {
        if (rows[i++] >= 0)
            continue;
        TRIBE_TRY(tribe_sbuf_add(b, first ? "" : ","));
        if (cJSON_IsString(v))
            TRIBE_TRY(tribe_sbuf_json_str(b, v->valuestring));
        else
            TRIBE_TRY(tribe_sbuf_printf(b, "\"%.17g\"", v->valuedouble));
        first = 0;
    }
    TRIBE_TRY(tribe_sbuf_add(b, "]"));
    TRIBE_TRY(tribe_snap_run_ref(s, b));
    TRIBE_TRY(tribe_sbuf_add(b, "}"));
cleanup:
    return st;
}

static void batch(const tribe_req *q, tribe_snap *s, tribe_reply *r)
{
    tribe_sbuf b = {0};
    int64_t rows[BATCH_MAX];
    cJSON *root = cJSON_ParseWithLength(q->body ? q->body : "", q->body_len);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(root, "ids"), *v;
    r->route = TRIBE_ROUTE_BATCH;
    if (!cJSON_IsArray(ids)) {
        tribe_reply_problem(r, 400, "bad-request", q->url, "the body must be a JSON object {\"ids\": [...]}");
        goto done;
    }
    if (cJSON_GetArraySize(ids) > BATCH_MAX) {
        tribe_reply_problem(r, 413, "too-large", q->url, "%d ids: a batch holds at most %d", cJSON_GetArraySize(ids),
                            BATCH_MAX);
        goto done;
    }
    cJSON_ArrayForEach(v, ids)
    {
        if (!cJSON_IsString(v) && !cJSON_IsNumber(v)) {
            tribe_reply_problem(r, 400, "bad-request", q->url, "ids[] must be strings or integers");
            goto done;
        }
    }
    unsigned fields = TRIBE_CF_ALL;
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(root, "fields");
    if (fl) {
        fields = 0;
        if (!cJSON_IsArray(fl))
            fields = 1u << 31;
        cJSON_ArrayForEach(v, fl)
        {
            int f = cJSON_IsString(v) ? tribe_customer_field(v->valuestring, strlen(v->valuestring)) : -1;
            fields |= f < 0 ? 1u << 31 : 1u << f;
        }
        if (fields & (1u << 31)) {
            tribe_reply_problem(r, 400, "bad-request", q->url, "fields must be an array of segment, persona, "
                                "membership, distance, outlier, predicted_value, churn_risk, features, drivers, run");
            goto done;
        }
    }
    if (batch_body(s, ids, fields, rows, &b) != TRIBE_OK)
        tribe_reply_problem(r, 500, "internal", q->url, "%s", tribe_errmsg());
    else
        tribe_reply_sbuf(r, 200, &b);
done:
    tribe_sbuf_free(&b);
    cJSON_Delete(root);
}

/* A positive integer query parameter, def when absent; -1 when malformed. */
static int64_t query_int(const tribe_req *q, const char *name, int64_t def, int64_t lo, int64_t hi)
{
    const char *v = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, name);
    char *end = NULL;
    if (!v)
        return def;
    long long x = strtoll(v, &end, 10);
    return end == v || *end || x < lo || x > hi ? -1 : x;
}

static tribe_status page_body(const tribe_snap *s, int c, int64_t pos, int64_t limit, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    int64_t end = s->seg_start[c + 1], stop = pos + limit < end ? pos + limit : end;
    TRIBE_TRY(tribe_sbuf_printf(b, "{\"segment_id\":\"%lld\",\"currency\":", (long long)s->seg_id[c]));
    TRIBE_TRY(tribe_sbuf_json_str(b, s->currency.code));
    TRIBE_TRY(tribe_sbuf_add(b, ",\"customers\":["));
    for (int64_t i = pos; i < stop; i++) {
        uint32_t row = s->seg_rows[i];
        TRIBE_TRY(tribe_snap_add_customer_id(s, b, i > pos ? ",{\"customer_id\":" : "{\"customer_id\":", row));
        TRIBE_TRY(tribe_sbuf_add(b, ",\"p\":"));
        TRIBE_TRY(tribe_snap_num(b, "%.4g", s->memb ? s->memb[(size_t)row * s->k + c] : NAN));
        TRIBE_TRY(tribe_sbuf_add(b, ",\"outlier\":"));
        TRIBE_TRY(tribe_sbuf_add(b, !s->outlier ? "null" : s->outlier[row] ? "true" : "false"));
        TRIBE_TRY(tribe_sbuf_add(b, ",\"predicted_value\":"));
        TRIBE_TRY(tribe_snap_num(b, tribe_snap_money_fmt(s), s->ltv ? s->ltv[row] : NAN));
        TRIBE_TRY(tribe_sbuf_add(b, "}"));
    }
    if (stop < end)
        TRIBE_TRY(tribe_sbuf_printf(b, "],\"next_cursor\":\"%s.%lld\",\"total\":%lld}", s->gen,
                                    (long long)(stop - s->seg_start[c]), (long long)(end - s->seg_start[c])));
    else
        TRIBE_TRY(tribe_sbuf_printf(b, "],\"next_cursor\":null,\"total\":%lld}", (long long)(end - s->seg_start[c])));
cleanup:
    return st;
}

/* GET /v1/segments/{id}/customers?limit=&cursor=<run fingerprint>.<offset> */
static void segment_customers(const tribe_req *q, tribe_snap *s, int c, tribe_reply *r)
{
    tribe_sbuf b = {0};
    int64_t limit = query_int(q, "limit", 100, 1, 1000), pos = 0;
    const char *cur = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "cursor");
    r->route = TRIBE_ROUTE_SEGMENT_CUSTOMERS;
    if (limit < 0) {
        tribe_reply_problem(r, 400, "bad-request", q->url, "limit must be an integer in 1..1000");
        return;
    }
    if (cur) {
        const char *dot = strchr(cur, '.');
        char *end = NULL;
        if (!dot || dot - cur != 16 || (pos = strtoll(dot + 1, &end, 10)) < 0 || *end || end == dot + 1) {
            tribe_reply_problem(r, 400, "bad-request", q->url, "cursor '%.40s' is not a page cursor of this API", cur);
            return;
        }
        if (strncmp(cur, s->gen, 16) != 0) {
            tribe_reply_problem(r, 410, "cursor-expired", q->url,
                                "the cursor belongs to a run no longer served (now run %s); start again without it",
                                s->run_id);
            return;
        }
    }
    if (pos > s->seg_start[c + 1] - s->seg_start[c])
        pos = s->seg_start[c + 1] - s->seg_start[c];
    if (page_body(s, c, s->seg_start[c] + pos, limit, &b) != TRIBE_OK) {
        tribe_sbuf_free(&b);
        tribe_reply_problem(r, 500, "internal", q->url, "%s", tribe_errmsg());
        return;
    }
    tribe_reply_sbuf(r, 200, &b);
}

/* The segment's document, with its newest saved persona version of this
 * run in place of the run's persona when there is one. */
static void segment_doc(const tribe_req *q, tribe_snap *s, int c, tribe_reply *r)
{
    int version = 0;
    char *p = tribe_writes_persona(q->srv->writes, s, s->seg_id[c], &version);
    cJSON *doc = version > 0 ? cJSON_Parse(s->segment_json[c]) : NULL;
    char *text = NULL;
    if (doc) {
        cJSON_ReplaceItemInObjectCaseSensitive(doc, "persona", cJSON_Parse(p));
        text = cJSON_PrintUnformatted(doc);
    }
    tribe_reply_json(r, 200, text ? text : s->segment_json[c], -1);
    free(text);
    free(p);
    cJSON_Delete(doc);
}

/* /v1/segments/{id}[/customers]: *rest is what follows the id. */
static void segments(const tribe_req *q, tribe_snap *s, const char *p, tribe_reply *r)
{
    int64_t sid = 0;
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    int c = -1;
    r->route = TRIBE_ROUTE_SEGMENT;
    if (tribe_serve_parse_id(p, len, &sid) != 0 || (c = tribe_snap_segment(s, sid)) < 0) {
        tribe_reply_problem(r, 404, "not-found", q->url, "no segment '%.*s' in run %s", (int)(len > 40 ? 40 : len), p,
                            s->run_id);
        return;
    }
    if (!slash)
        segment_doc(q, s, c, r);
    else if (strcmp(slash, "/customers") == 0)
        segment_customers(q, s, c, r);
    else
        tribe_reply_problem(r, 404, "not-found", q->url, "no such resource");
}

int tribe_api_read(const tribe_req *q, tribe_snap *s, tribe_reply *r)
{
    const char *u = q->url;
    int get = strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0;
    if (strcmp(u, "/v1/customers:batch") == 0) {
        r->route = TRIBE_ROUTE_BATCH;
        if (strcmp(q->method, "POST") != 0)
            return tribe_reply_problem(r, 405, "method-not-allowed", u, "use POST"), 1;
        batch(q, s, r);
        return 1;
    }
    if (!get)
        return 0;
    if (strncmp(u, "/v1/customers/", 14) == 0)
        customer(q, s, u + 14, r);
    else if (strcmp(u, "/v1/segments") == 0)
        r->route = TRIBE_ROUTE_SEGMENTS, tribe_reply_json(r, 200, s->segments_json, -1);
    else if (strncmp(u, "/v1/segments/", 13) == 0 && !strstr(u + 13, "/persona"))
        segments(q, s, u + 13, r);
    else if (strcmp(u, "/v1/runs") == 0)
        r->route = TRIBE_ROUTE_RUNS, tribe_reply_json(r, 200, s->runs_json, -1);
    else if (strcmp(u, "/v1/runs/current") == 0)
        r->route = TRIBE_ROUTE_RUNS, tribe_reply_json(r, 200, s->current_json, -1);
    else
        return 0;
    return 1;
}
