/* The job's "persona" section and the provider it names (tribe/llm.h):
 * read once here for `tribe run` (the personas stage) and for a reader of a
 * finished run (tribe serve's refine, through tribe_persona_provider_from_job),
 * so both build the same provider from the same spec. */
#include "tribe/llm.h"
#include "tribe/spec.h"

#include <stdlib.h>
#include <string.h>

const char *const TRIBE_PERSONA_PROVIDER_NAMES[2] = {"offline", "openai"};

static int http_url(const char *u)
{
    return !u || strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
}

/* The persona.* request settings, shared by the chat and image endpoints. */
static tribe_status requests(tribe_spec *p, tribe_persona_settings *s, tribe_llm_requests *q)
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

tribe_status tribe_persona_settings_read(tribe_spec *root, uint64_t seed, tribe_persona_settings *s)
{
    tribe_spec *p = NULL;
    tribe_status st = TRIBE_OK;
    tribe_llm_requests q = {.timeout_s = 60, .deadline_s = 300, .backoff_s = 1, .seed = seed,
                            .max_concurrency = 4, .retries = 2, .k_min = 50};
    double temperature = 0.7;
    memset(s, 0, sizeof *s);
    TRIBE_TRY(tribe_spec_object(root, "persona", &p));
    TRIBE_TRY(tribe_spec_choice(p, "provider", TRIBE_PERSONA_PROVIDER_NAMES, 2, &s->provider));
    TRIBE_TRY(tribe_spec_str(p, "base_url", &s->base_url));
    TRIBE_TRY(tribe_spec_str(p, "model", &s->model));
    TRIBE_TRY(tribe_spec_num(p, "temperature", 0, 2, &temperature));
    TRIBE_TRY(requests(p, s, &q));
    TRIBE_TRY(tribe_spec_path(p, "cache_dir", &s->cache_dir));
    TRIBE_TRY(tribe_spec_resolve(p, "prompts/persona-v1.txt", &s->prompt)); /* beside the spec */
    TRIBE_TRY(tribe_spec_path(p, "prompt", &s->prompt));
    TRIBE_TRY(tribe_spec_str(p, "image_base_url", &s->image_base_url));
    TRIBE_TRY(tribe_spec_str(p, "image_model", &s->image_model));
    TRIBE_TRY(tribe_strdup("1024x1024", &s->image_size));
    TRIBE_TRY(tribe_spec_str(p, "image_size", &s->image_size));
    TRIBE_TRY(tribe_spec_bool(p, "require_llm", &s->require_llm));
    TRIBE_TRY(tribe_spec_check(p));
    if (s->provider == TRIBE_PERSONA_OPENAI && (!s->base_url || !s->model))
        TRIBE_TRY(tribe_spec_fail(p, "'persona.provider' = 'openai' needs 'persona.base_url' and 'persona.model'"));
    if (s->require_llm && s->provider != TRIBE_PERSONA_OPENAI)
        TRIBE_TRY(tribe_spec_fail(p, "'persona.require_llm' needs 'persona.provider' = 'openai'"));
    if (!http_url(s->base_url))
        TRIBE_TRY(tribe_spec_fail(p, "'persona.base_url' must start with http:// or https://"));
    if (!http_url(s->image_base_url))
        TRIBE_TRY(tribe_spec_fail(p, "'persona.image_base_url' must start with http:// or https://"));
    if (s->image_base_url && !s->image_model)
        TRIBE_TRY(tribe_spec_fail(p, "'persona.image_base_url' needs 'persona.image_model'"));
    s->llm = (tribe_llm_config){.base_url = s->base_url, .model = s->model, .cache_dir = s->cache_dir,
                                .prompt_path = s->prompt, .temperature = temperature, .req = q};
    s->img = (tribe_image_config){.base_url = s->image_base_url, .model = s->image_model, .size = s->image_size,
                                  .req = q};
cleanup:
    if (st != TRIBE_OK)
        tribe_persona_settings_clear(s);
    return st;
}

void tribe_persona_settings_clear(tribe_persona_settings *s)
{
    if (!s)
        return;
    free(s->base_url);
    free(s->model);
    free(s->api_key_env);
    free(s->cache_dir);
    free(s->prompt);
    free(s->image_base_url);
    free(s->image_model);
    free(s->image_size);
    memset(s, 0, sizeof *s);
}

tribe_status tribe_persona_provider_create(const tribe_persona_settings *s, uint64_t seed,
                                           tribe_persona_provider **out)
{
    if (s->provider == TRIBE_PERSONA_OPENAI)
        return tribe_persona_llm_create(&s->llm, out);
    return tribe_persona_offline_create(seed, out);
}

tribe_status tribe_persona_provider_from_job(const char *job_json, const char *spec_path, uint64_t seed,
                                             tribe_persona_provider **out)
{
    tribe_status st = TRIBE_OK;
    tribe_spec *spec = NULL;
    tribe_persona_settings s = {0};
    if (!job_json)
        return tribe_fail(TRIBE_ERR_USAGE, "persona provider: no job spec given");
    TRIBE_TRY(tribe_spec_parse(spec_path, job_json, &spec));
    TRIBE_TRY(tribe_persona_settings_read(spec, seed, &s));
    TRIBE_TRY(tribe_persona_provider_create(&s, seed, out));
cleanup:
    tribe_persona_settings_clear(&s);
    tribe_spec_destroy(&spec);
    return st;
}
