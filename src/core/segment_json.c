/* segments.json (tribe/segment.h, docs/outputs.md): the whole tribe_segments
 * as JSON text and back, exactly. Written by hand so every double is %.17g
 * (which strtod reads back to the same bits); read with cJSON, whose number
 * parser is strtod. Non-finite numbers are null and read back as NaN. */
#include "tribe/sbuf.h"
#include "tribe/segment.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SEGMENTS_FORMAT "tribe-segments"
#define SEGMENTS_VERSION 1

/* ---- writing ----------------------------------------------------------------------------- */

static tribe_status put_num(tribe_sbuf *b, double v)
{
    return isfinite(v) ? tribe_sbuf_printf(b, "%.17g", v) : tribe_sbuf_add(b, "null");
}

static tribe_status put_key_num(tribe_sbuf *b, const char *key, double v)
{
    tribe_status st = tribe_sbuf_printf(b, "\"%s\": ", key);
    return st == TRIBE_OK ? put_num(b, v) : st;
}

static tribe_status put_nums(tribe_sbuf *b, const char *key, const double *v, int n)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_printf(b, "\"%s\": [", key));
    for (int i = 0; i < n; i++) {
        if (i)
            TRIBE_TRY(tribe_sbuf_add(b, ", "));
        TRIBE_TRY(put_num(b, v[i]));
    }
    TRIBE_TRY(tribe_sbuf_add(b, "]"));
cleanup:
    return st;
}

static tribe_status put_strs(tribe_sbuf *b, const char *key, char *const *v, int n)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_printf(b, "\"%s\": [", key));
    for (int i = 0; i < n; i++) {
        if (i)
            TRIBE_TRY(tribe_sbuf_add(b, ", "));
        TRIBE_TRY(tribe_sbuf_json_str(b, v[i]));
    }
    TRIBE_TRY(tribe_sbuf_add(b, "]"));
cleanup:
    return st;
}

/* ", "offers": [...]" (docs/offers.md), only when the segment has offers. */
static tribe_status put_offers(tribe_sbuf *b, const tribe_segment *g)
{
    tribe_status st = TRIBE_OK;
    if (g->n_offers <= 0)
        return TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_add(b, ",\n     \"offers\": ["));
    for (int r = 0; r < g->n_offers && r < TRIBE_SEG_OFFERS; r++) {
        const tribe_segoffer *o = &g->offer[r];
        TRIBE_TRY(tribe_sbuf_add(b, r ? ", {\"name\": " : "{\"name\": "));
        TRIBE_TRY(tribe_sbuf_json_str(b, o->name));
        TRIBE_TRY(tribe_sbuf_add(b, ", "));
        TRIBE_TRY(put_key_num(b, "lift", o->lift));
        TRIBE_TRY(tribe_sbuf_add(b, ", "));
        TRIBE_TRY(put_key_num(b, "share", o->share));
        TRIBE_TRY(tribe_sbuf_add(b, ", "));
        TRIBE_TRY(put_key_num(b, "base_share", o->base_share));
        TRIBE_TRY(tribe_sbuf_printf(b, ", \"customers\": %lld}", (long long)o->customers));
    }
    TRIBE_TRY(tribe_sbuf_add(b, "]"));
cleanup:
    return st;
}

