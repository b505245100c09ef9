/* Outliers by distance to the segment centre (tribe_outliers_fit in
 * tribe/cluster.h): exact per-segment quartiles of the distances, then
 * Tukey's far-out fence Q3 + threshold * IQR per segment. Why this rule is
 * the default and when DBSCAN noise (tribe/dbscan.h) fits better:
 * docs/clustering.md ("Outliers"). */
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>

#include "tribe/xstats.h"

void tribe_outliers_flag(const float *dist, const int32_t *label, int64_t n, int k, const double *q1,
                         const double *q3, double threshold, uint8_t *flag, float *score, int64_t *count)
{
    for (int c = 0; c < k; c++)
        count[c] = 0;
    for (int64_t i = 0; i < n; i++) {
        int c = label[i];
        flag[i] = 0;
        if (c < 0 || c >= k || isnan(dist[i])) {
            score[i] = NAN;
            continue;
        }
        double iqr = q3[c] - q1[c];
        /* No spread (a tiny segment, or duplicates at one distance): there is
         * no scale to call anyone far, so nobody is flagged. */
        if (!(iqr > 0)) {
            score[i] = 0.0f;
            continue;
        }
        double s = ((double)dist[i] - q3[c]) / iqr;
        score[i] = (float)s;
        if (s > threshold) {
            flag[i] = 1;
            count[c]++;
        }
    }
}

void tribe_outliers_destroy(tribe_outliers **o)
{
    if (!o || !*o)
        return;
    free((*o)->q1);
    free((*o)->count);
    free(*o);
    *o = NULL;
}

tribe_status tribe_outliers_fit(tribe_par *par, const float *dist, const int32_t *label, int64_t n_local, int k,
                                double threshold, uint8_t *flag, float *score, tribe_outliers **out)
{
    tribe_status st = TRIBE_OK;
    tribe_outliers *o = NULL;
    double *q = NULL;
    static const double prob[2] = {0.25, 0.75};
    *out = NULL;
    if (k < 1)
        st = tribe_fail(TRIBE_ERR_USAGE, "outliers: k=%d, need k >= 1", k);
    else if (!(threshold >= 0) || !isfinite(threshold))
        st = tribe_fail(TRIBE_ERR_USAGE, "outliers: threshold %g must be finite and >= 0", threshold);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&o, 1, sizeof *o);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&o->q1, 3 * (size_t)k, sizeof *o->q1);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&o->count, (size_t)k, sizeof *o->count);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&q, 2 * (size_t)k * sizeof *q);
    TRIBE_TRY(tribe_par_agree(par, st));
    o->k = k;
    o->threshold = threshold;
    o->q3 = o->q1 + k;
    o->fence = o->q3 + k;
    /* Labels outside [0, k) are skipped by the grouped quantiles; distances
     * are never NaN for assigned rows, and an infinite one is an INPUT error. */
    TRIBE_TRY(tribe_xstats_quantiles(par, dist, n_local, 1, 1, label, k, 0, 2, prob, q));
    for (int c = 0; c < k; c++) {
        o->q1[c] = q[c];
        o->q3[c] = q[k + c];
        double iqr = o->q3[c] - o->q1[c];
        o->fence[c] = iqr > 0 ? o->q3[c] + threshold * iqr : INFINITY;
    }
    tribe_outliers_flag(dist, label, n_local, k, o->q1, o->q3, threshold, flag, score, o->count);
    TRIBE_TRY(tribe_par_sum_i64(par, o->count, k));
    o->total = 0;
    for (int c = 0; c < k; c++)
        o->total += o->count[c];
    *out = o;
    o = NULL;
cleanup:
    tribe_outliers_destroy(&o);
    free(q);
    return st;
}
