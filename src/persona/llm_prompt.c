/* What an LLM is told about a segment: the profile (aggregates of
 * tribe_segments only) and the prompt templates it is rendered into.
 *
 * The profile is the privacy boundary: it is built from tribe_segments, which
 * holds no per-customer data, and refuses segments under k_min customers, so
 * nothing a prompt carries can single out a customer. */
#include "tribe/llm.h"
#include "tribe/record.h"
#include "tribe/numfmt.h"
#include "tribe/sbuf.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


/* Two decimals: what a marketer reads, and what the grounding check accepts
 * when the model copies the figure with up to two decimals. */
static double r2(double v) { return round(v * 100.0) / 100.0; }

static int add_fig(cJSON *o, const char *key, double v)
{
    return isfinite(v) ? cJSON_AddNumberToObject(o, key, r2(v)) != NULL : cJSON_AddNullToObject(o, key) != NULL;
}

/* Qualitative, not a ratio: a ratio would be a number the grounding check
 * cannot find among the segment's figures. */
static const char *versus(double seg, double base)
{
    if (!isfinite(seg) || !isfinite(base))
        return "unknown";
    double tol = 0.1 * fabs(base) + 1e-9;
    if (seg > base + tol)
        return "higher";
    if (seg < base - tol)
        return "lower";
    return "similar";
}

/* What a feature is, where its name alone misleads: ingest nets returns
 * off `monetary` (docs/ingest.md), so a persona must not call it the total
 * spent. Words only (no figure for the grounding check); NULL for the rest,
 * whose profile entries (and so cache keys) are unchanged. */
/* The profile's "unit" of a feature of this kind. */
static const char *feature_unit(tribe_feat_kind kind)
{
    switch (kind) {
    case TRIBE_FEAT_MONEY:
        return "money";
    case TRIBE_FEAT_DAYS:
        return "days";
    case TRIBE_FEAT_SHARE:
        return "share of 1 (state it in percent)";
    default:
        return "count";
    }
}

static const char *feature_meaning(const char *name)
{
    if (strcmp(name, "monetary") == 0)
        return "net spend: purchases minus returns";
    return NULL;
}

static int64_t mix_row_total(const tribe_segmix *m, int r)
{
    int64_t t = 0;
    for (int l = 0; l < m->n_levels; l++)
        t += m->count[(size_t)r * (size_t)m->n_levels + (size_t)l];
    return t;
}

