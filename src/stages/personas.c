/* Stage "personas" (job key "persona"): one persona per segment from the
 * offline writer or an OpenAI-compatible server, optional portraits
 * (tribe/persona.h, tribe/llm.h, docs/personas-llm.md). Rank 0 does the work;
 * fills r->personas; writes personas.json. */
#include "tribe/llm.h"
#include "tribe/report.h"
#include "tribe/stage.h"

#include <stdlib.h>
#include <string.h>

static const char *const PROVIDERS[] = {"offline", "openai"};
enum { OFFLINE = 0, OPENAI = 1 };

typedef struct {
    int provider;
    tribe_llm_config llm;   /* its strings point at the owned copies below */
    tribe_image_config img; /* used when img.base_url is set */
    char *base_url, *model, *api_key_env, *cache_dir, *prompt, *image_base_url, *image_model, *image_size;
    tribe_persona_image *images; /* [k] or NULL */
    int n_kept, n_reused;        /* previous personas eligible for reuse, and reused as they were */
    int n_images;
} personas_stage;

static int http_url(const char *u)
{
    return !u || strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
}

/* The persona.* request settings, shared by the chat and image endpoints. */
static tribe_status requests(tribe_spec *p, personas_stage *s, tribe_llm_requests *q)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_spec_str(p, "api_key_env", &s->api_key_env));
    TRIBE_TRY(tribe_spec_num(p, "timeout_s", 0.001, 3600, &q->timeout_s));
    TRIBE_TRY(tribe_spec_num(p, "deadline_s", 0.001, 86400, &q->deadline_s));
    TRIBE_TRY(tribe_spec_num(p, "backoff_s", 0, 600, &q->backoff_s));
    TRIBE_TRY(tribe_spec_u64(p, "seed", 0, 9007199254740991.0, &q->seed));
    TRIBE_TRY(tribe_spec_int(p, "max_concurrency", 1, 256, &q->max_concurrency));
    TRIBE_TRY(tribe_spec_int(p, "retries", 0, 20, &q->retries));
    TRIBE_TRY(tribe_spec_i64(p, "k_min", 1, 1e12, &q->k_min));
    q->api_key_env = s->api_key_env;
cleanup:
    return st;
}

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    personas_stage *s = state;
    tribe_spec *p = NULL;
    tribe_status st = TRIBE_OK;
    tribe_llm_requests q = {.timeout_s = 60, .deadline_s = 300, .backoff_s = 1, .seed = job->seed,
                            .max_concurrency = 4, .retries = 2, .k_min = 50};
    s->llm.temperature = 0.7;
    TRIBE_TRY(tribe_spec_object(spec, "persona", &p));
    TRIBE_TRY(tribe_spec_choice(p, "provider", PROVIDERS, 2, &s->provider));
    TRIBE_TRY(tribe_spec_str(p, "base_url", &s->base_url));
    TRIBE_TRY(tribe_spec_str(p, "model", &s->model));
    TRIBE_TRY(tribe_spec_num(p, "temperature", 0, 2, &s->llm.temperature));
    TRIBE_TRY(requests(p, s, &q));
    TRIBE_TRY(tribe_spec_path(p, "cache_dir", &s->cache_dir));
    TRIBE_TRY(tribe_spec_resolve(p, "prompts/persona-v1.txt", &s->prompt)); /* beside the spec */
    TRIBE_TRY(tribe_spec_path(p, "prompt", &s->prompt));
    TRIBE_TRY(tribe_spec_str(p, "image_base_url", &s->image_base_url));
    TRIBE_TRY(tribe_spec_str(p, "image_model", &s->image_model));
    TRIBE_TRY(tribe_strdup("1024x1024", &s->image_size));
    TRIBE_TRY(tribe_spec_str(p, "image_size", &s->image_size));
    TRIBE_TRY(tribe_spec_check(p));
    if (s->provider == OPENAI && (!s->base_url || !s->model))
        TRIBE_TRY(tribe_spec_fail(p, "'persona.provider' = 'openai' needs 'persona.base_url' and 'persona.model'"));
    if (!http_url(s->base_url))
        TRIBE_TRY(tribe_spec_fail(p, "'persona.base_url' must start with http:// or https://"));
    if (!http_url(s->image_base_url))
        TRIBE_TRY(tribe_spec_fail(p, "'persona.image_base_url' must start with http:// or https://"));
    if (s->image_base_url && !s->image_model)
        TRIBE_TRY(tribe_spec_fail(p, "'persona.image_base_url' needs 'persona.image_model'"));
    s->llm = (tribe_llm_config){.base_url = s->base_url, .model = s->model, .cache_dir = s->cache_dir,
                                .prompt_path = s->prompt, .temperature = s->llm.temperature, .req = q};
    s->img = (tribe_image_config){.base_url = s->image_base_url, .model = s->image_model,
                                  .size = s->image_size, .req = q};
cleanup:
    return st;
}

