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
#include <strings.h>

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
    const tribe_persona *p;
    tribe_evidence *ev;
    int n, cap;
    char *seen;      /* [figs->n] */
    char field[32];  /* the field being scanned and how far into it the last number was found */
    size_t pos;
} evidence_ctx;

/* The text of a field as tribe_persona_scan names it ("bio", "goals[1]"). */
static const char *field_text(const tribe_persona *p, const char *field)
{
    static const char *const LISTS[] = {"goals[", "frustrations[", "channels["};
    char *const *lists[] = {p->goals, p->frustrations, p->channels};
    const int counts[] = {p->n_goals, p->n_frustrations, p->n_channels};
    for (int l = 0; l < 3; l++)
        if (strncmp(field, LISTS[l], strlen(LISTS[l])) == 0) {
            int i = atoi(field + strlen(LISTS[l]));
            return i >= 0 && i < counts[l] ? lists[l][i] : NULL;
        }
    const struct { const char *name; const char *text; } ONE[] = {
        {"name", p->name}, {"age_band", p->age_band}, {"occupation", p->occupation}, {"bio", p->bio},
        {"quote", p->quote}, {"email_subject", p->email_subject}, {"email_body", p->email_body},
        {"tagline", p->tagline}, {"image_prompt", p->image_prompt}};
    for (size_t i = 0; i < sizeof ONE / sizeof *ONE; i++)
        if (strcmp(field, ONE[i].name) == 0)
            return ONE[i].text;
    return NULL;
}

static int has_word(const char *s, size_t n, const char *w)
{
    size_t m = strlen(w);
    for (size_t i = 0; i + m <= n; i++)
        if (strncasecmp(s + i, w, m) == 0)
            return 1;
    return 0;
}

/* The feature a figure id names ("base.median.frequency" -> "frequency"),
 * and its statistic in *stat ("median", "mean", "q1", "q3"; "" for size,
 * shares and mixes). */
static const char *fig_feature(const char *id, char stat[8])
{
    static const char *const STATS[] = {"median.", "mean.", "q1.", "q3."};
    if (strncmp(id, "base.", 5) == 0)
        id += 5;
    stat[0] = '\0';
    for (size_t i = 0; i < sizeof STATS / sizeof *STATS; i++)
        if (strncmp(id, STATS[i], strlen(STATS[i])) == 0) {
            snprintf(stat, 8, "%.*s", (int)strlen(STATS[i]) - 1, STATS[i]);
            return id + strlen(STATS[i]);
        }
    return id;
}

/* How well figure g fits the words around the number: the unit after it
 * ("orders", "days", "per order", "products", "customers"), the statistic the
 * sentence names (mean, quartile, else a median or a plain count), and
 * whether the words up to the next number speak of the whole base. */
static int fit(const tribe_figure *g, const char *before, size_t nb, const char *after, size_t na, int base_words,
               int mean_words, int quart_words)
{
    char stat[8];
    const char *f = fig_feature(g->id, stat);
    int score = 0;
    while (na > 0 && (*after == ' ' || *after == '%'))
        after++, na--;
    if (na >= 9 && strncasecmp(after, "per order", 9) == 0)
        score += strstr(f, "order_value") ? 16 : 0;
    else if (na >= 5 && strncasecmp(after, "order", 5) == 0)
        score += strcmp(f, "frequency") == 0 ? 8 : 0;
    else if (na >= 3 && strncasecmp(after, "day", 3) == 0) {
        int every = nb >= 6 && strncasecmp(before + nb - 6, "every ", 6) == 0;
        score += strstr(f, "days") ? (every == (strstr(f, "between") != NULL) ? 16 : 8) : 0;
    } else if (na >= 7 && strncasecmp(after, "product", 7) == 0)
        score += strstr(f, "product") ? 8 : 0;
    else if (na >= 8 && strncasecmp(after, "customer", 8) == 0)
        score += strcmp(f, "size") == 0 ? 8 : 0;
    if (quart_words)
        score += stat[0] == 'q' ? 4 : 0;
    else if (mean_words)
        score += strcmp(stat, "mean") == 0 ? 4 : 0;
    else
        score += stat[0] == '\0' || strcmp(stat, "median") == 0 ? 4 : 0;
    score += (strncmp(g->id, "base.", 5) == 0) == (base_words != 0) ? 2 : 0;
    return score;
}

