/* Segment profiles and projection samples (tribe/segment.h). */
#include "tribe/segment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static tribe_status nan_array(int d, double **out)
{
    tribe_status st = tribe_alloc((void **)out, (size_t)(d > 0 ? d : 1) * sizeof **out);
    if (st == TRIBE_OK)
        for (int j = 0; j < d; j++)
            (*out)[j] = NAN;
    return st;
}

tribe_status tribe_segments_create(int k, int d, const char *const *feature_names, tribe_segments **out)
{
    tribe_status st = TRIBE_OK;
    tribe_segments *s = NULL;
    TRIBE_TRY(tribe_calloc((void **)&s, 1, sizeof *s));
    s->k = k;
    s->d = d;
    s->silhouette = NAN;
    s->silhouette_ci = NAN;
    s->inertia = NAN;
    s->ltv_horizon_days = NAN;
    s->churn_horizon_days = s->churn_high_risk = NAN;
    s->currency = tribe_currency_default();
    TRIBE_TRY(tribe_calloc((void **)&s->feature_names, (size_t)(d > 0 ? d : 1), sizeof *s->feature_names));
    for (int j = 0; j < d; j++)
        TRIBE_TRY(tribe_strdup(feature_names[j], &s->feature_names[j]));
    TRIBE_TRY(tribe_calloc((void **)&s->seg, (size_t)(k > 0 ? k : 1), sizeof *s->seg));
    for (int c = 0; c < k; c++) {
        s->seg[c].id = c;
        s->seg[c].revenue_share = NAN;
        s->seg[c].ltv_mean = s->seg[c].ltv_median = s->seg[c].ltv_total = NAN;
        s->seg[c].ltv_lo = s->seg[c].ltv_hi = NAN;
        s->seg[c].churn_mean = s->seg[c].churn_high = NAN;
        s->seg[c].outliers = -1;
        TRIBE_TRY(nan_array(d, &s->seg[c].mean));
        TRIBE_TRY(nan_array(d, &s->seg[c].median));
        TRIBE_TRY(nan_array(d, &s->seg[c].q1));
        TRIBE_TRY(nan_array(d, &s->seg[c].q3));
        TRIBE_TRY(nan_array(d, &s->seg[c].centroid));
        for (int r = 0; r < TRIBE_SEG_DRIVERS; r++) {
            s->seg[c].driver_feature[r] = -1;
            s->seg[c].driver_shap[r] = NAN;
        }
    }
    TRIBE_TRY(nan_array(d, &s->overall_mean));
    TRIBE_TRY(nan_array(d, &s->overall_median));
    TRIBE_TRY(nan_array(d, &s->overall_q1));
    TRIBE_TRY(nan_array(d, &s->overall_q3));
    *out = s;
    s = NULL;
cleanup:
    tribe_segments_destroy(&s);
    return st;
}

tribe_status tribe_segments_set_drivers(tribe_segments *s, int k, int m, const char *const *names,
                                        const double *mean_abs)
{
    tribe_status st = TRIBE_OK;
    int *feat = NULL;
    if (!s || k != s->k || m < 0 || (m > 0 && (!names || !mean_abs)))
        return tribe_fail(TRIBE_ERR_INTERNAL, "segment drivers: %d segments given for %d", k, s ? s->k : -1);
    TRIBE_TRY(tribe_alloc((void **)&feat, (size_t)(m > 0 ? m : 1) * sizeof *feat));
    for (int j = 0; j < m; j++)
        if ((feat[j] = tribe_segments_feature(s, names[j])) < 0) {
            st = tribe_fail(TRIBE_ERR_INTERNAL, "segment drivers: model column %s is not a segment feature", names[j]);
            goto cleanup;
        }
    for (int c = 0; c < k; c++) {
        tribe_segment *g = &s->seg[c];
        const double *v = mean_abs + (size_t)c * (size_t)m;
        int n = 0;
        /* Insertion into a short sorted list: the order is a decision a
         * marketer reads, so ties go to the lower feature index, never to
         * the order of the model columns. */
        for (int j = 0; j < m; j++) {
            double x = v[j];
            int f = feat[j];
            if (!(x > 0))
                continue;
            int pos = n;
            while (pos > 0 && (g->driver_shap[pos - 1] < x ||
                               (g->driver_shap[pos - 1] == x && g->driver_feature[pos - 1] > f)))
                pos--;
            if (pos >= TRIBE_SEG_DRIVERS)
                continue;
            int last = n < TRIBE_SEG_DRIVERS ? n : TRIBE_SEG_DRIVERS - 1;
            for (int r = last; r > pos; r--) {
                g->driver_shap[r] = g->driver_shap[r - 1];
                g->driver_feature[r] = g->driver_feature[r - 1];
            }
            g->driver_shap[pos] = x;
            g->driver_feature[pos] = f;
            if (n < TRIBE_SEG_DRIVERS)
                n++;
        }
        g->n_drivers = n;
        for (int r = n; r < TRIBE_SEG_DRIVERS; r++) {
            g->driver_feature[r] = -1;
            g->driver_shap[r] = NAN;
        }
    }
cleanup:
    free(feat);
    return st;
}

