/* Persona images (tribe/llm.h): one OpenAI-style /images/generations request
 * per segment, fetched by rank 0 through the same curl client and under the
 * same rules as the persona requests: a cap on requests in flight, 429 with
 * Retry-After, bounded retries of 5xx, timeouts and unusable replies, no
 * retry of 400/401/403/404 or insufficient_quota, one deadline for the batch.
 *
 * An image is optional by design: every way a request can go wrong ends as an
 * entry without an image whose `why` says what happened, never as an error of
 * the run. What is kept is checked to be a PNG or JPEG by its magic bytes and
 * re-encoded as canonical base64, so the report can embed it as a data: URI
 * without trusting the server's text. */
#include "tribe/llm.h"
#include "tribe/base64.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tribe/http.h"

/* A decoded image larger than this is refused: the report embeds every
 * image, and a page of hundreds of megabytes helps nobody. */
#define MAX_IMAGE_BYTES (16u << 20)

enum { I_WAIT = 0, I_FLIGHT, I_DONE, I_FAILED };

typedef struct {
    int state;
    int failures;
    double ready_at;
} img_job;

const char *tribe_image_mime(const unsigned char *data, size_t n)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 8 && memcmp(data, png, 8) == 0)
        return "image/png";
    if (n >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
        return "image/jpeg";
    return NULL;
}

tribe_status tribe_image_b64_decode(const char *text, unsigned char **out, size_t *n)
{
    tribe_status st = TRIBE_OK;
    unsigned char *buf = NULL;
    size_t cap = strlen(text) / 4 * 3 + 3;
    *out = NULL;
    *n = 0;
    TRIBE_TRY(tribe_alloc((void **)&buf, cap));
    TRIBE_TRY(tribe_base64_decode(text, buf, cap, n));
    *out = buf;
    buf = NULL;
cleanup:
    free(buf);
    return st;
}

static tribe_status b64_encode(const unsigned char *d, size_t n, char **out)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_alloc((void **)out, (n + 2) / 3 * 4 + 1));
    tribe_base64_encode(d, n, *out);
cleanup:
    return st;
}

tribe_status tribe_image_reply_parse(const char *body, tribe_persona_image *img)
{
    tribe_status st = TRIBE_OK;
    unsigned char *bytes = NULL;
    size_t n = 0;
    cJSON *root = cJSON_Parse(body);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(data, 0), "b64_json");
    if (!root) {
        st = tribe_fail(TRIBE_ERR_INPUT, "image reply: not JSON");
        goto cleanup;
    }
    if (!cJSON_IsString(b64)) {
        st = tribe_fail(TRIBE_ERR_INPUT, "image reply: no data[0].b64_json");
        goto cleanup;
    }
    st = tribe_image_b64_decode(b64->valuestring, &bytes, &n);
    if (st != TRIBE_OK) {
        if (st == TRIBE_ERR_INPUT)
            st = tribe_fail(TRIBE_ERR_INPUT, "image reply: %s", tribe_errmsg());
        goto cleanup;
    }
    if (n > MAX_IMAGE_BYTES) {
        st = tribe_fail(TRIBE_ERR_INPUT, "image reply: %zu bytes, over the %u limit", n, MAX_IMAGE_BYTES);
        goto cleanup;
    }
    const char *mime = tribe_image_mime(bytes, n);
    if (!mime) {
        st = tribe_fail(TRIBE_ERR_INPUT, "image reply: neither PNG nor JPEG (%zu bytes)", n);
        goto cleanup;
    }
    free(img->b64);
    img->b64 = NULL;
    TRIBE_TRY(b64_encode(bytes, n, &img->b64));
    snprintf(img->mime, sizeof img->mime, "%s", mime);
    img->bytes = n;
    img->why[0] = '\0';
cleanup:
    cJSON_Delete(root);
    free(bytes);
    return st;
}