/* The figure a number names. The grounding scan gives the first figure the
 * number rounds to, so "2 orders" in "3 orders compared with 2 orders for
 * the customer base as a whole" could cite a mean of 1.55 or the segment's
 * first quartile; the evidence cites, among the figures the number rounds
 * to, the one the surrounding words name (fit), then the nearest. */
static int named_figure(evidence_ctx *ec, const char *field, const char *written, int fig)
{
    const char *text = field_text(ec->p, field);
    if (strcmp(ec->field, field) != 0) {
        snprintf(ec->field, sizeof ec->field, "%s", field);
        ec->pos = 0;
    }
    const char *at = text && ec->pos <= strlen(text) ? strstr(text + ec->pos, written) : NULL;
    if (!at)
        return fig;
    size_t wl = strlen(written);
    ec->pos = (size_t)(at - text) + wl;
    /* the number's value and printed decimals, from the ASCII digits as written */
    char num[64];
    size_t o = 0;
    int decimals = -1;
    for (const char *q = written; *q && o + 1 < sizeof num; q++) {
        if (*q == '.' && o > 0)
            decimals = 0, num[o++] = '.';
        else if (*q >= '0' && *q <= '9') {
            num[o++] = *q;
            decimals += decimals >= 0;
        } else if (*q == '-' && o == 0)
            num[o++] = '-';
        else if (*q != ',' && (unsigned char)*q > 0x7f && o > 0)
            return fig; /* digits this parser does not read */
    }
    num[o] = '\0';
    if (o == 0)
        return fig;
    double v = strtod(num, NULL), tol = 0.5 * pow(10.0, -(decimals < 0 ? 0 : decimals)) * (1.0 + 1e-9) +
                                          1e-9 * fabs(v);
    /* the sentence around the number; the words after it up to the next number */
    const char *s0 = at, *end = at + wl;
    while (s0 > text && !((s0[-1] == '.' || s0[-1] == '!' || s0[-1] == '?' || s0[-1] == '\n') &&
                          (s0[0] == ' ' || s0[0] == '\n')))
        s0--;
    const char *s1 = end, *next = NULL;
    while (*s1 && !((*s1 == '.' || *s1 == '!' || *s1 == '?' || *s1 == '\n') && (s1[1] == ' ' || !s1[1] || s1[1] == '\n'))) {
        if (!next && *s1 >= '0' && *s1 <= '9')
            next = s1;
        s1++;
    }
    if (!next)
        next = s1;
    size_t span = (size_t)(next - end);
    int base_words = has_word(end, span, "customer base") || has_word(end, span, "across all customers") ||
                     has_word(end, span, "as a whole") || has_word(end, span, "whole base") ||
                     has_word(end, span, "across the base") || has_word(end, span, "typical customer overall");
    size_t sn = (size_t)(s1 - s0);
    int mean_words = has_word(s0, sn, "mean ") || has_word(s0, sn, "on average");
    int quart_words = has_word(s0, sn, "quartile") || has_word(s0, sn, "quarter");
    const tribe_figure *want = &ec->figs->f[fig];
    int pct = strchr(written, '%') || strncmp(end, " percent", 8) == 0 || strncmp(end, " per cent", 9) == 0;
    int bare = !pct && (written[0] == '-' || (written[0] >= '0' && written[0] <= '9'));
    int best = fig, best_score = -1;
    double best_d = INFINITY;
    for (int i = 0; i < ec->figs->n; i++) {
        const tribe_figure *g = &ec->figs->f[i];
        double d = fabs(g->shown - v);
        if (d > tol || (!bare && g->kind != want->kind))
            continue;
        int sc = fit(g, text, (size_t)(at - text), end, strlen(end), base_words, mean_words, quart_words);
        if (sc > best_score || (sc == best_score && d < best_d)) {
            best = i;
            best_score = sc;
            best_d = d;
        }
    }
    return best;
}

static tribe_status cite(void *ctx, const char *field, const char *written, int fig)
{
    evidence_ctx *ec = ctx;
    if (fig == -1)
        return TRIBE_OK; /* a number of the age band, which is its own evidence */
    if (fig >= 0)
        fig = named_figure(ec, field, written, fig);
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
    ec.p = p;
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