static tribe_status put_segment(tribe_sbuf *b, const tribe_segments *s, const tribe_segment *g)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_printf(b, "    {\"id\": %d, \"name\": ", g->id));
    TRIBE_TRY(tribe_sbuf_json_str(b, g->name));
    TRIBE_TRY(tribe_sbuf_printf(b, ", \"size\": %lld, ", (long long)g->size));
    TRIBE_TRY(put_key_num(b, "share", g->share));
    TRIBE_TRY(tribe_sbuf_add(b, ", "));
    TRIBE_TRY(put_key_num(b, "revenue_share", g->revenue_share));
    TRIBE_TRY(tribe_sbuf_add(b, ",\n     "));
    TRIBE_TRY(put_nums(b, "mean", g->mean, s->d));
    TRIBE_TRY(tribe_sbuf_add(b, ",\n     "));
    TRIBE_TRY(put_nums(b, "median", g->median, s->d));
    TRIBE_TRY(tribe_sbuf_add(b, ",\n     "));
    TRIBE_TRY(put_nums(b, "q1", g->q1, s->d));
    TRIBE_TRY(tribe_sbuf_add(b, ",\n     "));
    TRIBE_TRY(put_nums(b, "q3", g->q3, s->d));
    TRIBE_TRY(tribe_sbuf_add(b, ",\n     "));
    TRIBE_TRY(put_nums(b, "centroid", g->centroid, s->d));
    TRIBE_TRY(tribe_sbuf_add(b, ",\n     \"drivers\": ["));
    for (int r = 0; r < g->n_drivers && r < TRIBE_SEG_DRIVERS; r++) {
        int j = g->driver_feature[r];
        TRIBE_TRY(tribe_sbuf_add(b, r ? ", {\"feature\": " : "{\"feature\": "));
        TRIBE_TRY(tribe_sbuf_json_str(b, j >= 0 && j < s->d ? s->feature_names[j] : ""));
        TRIBE_TRY(tribe_sbuf_add(b, ", "));
        TRIBE_TRY(put_key_num(b, "mean_abs_shap", g->driver_shap[r]));
        TRIBE_TRY(tribe_sbuf_add(b, "}"));
    }
    TRIBE_TRY(tribe_sbuf_add(b, "],\n     "));
    TRIBE_TRY(put_key_num(b, "ltv_mean", g->ltv_mean));
    TRIBE_TRY(tribe_sbuf_add(b, ", "));
    TRIBE_TRY(put_key_num(b, "ltv_median", g->ltv_median));
    TRIBE_TRY(tribe_sbuf_add(b, ", "));
    TRIBE_TRY(put_key_num(b, "ltv_total", g->ltv_total));
    TRIBE_TRY(tribe_sbuf_add(b, ", "));
    TRIBE_TRY(put_key_num(b, "ltv_lo", g->ltv_lo));
    TRIBE_TRY(tribe_sbuf_add(b, ", "));
    TRIBE_TRY(put_key_num(b, "ltv_hi", g->ltv_hi));
    TRIBE_TRY(tribe_sbuf_add(b, ", "));
    TRIBE_TRY(put_key_num(b, "churn_mean", g->churn_mean));
    TRIBE_TRY(tribe_sbuf_add(b, ", "));
    TRIBE_TRY(put_key_num(b, "churn_high", g->churn_high));
    TRIBE_TRY(tribe_sbuf_printf(b, ", \"outliers\": %lld", (long long)g->outliers));
    TRIBE_TRY(put_offers(b, g));
    TRIBE_TRY(tribe_sbuf_add(b, "}"));
cleanup:
    return st;
}

static tribe_status put_mix(tribe_sbuf *b, const tribe_segments *s, const tribe_segmix *m)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_add(b, "    {\"name\": "));
    TRIBE_TRY(tribe_sbuf_json_str(b, m->name));
    TRIBE_TRY(tribe_sbuf_add(b, ", "));
    TRIBE_TRY(put_strs(b, "levels", m->levels, m->n_levels));
    TRIBE_TRY(tribe_sbuf_add(b, ",\n     \"count\": ["));
    for (int r = 0; r <= s->k; r++) {
        TRIBE_TRY(tribe_sbuf_add(b, r ? ", [" : "["));
        for (int l = 0; l < m->n_levels; l++)
            TRIBE_TRY(tribe_sbuf_printf(b, "%s%lld", l ? ", " : "",
                                        (long long)m->count[(size_t)r * (size_t)m->n_levels + (size_t)l]));
        TRIBE_TRY(tribe_sbuf_add(b, "]"));
    }
    TRIBE_TRY(tribe_sbuf_add(b, "]}"));
