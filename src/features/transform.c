/* log1p + global standardisation (tribe/transform.h). */
#include "tribe/transform.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "tribe/xstats.h"

void tribe_scaler_remap(int m, const double *mean_from, const double *std_from, const double *mean_to,
                        const double *std_to, int k, const double *in, double *out)
{
    for (int c = 0; c < k; c++)
        for (int j = 0; j < m; j++)
            out[(size_t)c * m + j] = (in[(size_t)c * m + j] * std_from[j] + mean_from[j] - mean_to[j]) / std_to[j];
}

void tribe_scaler_destroy(tribe_scaler **sp)
{
    if (!sp || !*sp)
        return;
    tribe_scaler *s = *sp;
    if (s->names)
        for (int j = 0; j < s->d; j++)
            free(s->names[j]);
    free(s->names);
    free(s->col);
    free(s->log1p);
    free(s->mean);
    free(s->std);
    free(s->impute);
    free(s);
    *sp = NULL;
}

static tribe_status scaler_alloc(int d, tribe_scaler **out)
{
    tribe_status st = TRIBE_OK;
    tribe_scaler *s = NULL;
    TRIBE_TRY(tribe_calloc((void **)&s, 1, sizeof *s));
    s->d = d;
    TRIBE_TRY(tribe_calloc((void **)&s->names, (size_t)d, sizeof *s->names));
    TRIBE_TRY(tribe_calloc((void **)&s->col, (size_t)d, sizeof *s->col));
    TRIBE_TRY(tribe_calloc((void **)&s->log1p, (size_t)d, sizeof *s->log1p));
    TRIBE_TRY(tribe_calloc((void **)&s->mean, (size_t)d, sizeof *s->mean));
    TRIBE_TRY(tribe_calloc((void **)&s->std, (size_t)d, sizeof *s->std));
    TRIBE_TRY(tribe_calloc((void **)&s->impute, (size_t)d, sizeof *s->impute));
    *out = s;
    s = NULL;
cleanup:
    tribe_scaler_destroy(&s);
    return st;
}

/* Finds the first (row, column) of x whose value cannot be transformed:
 * infinite, or <= -1 where log1p applies. Returns row * d + column, or -1.
 * The lowest index wins whatever the thread count, so the message is stable. */
static int64_t first_bad(const float *x, int64_t n, int ldx, int d, const int *col, const int *lg)
{
    int64_t bad = INT64_MAX;
#pragma omp parallel for reduction(min : bad) schedule(static) if (n * d >= TRIBE_OMP_MIN_WORK)
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            float v = x[i * ldx + col[j]];
            if ((isinf(v) || (lg[j] && v <= -1.0f)) && i * d + j < bad)
                bad = i * d + j;
        }
    return bad == INT64_MAX ? -1 : bad;
}

static tribe_status bad_value(const tribe_scaler *s, const float *x, int ldx, const int64_t *id, int64_t where)
{
    int64_t i = where / s->d;
    int j = (int)(where % s->d);
    float v = x[i * ldx + s->col[j]];
    char who[64];
    if (id)
        snprintf(who, sizeof who, "customer %lld", (long long)id[i]);
    else
        snprintf(who, sizeof who, "row %lld", (long long)i);
    if (isinf(v))
        return tribe_fail(TRIBE_ERR_INPUT, "%s, feature '%s': value is infinite", who,
                          s->names[j] ? s->names[j] : "?");
    return tribe_fail(TRIBE_ERR_INPUT,
                      "%s, feature '%s': value %g cannot be log1p-transformed (needs > -1)", who,
                      s->names[j] ? s->names[j] : "?", (double)v);
}

