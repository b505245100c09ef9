/* The LLM persona provider (tribe/llm.h): one Chat Completions request per
 * segment, all in flight together up to a cap, each with its own retry
 * schedule, under one deadline for the whole batch.
 *
 * Per segment the states are: cached or under k_min (done at once), waiting
 * (ready_at says when it may go), in flight, done (persona from the server)
 * or failed (persona from the offline writer, provider says why). No path
 * out of write_all depends on the server behaving: every reply is validated,
 * every wait is bounded by the deadline, and curl itself failing only sends
 * every segment to the offline writer. */
#include "tribe/llm.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tribe/http.h"

typedef struct {
    tribe_llm_config cfg; /* strings below are owned copies */
    char *base_url, *model, *api_key_env, *cache_dir, *prompt_path;
    tribe_llm_prompt *prompt;
    tribe_persona_provider *offline;
} llm_state;

enum { S_WAIT = 0, S_FLIGHT, S_DONE, S_FAILED };

typedef struct {
    int c;                /* segment index */
    tribe_persona *out;
    int state;
    char *profile;
    char key[33];
    int failures;         /* retryable failures so far */
    int json_object;      /* 1 once the server rejected json_schema */
    int reasked;
    char *prev;           /* the ungrounded reply, for the re-ask */
    char violation[256];
    double ready_at;
    char reason[200];     /* the last failure, then why it fell back */
} seg_job;

static void llm_destroy(tribe_persona_provider *self)
{
    llm_state *s = self->state;
    if (!s)
        return;
    free(s->base_url);
    free(s->model);
    free(s->api_key_env);
    free(s->cache_dir);
    free(s->prompt_path);
    tribe_llm_prompt_destroy(&s->prompt);
    tribe_persona_provider_destroy(&s->offline);
    free(s);
    self->state = NULL;
}

/* ---- request bodies ------------------------------------------------------- */

static int add_msg(cJSON *msgs, const char *role, const char *content)
{
    cJSON *m = cJSON_CreateObject();
    if (!m || !cJSON_AddItemToArray(msgs, m)) {
        cJSON_Delete(m);
        return 0;
    }
    return cJSON_AddStringToObject(m, "role", role) && cJSON_AddStringToObject(m, "content", content);
}

static tribe_status request_body(const llm_state *s, const seg_job *j, char **out)
{
    tribe_status st = TRIBE_OK;
    char *user = NULL, *reask = NULL, *sys = NULL, *text = NULL;
    cJSON *root = cJSON_CreateObject(), *msgs = NULL, *rf = NULL, *js = NULL;
    TRIBE_TRY(tribe_llm_render(s->prompt->user, "profile", j->profile, &user));
    if (j->json_object) {
        /* JSON mode only promises some JSON object: the schema goes into
         * the instructions instead, and the reply is validated as always. */
        const char *schema = tribe_llm_persona_schema();
        size_t n = strlen(s->prompt->system) + strlen(schema) + 96;
        TRIBE_TRY(tribe_alloc((void **)&sys, n));
        snprintf(sys, n, "%s\n\nReply with one JSON object that follows this JSON schema:\n%s", s->prompt->system,
                 schema);
    }
    int ok = root && cJSON_AddStringToObject(root, "model", s->model) &&
             cJSON_AddNumberToObject(root, "temperature", s->cfg.temperature) &&
             cJSON_AddNumberToObject(root, "seed", (double)s->cfg.seed) &&
             (msgs = cJSON_AddArrayToObject(root, "messages")) != NULL &&
             add_msg(msgs, "system", sys ? sys : s->prompt->system) && add_msg(msgs, "user", user);
    if (ok && j->reasked && j->prev) {
        TRIBE_TRY(tribe_llm_render(s->prompt->reask, "violation", j->violation, &reask));
        ok = add_msg(msgs, "assistant", j->prev) && add_msg(msgs, "user", reask);
    }
    ok = ok && (rf = cJSON_AddObjectToObject(root, "response_format")) != NULL;
    if (ok && j->json_object) {
        ok = cJSON_AddStringToObject(rf, "type", "json_object") != NULL;
    } else if (ok) {
        cJSON *schema = cJSON_Parse(tribe_llm_persona_schema());
        ok = schema && cJSON_AddStringToObject(rf, "type", "json_schema") &&
             (js = cJSON_AddObjectToObject(rf, "json_schema")) != NULL && cJSON_AddStringToObject(js, "name", "persona") &&
             cJSON_AddBoolToObject(js, "strict", 1) && cJSON_AddItemToObject(js, "schema", schema);
        if (!ok)
            cJSON_Delete(schema);
    }
    if (!ok || !(text = cJSON_PrintUnformatted(root))) {
        st = tribe_fail(TRIBE_ERR_NOMEM, "LLM request: out of memory");
        goto cleanup;
    }
    TRIBE_TRY(tribe_strdup(text, out));
cleanup:
    cJSON_free(text);
    cJSON_Delete(root);
    free(user);
    free(reask);
    free(sys);
    return st;
}