cleanup:
    return st;
}

/* The per-feature number arrays of "kruskal_wallis", in the file's order. */
#define KW_ARRAYS 4
static const char *const KW_KEYS[KW_ARRAYS] = {"h", "p", "p_holm", "epsilon_squared"};
static void kw_arrays(const tribe_segtest *kw, double **v)
{
    v[0] = kw->h;
    v[1] = kw->p;
    v[2] = kw->p_holm;
    v[3] = kw->eps2;
}

/* "kruskal_wallis" (tribe_segtest): per feature n, segments used, H, p,
 * Holm p, epsilon^2, and Cliff's deltas [d][k][k]. */
static tribe_status put_kw(tribe_sbuf *b, const tribe_segtest *kw)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_add(b, ",\n \"kruskal_wallis\": {\"n\": ["));
    for (int j = 0; j < kw->d; j++)
        TRIBE_TRY(tribe_sbuf_printf(b, "%s%lld", j ? ", " : "", (long long)kw->n[j]));
    TRIBE_TRY(tribe_sbuf_add(b, "], \"segments\": ["));
    for (int j = 0; j < kw->d; j++)
        TRIBE_TRY(tribe_sbuf_printf(b, "%s%d", j ? ", " : "", kw->k_used[j]));
    TRIBE_TRY(tribe_sbuf_add(b, "]"));
    double *v[KW_ARRAYS];
    kw_arrays(kw, v);
    for (int i = 0; i < KW_ARRAYS; i++) {
        TRIBE_TRY(tribe_sbuf_add(b, ",\n  "));
        TRIBE_TRY(put_nums(b, KW_KEYS[i], v[i], kw->d));
    }
    TRIBE_TRY(tribe_sbuf_add(b, ",\n  \"cliffs_delta\": ["));
    for (int j = 0; j < kw->d; j++) {
        TRIBE_TRY(tribe_sbuf_add(b, j ? ",\n   [" : "\n   ["));
        for (int a = 0; a < kw->k; a++) {
            const double *row = kw->delta + ((size_t)j * kw->k + a) * kw->k;
            TRIBE_TRY(tribe_sbuf_add(b, a ? ", [" : "["));
            for (int c = 0; c < kw->k; c++) {
                if (c)
                    TRIBE_TRY(tribe_sbuf_add(b, ", "));
                TRIBE_TRY(put_num(b, row[c]));
            }
            TRIBE_TRY(tribe_sbuf_add(b, "]"));
        }
        TRIBE_TRY(tribe_sbuf_add(b, "]"));
    }
    TRIBE_TRY(tribe_sbuf_add(b, "]}"));
cleanup:
    return st;
}

