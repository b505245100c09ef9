/* log1p + global standardisation (tribe/transform.h). */
#include "tribe/transform.h"

#include <math.h>
#include <stdlib.h>

#include "tribe/xstats.h"

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

static inline double pre(const tribe_scaler *s, int j, float v)
{
    return s->log1p[j] ? log1p((double)v) : (double)v;
}

tribe_status tribe_scaler_fit(tribe_par *par, const tribe_table *t, const int *cols, int ncols,
                              const int *log1p_flags, tribe_scaler **out)
{
    tribe_status st = TRIBE_OK;
    tribe_scaler *s = NULL;
    double *maxabs = NULL;
    int64_t *cnt = NULL;
    tribe_xsum *xs = NULL;
    int64_t n = t->n_local, ntot = t->n_local;
    int d = ncols;

    if (ncols < 1)
        st = tribe_fail(TRIBE_ERR_USAGE, "scaler: no feature columns given");
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
    if (st == TRIBE_OK) {
        int64_t bad = first_bad(t->x, n, t->d, d, s->col, s->log1p);
        if (bad >= 0)
            st = bad_value(s, t->x, t->d, t->id, bad);
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    /* The scale of the exact sums must be the same on every rank: count the
     * rows rather than trust each shard's n_global. */
    TRIBE_TRY(tribe_par_sum_i64(par, &ntot, 1));

    TRIBE_TRY(tribe_calloc((void **)&maxabs, (size_t)d, sizeof *maxabs));
    TRIBE_TRY(tribe_calloc((void **)&cnt, (size_t)d, sizeof *cnt));
    TRIBE_TRY(tribe_calloc((void **)&xs, (size_t)d, sizeof *xs));

    /* Pass 1: global max |v| and count give the sum's scale (xstats.h), then
     * the exact sum gives the mean. One thread per column. */
#pragma omp parallel for schedule(dynamic, 1) if (n * d >= TRIBE_OMP_MIN_WORK)
    for (int j = 0; j < d; j++) {
        double m = 0;
        for (int64_t i = 0; i < n; i++) {
            float v = t->x[i * t->d + s->col[j]];
            if (isnan(v))
                continue;
            double a = fabs(pre(s, j, v));
            if (a > m)
                m = a;
        }
        maxabs[j] = m;
    }
    TRIBE_TRY(tribe_par_max_f64(par, maxabs, d));
#pragma omp parallel for schedule(dynamic, 1) if (n * d >= TRIBE_OMP_MIN_WORK)
    for (int j = 0; j < d; j++) {
        double sc = tribe_xsum_scale(maxabs[j], ntot);
        tribe_xsum acc = 0;
        int64_t c = 0;
        for (int64_t i = 0; i < n; i++) {
            float v = t->x[i * t->d + s->col[j]];
            if (isnan(v))
                continue;
            acc += tribe_xsum_of(pre(s, j, v) * sc);
            c++;
        }
        xs[j] = acc;
        cnt[j] = c;
    }
    TRIBE_TRY(tribe_par_sum_xsum(par, xs, d));
    TRIBE_TRY(tribe_par_sum_i64(par, cnt, d));
    for (int j = 0; j < d; j++)
        s->mean[j] = cnt[j] > 0 ? tribe_xsum_value(xs[j]) / tribe_xsum_scale(maxabs[j], ntot) / (double)cnt[j] : 0.0;

    /* Pass 2: squared deviations from the (now global) mean. Two passes
     * rather than E[v^2] - E[v]^2, which cancels badly for large means. */
#pragma omp parallel for schedule(dynamic, 1) if (n * d >= TRIBE_OMP_MIN_WORK)
    for (int j = 0; j < d; j++) {
        double bound = maxabs[j] + fabs(s->mean[j]);
        double sc = tribe_xsum_scale(bound * bound, ntot);
        tribe_xsum acc = 0;
        for (int64_t i = 0; i < n; i++) {
            float v = t->x[i * t->d + s->col[j]];
            if (isnan(v))
                continue;
            double dv = pre(s, j, v) - s->mean[j];
            acc += tribe_xsum_of(dv * dv * sc);
        }
        xs[j] = acc;
    }
    TRIBE_TRY(tribe_par_sum_xsum(par, xs, d));
    for (int j = 0; j < d; j++) {
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
    *out = s;
    s = NULL;
cleanup:
    tribe_scaler_destroy(&s);
    free(maxabs);
    free(cnt);
    free(xs);
    return st;
}

tribe_status tribe_scaler_apply(const tribe_scaler *s, const float *x, int64_t n, int ldx,
                                const int64_t *id, float *z)
{
    int d = s->d;
    int64_t bad = first_bad(x, n, ldx, d, s->col, s->log1p);
    if (bad >= 0)
        return bad_value(s, x, ldx, id, bad);
#pragma omp parallel for schedule(static) if (n * d >= TRIBE_OMP_MIN_WORK)
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            float v = x[i * ldx + s->col[j]];
            z[i * d + j] = isnan(v) ? 0.0f : (float)((pre(s, j, v) - s->mean[j]) / s->std[j]);
        }
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