/* ---- cache ---------------------------------------------------------------- */

static tribe_status cache_path(const llm_state *s, const seg_job *j, char *buf, size_t cap)
{
    return tribe_fmt(buf, cap, "%s/%s.json", s->cache_dir, j->key);
}

/* A cached reply is held to the same checks as a fresh one: a hand-edited
 * or stale entry is ignored, not trusted. */
static int cache_load(const llm_state *s, const tribe_segments *segs, seg_job *j)
{
    char path[4096], *text = NULL;
    if (!s->cache_dir || cache_path(s, j, path, sizeof path) != TRIBE_OK)
        return 0;
    if (access(path, R_OK) != 0 || tribe_read_file(path, &text, NULL) != TRIBE_OK) {
        tribe_clear_error();
        return 0;
    }
    tribe_persona *p = j->out;
    int ok = tribe_llm_persona_parse(text, p) == TRIBE_OK;
    p->segment = segs->seg[j->c].id;
    ok = ok && tribe_strdup(segs->seg[j->c].name, &p->segment_name) == TRIBE_OK &&
         tribe_strdup(s->model, &p->provider) == TRIBE_OK && tribe_persona_check_grounded(p, segs) == TRIBE_OK;
    free(text);
    if (!ok) {
        tribe_clear_error();
        tribe_persona_clear(p);
    }
    return ok;
}

static void cache_store(const llm_state *s, const seg_job *j, const char *content)
{
    char path[4096];
    if (!s->cache_dir)
        return;
    if (tribe_mkdirs(s->cache_dir) != TRIBE_OK || cache_path(s, j, path, sizeof path) != TRIBE_OK ||
        tribe_write_file_atomic(path, content, strlen(content)) != TRIBE_OK) {
        /* A cache that cannot be written costs a rerun requests, nothing more. */
        TRIBE_WARN("persona cache: %s", tribe_errmsg());
        tribe_clear_error();
    }
}

/* ---- replies -------------------------------------------------------------- */

/* The error code of an OpenAI-style error body, if it is a plain identifier.
 * Never the message: a 401's message may quote part of the key. */
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

/* Retry later, or give up when the budget or the deadline says so. */
static void retry_or_fail(const llm_state *s, seg_job *j, double retry_after_s, double now, double deadline)
{
    j->failures++;
    if (j->failures > s->cfg.retries) {
        char why[200];
        snprintf(why, sizeof why, "%.160s after %d attempts", j->reason, j->failures);
        snprintf(j->reason, sizeof j->reason, "%s", why);
        j->state = S_FAILED;
        return;
    }
    double wait = tribe_llm_backoff_s(s->cfg.backoff_s, j->failures, retry_after_s, s->cfg.seed, j->c);
    if (now + wait >= deadline) {
        size_t n = strlen(j->reason);
        snprintf(j->reason + n, sizeof j->reason - n, "; next retry in %.3g s is past the deadline", wait);
        j->state = S_FAILED;
        return;
    }
    j->ready_at = now + wait;
    j->state = S_WAIT;
}