tribe_status tribe_segments_to_json(const tribe_segments *s, char **out)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    if (!s || s->k < 0 || s->d < 0)
        return tribe_fail(TRIBE_ERR_INTERNAL, "segments.json: no segments given");
    TRIBE_TRY(tribe_sbuf_printf(&b, "{\"format\": \"%s\", \"version\": %d,\n \"k\": %d, \"d\": %d, \"n_total\": %lld,\n ",
                                SEGMENTS_FORMAT, SEGMENTS_VERSION, s->k, s->d, (long long)s->n_total));
    TRIBE_TRY(put_strs(&b, "feature_names", s->feature_names, s->d));
    TRIBE_TRY(tribe_sbuf_add(&b, ",\n "));
    TRIBE_TRY(put_key_num(&b, "silhouette", s->silhouette));
    TRIBE_TRY(tribe_sbuf_add(&b, ", "));
    TRIBE_TRY(put_key_num(&b, "silhouette_ci", s->silhouette_ci));
    TRIBE_TRY(tribe_sbuf_add(&b, ", "));
    TRIBE_TRY(put_key_num(&b, "inertia", s->inertia));
    TRIBE_TRY(tribe_sbuf_add(&b, ", "));
    TRIBE_TRY(put_key_num(&b, "ltv_horizon_days", s->ltv_horizon_days));
    TRIBE_TRY(tribe_sbuf_add(&b, ", "));
    TRIBE_TRY(put_key_num(&b, "churn_horizon_days", s->churn_horizon_days));
    TRIBE_TRY(tribe_sbuf_add(&b, ", "));
    TRIBE_TRY(put_key_num(&b, "churn_high_risk", s->churn_high_risk));
    TRIBE_TRY(tribe_sbuf_add(&b, ",\n \"currency\": {\"code\": "));
    TRIBE_TRY(tribe_sbuf_json_str(&b, s->currency.code));
    TRIBE_TRY(tribe_sbuf_add(&b, ", \"symbol\": "));
    TRIBE_TRY(tribe_sbuf_json_str(&b, s->currency.symbol));
    TRIBE_TRY(tribe_sbuf_printf(&b, ", \"decimals\": %d}", s->currency.decimals));
    TRIBE_TRY(tribe_sbuf_add(&b, ",\n \"overall\": {"));
    TRIBE_TRY(put_nums(&b, "mean", s->overall_mean, s->d));
    TRIBE_TRY(tribe_sbuf_add(&b, ",\n  "));
    TRIBE_TRY(put_nums(&b, "median", s->overall_median, s->d));
    TRIBE_TRY(tribe_sbuf_add(&b, ",\n  "));
    TRIBE_TRY(put_nums(&b, "q1", s->overall_q1, s->d));
    TRIBE_TRY(tribe_sbuf_add(&b, ",\n  "));
    TRIBE_TRY(put_nums(&b, "q3", s->overall_q3, s->d));
    TRIBE_TRY(tribe_sbuf_add(&b, "},\n \"segments\": [\n"));
    for (int c = 0; c < s->k; c++) {
        TRIBE_TRY(put_segment(&b, s, &s->seg[c]));
        TRIBE_TRY(tribe_sbuf_add(&b, c + 1 < s->k ? ",\n" : "\n"));
    }
    TRIBE_TRY(tribe_sbuf_add(&b, " ],\n \"mixes\": [\n"));
    for (int m = 0; m < s->n_mix; m++) {
        TRIBE_TRY(put_mix(&b, s, &s->mix[m]));
        TRIBE_TRY(tribe_sbuf_add(&b, m + 1 < s->n_mix ? ",\n" : "\n"));
    }
    TRIBE_TRY(tribe_sbuf_add(&b, " ]"));
    if (s->kw)
        TRIBE_TRY(put_kw(&b, s->kw));
    TRIBE_TRY(tribe_sbuf_add(&b, "}\n"));
    TRIBE_TRY(tribe_sbuf_take(&b, out));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

/* ---- reading ----------------------------------------------------------------------------- */

/* What went wrong, naming the member: "segments.json: segments[2].median[3] is not a number". */
static tribe_status bad(const char *where, const char *what)
{
    return tribe_fail(TRIBE_ERR_INPUT, "segments.json: %s %s", where, what);
}

/* bad() for the member key of where. */
static tribe_status bad_key(const char *where, const char *key, const char *what)
{
    return tribe_fail(TRIBE_ERR_INPUT, "segments.json: %s%s %s", where, key, what);
}

static const cJSON *member(const cJSON *o, const char *key) { return cJSON_GetObjectItemCaseSensitive(o, key); }

/* A number or null (NaN). */
static tribe_status get_num(const cJSON *o, const char *key, const char *where, double *v)
{
    const cJSON *x = member(o, key);
    if (cJSON_IsNull(x)) {
        *v = NAN;
        return TRIBE_OK;
    }
    if (!cJSON_IsNumber(x))
        return bad_key(where, key, "is not a number or null");
    *v = x->valuedouble;
    return TRIBE_OK;
}

