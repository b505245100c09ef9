/* Exact grouped statistics (tribe/xstats.h). Every reduction that feeds a
 * result is over integers (counts, histograms, fixed-point sums) or is a
 * max/min, so the answers do not depend on how rows are split. */
#include "tribe/xstats.h"

#include <math.h>
#include <stdlib.h>

double tribe_xsum_scale(double maxabs, int64_t n)
{
    if (!(maxabs > 0) || n <= 0)
        return 1.0;
    int em = 0, en = 0;
    (void)frexp(maxabs, &em);    /* maxabs < 2^em */
    (void)frexp((double)n, &en); /* n < 2^en */
    /* n * maxabs * 2^e < 2^(en + em + e) = 2^92, two bits below the range
     * core.h promises, so a rounded term or two cannot tip it over. */
    int e = 92 - en - em;
    if (e > 1000)
        e = 1000;
    if (e < -1000)
        e = -1000;
    return ldexp(1.0, e);
}

/* Screens for infinities (the fixed-point conversion of inf is undefined)
 * and agrees, so a bad value on one rank stops every rank cleanly. */
static tribe_status screen_finite(tribe_par *par, const float *x, int64_t n, int ldx, int ncol)
{
    int64_t bad = INT64_MAX;
#pragma omp parallel for reduction(min : bad) schedule(static) if (n * ncol >= TRIBE_OMP_MIN_WORK)
    for (int64_t i = 0; i < n; i++)
        for (int c = 0; c < ncol; c++)
            if (isinf(x[i * ldx + c]) && i * ncol + c < bad)
                bad = i * ncol + c;
    tribe_status st = TRIBE_OK;
    if (bad != INT64_MAX)
        st = tribe_fail(TRIBE_ERR_INPUT, "rank %d, local row %lld, column %d: value is infinite",
                        tribe_par_rank(par), (long long)(bad / ncol), (int)(bad % ncol));
    return tribe_par_agree(par, st);
}

static inline int row_group(const int32_t *group, int G, int64_t i)
{
    int g = group ? group[i] : 0;
    return (g >= 0 && g < G) ? g : -1;
}

tribe_status tribe_xstats_means(tribe_par *par, const float *x, int64_t n, int ldx, int ncol,
                                const int32_t *group, int G, int with_total, int64_t *count,
                                double *sum, double *mean)
{
    tribe_status st = TRIBE_OK;
    int GT = G + (with_total ? 1 : 0);
    size_t cells = (size_t)GT * (size_t)ncol;
    double *maxabs = NULL, *scale = NULL;
    int64_t *cnt = NULL;
    tribe_xsum *xs = NULL;
    TRIBE_TRY(screen_finite(par, x, n, ldx, ncol));
    TRIBE_TRY(tribe_calloc((void **)&maxabs, (size_t)ncol + 1, sizeof *maxabs));
    TRIBE_TRY(tribe_calloc((void **)&scale, (size_t)ncol + 1, sizeof *scale));
    TRIBE_TRY(tribe_calloc((void **)&cnt, cells, sizeof *cnt));
    TRIBE_TRY(tribe_calloc((void **)&xs, cells, sizeof *xs));

    /* One thread per column: each owns its cells, so nothing is shared. */
#pragma omp parallel for schedule(dynamic, 1) if (n * ncol >= TRIBE_OMP_MIN_WORK)
    for (int c = 0; c < ncol; c++) {
        double m = 0;
        for (int64_t i = 0; i < n; i++) {
            double v = fabs((double)x[i * ldx + c]);
            if (v > m)
                m = v; /* NaN compares false: skipped */
        }
        maxabs[c] = m;
    }
    int64_t ntot = n;
    TRIBE_TRY(tribe_par_max_f64(par, maxabs, ncol));
    TRIBE_TRY(tribe_par_sum_i64(par, &ntot, 1));
    for (int c = 0; c < ncol; c++)
        scale[c] = tribe_xsum_scale(maxabs[c], ntot);

#pragma omp parallel for schedule(dynamic, 1) if (n * ncol >= TRIBE_OMP_MIN_WORK)
    for (int c = 0; c < ncol; c++) {
        for (int64_t i = 0; i < n; i++) {
            float v = x[i * ldx + c];
            if (isnan(v))
                continue;
            tribe_xsum t = tribe_xsum_of((double)v * scale[c]);
            int g = row_group(group, G, i);
            if (g >= 0) {
                cnt[(size_t)g * ncol + c]++;
                xs[(size_t)g * ncol + c] += t;
            }
            if (with_total) {
                cnt[(size_t)G * ncol + c]++;
                xs[(size_t)G * ncol + c] += t;
            }
        }
    }
    TRIBE_TRY(tribe_par_sum_i64(par, cnt, (int64_t)cells));
    TRIBE_TRY(tribe_par_sum_xsum(par, xs, (int64_t)cells));
    for (size_t q = 0; q < cells; q++) {
        double s = tribe_xsum_value(xs[q]) / scale[q % (size_t)ncol];
        if (count)
            count[q] = cnt[q];
        if (sum)
            sum[q] = s;
        if (mean)
            mean[q] = cnt[q] > 0 ? s / (double)cnt[q] : NAN;
    }
cleanup:
    free(maxabs);
    free(scale);
    free(cnt);
    free(xs);
    return st;
}