static tribe_status request_body(const tribe_image_config *cfg, const char *prompt, char **out)
{
    tribe_status st = TRIBE_OK;
    char *text = NULL;
    cJSON *root = cJSON_CreateObject();
    int ok = root && cJSON_AddStringToObject(root, "model", cfg->model) &&
             cJSON_AddStringToObject(root, "prompt", prompt) &&
             cJSON_AddStringToObject(root, "size", cfg->size ? cfg->size : "1024x1024") &&
             cJSON_AddStringToObject(root, "response_format", "b64_json") && cJSON_AddNumberToObject(root, "n", 1);
    if (!ok || !(text = cJSON_PrintUnformatted(root))) {
        st = tribe_fail(TRIBE_ERR_NOMEM, "image request: out of memory");
        goto cleanup;
    }
    TRIBE_TRY(tribe_strdup(text, out));
cleanup:
    cJSON_free(text);
    cJSON_Delete(root);
    return st;
}

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

static void retry_or_fail(const tribe_image_config *cfg, img_job *j, tribe_persona_image *img, int c,
                          double retry_after_s, double now, double deadline)
{
    j->failures++;
    if (j->failures > cfg->retries) {
        char why[200];
        snprintf(why, sizeof why, "%.160s after %d attempts", img->why, j->failures);
        snprintf(img->why, sizeof img->why, "%s", why);
        j->state = I_FAILED;
        return;
    }
    double wait = tribe_llm_backoff_s(cfg->backoff_s, j->failures, retry_after_s, cfg->seed, c);
    if (now + wait >= deadline) {
        size_t n = strlen(img->why);
        snprintf(img->why + n, sizeof img->why - n, "; next retry in %.3g s is past the deadline", wait);
        j->state = I_FAILED;
        return;
    }
    j->ready_at = now + wait;
    j->state = I_WAIT;
}

static tribe_status on_reply(const tribe_image_config *cfg, img_job *j, tribe_persona_image *img, int c,
                             const tribe_http_result *r, double now, double deadline)
{
    char code[64];
    if (r->status == 0) {
        snprintf(img->why, sizeof img->why, "%s", r->timed_out ? "timeout" : r->error);
        retry_or_fail(cfg, j, img, c, -1, now, deadline);
        return TRIBE_OK;
    }
    if (r->status != 200) {
        error_code(r->body, code, sizeof code);
        snprintf(img->why, sizeof img->why, "HTTP %ld%s%s", r->status, code[0] ? " " : "", code);
        if (r->status == 429 && strcmp(code, "insufficient_quota") != 0)
            retry_or_fail(cfg, j, img, c, r->retry_after_s, now, deadline);
        else if (r->status >= 500 || r->status == 408)
            retry_or_fail(cfg, j, img, c, -1, now, deadline);
        else
            j->state = I_FAILED; /* 400, 401, 403, 404, insufficient_quota: asking again cannot help */
        return TRIBE_OK;
    }
    tribe_status st = tribe_image_reply_parse(r->body, img);
    if (st == TRIBE_OK) {
        j->state = I_DONE;
        return TRIBE_OK;
    }
    if (st != TRIBE_ERR_INPUT)
        return st;
    snprintf(img->why, sizeof img->why, "%s", tribe_errmsg());
    tribe_clear_error();
    retry_or_fail(cfg, j, img, c, -1, now, deadline);
    return TRIBE_OK;
}

void tribe_persona_images_destroy(tribe_persona_image **img, int k)
{
    if (!img || !*img)
        return;
    for (int c = 0; c < k; c++)
        free((*img)[c].b64);
    free(*img);
    *img = NULL;
}