tribe_status tribe_scaler_from_model(int d, const int *cols, const char *const *names, const int *log1p_flags,
                                     const double *mean, const double *std, const double *impute,
                                     tribe_scaler **out)
{
    tribe_status st = TRIBE_OK;
    tribe_scaler *s = NULL;
    if (d < 1)
        return tribe_fail(TRIBE_ERR_INPUT, "scaler: the model has no columns");
    for (int j = 0; j < d; j++)
        if (!(isfinite(mean[j]) && isfinite(std[j]) && std[j] > 0))
            return tribe_fail(TRIBE_ERR_INPUT, "scaler: column '%s' has mean %g and std %g (need finite, std > 0)",
                              names[j], mean[j], std[j]);
    TRIBE_TRY(scaler_alloc(d, &s));
    for (int j = 0; j < d; j++) {
        s->col[j] = cols[j];
        s->log1p[j] = log1p_flags[j] != 0;
        s->mean[j] = mean[j];
        s->std[j] = std[j];
        s->impute[j] = impute ? impute[j] : (s->log1p[j] ? expm1(mean[j]) : mean[j]);
        TRIBE_TRY(tribe_strdup(names[j], &s->names[j]));
    }
    *out = s;
    s = NULL;
cleanup:
    tribe_scaler_destroy(&s);
    return st;
}

/* log1p of the small non-negative integers, looked up: the count and day
 * columns are mostly integers, and the table holds log1p's own doubles, so
 * a lookup gives the bits a call gives. */
#define LOG1P_TAB 2048
#define LOG1P_TAB_BITS 0x45000000u /* 2048.0f: floats below it with the sign clear */

static void log1p_tab_fill(double *tab)
{
    for (int i = 0; i < LOG1P_TAB; i++)
        tab[i] = log1p((double)i);
}

/* v of raw value x in a column with log1p flag lg (x not NaN). */
static inline double pre(const double *restrict tab, int lg, float x)
{
    if (!lg)
        return (double)x;
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if (u < LOG1P_TAB_BITS) {
        int i = (int)x;
        if ((float)i == x)
            return tab[i];
    }
    return log1p((double)x);
}

/* Per-block counters of a fit's passes, [nth][d] each. */
typedef struct {
    int nth;
    float *lo, *hi;   /* pass 1: smallest and largest raw value */
    tribe_xacc *acc;  /* passes 2 and 3: exact sums */
    int64_t *cnt;     /* pass 2: values */
    double *vmax;     /* pass 2: largest |v| */
} fit_work;

static void fit_work_free(fit_work *w)
{
    free(w->lo);
    free(w->hi);
    free(w->acc);
    free(w->cnt);
    free(w->vmax);
}

static tribe_status fit_work_alloc(fit_work *w, int64_t n, int d)
{
    tribe_status st = TRIBE_OK;
    size_t m;
    w->nth = n * d >= TRIBE_OMP_MIN_WORK ? omp_get_max_threads() : 1;
    m = (size_t)w->nth * (size_t)d;
    TRIBE_TRY(tribe_calloc((void **)&w->lo, m, sizeof *w->lo));
    TRIBE_TRY(tribe_calloc((void **)&w->hi, m, sizeof *w->hi));
    TRIBE_TRY(tribe_calloc((void **)&w->acc, m, sizeof *w->acc));
    TRIBE_TRY(tribe_calloc((void **)&w->cnt, m + 1, sizeof *w->cnt));
    TRIBE_TRY(tribe_calloc((void **)&w->vmax, m, sizeof *w->vmax));
cleanup:
    return st;
}

/* Rows a pass reads a column at a time: the block stays in L1 while every
 * column's loop keeps its accumulators in registers. */
#define TF_BLOCK 256

/* Pass 1 over rows [i0, i1): each column's smallest and largest raw value
 * (NaN compares false: skipped). */