tribe_status tribe_llm_profile(const tribe_segments *segs, int c, int64_t k_min, char **out)
{
    cJSON *root = NULL;
    if (!segs || c < 0 || c >= segs->k)
        return tribe_fail(TRIBE_ERR_INTERNAL, "tribe_llm_profile: no segment %d", c);
    const tribe_segment *g = &segs->seg[c];
    if (g->size < k_min)
        return tribe_fail(TRIBE_ERR_USAGE,
                          "segment %d (%s) has %lld customers, fewer than persona.k_min = %lld: its profile stays in "
                          "the job",
                          g->id, g->name, (long long)g->size, (long long)k_min);
    int ok = (root = cJSON_CreateObject()) != NULL;
    ok = ok && cJSON_AddStringToObject(root, "segment", g->name);
    ok = ok && cJSON_AddNumberToObject(root, "customers", (double)g->size);
    ok = ok && add_fig(root, "share_of_customers_pct", 100.0 * g->share);
    ok = ok && add_fig(root, "share_of_revenue_pct", 100.0 * g->revenue_share);
    ok = ok && cJSON_AddNumberToObject(root, "customers_in_whole_base", (double)segs->n_total);
    /* The unit of the "money" features: the data's currency, so a persona
     * writes "$1,234" for dollars (the grounding check reads its symbol). */
    cJSON *cur = ok ? cJSON_AddObjectToObject(root, "currency") : NULL;
    ok = ok && cur && cJSON_AddStringToObject(cur, "code", segs->currency.code) &&
         cJSON_AddStringToObject(cur, "symbol", segs->currency.symbol);
    cJSON *feats = ok ? cJSON_AddArrayToObject(root, "features") : NULL;
    ok = ok && feats;
    for (int j = 0; ok && j < segs->d; j++) {
        cJSON *f = cJSON_CreateObject();
        ok = f && cJSON_AddItemToArray(feats, f);
        if (!ok) {
            cJSON_Delete(f);
            break;
        }
        tribe_feat_kind kind = tribe_feature_kind(segs->feature_names[j]);
        const char *meaning = feature_meaning(segs->feature_names[j]);
        double sm = isfinite(g->median[j]) ? g->median[j] : g->mean[j];
        double bm = isfinite(segs->overall_median[j]) ? segs->overall_median[j] : segs->overall_mean[j];
        ok = cJSON_AddStringToObject(f, "name", segs->feature_names[j]) &&
             cJSON_AddStringToObject(f, "unit", feature_unit(kind)) &&
             (!meaning || cJSON_AddStringToObject(f, "meaning", meaning)) &&
             add_fig(f, "segment_mean", g->mean[j]) && add_fig(f, "segment_median", g->median[j]) &&
             add_fig(f, "segment_q1", g->q1[j]) && add_fig(f, "segment_q3", g->q3[j]) &&
             add_fig(f, "base_mean", segs->overall_mean[j]) && add_fig(f, "base_median", segs->overall_median[j]) &&
             add_fig(f, "base_q1", segs->overall_q1[j]) && add_fig(f, "base_q3", segs->overall_q3[j]) &&
             cJSON_AddStringToObject(f, "segment_vs_base", versus(sm, bm));
    }
    /* What the segment's customers write about (ingest --text): each topic's
     * top terms beside its feature, so the segment's topic_t means above
     * read as subjects; words only. Absent without text topics, so such
     * profiles (and their cache keys) are unchanged. */
    cJSON *tops = ok && segs->n_topics > 0 ? cJSON_AddArrayToObject(root, "text_topics") : NULL;
    ok = ok && (segs->n_topics <= 0 || tops);
    for (int t = 0; ok && t < segs->n_topics; t++) {
        char name[32];
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(tops, o);
        if (!ok) {
            cJSON_Delete(o);
            break;
        }
        snprintf(name, sizeof name, "topic_%d", t + 1);
        ok = cJSON_AddStringToObject(o, "feature", name) && cJSON_AddStringToObject(o, "terms", segs->topics[t]);
    }
    /* Predicted lifetime value, when the run fitted the LTV model; absent
     * otherwise, so such profiles (and their cache keys) are unchanged. */
    if (ok && isfinite(g->ltv_mean)) {
        cJSON *lv = cJSON_AddObjectToObject(root, "predicted_value");
        ok = lv && add_fig(lv, "horizon_days", segs->ltv_horizon_days) && add_fig(lv, "mean", g->ltv_mean) &&
             add_fig(lv, "median", g->ltv_median) && add_fig(lv, "total", g->ltv_total);
    }
    /* Churn risk, when the run fitted the churn model (docs/churn.md);
     * absent otherwise, so such profiles (and their cache keys) are unchanged. */
    if (ok && isfinite(g->churn_mean)) {
        cJSON *cr = cJSON_AddObjectToObject(root, "churn_risk");
        ok = cr && add_fig(cr, "horizon_days", segs->churn_horizon_days) && add_fig(cr, "mean", g->churn_mean) &&
             add_fig(cr, "high_risk_threshold", segs->churn_high_risk) && add_fig(cr, "high_risk_share", g->churn_high);
    }
    /* The segment drivers, strongest first: names and a direction in words,
     * so the profile gains no figure the grounding check would need. Absent
     * when drivers were not computed, so such profiles (and their cache
     * keys) are unchanged. */
    cJSON *drv = ok && g->n_drivers > 0 ? cJSON_AddArrayToObject(root, "top_drivers") : NULL;
    ok = ok && (g->n_drivers <= 0 || drv);
    for (int r = 0; ok && r < g->n_drivers && r < TRIBE_SEG_DRIVERS; r++) {
        int j = g->driver_feature[r];
        if (j < 0 || j >= segs->d)
            continue;
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(drv, o);
        if (!ok) {
            cJSON_Delete(o);
            break;
        }
        double sm = isfinite(g->median[j]) ? g->median[j] : g->mean[j];
        double bm = isfinite(segs->overall_median[j]) ? segs->overall_median[j] : segs->overall_mean[j];
        ok = cJSON_AddStringToObject(o, "name", segs->feature_names[j]) &&
             cJSON_AddStringToObject(o, "segment_vs_base", versus(sm, bm));
    }
    cJSON *mixes = ok ? cJSON_AddArrayToObject(root, "mix") : NULL;
    ok = ok && mixes;
    for (int m = 0; ok && m < segs->n_mix; m++) {
        const tribe_segmix *mx = &segs->mix[m];
        int64_t st_seg = mix_row_total(mx, c), st_base = mix_row_total(mx, segs->k);
        if (st_seg <= 0 || st_base <= 0)
            continue;
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(mixes, o);
        if (!ok) {
            cJSON_Delete(o);
            break;
        }
        cJSON *lv = NULL;
        ok = cJSON_AddStringToObject(o, "name", mx->name) && (lv = cJSON_AddArrayToObject(o, "levels")) != NULL;
        for (int l = 0; ok && l < mx->n_levels; l++) {
            int64_t n_seg = mx->count[(size_t)c * (size_t)mx->n_levels + (size_t)l];
            int64_t n_base = mx->count[(size_t)segs->k * (size_t)mx->n_levels + (size_t)l];
            /* A level held by a handful of the segment's customers is a small
             * cell: left out, like a segment under k_min. */
            if (n_seg < k_min)
                continue;
            cJSON *e = cJSON_CreateObject();
            ok = e && cJSON_AddItemToArray(lv, e);
            if (!ok) {
                cJSON_Delete(e);
                break;
            }
            ok = cJSON_AddStringToObject(e, "level", mx->levels[l]) &&
                 add_fig(e, "segment_pct", 100.0 * (double)n_seg / (double)st_seg) &&
                 add_fig(e, "base_pct", 100.0 * (double)n_base / (double)st_base);
        }
    }
    /* What the segment buys more than the base (the offers stage,
     * docs/offers.md): grounded figures (offer.<q>.*). Absent without offers,
     * so such profiles (and their cache keys) are unchanged; an offer bought
     * by fewer than k_min of the segment is a small cell, left out. */
    cJSON *offers = ok && g->n_offers > 0 ? cJSON_AddArrayToObject(root, "buys_more_than_base") : NULL;
    ok = ok && (g->n_offers <= 0 || offers);
    for (int q = 0; ok && q < g->n_offers && q < TRIBE_SEG_OFFERS; q++) {
        const tribe_segoffer *f = &g->offer[q];
        if (f->customers < k_min)
            continue;
        cJSON *e = cJSON_CreateObject();
        ok = e && cJSON_AddItemToArray(offers, e);
        if (!ok) {
            cJSON_Delete(e);
            break;
        }
        ok = cJSON_AddStringToObject(e, "item", f->name) && add_fig(e, "times_as_often_as_base", f->lift) &&
             add_fig(e, "segment_bought_pct", 100.0 * f->share) && add_fig(e, "base_bought_pct", 100.0 * f->base_share);
    }
    tribe_status st = tribe_json_text(root, ok, 0, "segment profile", out);
    cJSON_Delete(root);
    return st;
}

