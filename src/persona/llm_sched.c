/* The request scheduler of the LLM provider and the image requests
 * (llm_sched.h). */
#include "llm_sched.h"

#include "tribe/http.h"
#include "tribe/llm.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The error code of an OpenAI-style error body when it is a plain
 * identifier; never the message (a 401's message may quote the key). */
static void error_code(const char *body, char *buf, size_t cap)
{
    buf[0] = '\0';
    cJSON *root = cJSON_Parse(body);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    const char *keys[2] = {"code", "type"};
    for (int i = 0; i < 2 && !buf[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, keys[i]);
        if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
            continue;
        int plain = 1;
        for (const char *p = v->valuestring; *p; p++)
            plain &= (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_';
        if (plain)
            snprintf(buf, cap, "%s", v->valuestring);
    }
    cJSON_Delete(root);
}

void llm_sched_retry(const llm_sched *s, llm_task *t, double retry_after_s, double now)
{
    t->failures++;
    if (t->failures > s->retries) {
        char why[200];
        snprintf(why, sizeof why, "%.160s after %d attempts", t->reason, t->failures);
        snprintf(t->reason, sizeof t->reason, "%s", why);
        t->state = SCHED_FAILED;
        return;
    }
    double wait = tribe_llm_backoff_s(s->backoff_s, t->failures, retry_after_s, s->seed, t->jitter_key);
    if (now + wait >= s->deadline) {
        size_t n = strlen(t->reason);
        snprintf(t->reason + n, sizeof t->reason - n, "; next retry in %.3g s is past the deadline", wait);
        t->state = SCHED_FAILED;
        return;
    }
    t->ready_at = now + wait;
    t->state = SCHED_WAIT;
}

static tribe_status on_reply(llm_sched *s, int i, const tribe_http_result *r, double now)
{
    llm_task *t = &s->tasks[i];
    char code[64];
    if (r->status == 0) {
        snprintf(t->reason, sizeof t->reason, "%s", r->timed_out ? "timeout" : r->error);
        llm_sched_retry(s, t, -1, now);
        return TRIBE_OK;
    }
    if (r->status == 200)
        return s->on_ok(s, i, r->body, now);
    error_code(r->body, code, sizeof code);
    snprintf(t->reason, sizeof t->reason, "HTTP %ld%s%s", r->status, code[0] ? " " : "", code);
    if (r->status == 429 && strcmp(code, "insufficient_quota") != 0)
        llm_sched_retry(s, t, r->retry_after_s, now);
    else if (r->status >= 500 || r->status == 408)
        llm_sched_retry(s, t, -1, now);
    else if (r->status == 400 && s->on_400 && s->on_400(s, i, r->body)) {
        t->ready_at = now;
        t->state = SCHED_WAIT;
    } else
        t->state = SCHED_FAILED; /* 400, 401, 403, 404, insufficient_quota: asking again cannot help */
    return TRIBE_OK;
}

/* Every open task fails with the current error message (or `why`). */
static void fail_open(llm_sched *s, const char *why)
{
    for (int i = 0; i < s->n; i++)
        if (s->tasks[i].state == SCHED_WAIT || s->tasks[i].state == SCHED_FLIGHT) {
            snprintf(s->tasks[i].reason, sizeof s->tasks[i].reason, "%s", why ? why : tribe_errmsg());
            s->tasks[i].state = SCHED_FAILED;
        }
    tribe_clear_error();
}

static int open_tasks(const llm_sched *s)
{
    int open = 0;
    for (int i = 0; i < s->n; i++)
        open += s->tasks[i].state == SCHED_WAIT || s->tasks[i].state == SCHED_FLIGHT;
    return open;
}

/* Starts every task that may go now, up to the cap; returns in *next the
 * earliest time a waiting task becomes ready. */
static tribe_status start_ready(llm_sched *s, tribe_http *h, double now, double *next, int *sent)
{
    tribe_status st = TRIBE_OK;
    char *body = NULL;
    *next = s->deadline;
    for (int i = 0; i < s->n && tribe_http_active(h) < s->max_concurrency; i++) {
        llm_task *t = &s->tasks[i];
        if (t->state != SCHED_WAIT)
            continue;
        if (t->ready_at > now) {
            *next = fmin(*next, t->ready_at);
            continue;
        }
        TRIBE_TRY(s->body(s, i, &body));
        /* No request outlives the batch's deadline. */
        st = tribe_http_post(h, i, s->url, s->key, body, fmin(s->timeout_s, s->deadline - now));
        free(body);
        body = NULL;
        if (st == TRIBE_ERR_NOMEM)
            goto cleanup;
        if (st != TRIBE_OK) {
            snprintf(t->reason, sizeof t->reason, "%s", tribe_errmsg());
            tribe_clear_error();
            st = TRIBE_OK;
            t->state = SCHED_FAILED;
            continue;
        }
        (*sent)++;
        t->state = SCHED_FLIGHT;
    }
    for (int i = 0; i < s->n; i++)
        if (s->tasks[i].state == SCHED_WAIT)
            *next = fmin(*next, fmax(s->tasks[i].ready_at, now));
cleanup:
    free(body);
    return st;
}

tribe_status llm_sched_run(llm_sched *s, int *sent)
{
    tribe_status st = TRIBE_OK;
    tribe_http *h = NULL;
    *sent = 0;
    if (!open_tasks(s))
        return TRIBE_OK;
    st = tribe_http_create(&h);
    if (st != TRIBE_OK) {
        if (st != TRIBE_ERR_NOMEM) {
            fail_open(s, NULL);
            st = TRIBE_OK;
        }
        goto cleanup;
    }
    while (open_tasks(s)) {
        double now = tribe_now(), next;
        if (now >= s->deadline) {
            char why[64];
            snprintf(why, sizeof why, "persona.deadline_s = %g s passed", s->deadline_s);
            fail_open(s, why);
            break;
        }
        TRIBE_TRY(start_ready(s, h, now, &next, sent));
        double wait = tribe_http_active(h) > 0 ? fmin(0.25, s->deadline - now) : fmax(0, next - now);
        tribe_http_result r = {0};
        int got = 0;
        st = tribe_http_wait(h, wait, &r, &got);
        if (st == TRIBE_ERR_NOMEM)
            goto cleanup;
        if (st != TRIBE_OK) {
            /* curl itself broke: every open task fails. */
            fail_open(s, NULL);
            st = TRIBE_OK;
            break;
        }
        if (got) {
            st = on_reply(s, r.tag, &r, tribe_now());
            tribe_http_result_free(&r);
            if (st != TRIBE_OK)
                goto cleanup;
        }
    }
cleanup:
    tribe_http_destroy(&h);
    return st;
}