static void range_rows(const float *restrict x, int64_t i0, int64_t i1, int ldx, int d, const int *restrict col,
                       float *restrict lo, float *restrict hi)
{
    for (int j = 0; j < d; j++) {
        lo[j] = INFINITY;
        hi[j] = -INFINITY;
    }
    for (int64_t b0 = i0; b0 < i1; b0 += TF_BLOCK) {
        int64_t b1 = i1 - b0 < TF_BLOCK ? i1 : b0 + TF_BLOCK;
        for (int j = 0; j < d; j++) {
            const float *restrict xc = x + col[j];
            float l = lo[j], h = hi[j];
            for (int64_t i = b0; i < b1; i++) {
                float v = xc[i * ldx];
                l = v < l ? v : l;
                h = v > h ? v : h;
            }
            lo[j] = l;
            hi[j] = h;
        }
    }
}

/* Pass 2 over rows [i0, i1): exact scaled sums of v, counts and the
 * largest |v| per column. */
static void sum_rows(const tribe_scaler *s, const double *tab, const float *restrict x, int64_t i0, int64_t i1,
                     int ldx, const double *restrict sc, tribe_xacc *restrict acc, int64_t *restrict cnt,
                     double *restrict vmax)
{
    int d = s->d;
    for (int j = 0; j < d; j++) {
        acc[j] = (tribe_xacc){0, 0};
        cnt[j] = 0;
        vmax[j] = 0;
    }
    for (int64_t b0 = i0; b0 < i1; b0 += TF_BLOCK) {
        int64_t b1 = i1 - b0 < TF_BLOCK ? i1 : b0 + TF_BLOCK;
        for (int j = 0; j < d; j++) {
            const float *restrict xc = x + s->col[j];
            tribe_xacc a = acc[j];
            int64_t c = cnt[j];
            double m = vmax[j], scj = sc[j];
            int lg = s->log1p[j];
            for (int64_t i = b0; i < b1; i++) {
                float x0 = xc[i * ldx];
                if (isnan(x0))
                    continue;
                double v = pre(tab, lg, x0);
                tribe_xacc_add(&a, v * scj);
                c++;
                m = fabs(v) > m ? fabs(v) : m;
            }
            acc[j] = a;
            cnt[j] = c;
            vmax[j] = m;
        }
    }
}

/* Pass 3 over rows [i0, i1): exact scaled sums of squared deviations. */
static void dev_rows(const tribe_scaler *s, const double *tab, const float *restrict x, int64_t i0, int64_t i1,
                     int ldx, const double *restrict sc, tribe_xacc *restrict acc)
{
    int d = s->d;
    for (int j = 0; j < d; j++)
        acc[j] = (tribe_xacc){0, 0};
    for (int64_t b0 = i0; b0 < i1; b0 += TF_BLOCK) {
        int64_t b1 = i1 - b0 < TF_BLOCK ? i1 : b0 + TF_BLOCK;
        for (int j = 0; j < d; j++) {
            const float *restrict xc = x + s->col[j];
            tribe_xacc a = acc[j];
            double mean = s->mean[j], scj = sc[j];
            int lg = s->log1p[j];
            for (int64_t i = b0; i < b1; i++) {
                float x0 = xc[i * ldx];
                if (isnan(x0))
                    continue;
                double dv = pre(tab, lg, x0) - mean;
                tribe_xacc_add(&a, dv * dv * scj);
            }
            acc[j] = a;
        }
    }
}

/* The blocks' exact sums of column j, combined (integers: any order). */
static tribe_xsum acc_total(const fit_work *w, int d, int j)
{
    tribe_xsum v = 0;
    for (int t = 0; t < w->nth; t++)
        v += tribe_xacc_value(w->acc[(size_t)t * d + j]);
    return v;
}

/* Pass 1 and the screen: the first bad value (infinite, or <= -1 under
 * log1p) is only looked for when a column's range shows one. maxabs[j] =
 * this rank's largest |v|, from the range's ends: log1p is increasing (on
 * every float above -1 widened to double, checked exhaustively for glibc's;
 * pass 2 checks it again on the data). */
