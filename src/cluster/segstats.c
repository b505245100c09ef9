/* Per-segment profiles in raw units (tribe_segments_build in tribe/cluster.h):
 * exact means, medians and quartiles from tribe/xstats.h, category mixes as integer
 * counts. Everything reduced is an integer or an exact sum, so the profile is
 * identical on every rank and for every rank count. */
#include "tribe/cluster.h"
#include "tribe/id.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tribe/xstats.h"

/* The first bad label or infinite value in row order, with the message of
 * the first; looked for only when a pass that does not stop (and so runs
 * at memory speed) saw one. */
static tribe_status check_rows(const tribe_table *t, const int32_t *label, int k)
{
    int64_t n = t->n_local, nd = t->n_local * t->d;
    int bad = 0;
    for (int64_t i = 0; i < n; i++)
        bad |= (uint32_t)label[i] >= (uint32_t)k;
    for (int64_t q = 0; q < nd; q++) {
        uint32_t u;
        memcpy(&u, t->x + q, sizeof u);
        bad |= (u & 0x7fffffffu) == 0x7f800000u;
    }
    for (int64_t i = 0; bad && i < n; i++) {
        char idb[TRIBE_ID_BUF];
        if (label[i] < 0 || label[i] >= k)
            return tribe_fail(TRIBE_ERR_INPUT, "segments: customer %s has segment %d, outside [0, %d)",
                              tribe_table_id(t, i, idb), (int)label[i], k);
        for (int j = 0; j < t->d; j++)
            if (isinf(t->x[i * t->d + j]))
                return tribe_fail(TRIBE_ERR_INPUT, "customer %s, feature '%s': value is infinite",
                                  tribe_table_id(t, i, idb), t->names[j]);
    }
    return TRIBE_OK;
}

static tribe_status check_inputs(const tribe_table *t, const int32_t *label, int k,
                                 const int *model_cols, int d_model, int monetary_col)
{
    if (k < 1)
        return tribe_fail(TRIBE_ERR_USAGE, "segments: k=%d", k);
    if (monetary_col < -1 || monetary_col >= t->d)
        return tribe_fail(TRIBE_ERR_USAGE, "segments: monetary column %d out of range (table has %d)",
                          monetary_col, t->d);
    if (d_model < 0 || (!model_cols && d_model > t->d))
        return tribe_fail(TRIBE_ERR_USAGE, "segments: %d model columns but the table has %d", d_model, t->d);
    for (int c = 0; model_cols && c < d_model; c++)
        if (model_cols[c] < 0 || model_cols[c] >= t->d)
            return tribe_fail(TRIBE_ERR_USAGE, "segments: model column %d out of range", model_cols[c]);
    return check_rows(t, label, k);
}

static tribe_status add_mixes(tribe_segments *s, const tribe_table *t, const int32_t *label, int k)
{
    tribe_status st = TRIBE_OK;
    if (t->n_cat == 0)
        return TRIBE_OK;
    TRIBE_TRY(tribe_calloc((void **)&s->mix, (size_t)t->n_cat, sizeof *s->mix));
    for (int m = 0; m < t->n_cat; m++) {
        const tribe_catcol *cc = &t->cat[m];
        tribe_segmix *mx = &s->mix[m];
        s->n_mix = m + 1; /* counted now so destroy frees a partial one */
        TRIBE_TRY(tribe_strdup(cc->name, &mx->name));
        TRIBE_TRY(tribe_calloc((void **)&mx->levels, (size_t)(cc->n_levels > 0 ? cc->n_levels : 1), sizeof *mx->levels));
        mx->n_levels = cc->n_levels;
        for (int l = 0; l < cc->n_levels; l++)
            TRIBE_TRY(tribe_strdup(cc->levels[l], &mx->levels[l]));
        TRIBE_TRY(tribe_calloc((void **)&mx->count, (size_t)(k + 1) * (size_t)(cc->n_levels > 0 ? cc->n_levels : 1),
                               sizeof *mx->count));
        int L = cc->n_levels;
        for (int64_t i = 0; i < t->n_local; i++) {
            int32_t code = cc->code[i];
            if (code < 0 || code >= L)
                continue; /* missing: not a level */
            mx->count[(size_t)label[i] * L + code]++;
            mx->count[(size_t)k * L + code]++;
        }
    }
cleanup:
    return st;
}