tribe_status tribe_segtest_create(int k, int d, tribe_segtest **out)
{
    tribe_status st = TRIBE_OK;
    tribe_segtest *t = NULL;
    size_t kk = (size_t)(k > 0 ? k : 1) * (size_t)(k > 0 ? k : 1) * (size_t)(d > 0 ? d : 1);
    TRIBE_TRY(tribe_calloc((void **)&t, 1, sizeof *t));
    t->k = k;
    t->d = d;
    TRIBE_TRY(tribe_calloc((void **)&t->n, (size_t)(d > 0 ? d : 1), sizeof *t->n));
    TRIBE_TRY(tribe_calloc((void **)&t->k_used, (size_t)(d > 0 ? d : 1), sizeof *t->k_used));
    TRIBE_TRY(nan_array(d, &t->h));
    TRIBE_TRY(nan_array(d, &t->p));
    TRIBE_TRY(nan_array(d, &t->p_holm));
    TRIBE_TRY(nan_array(d, &t->eps2));
    TRIBE_TRY(tribe_alloc((void **)&t->delta, kk * sizeof *t->delta));
    for (size_t q = 0; q < kk; q++)
        t->delta[q] = NAN;
    *out = t;
    t = NULL;
cleanup:
    tribe_segtest_destroy(&t);
    return st;
}

void tribe_segtest_destroy(tribe_segtest **tp)
{
    if (!tp || !*tp)
        return;
    tribe_segtest *t = *tp;
    free(t->n);
    free(t->k_used);
    free(t->h);
    free(t->p);
    free(t->p_holm);
    free(t->eps2);
    free(t->delta);
    free(t);
    *tp = NULL;
}

int tribe_segments_feature(const tribe_segments *s, const char *name)
{
    for (int j = 0; j < s->d; j++)
        if (strcmp(s->feature_names[j], name) == 0)
            return j;
    return -1;
}

void tribe_segments_destroy(tribe_segments **sp)
{
    if (!sp || !*sp)
        return;
    tribe_segments *s = *sp;
    if (s->feature_names)
        for (int j = 0; j < s->d; j++)
            free(s->feature_names[j]);
    free(s->feature_names);
    if (s->seg)
        for (int c = 0; c < s->k; c++) {
            free(s->seg[c].mean);
            free(s->seg[c].median);
            free(s->seg[c].q1);
            free(s->seg[c].q3);
            free(s->seg[c].centroid);
        }
    free(s->seg);
    free(s->overall_mean);
    free(s->overall_median);
    free(s->overall_q1);
    free(s->overall_q3);
    for (int m = 0; m < s->n_mix; m++) {
        free(s->mix[m].name);
        for (int l = 0; l < s->mix[m].n_levels; l++)
            free(s->mix[m].levels[l]);
        free(s->mix[m].levels);
        free(s->mix[m].count);
    }
    free(s->mix);
    tribe_free_strs(s->topics, s->n_topics);
    tribe_segtest_destroy(&s->kw);
    free(s);
    *sp = NULL;
}