static tribe_status fit_range(const tribe_scaler *s, const tribe_table *t, const double *tab, fit_work *w,
                              double *maxabs)
{
    int d = s->d, nth = w->nth;
    int64_t n = t->n_local;
#pragma omp parallel num_threads(nth)
    for (int b = omp_get_thread_num(); b < nth; b += omp_get_num_threads()) {
        int64_t lo, hi;
        tribe_par_block(n, nth, b, &lo, &hi);
        range_rows(t->x, lo, hi, t->d, d, s->col, w->lo + (size_t)b * d, w->hi + (size_t)b * d);
    }
    int bad = 0;
    for (int j = 0; j < d; j++) {
        float lo = INFINITY, hi = -INFINITY;
        for (int b = 0; b < nth; b++) {
            lo = w->lo[(size_t)b * d + j] < lo ? w->lo[(size_t)b * d + j] : lo;
            hi = w->hi[(size_t)b * d + j] > hi ? w->hi[(size_t)b * d + j] : hi;
        }
        maxabs[j] = 0;
        if (lo > hi) /* no value */
            continue;
        bad |= isinf(lo) || isinf(hi) || (s->log1p[j] && lo <= -1.0f);
        double a = fabs(pre(tab, s->log1p[j], lo)), c = fabs(pre(tab, s->log1p[j], hi));
        maxabs[j] = a > c ? a : c;
    }
    if (bad) {
        int64_t where = first_bad(t->x, n, t->d, d, s->col, s->log1p);
        return bad_value(s, t->x, t->d, t->id, where);
    }
    return TRIBE_OK;
}

/* Pass 2 on the blocks: the exact sums (reduced), counts (reduced into
 * cnt) and whether a |v| passed maxabs (then *again: the shortcut of
 * fit_range did not hold, maxabs becomes the exact maximum and the pass must
 * run again). Collective. */
static tribe_status fit_sums(tribe_par *par, const tribe_scaler *s, const tribe_table *t, const double *tab,
                             fit_work *w, double *maxabs, int64_t ntot, tribe_xsum *xs, int64_t *cnt, int *again)
{
    tribe_status st = TRIBE_OK;
    int d = s->d, nth = w->nth;
    double sc[TRIBE_MAX_FEATURES];
    for (int j = 0; j < d; j++)
        sc[j] = tribe_xsum_scale(maxabs[j], ntot);
#pragma omp parallel num_threads(nth)
    for (int b = omp_get_thread_num(); b < nth; b += omp_get_num_threads()) {
        int64_t lo, hi;
        tribe_par_block(t->n_local, nth, b, &lo, &hi);
        sum_rows(s, tab, t->x, lo, hi, t->d, sc, w->acc + (size_t)b * d, w->cnt + (size_t)b * d,
                 w->vmax + (size_t)b * d);
    }
    int64_t over = 0;
    for (int j = 0; j < d; j++) {
        xs[j] = acc_total(w, d, j);
        cnt[j] = 0;
        for (int b = 0; b < nth; b++) {
            cnt[j] += w->cnt[(size_t)b * d + j];
            if (w->vmax[(size_t)b * d + j] > maxabs[j]) {
                over = 1;
                maxabs[j] = w->vmax[(size_t)b * d + j];
            }
        }
    }
    cnt[d] = over; /* reduced with the counts: any rank over, every rank again */
    TRIBE_TRY(tribe_par_sum_xsum(par, xs, d));
    TRIBE_TRY(tribe_par_sum_i64(par, cnt, (int64_t)d + 1));
    *again = cnt[d] > 0;
    if (*again)
        TRIBE_TRY(tribe_par_max_f64(par, maxabs, d));
cleanup:
    return st;
}

/* Pass 3 on the blocks: the exact sums of squared deviations (reduced).
 * Collective. */