/* Exact order statistics by radix selection over the order-preserving
 * 32-bit keys. For each cell (group, column) and each probability p it finds
 * the values of 0-based ranks floor((m-1)p) and ceil((m-1)p) among the cell's
 * m non-NaN values: 4 passes, each one 256-bucket histogram per query summed
 * over ranks as integers, so the answer is exact and identical on any number
 * of ranks. Outputs are [cells][nprob]; count[cells] gets m. */
static tribe_status select_ranks(tribe_par *par, const float *x, int64_t n, int ldx, int ncol,
                                 const int32_t *group, int G, int with_total, int nprob, const double *prob,
                                 int64_t *count, double *lo_out, double *hi_out)
{
    tribe_status st = TRIBE_OK;
    int GT = G + (with_total ? 1 : 0);
    /* One query per (group, column, probability, side): side 0 is the lower
     * order statistic, 1 the upper (equal when (m-1)p is an integer). */
    int W = 2 * nprob;
    size_t nq = (size_t)GT * (size_t)ncol * (size_t)W;
    int64_t *hist = NULL, *rem = NULL, *cnt = NULL;
    uint32_t *prefix = NULL;
    TRIBE_TRY(screen_finite(par, x, n, ldx, ncol));
    TRIBE_TRY(tribe_calloc((void **)&hist, nq * 256, sizeof *hist));
    TRIBE_TRY(tribe_calloc((void **)&rem, nq, sizeof *rem));
    TRIBE_TRY(tribe_calloc((void **)&cnt, nq, sizeof *cnt));
    TRIBE_TRY(tribe_calloc((void **)&prefix, nq, sizeof *prefix));

    for (int pass = 0; pass < 4; pass++) {
        int shift = 24 - 8 * pass;
        uint32_t mask = pass == 0 ? 0u : (0xffffffffu << (32 - 8 * pass));
        for (size_t b = 0; b < nq * 256; b++)
            hist[b] = 0;
#pragma omp parallel for schedule(dynamic, 1) if (n * ncol >= TRIBE_OMP_MIN_WORK)
        for (int c = 0; c < ncol; c++) {
            for (int64_t i = 0; i < n; i++) {
                float v = x[i * ldx + c];
                if (isnan(v))
                    continue;
                uint32_t key = tribe_f32_key(v);
                unsigned bucket = (key >> shift) & 255u;
                int gs[2] = {row_group(group, G, i), with_total ? G : -1};
                for (int a = 0; a < 2; a++) {
                    if (gs[a] < 0)
                        continue;
                    size_t q = ((size_t)gs[a] * ncol + c) * W;
                    for (int w = 0; w < W; w++)
                        if ((key & mask) == prefix[q + w])
                            hist[(q + w) * 256 + bucket]++;
                }
            }
        }
        TRIBE_TRY(tribe_par_sum_i64(par, hist, (int64_t)(nq * 256)));
        for (size_t q = 0; q < nq; q++) {
            const int64_t *h = hist + q * 256;
            if (pass == 0) {
                /* The first pass sees every value: its total is the count,
                 * which fixes the ranks sought. */
                int64_t tot = 0;
                for (int b = 0; b < 256; b++)
                    tot += h[b];
                cnt[q] = tot;
                if (tot > 0) {
                    double vi = (double)(tot - 1) * prob[(q % (size_t)W) / 2];
                    rem[q] = (q % 2 == 0) ? (int64_t)floor(vi) : (int64_t)ceil(vi);
                    if (rem[q] > tot - 1)
                        rem[q] = tot - 1;
                    if (rem[q] < 0)
                        rem[q] = 0;
                }
            }
            if (cnt[q] == 0)
                continue;
            int64_t cum = 0;
            int b = 0;
            while (b < 255 && cum + h[b] <= rem[q])
                cum += h[b++];
            rem[q] -= cum;
            prefix[q] |= (uint32_t)b << shift;
        }
    }
    for (size_t cell = 0; cell < nq / (size_t)W; cell++) {
        count[cell] = cnt[cell * W];
        for (int p = 0; p < nprob; p++) {
            size_t q = cell * W + 2 * (size_t)p;
            lo_out[cell * nprob + p] = (double)tribe_f32_unkey(prefix[q]);
            hi_out[cell * nprob + p] = (double)tribe_f32_unkey(prefix[q + 1]);
        }
    }
cleanup:
    free(hist);
    free(rem);
    free(cnt);
    free(prefix);
    return st;
}

