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
#include "tribe/record.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ground.h"
#include "llm_sched.h"

typedef struct {
    tribe_llm_config cfg; /* strings below are owned copies */
    char *base_url, *model, *api_key_env, *cache_dir, *prompt_path;
    tribe_llm_prompt *prompt;
    tribe_persona_provider *offline;
} llm_state;

/* One segment's request; its schedule (state, retries, reason) is the
 * llm_task of the same index. */
typedef struct {
    int c;                /* segment index */
    tribe_persona *out;
    char *profile;
    char key[33];
    int json_object;      /* 1 once the server rejected json_schema */
    int reasked;
    char *prev;           /* the ungrounded reply, for the re-ask */
    char violation[256];
} seg_job;

/* What the scheduler's callbacks see (llm_sched.ud). */
typedef struct {
    llm_state *s;
    const tribe_segments *segs;
    seg_job *jobs;
} batch_ctx;

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
    char *user = NULL, *reask = NULL, *sys = NULL;
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
             cJSON_AddNumberToObject(root, "seed", (double)s->cfg.req.seed) &&
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
    st = tribe_json_text(root, ok, 0, "LLM request", out);
cleanup:
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

/* A cached reply is held to today's checks, as a fresh one: an entry that
 * fails them (hand-edited, poisoned, or written under older rules) is not
 * served. Returns 1 when served, 0 when there is no entry, -1 when the entry
 * failed (warned, the segment is asked again and the entry replaced by the
 * next accepted reply). */
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
        TRIBE_WARN("persona of segment %d (%s): cache entry %s.json fails today's checks (%s); not served, asking "
                   "the server", segs->seg[j->c].id, segs->seg[j->c].name, j->key, tribe_errmsg());
        tribe_clear_error();
        tribe_persona_clear(p);
        return -1;
    }
    return 1;
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

static tribe_status body_cb(const llm_sched *sc, int i, char **out)
{
    const batch_ctx *b = sc->ud;
    return request_body(b->s, &b->jobs[i], out);
}

/* A server without structured outputs: ask again in JSON mode, which costs
 * no retry. */
static int on_400_cb(const llm_sched *sc, int i, const char *body)
{
    const batch_ctx *b = sc->ud;
    seg_job *j = &b->jobs[i];
    if (j->json_object || !(strstr(body, "response_format") || strstr(body, "json_schema")))
        return 0;
    TRIBE_INFO("persona %d: the server rejects json_schema; asking in JSON mode", b->segs->seg[j->c].id);
    j->json_object = 1;
    return 1;
}

static tribe_status on_ok_cb(const llm_sched *sc, int i, const char *body, double now)
{
    const batch_ctx *b = sc->ud;
    const llm_state *s = b->s;
    const tribe_segments *segs = b->segs;
    seg_job *j = &b->jobs[i];
    llm_task *t = &sc->tasks[i];
    char *content = NULL;
    tribe_status st = tribe_llm_reply_content(body, &content);
    if (st != TRIBE_OK) {
        if (st != TRIBE_ERR_INPUT)
            return st;
        snprintf(t->reason, sizeof t->reason, "%s", tribe_errmsg());
        tribe_clear_error();
        /* A refusal or a reply cut at max tokens would come back the same. */
        if (strncmp(t->reason, "refusal", 7) == 0 || strncmp(t->reason, "finish_reason", 13) == 0)
            t->state = SCHED_FAILED;
        else
            llm_sched_retry(sc, t, -1, now);
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
        snprintf(t->reason, sizeof t->reason, "schema violation: %s", tribe_errmsg() + strlen("persona reply: "));
        tribe_clear_error();
        tribe_persona_clear(p);
        llm_sched_retry(sc, t, -1, now);
        st = TRIBE_OK;
        goto cleanup;
    } else
        goto cleanup;
    if (tribe_persona_check_grounded(p, segs) != TRIBE_OK) {
        /* The message names the field and the number; the model gets it back once. */
        int band = !tribe_age_band_ok(p->age_band);
        const char *msg = tribe_errmsg(), *colon = strstr(msg, "): ");
        snprintf(j->violation, sizeof j->violation, "%s", colon ? colon + 3 : msg);
        tribe_clear_error();
        tribe_persona_clear(p);
        if (!j->reasked) {
            j->reasked = 1;
            free(j->prev);
            j->prev = content;
            content = NULL;
            t->ready_at = now;
            t->state = SCHED_WAIT;
        } else {
            /* Reasons start with words of tribe's own: tribe_persona_fallback_kind reads them. */
            snprintf(t->reason, sizeof t->reason, "%s after a re-ask: %.150s", band ? "age band" : "ungrounded",
                     j->violation);
            t->state = SCHED_FAILED;
        }
        goto cleanup;
    }
    cache_store(s, j, content);
    t->state = SCHED_DONE;
cleanup:
    free(content);
    return st;
}