/* An integer in [lo, hi] (JSON numbers are doubles: exact up to 2^53). */
static tribe_status get_int(const cJSON *o, const char *key, const char *where, double lo, double hi, int64_t *v)
{
    const cJSON *x = member(o, key);
    if (!cJSON_IsNumber(x) || x->valuedouble != floor(x->valuedouble) || x->valuedouble < lo || x->valuedouble > hi)
        return bad_key(where, key, "is not an integer in range");
    *v = (int64_t)x->valuedouble;
    return TRIBE_OK;
}

/* get_num for a key later versions added (churn): absent reads as NaN, so a
 * profile written before it still loads. */
static tribe_status get_num_opt(const cJSON *o, const char *key, const char *where, double *v)
{
    if (!member(o, key)) {
        *v = NAN;
        return TRIBE_OK;
    }
    return get_num(o, key, where, v);
}

static tribe_status get_nums(const cJSON *o, const char *key, const char *where, int n, double *v)
{
    const cJSON *a = member(o, key);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
        return bad_key(where, key, "is not an array of d numbers");
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a)
    {
        if (cJSON_IsNull(x))
            v[i] = NAN;
        else if (cJSON_IsNumber(x))
            v[i] = x->valuedouble;
        else
            return bad_key(where, key, "holds something that is not a number or null");
        i++;
    }
    return TRIBE_OK;
}

/* The array member key of o with n strings, each copied into out[] (zeroed by the caller). */
static tribe_status get_strs(const cJSON *o, const char *key, const char *where, int n, char **out)
{
    tribe_status st = TRIBE_OK;
    const cJSON *a = member(o, key), *x;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
        return bad_key(where, key, "is not an array of the expected length");
    int i = 0;
    cJSON_ArrayForEach(x, a)
    {
        if (!cJSON_IsString(x))
            return bad_key(where, key, "holds something that is not a string");
        TRIBE_TRY(tribe_strdup(x->valuestring, &out[i++]));
    }
cleanup:
    return st;
}

static tribe_status get_drivers(const cJSON *o, const char *where, tribe_segments *s, tribe_segment *g)
{
    const cJSON *a = member(o, "drivers"), *x;
    char w[96];
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > TRIBE_SEG_DRIVERS)
        return bad_key(where, "drivers", "is not an array of at most five drivers");
    int r = 0;
    cJSON_ArrayForEach(x, a)
    {
        const cJSON *f = member(x, "feature");
        int j = cJSON_IsString(f) ? tribe_segments_feature(s, f->valuestring) : -1;
        snprintf(w, sizeof w, "%sdrivers[%d].", where, r);
        if (j < 0)
            return bad_key(w, "feature", "is not among feature_names");
        g->driver_feature[r] = j;
        tribe_status st = get_num(x, "mean_abs_shap", w, &g->driver_shap[r]);
        if (st != TRIBE_OK)
            return st;
        r++;
    }
    g->n_drivers = r;
    return TRIBE_OK;
}

/* The optional "offers" member (absent: none, as an older tribe wrote). */
static tribe_status get_offers(const cJSON *o, const char *where, tribe_segment *g)
{
    const cJSON *a = member(o, "offers"), *x;
    char w[96];
    int64_t v = 0;
    g->n_offers = 0;
    if (!a)
        return TRIBE_OK;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > TRIBE_SEG_OFFERS)
        return bad_key(where, "offers", "is not an array of at most ten offers");
    cJSON_ArrayForEach(x, a)
    {
        tribe_segoffer *f = &g->offer[g->n_offers];
        const cJSON *name = member(x, "name");
        snprintf(w, sizeof w, "%soffers[%d].", where, g->n_offers);
        if (!cJSON_IsString(name) || strlen(name->valuestring) >= sizeof f->name)
            return bad_key(w, "name", "is not a string of at most 95 bytes");
        snprintf(f->name, sizeof f->name, "%s", name->valuestring);
        tribe_status st = get_num(x, "lift", w, &f->lift);
        if (st == TRIBE_OK)
            st = get_num(x, "share", w, &f->share);
        if (st == TRIBE_OK)
            st = get_num(x, "base_share", w, &f->base_share);
        if (st == TRIBE_OK)
            st = get_int(x, "customers", w, 0, 9007199254740992.0, &v);
        if (st != TRIBE_OK)
            return st;
        f->customers = v;
        g->n_offers++;
    }
    return TRIBE_OK;
}