/* Rank 0. The personas a rerun keeps: a survivor's persona of the previous
 * run (its personas.json) when its centre barely moved (the continuity
 * stage's keep_persona); keep[k] entries without a name are written anew.
 * A previous run without personas.json keeps none. */
static tribe_status kept(personas_stage *s, const tribe_run *r, tribe_persona **keep)
{
    tribe_status st = TRIBE_OK;
    char path[4096 + 32], *text = NULL;
    tribe_persona *old = NULL;
    int n = 0;
    const tribe_changes *c = r->changes;
    if (!c || !c->keep_persona)
        return TRIBE_OK;
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/personas.json", r->prev->dir));
    if (tribe_read_file(path, &text, NULL) != TRIBE_OK) {
        tribe_clear_error();
        TRIBE_INFO("personas: %s is not there; every persona is written anew", path);
        goto cleanup;
    }
    TRIBE_TRY(tribe_personas_from_json(text, &old, &n));
    TRIBE_TRY(tribe_calloc((void **)keep, (size_t)r->k, sizeof **keep));
    for (int j = 0; j < r->k; j++)
        for (int i = 0; i < n && c->keep_persona[j]; i++)
            if (old[i].segment == r->segs->seg[j].id && !(*keep)[j].name) {
                TRIBE_TRY(tribe_persona_copy(&old[i], &(*keep)[j]));
                s->n_kept++;
            }
cleanup:
    free(text);
    tribe_personas_destroy(&old, n);
    return st;
}

/* Rank 0: the personas (never failing because of a server) and images. */
static tribe_status write_personas(personas_stage *s, tribe_run *r)
{
    tribe_status st = TRIBE_OK;
    tribe_persona_provider *pp = NULL;
    tribe_persona *keep = NULL;
    if (s->provider == OPENAI)
        TRIBE_TRY(tribe_persona_llm_create(&s->llm, &pp));
    else
        TRIBE_TRY(tribe_persona_offline_create(r->job->seed, &pp));
    TRIBE_TRY(kept(s, r, &keep));
    TRIBE_TRY(tribe_personas_write_keep(pp, r->segs, keep, &r->personas));
    for (int c = 0; keep && c < r->k; c++)
        s->n_reused += keep[c].name && r->personas[c].name && strcmp(keep[c].bio, r->personas[c].bio) == 0;
    /* Optional images: a failure leaves a card without one, never the run. */
    if (s->img.base_url) {
        s->n_images = r->segs->k;
        TRIBE_TRY(tribe_persona_images_fetch(&s->img, r->segs, r->personas, &s->images));
    }
cleanup:
    tribe_personas_destroy(&keep, r->k);
    tribe_persona_provider_destroy(&pp);
    return st;
}

static tribe_status run(void *state, tribe_run *r)
{
    tribe_status st = tribe_par_rank(r->par) == 0 ? write_personas(state, r) : TRIBE_OK;
    return tribe_par_agree(r->par, st);
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    personas_stage *s = state;
    tribe_status st = TRIBE_OK;
    tribe_rec *im = NULL;
    char line[256];
    TRIBE_TRY(tribe_rec_str(obj, "provider", PROVIDERS[s->provider]));
    if (r->changes)
        TRIBE_TRY(tribe_rec_int(obj, "reused", s->n_reused));
    if (s->provider == OPENAI)
        TRIBE_TRY(tribe_rec_str(obj, "model", s->model));
    if (!s->images)
        goto cleanup;
    TRIBE_TRY(tribe_rec_obj(obj, "images", &im));
    for (int c = 0; c < r->segs->k; c++)
        TRIBE_TRY(tribe_rec_str(im, r->segs->seg[c].name, tribe_persona_image_summary(&s->images[c], line, sizeof line)));
cleanup:
    return st;
}

static tribe_status report(void *state, const tribe_run *r, tribe_sbuf *b)
{
    personas_stage *s = state;
    return tribe_report_personas(b, r->segs, r->personas, r->plan, s->images);
}

static tribe_status files(void *state, const tribe_run *r, const char *dir)
{
    tribe_status st = TRIBE_OK;
    char path[4096 + 32], *json = NULL;
    TRIBE_TRY(tribe_personas_to_json(r->personas, r->segs->k, r->segs, &json));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/personas.json", dir));
    TRIBE_TRY(tribe_write_file_atomic(path, json, strlen(json)));
cleanup:
    free(json);
    return st;
}

static void destroy(void *state)
{
    personas_stage *s = state;
    free(s->base_url);
    free(s->model);
    free(s->api_key_env);
    free(s->cache_dir);
    free(s->prompt);
    free(s->image_base_url);
    free(s->image_model);
    free(s->image_size);
    tribe_persona_images_destroy(&s->images, s->n_images);
}

static const char *const OUTPUTS[] = {"personas.json", NULL};

const tribe_stage_def tribe_stage_personas = {
    .name = "personas", .state_size = sizeof(personas_stage), .report_order = 90, .outputs = OUTPUTS,
    .configure = configure, .run = run, .record = record, .report = report, .files = files, .destroy = destroy};