/* ---- the batch -------------------------------------------------------------- */

static tribe_status fallback(llm_state *s, const tribe_segments *segs, seg_job *j, const tribe_persona_inputs *in,
                             const char *reason)
{
    tribe_status st = TRIBE_OK;
    char prov[320];
    tribe_persona_clear(j->out);
    if (in)
        TRIBE_TRY(s->offline->refine(s->offline, segs, j->c, in, j->out));
    else
        TRIBE_TRY(s->offline->write(s->offline, segs, j->c, j->out));
    free(j->out->provider);
    j->out->provider = NULL;
    snprintf(prov, sizeof prov, "offline (fallback: %s)", reason);
    TRIBE_TRY(tribe_strdup(prov, &j->out->provider));
cleanup:
    return st;
}

/* Segment indices first..first+count-1 into out[0..count-1]; in: a
 * refine's inputs (one segment), NULL for a run's personas. */
static tribe_status run_batch(llm_state *s, const tribe_segments *segs, int first, int count,
                              const tribe_persona_inputs *in, tribe_persona *out)
{
    tribe_status st = TRIBE_OK;
    seg_job *jobs = NULL;
    llm_task *tasks = NULL;
    char url[2048];
    char *guidance = NULL;
    int sent = 0, cached = 0, rejected = 0;
    double t0 = tribe_now();
    TRIBE_TRY(tribe_llm_guidance(in, &guidance));
    TRIBE_TRY(tribe_calloc((void **)&jobs, (size_t)(count > 0 ? count : 1), sizeof *jobs));
    TRIBE_TRY(tribe_calloc((void **)&tasks, (size_t)(count > 0 ? count : 1), sizeof *tasks));
    /* "…/v1" and "…/v1/" both mean …/v1/chat/completions. */
    TRIBE_TRY(tribe_fmt(url, sizeof url, "%s%schat/completions", s->base_url,
                        s->base_url[strlen(s->base_url) - 1] == '/' ? "" : "/"));
    const char *key = s->api_key_env ? getenv(s->api_key_env) : NULL;
    if (s->api_key_env && (!key || !key[0]))
        TRIBE_WARN("persona: the variable %s named by persona.api_key_env is not set; sending no key", s->api_key_env);

    for (int i = 0; i < count; i++) {
        seg_job *j = &jobs[i];
        llm_task *t = &tasks[i];
        j->c = t->jitter_key = first + i;
        j->out = &out[i];
        const tribe_segment *g = &segs->seg[j->c];
        if (g->size < s->cfg.req.k_min) {
            snprintf(t->reason, sizeof t->reason, "%lld customers, under persona.k_min = %lld", (long long)g->size,
                     (long long)s->cfg.req.k_min);
            t->state = SCHED_FAILED;
            continue;
        }
        TRIBE_TRY(tribe_llm_profile(segs, j->c, s->cfg.req.k_min, &j->profile));
        if (guidance) {
            /* After the profile, inside {{profile}}: the cache key, which
             * hashes this text, is one per profile and inputs. */
            size_t n = strlen(j->profile) + strlen(guidance) + 3;
            char *both = NULL;
            TRIBE_TRY(tribe_alloc((void **)&both, n));
            snprintf(both, n, "%s\n\n%s", j->profile, guidance);
            free(j->profile);
            j->profile = both;
        }
        tribe_llm_cache_key(j->profile, s->prompt->version, s->model, j->key);
        int hit = cache_load(s, segs, j);
        if (hit > 0) {
            t->state = SCHED_DONE;
            cached++;
            continue;
        }
        rejected += hit < 0;
        t->state = SCHED_WAIT;
        t->ready_at = t0;
    }
    batch_ctx ctx = {s, segs, jobs};
    llm_sched sc = {.url = url, .key = key, .timeout_s = s->cfg.req.timeout_s, .deadline = t0 + s->cfg.req.deadline_s,
                    .deadline_s = s->cfg.req.deadline_s, .max_concurrency = s->cfg.req.max_concurrency,
                    .retries = s->cfg.req.retries, .backoff_s = s->cfg.req.backoff_s, .seed = s->cfg.req.seed, .ud = &ctx,
                    .body = body_cb, .on_ok = on_ok_cb, .on_400 = on_400_cb, .tasks = tasks, .n = count};
    TRIBE_TRY(llm_sched_run(&sc, &sent));
    int n_llm = 0, n_off = 0;
    for (int i = 0; i < count; i++) {
        if (tasks[i].state == SCHED_DONE) {
            n_llm++;
            continue;
        }
        n_off++;
        /* A segment under k_min is the privacy rule at work, not a fault. */
        tribe_log(segs->seg[jobs[i].c].size < s->cfg.req.k_min ? TRIBE_LOG_INFO : TRIBE_LOG_WARN,
                  "persona of segment %d (%s): offline writer instead of %s: %s", segs->seg[jobs[i].c].id,
                  segs->seg[jobs[i].c].name, s->model, tasks[i].reason);
        TRIBE_TRY(fallback(s, segs, &jobs[i], in, tasks[i].reason));
    }
    char refused[64] = "";
    if (rejected)
        snprintf(refused, sizeof refused, ", %d cache entr%s refused", rejected, rejected == 1 ? "y" : "ies");
    TRIBE_INFO("personas: %d from %s (%d cached%s), %d offline; %d requests in %.2f s", n_llm, s->model, cached,
               refused, n_off, sent, tribe_now() - t0);
cleanup:
    for (int i = 0; jobs && i < count; i++) {
        free(jobs[i].profile);
        free(jobs[i].prev);
    }
    free(jobs);
    free(tasks);
    free(guidance);
    return st;
}

