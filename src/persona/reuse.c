/* Personas kept from an earlier run: personas.json read back, and a write
 * that reuses the kept ones (tribe/persona.h, docs/resegmentation.md). */
#include "tribe/persona.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static tribe_status str_of(const cJSON *o, const char *key, char **dst)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v))
        return tribe_fail(TRIBE_ERR_INPUT, "personas.json: '%s' is not a string", key);
    return tribe_strdup(v->valuestring, dst);
}

static tribe_status list_of(const cJSON *o, const char *key, char ***dst, int *n)
{
    tribe_status st = TRIBE_OK;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key), *e;
    int len = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
    if (len < 0)
        return tribe_fail(TRIBE_ERR_INPUT, "personas.json: '%s' is not an array", key);
    TRIBE_TRY(tribe_calloc((void **)dst, (size_t)len + 1, sizeof **dst));
    *n = 0;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsString(e))
            return tribe_fail(TRIBE_ERR_INPUT, "personas.json: '%s[%d]' is not a string", key, *n);
        TRIBE_TRY(tribe_strdup(e->valuestring, &(*dst)[(*n)++]));
    }
cleanup:
    return st;
}

static tribe_status one(const cJSON *o, tribe_persona *p)
{
    tribe_status st = TRIBE_OK;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "segment_id");
    if (!cJSON_IsNumber(id))
        return tribe_fail(TRIBE_ERR_INPUT, "personas.json: 'segment_id' is not a number");
    p->segment = id->valueint;
    static const char *const KEYS[] = {"segment_name", "provider", "name",          "age_band",   "occupation", "bio",
                                       "quote",        "email_subject", "email_body", "tagline", "image_prompt"};
    char **dst[] = {&p->segment_name, &p->provider,      &p->name,       &p->age_band, &p->occupation, &p->bio,
                    &p->quote,        &p->email_subject, &p->email_body, &p->tagline,  &p->image_prompt};
    for (size_t i = 0; i < sizeof KEYS / sizeof *KEYS; i++)
        TRIBE_TRY(str_of(o, KEYS[i], dst[i]));
    TRIBE_TRY(list_of(o, "goals", &p->goals, &p->n_goals));
    TRIBE_TRY(list_of(o, "frustrations", &p->frustrations, &p->n_frustrations));
    TRIBE_TRY(list_of(o, "channels", &p->channels, &p->n_channels));
cleanup:
    return st;
}

tribe_status tribe_personas_from_json(const char *text, tribe_persona **out, int *n)
{
    tribe_status st = TRIBE_OK;
    tribe_persona *p = NULL;
    int k = 0;
    cJSON *root = cJSON_Parse(text), *o;
    if (!cJSON_IsArray(root)) {
        st = tribe_fail(TRIBE_ERR_INPUT, "personas.json: not a JSON array of personas");
        goto cleanup;
    }
    TRIBE_TRY(tribe_calloc((void **)&p, (size_t)cJSON_GetArraySize(root) + 1, sizeof *p));
    cJSON_ArrayForEach(o, root)
    {
        if (!cJSON_IsObject(o)) {
            st = tribe_fail(TRIBE_ERR_INPUT, "personas.json: item %d is not an object", k);
            goto cleanup;
        }
        TRIBE_TRY(one(o, &p[k++]));
    }
    *out = p;
    *n = k;
    p = NULL;
cleanup:
    tribe_personas_destroy(&p, k);
    cJSON_Delete(root);
    return st;
}

static tribe_status dup_list(char **src, int n, char ***dst, int *dn)
{
    tribe_status st = tribe_calloc((void **)dst, (size_t)n + 1, sizeof **dst);
    for (*dn = 0; st == TRIBE_OK && *dn < n; (*dn)++)
        st = tribe_strdup(src[*dn], &(*dst)[*dn]);
    return st;
}

tribe_status tribe_persona_copy(const tribe_persona *src, tribe_persona *dst)
{
    tribe_status st = TRIBE_OK;
    memset(dst, 0, sizeof *dst);
    dst->segment = src->segment;
    const char *const from[] = {src->segment_name, src->name,          src->age_band,   src->occupation,
                                src->bio,          src->quote,         src->email_subject, src->email_body,
                                src->tagline,      src->image_prompt,  src->provider};
    char **to[] = {&dst->segment_name, &dst->name,  &dst->age_band,      &dst->occupation,
                   &dst->bio,          &dst->quote, &dst->email_subject, &dst->email_body,
                   &dst->tagline,      &dst->image_prompt, &dst->provider};
    for (size_t i = 0; i < sizeof from / sizeof *from; i++)
        if (from[i])
            TRIBE_TRY(tribe_strdup(from[i], to[i]));
    TRIBE_TRY(dup_list(src->goals, src->n_goals, &dst->goals, &dst->n_goals));
    TRIBE_TRY(dup_list(src->frustrations, src->n_frustrations, &dst->frustrations, &dst->n_frustrations));
    TRIBE_TRY(dup_list(src->channels, src->n_channels, &dst->channels, &dst->n_channels));
cleanup:
    if (st != TRIBE_OK)
        tribe_persona_clear(dst);
    return st;
}

tribe_status tribe_personas_write_keep(tribe_persona_provider *pp, const tribe_segments *segs,
                                       const tribe_persona *keep, tribe_persona **out)
{
    tribe_status st = TRIBE_OK;
    tribe_persona *p = NULL;
    int kept = 0;
    if (!pp || !pp->write || !segs)
        return tribe_fail(TRIBE_ERR_INTERNAL, "tribe_personas_write: no provider or no segments");
    for (int c = 0; keep && c < segs->k; c++)
        kept += keep[c].name != NULL;
    TRIBE_TRY(tribe_calloc((void **)&p, (size_t)(segs->k > 0 ? segs->k : 1), sizeof *p));
    /* A batching provider writes everything at once unless some are kept
     * (those it must not be asked for). */
    if (!kept && pp->write_all)
        TRIBE_TRY(pp->write_all(pp, segs, p));
    for (int c = 0; c < segs->k; c++) {
        if (!kept && pp->write_all) {
            /* Whatever wrote it, a persona that states a figure the data
             * does not hold never reaches a marketer. */
            TRIBE_TRY(tribe_persona_check_grounded(&p[c], segs));
            continue;
        }
        if (keep && keep[c].name) {
            TRIBE_TRY(tribe_persona_copy(&keep[c], &p[c]));
            p[c].segment = segs->seg[c].id;
            if (tribe_persona_check_grounded(&p[c], segs) == TRIBE_OK)
                continue;
            /* A figure it states no longer holds: written anew. */
            TRIBE_INFO("persona of segment %d (%s): written anew, a figure it states changed", segs->seg[c].id,
                       segs->seg[c].name);
            tribe_clear_error();
            tribe_persona_clear(&p[c]);
        }
        TRIBE_TRY(pp->write(pp, segs, c, &p[c]));
        TRIBE_TRY(tribe_persona_check_grounded(&p[c], segs));
    }
    *out = p;
    p = NULL;
cleanup:
    tribe_personas_destroy(&p, segs->k);
    return st;
}