static tribe_status on_reply(const llm_state *s, const tribe_segments *segs, seg_job *j, const tribe_http_result *r,
                             double now, double deadline)
{
    tribe_status st = TRIBE_OK;
    char *content = NULL, code[64];
    if (r->status == 0) {
        snprintf(j->reason, sizeof j->reason, "%s", r->timed_out ? "timeout" : r->error);
        retry_or_fail(s, j, -1, now, deadline);
        return TRIBE_OK;
    }
    if (r->status != 200) {
        error_code(r->body, code, sizeof code);
        snprintf(j->reason, sizeof j->reason, "HTTP %ld%s%s", r->status, code[0] ? " " : "", code);
        if (r->status == 429 && strcmp(code, "insufficient_quota") != 0)
            retry_or_fail(s, j, r->retry_after_s, now, deadline);
        else if (r->status >= 500 || r->status == 408)
            retry_or_fail(s, j, -1, now, deadline);
        else if (r->status == 400 && !j->json_object &&
                 (strstr(r->body, "response_format") || strstr(r->body, "json_schema"))) {
            /* A server without structured outputs: ask again in JSON mode,
             * which costs no retry. */
            TRIBE_INFO("persona %d: the server rejects json_schema; asking in JSON mode", segs->seg[j->c].id);
            j->json_object = 1;
            j->ready_at = now;
            j->state = S_WAIT;
        } else
            j->state = S_FAILED; /* 400, 401, 403, 404, insufficient_quota: asking again cannot help */
        return TRIBE_OK;
    }
    st = tribe_llm_reply_content(r->body, &content);
    if (st != TRIBE_OK) {
        if (st != TRIBE_ERR_INPUT)
            return st;
        snprintf(j->reason, sizeof j->reason, "%s", tribe_errmsg());
        tribe_clear_error();
        /* A refusal or a reply cut at max tokens would come back the same. */
        if (strncmp(j->reason, "refusal", 7) == 0 || strncmp(j->reason, "finish_reason", 13) == 0)
            j->state = S_FAILED;
        else
            retry_or_fail(s, j, -1, now, deadline);
        return TRIBE_OK;
    }
    tribe_persona *p = j->out;
    tribe_persona_clear(p);
    st = tribe_llm_persona_parse(content, p);
    if (st == TRIBE_OK) {
        p->segment = segs->seg[j->c].id;
        st = tribe_strdup(segs->seg[j->c].name, &p->segment_name);
        if (st == TRIBE_OK)
            st = tribe_strdup(s->model, &p->provider);
        if (st != TRIBE_OK)
            goto cleanup;
    } else if (st == TRIBE_ERR_INPUT) {
        snprintf(j->reason, sizeof j->reason, "schema violation: %s", tribe_errmsg() + strlen("persona reply: "));
        tribe_clear_error();
        tribe_persona_clear(p);
        retry_or_fail(s, j, -1, now, deadline);
        st = TRIBE_OK;
        goto cleanup;
    } else
        goto cleanup;
    if (tribe_persona_check_grounded(p, segs) != TRIBE_OK) {
        /* The message names the field and the number; the model gets it back once. */
        const char *msg = tribe_errmsg(), *colon = strstr(msg, "): ");
        snprintf(j->violation, sizeof j->violation, "%s", colon ? colon + 3 : msg);
        tribe_clear_error();
        tribe_persona_clear(p);
        if (!j->reasked) {
            j->reasked = 1;
            free(j->prev);
            j->prev = content;
            content = NULL;
            j->ready_at = now;
            j->state = S_WAIT;
        } else {
            snprintf(j->reason, sizeof j->reason, "ungrounded after a re-ask: %.160s", j->violation);
            j->state = S_FAILED;
        }
        goto cleanup;
    }
    cache_store(s, j, content);
    j->state = S_DONE;
cleanup:
    free(content);
    return st;
}

/* ---- the batch -------------------------------------------------------------- */

static tribe_status fallback(llm_state *s, const tribe_segments *segs, seg_job *j)
{
    tribe_status st = TRIBE_OK;
    char prov[320];
    tribe_persona_clear(j->out);
    TRIBE_TRY(s->offline->write(s->offline, segs, j->c, j->out));
    free(j->out->provider);
    j->out->provider = NULL;
    snprintf(prov, sizeof prov, "offline (fallback: %s)", j->reason);
    TRIBE_TRY(tribe_strdup(prov, &j->out->provider));
cleanup:
    return st;
}