/* ---- a refine's guidance ---------------------------------------------------- */

tribe_status tribe_llm_guidance(const tribe_persona_inputs *in, char **out)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    static const char *const LABEL[3] = {"Tone", "Brand guidance", "Emphasis"};
    *out = NULL;
    if (!in)
        return TRIBE_OK;
    const char *text[3] = {in->tone, in->brand_guidance, in->emphasis};
    int any = in->n_channels > 0;
    for (int i = 0; i < 3; i++)
        any |= text[i] && text[i][0];
    if (!any)
        return TRIBE_OK;
    /* The marketer's words are style, not facts: the grounding check still
     * holds every number of the reply to the profile's figures. */
    TRIBE_TRY(tribe_sbuf_add(&b, "=== Marketer's guidance (how to write, not facts about the segment; every number "
                                 "you write must still be a figure of the profile above) ===\n"));
    for (int i = 0; i < 3; i++)
        if (text[i] && text[i][0])
            TRIBE_TRY(tribe_sbuf_printf(&b, "%s: %s\n", LABEL[i], text[i]));
    if (in->n_channels > 0) {
        TRIBE_TRY(tribe_sbuf_add(&b, "Channels, most preferred first:"));
        for (int i = 0; i < in->n_channels; i++)
            TRIBE_TRY(tribe_sbuf_printf(&b, "%s %s", i ? "," : "", in->channels[i]));
        TRIBE_TRY(tribe_sbuf_add(&b, "\n"));
    }
    TRIBE_TRY(tribe_sbuf_add(&b, "=== End of marketer's guidance ==="));
    TRIBE_TRY(tribe_sbuf_take(&b, out));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

/* ---- templates ------------------------------------------------------------ */

