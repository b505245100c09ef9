/* Provider-independent persona plumbing: writing all segments, the
 * personas.json document (schema in docs/outputs.md) and freeing.
 *
 * A provider's destroy hook releases its `state`; tribe_persona_provider_destroy
 * then frees the provider struct itself. */
#include "tribe/persona.h"
#include "tribe/record.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ground.h"

void tribe_persona_provider_destroy(tribe_persona_provider **pp)
{
    if (!pp || !*pp)
        return;
    if ((*pp)->destroy)
        (*pp)->destroy(*pp);
    free(*pp);
    *pp = NULL;
}

static void free_list(char **v, int n)
{
    if (v)
        for (int i = 0; i < n; i++)
            free(v[i]);
    free(v);
}

void tribe_persona_clear(tribe_persona *p)
{
    if (!p)
        return;
    free(p->segment_name);
    free(p->name);
    free(p->age_band);
    free(p->occupation);
    free(p->bio);
    free_list(p->goals, p->n_goals);
    free_list(p->frustrations, p->n_frustrations);
    free_list(p->channels, p->n_channels);
    free(p->quote);
    free(p->email_subject);
    free(p->email_body);
    free(p->tagline);
    free(p->image_prompt);
    free(p->provider);
    memset(p, 0, sizeof *p);
}

void tribe_personas_destroy(tribe_persona **pp, int k)
{
    if (!pp || !*pp)
        return;
    for (int c = 0; c < k; c++)
        tribe_persona_clear(&(*pp)[c]);
    free(*pp);
    *pp = NULL;
}

tribe_status tribe_personas_write(tribe_persona_provider *pp, const tribe_segments *segs, tribe_persona **out)
{
    return tribe_personas_write_keep(pp, segs, NULL, out);
}

/* ---- personas.json ---------------------------------------------------------- */

typedef struct {
    const tribe_figures *figs;
    tribe_evidence *ev;
    int n, cap;
    char *seen; /* [figs->n] */
} evidence_ctx;

static tribe_status cite(void *ctx, const char *field, const char *written, int fig)
{
    evidence_ctx *ec = ctx;
    if (fig == -1)
        return TRIBE_OK; /* a number of the age band, which is its own evidence */
    if (fig >= 0 && ec->seen[fig])
        return TRIBE_OK;
    if (ec->n == ec->cap) {
        int cap = ec->cap ? 2 * ec->cap : 8;
        tribe_status st = tribe_realloc((void **)&ec->ev, (size_t)cap * sizeof *ec->ev);
        if (st != TRIBE_OK)
            return st;
        ec->cap = cap;
    }
    tribe_evidence *e = &ec->ev[ec->n++];
    snprintf(e->written, sizeof e->written, "%s", written);
    snprintf(e->field, sizeof e->field, "%s", field);
    e->figure[0] = '\0';
    e->value = NAN;
    if (fig >= 0) {
        ec->seen[fig] = 1;
        snprintf(e->figure, sizeof e->figure, "%s", ec->figs->f[fig].id);
        e->value = ec->figs->f[fig].value;
    }
    return TRIBE_OK;
}

tribe_status tribe_persona_evidence(const tribe_persona *p, const tribe_segments *segs, tribe_evidence **out, int *n)
{
    tribe_status st = TRIBE_OK;
    tribe_figures figs = {0};
    evidence_ctx ec = {0};
    int c = tribe_segments_index(segs, p->segment);
    if (c < 0)
        return tribe_fail(TRIBE_ERR_INTERNAL, "persona of unknown segment %d", p->segment);
    TRIBE_TRY(tribe_figures_collect(segs, c, &figs));
    ec.figs = &figs;
    TRIBE_TRY(tribe_calloc((void **)&ec.seen, (size_t)(figs.n > 0 ? figs.n : 1), 1));
    TRIBE_TRY(tribe_persona_scan(p, segs, &figs, cite, &ec));
    *out = ec.ev;
    *n = ec.n;
    ec.ev = NULL;
cleanup:
    free(ec.ev);
    free(ec.seen);
    tribe_figures_free(&figs);
    return st;
}

static int add_str(cJSON *o, const char *key, const char *v)
{
    return v ? cJSON_AddStringToObject(o, key, v) != NULL : cJSON_AddNullToObject(o, key) != NULL;
}