static tribe_status get_segment(const cJSON *o, int c, tribe_segments *s)
{
    tribe_status st = TRIBE_OK;
    tribe_segment *g = &s->seg[c];
    char where[64];
    int64_t v = 0;
    snprintf(where, sizeof where, "segments[%d].", c);
    if (!cJSON_IsObject(o))
        return bad(where, "is not an object");
    TRIBE_TRY(get_int(o, "id", where, 0, 2147483647.0, &v));
    g->id = (int)v;
    const cJSON *name = member(o, "name");
    if (!cJSON_IsString(name) || strlen(name->valuestring) >= sizeof g->name)
        return bad(where, "name is not a string of at most 63 bytes");
    snprintf(g->name, sizeof g->name, "%s", name->valuestring);
    TRIBE_TRY(get_int(o, "size", where, 0, 9007199254740992.0, &g->size));
    TRIBE_TRY(get_num(o, "share", where, &g->share));
    TRIBE_TRY(get_num(o, "revenue_share", where, &g->revenue_share));
    TRIBE_TRY(get_nums(o, "mean", where, s->d, g->mean));
    TRIBE_TRY(get_nums(o, "median", where, s->d, g->median));
    TRIBE_TRY(get_nums(o, "q1", where, s->d, g->q1));
    TRIBE_TRY(get_nums(o, "q3", where, s->d, g->q3));
    TRIBE_TRY(get_nums(o, "centroid", where, s->d, g->centroid));
    TRIBE_TRY(get_drivers(o, where, s, g));
    TRIBE_TRY(get_num(o, "ltv_mean", where, &g->ltv_mean));
    TRIBE_TRY(get_num(o, "ltv_median", where, &g->ltv_median));
    TRIBE_TRY(get_num(o, "ltv_total", where, &g->ltv_total));
    TRIBE_TRY(get_num_opt(o, "ltv_lo", where, &g->ltv_lo)); /* absent from profiles written before them */
    TRIBE_TRY(get_num_opt(o, "ltv_hi", where, &g->ltv_hi));
    TRIBE_TRY(get_num_opt(o, "churn_mean", where, &g->churn_mean));
    TRIBE_TRY(get_num_opt(o, "churn_high", where, &g->churn_high));
    TRIBE_TRY(get_int(o, "outliers", where, -1, 9007199254740992.0, &g->outliers));
    TRIBE_TRY(get_offers(o, where, g));
cleanup:
    return st;
}

static tribe_status get_mix(const cJSON *o, int m, tribe_segments *s)
{
    tribe_status st = TRIBE_OK;
    tribe_segmix *x = &s->mix[m];
    char where[64], w[96];
    snprintf(where, sizeof where, "mixes[%d].", m);
    const cJSON *name = member(o, "name"), *levels = member(o, "levels"), *count = member(o, "count");
    if (!cJSON_IsString(name) || !cJSON_IsArray(levels) || !cJSON_IsArray(count))
        return bad(where, "lacks name, levels or count");
    TRIBE_TRY(tribe_strdup(name->valuestring, &x->name));
    int nl = cJSON_GetArraySize(levels);
    TRIBE_TRY(tribe_calloc((void **)&x->levels, (size_t)(nl > 0 ? nl : 1), sizeof *x->levels));
    x->n_levels = nl; /* set once the array exists, so destroy frees what was copied */
    TRIBE_TRY(get_strs(o, "levels", where, nl, x->levels));
    TRIBE_TRY(tribe_calloc((void **)&x->count, (size_t)(s->k + 1) * (size_t)(nl > 0 ? nl : 1), sizeof *x->count));
    snprintf(w, sizeof w, "%scount", where);
    if (cJSON_GetArraySize(count) != s->k + 1)
        return bad(w, "does not have k + 1 rows");
    int r = 0;
    const cJSON *row, *v;
    cJSON_ArrayForEach(row, count)
    {
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != nl)
            return bad(w, "has a row that is not one count per level");
        int l = 0;
        cJSON_ArrayForEach(v, row)
        {
            if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble))
                return bad(w, "holds something that is not a count");
            x->count[(size_t)r * (size_t)nl + (size_t)l++] = (int64_t)v->valuedouble;
        }
        r++;
    }