void tribe_llm_prompt_destroy(tribe_llm_prompt **pp)
{
    if (!pp || !*pp)
        return;
    free((*pp)->version);
    free((*pp)->system);
    free((*pp)->user);
    free((*pp)->reask);
    free(*pp);
    *pp = NULL;
}

static tribe_status dup_range(const char *a, const char *b, char **out)
{
    /* Section bodies lose their trailing newlines; the text is sent as is. */
    while (b > a && (b[-1] == '\n' || b[-1] == '\r'))
        b--;
    size_t n = (size_t)(b - a);
    tribe_status st = tribe_alloc((void **)out, n + 1);
    if (st == TRIBE_OK) {
        memcpy(*out, a, n);
        (*out)[n] = '\0';
    }
    return st;
}

tribe_status tribe_llm_prompt_load(const char *path, tribe_llm_prompt **out)
{
    tribe_status st = TRIBE_OK;
    char *text = NULL;
    tribe_llm_prompt *p = NULL;
    TRIBE_TRY(tribe_read_file(path, &text, NULL));
    TRIBE_TRY(tribe_calloc((void **)&p, 1, sizeof *p));
    if (strncmp(text, "version:", 8) != 0) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s:1: a prompt template starts with 'version: <name>'", path);
        goto cleanup;
    }
    const char *v = text + 8, *eol = strchr(text, '\n');
    if (!eol)
        eol = text + strlen(text);
    while (v < eol && (*v == ' ' || *v == '\t'))
        v++;
    TRIBE_TRY(dup_range(v, eol, &p->version));
    while (p->version[0] && (p->version[strlen(p->version) - 1] == ' ' || p->version[strlen(p->version) - 1] == '\r'))
        p->version[strlen(p->version) - 1] = '\0';
    if (!p->version[0]) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s:1: empty version", path);
        goto cleanup;
    }
    /* Sections: "--- name" lines; the body runs to the next one. */
    int line = 1;
    char **cur = NULL;
    const char *body = NULL;
    for (const char *s = *eol ? eol + 1 : eol; *s;) {
        line++;
        const char *e = strchr(s, '\n');
        const char *next = e ? e + 1 : s + strlen(s);
        if (strncmp(s, "--- ", 4) == 0) {
            if (cur)
                TRIBE_TRY(dup_range(body, s, cur));
            char name[32] = "";
            size_t n = (size_t)((e ? e : next) - (s + 4));
            snprintf(name, sizeof name, "%.*s", (int)(n < 31 ? n : 31), s + 4);
            name[strcspn(name, " \r")] = '\0';
            cur = strcmp(name, "system") == 0 ? &p->system
                  : strcmp(name, "user") == 0 ? &p->user
                  : strcmp(name, "reask") == 0 ? &p->reask
                                               : NULL;
            if (!cur || *cur) {
                st = tribe_fail(TRIBE_ERR_INPUT, "%s:%d: section '%s' is unknown or repeated (system, user, reask)",
                                path, line, name);
                goto cleanup;
            }
            body = next;
        }
        s = next;
    }
    if (cur)
        TRIBE_TRY(dup_range(body, text + strlen(text), cur));
    if (!p->system || !p->user || !p->reask) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: a prompt template needs '--- system', '--- user' and '--- reask' sections",
                        path);
        goto cleanup;
    }
    if (!strstr(p->user, "{{profile}}")) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: the user section must contain {{profile}}", path);
        goto cleanup;
    }
    *out = p;
    p = NULL;
cleanup:
    free(text);
    tribe_llm_prompt_destroy(&p);
    return st;
}

tribe_status tribe_llm_render(const char *tmpl, const char *name, const char *value, char **out)
{
    char key[64];
    snprintf(key, sizeof key, "{{%s}}", name);
    size_t kl = strlen(key), vl = strlen(value), n = 0;
    for (const char *s = strstr(tmpl, key); s; s = strstr(s + kl, key))
        n++;
    size_t len = strlen(tmpl) + n * vl + 1;
    tribe_status st = tribe_alloc((void **)out, len);
    if (st != TRIBE_OK)
        return st;
    char *o = *out;
    for (const char *s = tmpl;;) {
        const char *hit = strstr(s, key);
        if (!hit) {
            strcpy(o, s);
            break;
        }
        memcpy(o, s, (size_t)(hit - s));
        o += hit - s;
        memcpy(o, value, vl);
        o += vl;
        s = hit + kl;
    }
    return TRIBE_OK;
}