tribe_status tribe_persona_images_fetch(const tribe_image_config *cfg, const tribe_segments *segs,
                                        const tribe_persona *p, tribe_persona_image **out)
{
    tribe_status st = TRIBE_OK;
    tribe_persona_image *img = NULL;
    img_job *jobs = NULL;
    tribe_http *h = NULL;
    char *body = NULL, url[2048];
    int k = segs->k, pending = 0, sent = 0;
    double t0 = tribe_now();
    *out = NULL;
    if (!cfg || !cfg->base_url || !cfg->base_url[0] || !cfg->model || !cfg->model[0])
        return tribe_fail(TRIBE_ERR_USAGE, "persona images: image_base_url and image_model are required");
    double timeout_s = cfg->timeout_s > 0 ? cfg->timeout_s : 60;
    double deadline = t0 + (cfg->deadline_s > 0 ? cfg->deadline_s : 300);
    int cap = cfg->max_concurrency > 0 ? cfg->max_concurrency : 1;
    TRIBE_TRY(tribe_calloc((void **)&img, (size_t)(k > 0 ? k : 1), sizeof *img));
    TRIBE_TRY(tribe_calloc((void **)&jobs, (size_t)(k > 0 ? k : 1), sizeof *jobs));
    TRIBE_TRY(tribe_fmt(url, sizeof url, "%s%simages/generations", cfg->base_url,
                        cfg->base_url[strlen(cfg->base_url) - 1] == '/' ? "" : "/"));
    const char *key = cfg->api_key_env ? getenv(cfg->api_key_env) : NULL;

    for (int c = 0; c < k; c++) {
        const tribe_persona *q = NULL;
        img[c].segment = segs->seg[c].id;
        for (int i = 0; p && i < k && !q; i++)
            if (p[i].segment == segs->seg[c].id)
                q = &p[i];
        jobs[c].state = I_FAILED;
        if (segs->seg[c].size < cfg->k_min)
            /* The prompt was written from a small segment's figures: it stays in the job. */
            snprintf(img[c].why, sizeof img[c].why, "%lld customers, under persona.k_min = %lld",
                     (long long)segs->seg[c].size, (long long)cfg->k_min);
        else if (!q || !q->image_prompt || !q->image_prompt[0])
            snprintf(img[c].why, sizeof img[c].why, "no image prompt");
        else {
            jobs[c].state = I_WAIT;
            jobs[c].ready_at = t0;
            pending++;
        }
    }
    if (pending) {
        st = tribe_http_create(&h);
        if (st == TRIBE_ERR_NOMEM)
            goto cleanup;
        if (st != TRIBE_OK) {
            for (int c = 0; c < k; c++)
                if (jobs[c].state == I_WAIT) {
                    snprintf(img[c].why, sizeof img[c].why, "%s", tribe_errmsg());
                    jobs[c].state = I_FAILED;
                }
            tribe_clear_error();
            st = TRIBE_OK;
            pending = 0;
        }
    }
    while (pending) {
        double now = tribe_now();
        if (now >= deadline) {
            for (int c = 0; c < k; c++)
                if (jobs[c].state == I_WAIT || jobs[c].state == I_FLIGHT) {
                    snprintf(img[c].why, sizeof img[c].why, "persona.deadline_s = %g s passed",
                             cfg->deadline_s > 0 ? cfg->deadline_s : 300);
                    jobs[c].state = I_FAILED;
                }
            break;
        }
        double next = deadline;
        for (int c = 0; c < k && tribe_http_active(h) < cap; c++) {
            img_job *j = &jobs[c];
            if (j->state != I_WAIT)
                continue;
            if (j->ready_at > now) {
                next = fmin(next, j->ready_at);
                continue;
            }
            const tribe_persona *q = NULL;
            for (int i = 0; i < k && !q; i++)
                if (p[i].segment == img[c].segment)
                    q = &p[i];
            TRIBE_TRY(request_body(cfg, q->image_prompt, &body));
            st = tribe_http_post(h, c, url, key, body, fmin(timeout_s, deadline - now));
            free(body);
            body = NULL;
            if (st == TRIBE_ERR_NOMEM)
                goto cleanup;
            if (st != TRIBE_OK) {
                snprintf(img[c].why, sizeof img[c].why, "%s", tribe_errmsg());
                tribe_clear_error();
                st = TRIBE_OK;
                j->state = I_FAILED;
                continue;
            }
            sent++;
            j->state = I_FLIGHT;
        }
        for (int c = 0; c < k; c++)
            if (jobs[c].state == I_WAIT)
                next = fmin(next, fmax(jobs[c].ready_at, now));
        double wait = tribe_http_active(h) > 0 ? fmin(0.25, deadline - now) : fmax(0, next - now);
        tribe_http_result r = {0};
        int got = 0;
        st = tribe_http_wait(h, wait, &r, &got);
        if (st == TRIBE_ERR_NOMEM)
            goto cleanup;
        if (st != TRIBE_OK) {
            for (int c = 0; c < k; c++)
                if (jobs[c].state == I_WAIT || jobs[c].state == I_FLIGHT) {
                    snprintf(img[c].why, sizeof img[c].why, "%s", tribe_errmsg());
                    jobs[c].state = I_FAILED;
                }
            tribe_clear_error();
            st = TRIBE_OK;
            break;
        }
        if (got) {
            st = on_reply(cfg, &jobs[r.tag], &img[r.tag], r.tag, &r, tribe_now(), deadline);
            tribe_http_result_free(&r);
            if (st != TRIBE_OK)
                goto cleanup;
        }
        pending = 0;
        for (int c = 0; c < k; c++)
            pending += jobs[c].state == I_WAIT || jobs[c].state == I_FLIGHT;
    }
    int n_img = 0;
    for (int c = 0; c < k; c++) {
        if (jobs[c].state == I_DONE) {
            n_img++;
            continue;
        }
        tribe_log(segs->seg[c].size < cfg->k_min ? TRIBE_LOG_INFO : TRIBE_LOG_WARN,
                  "image of segment %d (%s): none: %s", segs->seg[c].id, segs->seg[c].name, img[c].why);
    }
    TRIBE_INFO("persona images: %d of %d from %s; %d requests in %.2f s", n_img, k, cfg->model, sent,
               tribe_now() - t0);
    *out = img;
    img = NULL;
cleanup:
    tribe_http_destroy(&h);
    free(body);
    free(jobs);
    tribe_persona_images_destroy(&img, k);
    return st;
}

