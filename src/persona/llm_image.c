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
#include "tribe/record.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llm_sched.h"

/* A decoded image larger than this is refused: the report embeds every
 * image, and a page of hundreds of megabytes helps nobody. */
#define MAX_IMAGE_BYTES (16u << 20)

/* What the scheduler's callbacks see (llm_sched.ud). */
typedef struct {
    const tribe_image_config *cfg;
    const tribe_persona *p;
    int k;
    tribe_persona_image *img;
} img_ctx;

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
    cJSON *root = cJSON_CreateObject();
    int ok = root && cJSON_AddStringToObject(root, "model", cfg->model) &&
             cJSON_AddStringToObject(root, "prompt", prompt) &&
             cJSON_AddStringToObject(root, "size", cfg->size ? cfg->size : "1024x1024") &&
             cJSON_AddStringToObject(root, "response_format", "b64_json") && cJSON_AddNumberToObject(root, "n", 1);
    tribe_status st = tribe_json_text(root, ok, 0, "image request", out);
    cJSON_Delete(root);
    return st;
}

static tribe_status body_cb(const llm_sched *sc, int c, char **out)
{
    const img_ctx *x = sc->ud;
    const tribe_persona *q = NULL;
    for (int i = 0; i < x->k && !q; i++)
        if (x->p[i].segment == x->img[c].segment)
            q = &x->p[i];
    return request_body(x->cfg, q->image_prompt, out);
}

static tribe_status on_ok_cb(const llm_sched *sc, int c, const char *body, double now)
{
    const img_ctx *x = sc->ud;
    llm_task *t = &sc->tasks[c];
    tribe_status st = tribe_image_reply_parse(body, &x->img[c]);
    if (st == TRIBE_OK) {
        t->state = SCHED_DONE;
        return TRIBE_OK;
    }
    if (st != TRIBE_ERR_INPUT)
        return st;
    snprintf(t->reason, sizeof t->reason, "%s", tribe_errmsg());
    tribe_clear_error();
    llm_sched_retry(sc, t, -1, now);
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
    llm_task *tasks = NULL;
    char url[2048];
    int k = segs->k, sent = 0;
    double t0 = tribe_now();
    *out = NULL;
    if (!cfg || !cfg->base_url || !cfg->base_url[0] || !cfg->model || !cfg->model[0])
        return tribe_fail(TRIBE_ERR_USAGE, "persona images: image_base_url and image_model are required");
    double deadline_s = cfg->req.deadline_s > 0 ? cfg->req.deadline_s : 300;
    TRIBE_TRY(tribe_calloc((void **)&img, (size_t)(k > 0 ? k : 1), sizeof *img));
    TRIBE_TRY(tribe_calloc((void **)&tasks, (size_t)(k > 0 ? k : 1), sizeof *tasks));
    TRIBE_TRY(tribe_fmt(url, sizeof url, "%s%simages/generations", cfg->base_url,
                        cfg->base_url[strlen(cfg->base_url) - 1] == '/' ? "" : "/"));

    for (int c = 0; c < k; c++) {
        const tribe_persona *q = NULL;
        img[c].segment = segs->seg[c].id;
        for (int i = 0; p && i < k && !q; i++)
            if (p[i].segment == segs->seg[c].id)
                q = &p[i];
        tasks[c].jitter_key = c;
        tasks[c].state = SCHED_FAILED;
        if (segs->seg[c].size < cfg->req.k_min)
            /* The prompt was written from a small segment's figures: it stays in the job. */
            snprintf(tasks[c].reason, sizeof tasks[c].reason, "%lld customers, under persona.k_min = %lld",
                     (long long)segs->seg[c].size, (long long)cfg->req.k_min);
        else if (!q || !q->image_prompt || !q->image_prompt[0])
            snprintf(tasks[c].reason, sizeof tasks[c].reason, "no image prompt");
        else {
            tasks[c].state = SCHED_WAIT;
            tasks[c].ready_at = t0;
        }
    }
    img_ctx ctx = {cfg, p, k, img};
    llm_sched sc = {.url = url, .key = cfg->req.api_key_env ? getenv(cfg->req.api_key_env) : NULL,
                    .timeout_s = cfg->req.timeout_s > 0 ? cfg->req.timeout_s : 60, .deadline = t0 + deadline_s,
                    .deadline_s = deadline_s, .max_concurrency = cfg->req.max_concurrency > 0 ? cfg->req.max_concurrency : 1,
                    .retries = cfg->req.retries, .backoff_s = cfg->req.backoff_s, .seed = cfg->req.seed, .ud = &ctx,
                    .body = body_cb, .on_ok = on_ok_cb, .tasks = tasks, .n = k};
    TRIBE_TRY(llm_sched_run(&sc, &sent));
    int n_img = 0;
    for (int c = 0; c < k; c++) {
        if (tasks[c].state == SCHED_DONE) {
            n_img++;
            continue;
        }
        snprintf(img[c].why, sizeof img[c].why, "%s", tasks[c].reason);
        tribe_log(segs->seg[c].size < cfg->req.k_min ? TRIBE_LOG_INFO : TRIBE_LOG_WARN,
                  "image of segment %d (%s): none: %s", segs->seg[c].id, segs->seg[c].name, img[c].why);
    }
    TRIBE_INFO("persona images: %d of %d from %s; %d requests in %.2f s", n_img, k, cfg->model, sent,
               tribe_now() - t0);
    *out = img;
    img = NULL;
cleanup:
    free(tasks);
    tribe_persona_images_destroy(&img, k);
    return st;
}

const char *tribe_persona_image_summary(const tribe_persona_image *im, char *buf, size_t cap)
{
    if (im->b64)
        snprintf(buf, cap, "%s, %zu bytes", im->mime, im->bytes);
    else
        snprintf(buf, cap, "no image: %s", im->why);
    return buf;
}