static tribe_status fit_devs(tribe_par *par, const tribe_scaler *s, const tribe_table *t, const double *tab,
                             fit_work *w, const double *maxabs, int64_t ntot, tribe_xsum *xs)
{
    int d = s->d, nth = w->nth;
    double sc[TRIBE_MAX_FEATURES];
    for (int j = 0; j < d; j++) {
        double bound = maxabs[j] + fabs(s->mean[j]);
        sc[j] = tribe_xsum_scale(bound * bound, ntot);
    }
#pragma omp parallel num_threads(nth)
    for (int b = omp_get_thread_num(); b < nth; b += omp_get_num_threads()) {
        int64_t lo, hi;
        tribe_par_block(t->n_local, nth, b, &lo, &hi);
        dev_rows(s, tab, t->x, lo, hi, t->d, sc, w->acc + (size_t)b * d);
    }
    for (int j = 0; j < d; j++)
        xs[j] = acc_total(w, d, j);
    return tribe_par_sum_xsum(par, xs, d);
}

/* The scaler's std and impute from the reduced sums of squared deviations;
 * warns (rank 0) about columns without values or variance. */
static void fit_finish(tribe_par *par, tribe_scaler *s, const double *maxabs, int64_t ntot, const tribe_xsum *xs,
                       const int64_t *cnt)
{
    for (int j = 0; j < s->d; j++) {
        double bound = maxabs[j] + fabs(s->mean[j]);
        double var = cnt[j] > 0 ? tribe_xsum_value(xs[j]) / tribe_xsum_scale(bound * bound, ntot) / (double)cnt[j] : 0.0;
        double sd = sqrt(var);
        if (cnt[j] == 0) {
            if (tribe_par_rank(par) == 0)
                TRIBE_WARN("feature '%s' has no values at all: it is 0 for every customer in the model", s->names[j]);
            sd = 1.0;
        } else if (!(sd > 1e-12 * fabs(s->mean[j]))) {
            /* Constant (or constant up to rounding): it cannot separate
             * customers, and dividing by ~0 would blow rounding noise up. */
            if (tribe_par_rank(par) == 0)
                TRIBE_WARN("feature '%s' has zero variance (every customer has %g): it is 0 in the model",
                           s->names[j], s->log1p[j] ? expm1(s->mean[j]) : s->mean[j]);
            sd = 1.0;
        }
        s->std[j] = sd;
        s->impute[j] = s->log1p[j] ? expm1(s->mean[j]) : s->mean[j];
    }
}