tribe_status tribe_persona_images_from_job(const tribe_job *job, const tribe_segments *segs, const tribe_persona *p,
                                           tribe_persona_image **out)
{
    *out = NULL;
    if (!job->persona.image_base_url)
        return TRIBE_OK;
    tribe_image_config cfg = {
        .base_url = job->persona.image_base_url,
        .model = job->persona.image_model,
        .size = job->persona.image_size,
        .api_key_env = job->persona.api_key_env,
        .timeout_s = job->persona.timeout_s,
        .deadline_s = job->persona.deadline_s,
        .backoff_s = job->persona.backoff_s,
        .seed = job->persona.seed,
        .max_concurrency = job->persona.max_concurrency,
        .retries = job->persona.retries,
        .k_min = job->persona.k_min,
    };
    return tribe_persona_images_fetch(&cfg, segs, p, out);
}

tribe_status tribe_persona_images_json(const tribe_persona_image *img, const tribe_segments *segs, char **out)
{
    tribe_status st = TRIBE_OK;
    char *text = NULL, line[256];
    cJSON *root = cJSON_CreateObject();
    int ok = root != NULL;
    for (int c = 0; ok && c < segs->k; c++) {
        if (img[c].b64)
            snprintf(line, sizeof line, "%s, %zu bytes", img[c].mime, img[c].bytes);
        else
            snprintf(line, sizeof line, "no image: %s", img[c].why);
        ok = cJSON_AddStringToObject(root, segs->seg[c].name, line) != NULL;
    }
    if (!ok || !(text = cJSON_PrintUnformatted(root))) {
        st = tribe_fail(TRIBE_ERR_NOMEM, "persona images: out of memory");
        goto cleanup;
    }
    TRIBE_TRY(tribe_strdup(text, out));
cleanup:
    cJSON_free(text);
    cJSON_Delete(root);
    return st;
}