static int add_num(cJSON *o, const char *key, double v)
{
    return isfinite(v) ? cJSON_AddNumberToObject(o, key, v) != NULL : cJSON_AddNullToObject(o, key) != NULL;
}

static int add_list(cJSON *o, const char *key, char *const *v, int n)
{
    cJSON *a = cJSON_AddArrayToObject(o, key);
    if (!a)
        return 0;
    for (int i = 0; i < n; i++) {
        cJSON *s = cJSON_CreateString(v[i] ? v[i] : "");
        if (!s || !cJSON_AddItemToArray(a, s)) {
            cJSON_Delete(s);
            return 0;
        }
    }
    return 1;
}

static tribe_status persona_json(const tribe_persona *p, const tribe_segments *segs, cJSON *o)
{
    tribe_status st = TRIBE_OK;
    tribe_evidence *ev = NULL;
    int n_ev = 0;
    int c = tribe_segments_index(segs, p->segment);
    if (c < 0)
        return tribe_fail(TRIBE_ERR_INTERNAL, "personas.json: persona of unknown segment %d", p->segment);
    const tribe_segment *g = &segs->seg[c];
    int ok = cJSON_AddNumberToObject(o, "segment_id", g->id) && add_str(o, "segment_name", g->name) &&
             cJSON_AddNumberToObject(o, "size", (double)g->size) && add_num(o, "share", g->share) &&
             add_num(o, "revenue_share", g->revenue_share) && add_str(o, "provider", p->provider) &&
             add_str(o, "name", p->name) && add_str(o, "age_band", p->age_band) &&
             add_str(o, "occupation", p->occupation) && add_str(o, "bio", p->bio) &&
             add_list(o, "goals", p->goals, p->n_goals) &&
             add_list(o, "frustrations", p->frustrations, p->n_frustrations) &&
             add_list(o, "channels", p->channels, p->n_channels) && add_str(o, "quote", p->quote) &&
             add_str(o, "email_subject", p->email_subject) && add_str(o, "email_body", p->email_body) &&
             add_str(o, "tagline", p->tagline) && add_str(o, "image_prompt", p->image_prompt);
    cJSON *arr = ok ? cJSON_AddArrayToObject(o, "evidence") : NULL;
    if (!arr) {
        st = tribe_fail(TRIBE_ERR_NOMEM, "personas.json: out of memory");
        goto cleanup;
    }
    TRIBE_TRY(tribe_persona_evidence(p, segs, &ev, &n_ev));
    for (int i = 0; i < n_ev; i++) {
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToArray(arr, e)) {
            cJSON_Delete(e);
            st = tribe_fail(TRIBE_ERR_NOMEM, "personas.json: out of memory");
            goto cleanup;
        }
        /* Not grounded: listed with null so a reader sees it
         * (tribe_personas_write never lets this happen for its own output). */
        ok = (ev[i].figure[0] ? add_str(e, "figure", ev[i].figure) && cJSON_AddNumberToObject(e, "value", ev[i].value)
                              : cJSON_AddNullToObject(e, "figure") && cJSON_AddNullToObject(e, "value")) &&
             add_str(e, "written", ev[i].written) && add_str(e, "field", ev[i].field);
        if (!ok) {
            st = tribe_fail(TRIBE_ERR_NOMEM, "personas.json: out of memory");
            goto cleanup;
        }
    }
cleanup:
    free(ev);
    return st;
}

tribe_status tribe_personas_to_json(const tribe_persona *p, int k, const tribe_segments *segs, char **out)
{
    tribe_status st = TRIBE_OK;
    cJSON *root = cJSON_CreateArray();
    if (!root)
        return tribe_fail(TRIBE_ERR_NOMEM, "personas.json: out of memory");
    if (!segs) {
        st = tribe_fail(TRIBE_ERR_INTERNAL, "tribe_personas_to_json: segments are required");
        goto cleanup;
    }
    for (int c = 0; c < k; c++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(root, o)) {
            cJSON_Delete(o);
            st = tribe_fail(TRIBE_ERR_NOMEM, "personas.json: out of memory");
            goto cleanup;
        }
        TRIBE_TRY(persona_json(&p[c], segs, o));
    }
    st = tribe_json_text(root, 1, 1, "personas.json", out);
cleanup:
    cJSON_Delete(root);
    return st;
}