tribe_status tribe_scaler_fit(tribe_par *par, const tribe_table *t, const int *cols, int ncols,
                              const int *log1p_flags, tribe_scaler **out)
{
    tribe_status st = TRIBE_OK;
    tribe_scaler *s = NULL;
    fit_work w = {0};
    double maxabs[TRIBE_MAX_FEATURES], tab[LOG1P_TAB];
    int64_t cnt[TRIBE_MAX_FEATURES + 1];
    tribe_xsum xs[TRIBE_MAX_FEATURES];
    int64_t ntot = t->n_local;
    int d = ncols, again = 0;

    if (ncols < 1)
        st = tribe_fail(TRIBE_ERR_USAGE, "scaler: no feature columns given");
    else if (ncols > TRIBE_MAX_FEATURES)
        st = tribe_fail(TRIBE_ERR_USAGE, "scaler: %d feature columns, more than %d", ncols, TRIBE_MAX_FEATURES);
    for (int j = 0; st == TRIBE_OK && j < ncols; j++)
        if (cols[j] < 0 || cols[j] >= t->d)
            st = tribe_fail(TRIBE_ERR_USAGE, "scaler: feature column %d out of range (table has %d)",
                            cols[j], t->d);
    if (st == TRIBE_OK)
        st = scaler_alloc(d, &s);
    for (int j = 0; st == TRIBE_OK && j < d; j++) {
        s->col[j] = cols[j];
        s->log1p[j] = log1p_flags ? (log1p_flags[j] != 0) : 0;
        st = tribe_strdup(t->names[cols[j]], &s->names[j]);
    }
    if (st == TRIBE_OK)
        st = fit_work_alloc(&w, t->n_local, d);
    if (st == TRIBE_OK) {
        log1p_tab_fill(tab);
        st = fit_range(s, t, tab, &w, maxabs);
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    /* The scale of the exact sums must be the same on every rank: count the
     * rows rather than trust each shard's n_global. */
    TRIBE_TRY(tribe_par_sum_i64(par, &ntot, 1));
    TRIBE_TRY(tribe_par_max_f64(par, maxabs, d));

    /* Pass 2: the exact sum gives the mean (again, exactly, should the
     * range's maximum |v| not be the data's). */
    do
        TRIBE_TRY(fit_sums(par, s, t, tab, &w, maxabs, ntot, xs, cnt, &again));
    while (again);
    for (int j = 0; j < d; j++)
        s->mean[j] = cnt[j] > 0 ? tribe_xsum_value(xs[j]) / tribe_xsum_scale(maxabs[j], ntot) / (double)cnt[j] : 0.0;

    /* Pass 3: squared deviations from the (now global) mean. Two passes
     * rather than E[v^2] - E[v]^2, which cancels badly for large means. */
    TRIBE_TRY(fit_devs(par, s, t, tab, &w, maxabs, ntot, xs));
    fit_finish(par, s, maxabs, ntot, xs, cnt);
    *out = s;
    s = NULL;
cleanup:
    tribe_scaler_destroy(&s);
    fit_work_free(&w);
    return st;
}

/* z for rows [i0, i1); returns whether a value cannot be transformed (the
 * caller finds the first). */
static int apply_rows(const tribe_scaler *s, const double *tab, const float *restrict x, int64_t i0, int64_t i1,
                      int ldx, float *restrict z)
{
    int d = s->d, bad = 0;
    for (int64_t b0 = i0; b0 < i1; b0 += TF_BLOCK) {
        int64_t b1 = i1 - b0 < TF_BLOCK ? i1 : b0 + TF_BLOCK;
        for (int j = 0; j < d; j++) {
            const float *restrict xc = x + s->col[j];
            float *restrict zc = z + j;
            double mean = s->mean[j], sd = s->std[j];
            int lg = s->log1p[j];
            for (int64_t i = b0; i < b1; i++) {
                float v = xc[i * ldx];
                bad |= isinf(v) || (lg && v <= -1.0f);
                zc[i * d] = isnan(v) ? 0.0f : (float)((pre(tab, lg, v) - mean) / sd);
            }
        }
    }
    return bad;
}

tribe_status tribe_scaler_apply(const tribe_scaler *s, const float *x, int64_t n, int ldx,
                                const int64_t *id, float *z)
{
    int d = s->d, bad = 0;
    int nth = n * d >= TRIBE_OMP_MIN_WORK ? omp_get_max_threads() : 1;
    double tab[LOG1P_TAB];
    log1p_tab_fill(tab);
#pragma omp parallel for num_threads(nth) schedule(static) reduction(| : bad)
    for (int b = 0; b < nth; b++) {
        int64_t lo, hi;
        tribe_par_block(n, nth, b, &lo, &hi);
        bad |= apply_rows(s, tab, x, lo, hi, ldx, z);
    }
    if (bad)
        return bad_value(s, x, ldx, id, first_bad(x, n, ldx, d, s->col, s->log1p));
    return TRIBE_OK;
}

tribe_status tribe_scaler_apply_table(const tribe_scaler *s, const tribe_table *t, float **z)
{
    tribe_status st = TRIBE_OK;
    float *buf = NULL;
    size_t cells;
    TRIBE_TRY(tribe_mul_size((size_t)t->n_local, (size_t)s->d, &cells));
    TRIBE_TRY(tribe_alloc((void **)&buf, cells * sizeof *buf));
    TRIBE_TRY(tribe_scaler_apply(s, t->x, t->n_local, t->d, t->id, buf));
    *z = buf;
    buf = NULL;
cleanup:
    free(buf);
    return st;
}