tribe_status tribe_segments_build(tribe_par *par, const tribe_table *t, const int32_t *label, int k,
                                  const double *centroids, const int *model_cols, int d_model,
                                  int monetary_col, tribe_segments **out)
{
    tribe_status st = TRIBE_OK;
    tribe_segments *s = NULL;
    int d = t->d;
    size_t cells = (size_t)(k + 1) * (size_t)(d > 0 ? d : 1);
    int64_t *size = NULL;
    double *sum = NULL, *mean = NULL, *med = NULL, *quart = NULL;
    static const double QUARTILES[2] = {0.25, 0.75};
    *out = NULL;

    st = check_inputs(t, label, k, model_cols, d_model, monetary_col);
    if (st == TRIBE_OK)
        st = tribe_segments_create(k, d, (const char *const *)t->names, &s);
    if (st == TRIBE_OK)
        s->currency = t->currency;
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&size, (size_t)k, sizeof *size);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&sum, cells, sizeof *sum);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&mean, cells, sizeof *mean);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&med, cells, sizeof *med);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&quart, 2 * cells, sizeof *quart);
    if (st == TRIBE_OK)
        st = add_mixes(s, t, label, k);
    TRIBE_TRY(tribe_par_agree(par, st));

    for (int64_t i = 0; i < t->n_local; i++)
        size[label[i]]++;
    TRIBE_TRY(tribe_par_sum_i64(par, size, k));
    for (int m = 0; m < s->n_mix; m++)
        TRIBE_TRY(tribe_par_sum_i64(par, s->mix[m].count, (int64_t)(k + 1) * s->mix[m].n_levels));
    if (d > 0) {
        /* one call: the means, medians and quartiles share the passes */
        tribe_xstats_out o = {.sum = sum, .mean = mean, .median = med, .nprob = 2, .prob = QUARTILES, .quantile = quart};
        TRIBE_TRY(tribe_xstats_describe(par, t->x, t->n_local, d, d, label, k, 1, &o));
    }

    /* The total of the sizes, not the shard's n_global: it is what was reduced. */
    s->n_total = 0;
    for (int c = 0; c < k; c++)
        s->n_total += size[c];
    for (int c = 0; c < k; c++) {
        tribe_segment *g = &s->seg[c];
        g->size = size[c];
        g->share = s->n_total > 0 ? (double)size[c] / (double)s->n_total : NAN;
        for (int j = 0; j < d; j++) {
            g->mean[j] = mean[(size_t)c * d + j];
            g->median[j] = med[(size_t)c * d + j];
            g->q1[j] = quart[(size_t)c * d + j];
            g->q3[j] = quart[cells + (size_t)c * d + j];
        }
        if (monetary_col >= 0) {
            double base = sum[(size_t)k * d + monetary_col];
            g->revenue_share = base != 0 ? sum[(size_t)c * d + monetary_col] / base : NAN;
        }
        for (int m = 0; centroids && m < d_model; m++)
            g->centroid[model_cols ? model_cols[m] : m] = centroids[(size_t)c * d_model + m];
    }
    for (int j = 0; j < d; j++) {
        s->overall_mean[j] = mean[(size_t)k * d + j];
        s->overall_median[j] = med[(size_t)k * d + j];
        s->overall_q1[j] = quart[(size_t)k * d + j];
        s->overall_q3[j] = quart[cells + (size_t)k * d + j];
    }
    *out = s;
    s = NULL;
cleanup:
    tribe_segments_destroy(&s);
    free(size);
    free(sum);
    free(mean);
    free(med);
    free(quart);
    return st;
}