static tribe_status run_batch(llm_state *s, const tribe_segments *segs, int first, int count, tribe_persona *out)
{
    tribe_status st = TRIBE_OK;
    seg_job *jobs = NULL;
    tribe_http *h = NULL;
    char *body = NULL, url[2048];
    int sent = 0, cached = 0;
    double t0 = tribe_now(), deadline = t0 + s->cfg.deadline_s;
    TRIBE_TRY(tribe_calloc((void **)&jobs, (size_t)(count > 0 ? count : 1), sizeof *jobs));
    /* "…/v1" and "…/v1/" both mean …/v1/chat/completions. */
    TRIBE_TRY(tribe_fmt(url, sizeof url, "%s%schat/completions", s->base_url,
                        s->base_url[strlen(s->base_url) - 1] == '/' ? "" : "/"));
    const char *key = s->api_key_env ? getenv(s->api_key_env) : NULL;
    if (s->api_key_env && (!key || !key[0]))
        TRIBE_WARN("persona: the variable %s named by persona.api_key_env is not set; sending no key", s->api_key_env);

    int pending = 0;
    for (int i = 0; i < count; i++) {
        seg_job *j = &jobs[i];
        j->c = first + i;
        j->out = &out[i];
        const tribe_segment *g = &segs->seg[j->c];
        if (g->size < s->cfg.k_min) {
            snprintf(j->reason, sizeof j->reason, "%lld customers, under persona.k_min = %lld", (long long)g->size,
                     (long long)s->cfg.k_min);
            j->state = S_FAILED;
            continue;
        }
        TRIBE_TRY(tribe_llm_profile(segs, j->c, s->cfg.k_min, &j->profile));
        tribe_llm_cache_key(j->profile, s->prompt->version, s->model, j->key);
        if (cache_load(s, segs, j)) {
            j->state = S_DONE;
            cached++;
            continue;
        }
        j->ready_at = t0;
        pending++;
    }
    if (pending) {
        st = tribe_http_create(&h);
        if (st == TRIBE_ERR_NOMEM)
            goto cleanup;
        if (st != TRIBE_OK) {
            for (int i = 0; i < count; i++)
                if (jobs[i].state == S_WAIT) {
                    snprintf(jobs[i].reason, sizeof jobs[i].reason, "%s", tribe_errmsg());
                    jobs[i].state = S_FAILED;
                }
            tribe_clear_error();
            st = TRIBE_OK;
            pending = 0;
        }
    }
    while (pending) {
        double now = tribe_now();
        if (now >= deadline) {
            for (int i = 0; i < count; i++)
                if (jobs[i].state == S_WAIT || jobs[i].state == S_FLIGHT) {
                    snprintf(jobs[i].reason, sizeof jobs[i].reason, "persona.deadline_s = %g s passed",
                             s->cfg.deadline_s);
                    jobs[i].state = S_FAILED;
                }
            break;
        }
        double next = deadline;
        for (int i = 0; i < count && tribe_http_active(h) < s->cfg.max_concurrency; i++) {
            seg_job *j = &jobs[i];
            if (j->state != S_WAIT)
                continue;
            if (j->ready_at > now) {
                next = fmin(next, j->ready_at);
                continue;
            }
            TRIBE_TRY(request_body(s, j, &body));
            /* No request outlives the run's deadline. */
            st = tribe_http_post(h, i, url, key, body, fmin(s->cfg.timeout_s, deadline - now));
            free(body);
            body = NULL;
            if (st == TRIBE_ERR_NOMEM)
                goto cleanup;
            if (st != TRIBE_OK) {
                snprintf(j->reason, sizeof j->reason, "%s", tribe_errmsg());
                tribe_clear_error();
                st = TRIBE_OK;
                j->state = S_FAILED;
                pending--;
                continue;
            }
            sent++;
            j->state = S_FLIGHT;
        }
        for (int i = 0; i < count; i++)
            if (jobs[i].state == S_WAIT)
                next = fmin(next, fmax(jobs[i].ready_at, now));
        double wait = tribe_http_active(h) > 0 ? fmin(0.25, deadline - now) : fmax(0, next - now);
        tribe_http_result r = {0};
        int got = 0;
        st = tribe_http_wait(h, wait, &r, &got);
        if (st == TRIBE_ERR_NOMEM)
            goto cleanup;
        if (st != TRIBE_OK) {
            /* curl itself broke: everything not yet written goes offline. */
            for (int i = 0; i < count; i++)
                if (jobs[i].state == S_WAIT || jobs[i].state == S_FLIGHT) {
                    snprintf(jobs[i].reason, sizeof jobs[i].reason, "%s", tribe_errmsg());
                    jobs[i].state = S_FAILED;
                }
            tribe_clear_error();
            st = TRIBE_OK;
            break;
        }
        if (got) {
            seg_job *j = &jobs[r.tag];
            st = on_reply(s, segs, j, &r, tribe_now(), deadline);
            tribe_http_result_free(&r);
            if (st != TRIBE_OK)
                goto cleanup;
        }
        pending = 0;
        for (int i = 0; i < count; i++)
            pending += jobs[i].state == S_WAIT || jobs[i].state == S_FLIGHT;
    }
    int n_llm = 0, n_off = 0;
    for (int i = 0; i < count; i++) {
        if (jobs[i].state == S_DONE) {
            n_llm++;
            continue;
        }
        n_off++;
        /* A segment under k_min is the privacy rule at work, not a fault. */
        tribe_log(segs->seg[jobs[i].c].size < s->cfg.k_min ? TRIBE_LOG_INFO : TRIBE_LOG_WARN,
                  "persona of segment %d (%s): offline writer instead of %s: %s", segs->seg[jobs[i].c].id,
                  segs->seg[jobs[i].c].name, s->model, jobs[i].reason);
        TRIBE_TRY(fallback(s, segs, &jobs[i]));
    }
    TRIBE_INFO("personas: %d from %s (%d cached), %d offline; %d requests in %.2f s", n_llm, s->model, cached, n_off,
               sent, tribe_now() - t0);
cleanup:
    tribe_http_destroy(&h);
    free(body);
    for (int i = 0; jobs && i < count; i++) {
        free(jobs[i].profile);
        free(jobs[i].prev);
    }
    free(jobs);
    return st;
}