tribe_status tribe_xstats_medians(tribe_par *par, const float *x, int64_t n, int ldx, int ncol,
                                  const int32_t *group, int G, int with_total, double *median)
{
    tribe_status st = TRIBE_OK;
    size_t cells = (size_t)(G + (with_total ? 1 : 0)) * (size_t)ncol;
    const double half = 0.5;
    int64_t *cnt = NULL;
    double *lo = NULL, *hi = NULL;
    TRIBE_TRY(tribe_calloc((void **)&cnt, cells, sizeof *cnt));
    TRIBE_TRY(tribe_calloc((void **)&lo, cells, sizeof *lo));
    TRIBE_TRY(tribe_calloc((void **)&hi, cells, sizeof *hi));
    TRIBE_TRY(select_ranks(par, x, n, ldx, ncol, group, G, with_total, 1, &half, cnt, lo, hi));
    for (size_t cell = 0; cell < cells; cell++)
        median[cell] = cnt[cell] == 0 ? NAN : lo[cell] == hi[cell] ? lo[cell] : 0.5 * (lo[cell] + hi[cell]);
cleanup:
    free(cnt);
    free(lo);
    free(hi);
    return st;
}

/* numpy's _lerp: a + (b-a)t, or b - (b-a)(1-t) from t = 0.5 on, so the
 * result matches np.quantile(method='linear') bit for bit on the same doubles. */
static double lerp(double a, double b, double t)
{
    double d = b - a;
    return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

tribe_status tribe_xstats_quantiles(tribe_par *par, const float *x, int64_t n, int ldx, int ncol,
                                    const int32_t *group, int G, int with_total, int nprob,
                                    const double *prob, double *quantile)
{
    tribe_status st = TRIBE_OK;
    size_t cells = (size_t)(G + (with_total ? 1 : 0)) * (size_t)ncol;
    int64_t *cnt = NULL;
    double *lo = NULL, *hi = NULL;
    if (nprob < 1)
        return tribe_fail(TRIBE_ERR_USAGE, "quantiles: %d probabilities", nprob);
    for (int p = 0; p < nprob; p++)
        if (!(prob[p] >= 0 && prob[p] <= 1))
            return tribe_fail(TRIBE_ERR_USAGE, "quantiles: probability %d is %g, outside [0, 1]", p, prob[p]);
    TRIBE_TRY(tribe_calloc((void **)&cnt, cells, sizeof *cnt));
    TRIBE_TRY(tribe_calloc((void **)&lo, cells * (size_t)nprob, sizeof *lo));
    TRIBE_TRY(tribe_calloc((void **)&hi, cells * (size_t)nprob, sizeof *hi));
    TRIBE_TRY(select_ranks(par, x, n, ldx, ncol, group, G, with_total, nprob, prob, cnt, lo, hi));
    for (int p = 0; p < nprob; p++)
        for (size_t cell = 0; cell < cells; cell++) {
            double *out = &quantile[(size_t)p * cells + cell];
            if (cnt[cell] == 0) {
                *out = NAN;
                continue;
            }
            double vi = (double)(cnt[cell] - 1) * prob[p];
            double a = lo[cell * nprob + p], b = hi[cell * nprob + p];
            *out = a == b ? a : lerp(a, b, vi - floor(vi));
        }
cleanup:
    free(cnt);
    free(lo);
    free(hi);
    return st;
}