cleanup:
    return st;
}

/* One row of d (or k) numbers into v; NULL entries NaN. */
static tribe_status get_row(const cJSON *a, const char *w, int n, double *v)
{
    const cJSON *x;
    int i = 0;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
        return bad(w, "is not an array of the expected length");
    cJSON_ArrayForEach(x, a)
    {
        if (!cJSON_IsNull(x) && !cJSON_IsNumber(x))
            return bad(w, "holds something that is not a number or null");
        v[i++] = cJSON_IsNull(x) ? NAN : x->valuedouble;
    }
    return TRIBE_OK;
}

/* The optional "kruskal_wallis" object (absent: s->kw stays NULL). */
static tribe_status get_kw(const cJSON *root, tribe_segments *s)
{
    tribe_status st = TRIBE_OK;
    const cJSON *o = member(root, "kruskal_wallis"), *a, *row;
    double *tmp = NULL;
    if (!o)
        return TRIBE_OK;
    if (!cJSON_IsObject(o))
        return bad("kruskal_wallis", "is not an object");
    TRIBE_TRY(tribe_segtest_create(s->k, s->d, &s->kw));
    tribe_segtest *kw = s->kw;
    TRIBE_TRY(tribe_alloc((void **)&tmp, (size_t)(s->d > 0 ? s->d : 1) * sizeof *tmp));
    TRIBE_TRY(get_row(member(o, "n"), "kruskal_wallis.n", s->d, tmp));
    for (int j = 0; j < s->d; j++)
        kw->n[j] = isfinite(tmp[j]) ? (int64_t)tmp[j] : 0;
    TRIBE_TRY(get_row(member(o, "segments"), "kruskal_wallis.segments", s->d, tmp));
    for (int j = 0; j < s->d; j++)
        kw->k_used[j] = isfinite(tmp[j]) ? (int)tmp[j] : 0;
    double *v[KW_ARRAYS];
    kw_arrays(kw, v);
    for (int i = 0; i < KW_ARRAYS; i++)
        TRIBE_TRY(get_nums(o, KW_KEYS[i], "kruskal_wallis.", s->d, v[i]));
    a = member(o, "cliffs_delta");
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != s->d) {
        st = bad("kruskal_wallis.cliffs_delta", "is not an array of d matrices");
        goto cleanup;
    }
    int j = 0;
    cJSON_ArrayForEach(row, a)
    {
        const cJSON *r;
        int c = 0;
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != s->k) {
            st = bad("kruskal_wallis.cliffs_delta", "holds a matrix that is not k rows");
            goto cleanup;
        }
        cJSON_ArrayForEach(r, row)
        {
            TRIBE_TRY(get_row(r, "kruskal_wallis.cliffs_delta", s->k, kw->delta + ((size_t)j * s->k + c) * s->k));
            c++;
        }
        j++;
    }
cleanup:
    free(tmp);
    return st;
}

/* The optional currency object (absent in an older file: the default). */
static tribe_status get_currency(const cJSON *root, tribe_currency *cur)
{
    const cJSON *o = member(root, "currency");
    if (!o)
        return TRIBE_OK;
    const cJSON *code = member(o, "code"), *sym = member(o, "symbol");
    if (!cJSON_IsObject(o) || !cJSON_IsString(code) || !cJSON_IsString(sym))
        return bad("currency", "is not an object with a code and a symbol");
    return tribe_currency_from_attrs("segments.json", code->valuestring, sym->valuestring, cur);
}