static tribe_status llm_write_all(tribe_persona_provider *self, const tribe_segments *segs, tribe_persona *out)
{
    return run_batch(self->state, segs, 0, segs->k, NULL, out);
}

static tribe_status llm_write(tribe_persona_provider *self, const tribe_segments *segs, int c, tribe_persona *out)
{
    if (c < 0 || c >= segs->k)
        return tribe_fail(TRIBE_ERR_INTERNAL, "LLM persona: no segment %d", c);
    return run_batch(self->state, segs, c, 1, NULL, out);
}

static tribe_status llm_refine(tribe_persona_provider *self, const tribe_segments *segs, int c,
                               const tribe_persona_inputs *in, tribe_persona *out)
{
    if (c < 0 || c >= segs->k)
        return tribe_fail(TRIBE_ERR_INTERNAL, "LLM persona: no segment %d", c);
    return run_batch(self->state, segs, c, 1, in, out);
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
    pp->refine = llm_refine;
    pp->destroy = llm_destroy;
    s->cfg = *cfg;
    TRIBE_TRY(tribe_strdup(cfg->base_url, &s->base_url));
    TRIBE_TRY(tribe_strdup(cfg->model, &s->model));
    TRIBE_TRY(dup_opt(cfg->req.api_key_env, &s->api_key_env));
    TRIBE_TRY(dup_opt(cfg->cache_dir, &s->cache_dir));
    TRIBE_TRY(tribe_strdup(cfg->prompt_path, &s->prompt_path));
    s->cfg.base_url = s->base_url;
    s->cfg.model = s->model;
    s->cfg.req.api_key_env = s->api_key_env;
    s->cfg.cache_dir = s->cache_dir;
    s->cfg.prompt_path = s->prompt_path;
    if (s->cfg.req.max_concurrency < 1)
        s->cfg.req.max_concurrency = 1;
    if (s->cfg.req.retries < 0)
        s->cfg.req.retries = 0;
    if (!(s->cfg.req.timeout_s > 0))
        s->cfg.req.timeout_s = 60;
    if (!(s->cfg.req.deadline_s > 0))
        s->cfg.req.deadline_s = 300;
    TRIBE_TRY(tribe_llm_prompt_load(cfg->prompt_path, &s->prompt));
    TRIBE_TRY(tribe_persona_offline_create(cfg->req.seed, &s->offline));
    *out = pp;
    pp = NULL;
cleanup:
    tribe_persona_provider_destroy(&pp);
    return st;
}