static tribe_status llm_write_all(tribe_persona_provider *self, const tribe_segments *segs, tribe_persona *out)
{
    return run_batch(self->state, segs, 0, segs->k, out);
}

static tribe_status llm_write(tribe_persona_provider *self, const tribe_segments *segs, int c, tribe_persona *out)
{
    if (c < 0 || c >= segs->k)
        return tribe_fail(TRIBE_ERR_INTERNAL, "LLM persona: no segment %d", c);
    return run_batch(self->state, segs, c, 1, out);
}

static tribe_status dup_opt(const char *s, char **out) { return s ? tribe_strdup(s, out) : TRIBE_OK; }

tribe_status tribe_persona_llm_create(const tribe_llm_config *cfg, tribe_persona_provider **out)
{
    tribe_status st = TRIBE_OK;
    llm_state *s = NULL;
    tribe_persona_provider *pp = NULL;
    if (!cfg || !cfg->base_url || !cfg->base_url[0] || !cfg->model || !cfg->model[0] || !cfg->prompt_path)
        return tribe_fail(TRIBE_ERR_USAGE, "LLM persona provider: base_url, model and prompt are required");
    TRIBE_TRY(tribe_calloc((void **)&pp, 1, sizeof *pp));
    TRIBE_TRY(tribe_calloc((void **)&s, 1, sizeof *s));
    pp->state = s;
    pp->name = "openai";
    pp->write = llm_write;
    pp->write_all = llm_write_all;
    pp->destroy = llm_destroy;
    s->cfg = *cfg;
    TRIBE_TRY(tribe_strdup(cfg->base_url, &s->base_url));
    TRIBE_TRY(tribe_strdup(cfg->model, &s->model));
    TRIBE_TRY(dup_opt(cfg->api_key_env, &s->api_key_env));
    TRIBE_TRY(dup_opt(cfg->cache_dir, &s->cache_dir));
    TRIBE_TRY(tribe_strdup(cfg->prompt_path, &s->prompt_path));
    s->cfg.base_url = s->base_url;
    s->cfg.model = s->model;
    s->cfg.api_key_env = s->api_key_env;
    s->cfg.cache_dir = s->cache_dir;
    s->cfg.prompt_path = s->prompt_path;
    if (s->cfg.max_concurrency < 1)
        s->cfg.max_concurrency = 1;
    if (s->cfg.retries < 0)
        s->cfg.retries = 0;
    if (!(s->cfg.timeout_s > 0))
        s->cfg.timeout_s = 60;
    if (!(s->cfg.deadline_s > 0))
        s->cfg.deadline_s = 300;
    TRIBE_TRY(tribe_llm_prompt_load(cfg->prompt_path, &s->prompt));
    TRIBE_TRY(tribe_persona_offline_create(cfg->seed, &s->offline));
    *out = pp;
    pp = NULL;
cleanup:
    tribe_persona_provider_destroy(&pp);
    return st;
}

tribe_status tribe_persona_create(const tribe_job *job, tribe_persona_provider **out)
{
    if (!job->persona.provider || strcmp(job->persona.provider, "offline") == 0)
        return tribe_persona_offline_create(job->seed, out);
    if (strcmp(job->persona.provider, "openai") != 0)
        return tribe_fail(TRIBE_ERR_USAGE, "%s: 'persona.provider' = '%s' is not available ('offline' or 'openai')",
                          job->path ? job->path : "job spec", job->persona.provider);
    tribe_llm_config cfg = {
        .base_url = job->persona.base_url,
        .model = job->persona.model,
        .api_key_env = job->persona.api_key_env,
        .cache_dir = job->persona.cache_dir,
        .prompt_path = job->persona.prompt,
        .temperature = job->persona.temperature,
        .timeout_s = job->persona.timeout_s,
        .deadline_s = job->persona.deadline_s,
        .backoff_s = job->persona.backoff_s,
        .seed = job->persona.seed,
        .max_concurrency = job->persona.max_concurrency,
        .retries = job->persona.retries,
        .k_min = job->persona.k_min,
    };
    return tribe_persona_llm_create(&cfg, out);
}