/* The header: format, k, d, the feature names; creates *out. */
static tribe_status get_head(const cJSON *root, tribe_segments **out)
{
    tribe_status st = TRIBE_OK;
    int64_t k = 0, d = 0;
    char **names = NULL;
    const cJSON *fmt = member(root, "format");
    if (!cJSON_IsObject(root) || !cJSON_IsString(fmt) || strcmp(fmt->valuestring, SEGMENTS_FORMAT) != 0)
        return tribe_fail(TRIBE_ERR_INPUT, "segments.json: not a JSON object with \"format\": \"%s\"", SEGMENTS_FORMAT);
    TRIBE_TRY(get_int(root, "k", "", 0, 1000000, &k));
    TRIBE_TRY(get_int(root, "d", "", 0, TRIBE_MAX_FEATURES, &d));
    TRIBE_TRY(tribe_calloc((void **)&names, (size_t)(d > 0 ? d : 1), sizeof *names));
    TRIBE_TRY(get_strs(root, "feature_names", "", (int)d, names));
    TRIBE_TRY(tribe_segments_create((int)k, (int)d, (const char *const *)names, out));
cleanup:
    tribe_free_strs(names, (int)d);
    return st;
}

tribe_status tribe_segments_from_json(const char *text, tribe_segments **out)
{
    tribe_status st = TRIBE_OK;
    tribe_segments *s = NULL;
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    if (!root)
        return tribe_fail(TRIBE_ERR_INPUT, "segments.json: not valid JSON");
    TRIBE_TRY(get_head(root, &s));
    TRIBE_TRY(get_int(root, "n_total", "", 0, 9007199254740992.0, &s->n_total));
    TRIBE_TRY(get_num(root, "silhouette", "", &s->silhouette));
    TRIBE_TRY(get_num(root, "silhouette_ci", "", &s->silhouette_ci));
    TRIBE_TRY(get_num(root, "inertia", "", &s->inertia));
    TRIBE_TRY(get_num(root, "ltv_horizon_days", "", &s->ltv_horizon_days));
    TRIBE_TRY(get_num_opt(root, "churn_horizon_days", "", &s->churn_horizon_days));
    TRIBE_TRY(get_num_opt(root, "churn_high_risk", "", &s->churn_high_risk));
    TRIBE_TRY(get_currency(root, &s->currency));
    TRIBE_TRY(get_kw(root, s));
    const cJSON *ov = member(root, "overall"), *segs = member(root, "segments"), *mixes = member(root, "mixes"), *o;
    if (!cJSON_IsObject(ov) || !cJSON_IsArray(segs) || cJSON_GetArraySize(segs) != s->k || !cJSON_IsArray(mixes)) {
        st = bad("overall, segments or mixes", "is missing or of the wrong shape");
        goto cleanup;
    }
    TRIBE_TRY(get_nums(ov, "mean", "overall.", s->d, s->overall_mean));
    TRIBE_TRY(get_nums(ov, "median", "overall.", s->d, s->overall_median));
    TRIBE_TRY(get_nums(ov, "q1", "overall.", s->d, s->overall_q1));
    TRIBE_TRY(get_nums(ov, "q3", "overall.", s->d, s->overall_q3));
    int c = 0;
    cJSON_ArrayForEach(o, segs)
        TRIBE_TRY(get_segment(o, c++, s));
    int nm = cJSON_GetArraySize(mixes);
    TRIBE_TRY(tribe_calloc((void **)&s->mix, (size_t)(nm > 0 ? nm : 1), sizeof *s->mix));
    s->n_mix = nm;
    int m = 0;
    cJSON_ArrayForEach(o, mixes)
        TRIBE_TRY(get_mix(o, m++, s));
    *out = s;
    s = NULL;
cleanup:
    cJSON_Delete(root);
    tribe_segments_destroy(&s);
    return st;
}
