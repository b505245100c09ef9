/* Unit tests for exact grouped statistics (tribe/xstats.h), segment profiles
 * and segment names (tribe/cluster.h). */
#include "testutil.h"
#include "tribe/cluster.h"
#include "tribe/xstats.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* numpy's median of the non-NaN values (mean of the two middles), NaN if none */
static double ref_median(const float *v, int64_t n)
{
    float *w = malloc((size_t)(n > 0 ? n : 1) * sizeof *w);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            w[m++] = v[i];
    double r = NAN;
    if (m > 0) {
        qsort(w, (size_t)m, sizeof *w, cmp_float);
        r = (m % 2) ? w[m / 2] : 0.5 * ((double)w[m / 2 - 1] + (double)w[m / 2]);
    }
    free(w);
    return r;
}

/* np.quantile(v[~isnan(v)], p) with the default method="linear", on the
 * float values widened to double (numpy's _lerp), NaN if none. */
static double ref_quantile(const float *v, int64_t n, double p)
{
    float *w = malloc((size_t)(n > 0 ? n : 1) * sizeof *w);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            w[m++] = v[i];
    double r = NAN;
    if (m > 0) {
        qsort(w, (size_t)m, sizeof *w, cmp_float);
        double h = (double)(m - 1) * p;
        int64_t f = (int64_t)floor(h);
        int64_t c = f + 1 < m ? f + 1 : m - 1;
        double a = w[f], b = w[c], t = h - (double)f, d = b - a;
        r = t >= 0.5 ? b - d * (1 - t) : a + d * t;
    }
    free(w);
    return r;
}

static void order_keys_should_sort_like_floats(void)
{
    const float v[] = {-INFINITY, -1e30f, -2.5f, -1e-40f, -0.0f, 0.0f, 1e-40f, 1.0f, 3e38f, INFINITY};
    for (int i = 0; i + 1 < 10; i++) {
        if (v[i] == v[i + 1]) {
            CU_ASSERT_EQUAL(tribe_f32_key(v[i]), tribe_f32_key(v[i + 1]));
        } else {
            CU_ASSERT(tribe_f32_key(v[i]) < tribe_f32_key(v[i + 1]));
        }
        if (v[i] != 0) {
            CU_ASSERT_EQUAL(tribe_f32_unkey(tribe_f32_key(v[i])), v[i]);
        }
    }
}

static void medians_should_equal_sorting_with_nan_and_even_counts(void)
{
    tribe_par *par = tribe_test_serial();
    int G = 5, ncol = 3;
    for (int trial = 0; trial < 6; trial++) {
        int64_t n = 200 + 37 * trial + (trial % 2); /* odd and even totals */
        float *x = malloc((size_t)n * ncol * sizeof *x);
        int32_t *g = malloc((size_t)n * sizeof *g);
        for (int64_t i = 0; i < n; i++) {
            g[i] = (int32_t)tribe_rng_below(9, (uint64_t)trial, (uint64_t)i, (uint64_t)G + 1) - 1; /* -1: skipped */
            for (int c = 0; c < ncol; c++) {
                double u = tribe_rng_normal(8, (uint64_t)trial, (uint64_t)(i * ncol + c));
                float v = c == 0 ? (float)(u * 1000)
                        : c == 1 ? (float)floor(u * 3) /* many ties */
                                 : (float)exp(u * 5); /* wide range */
                if (tribe_rng_unif(7, (uint64_t)trial, (uint64_t)(i * ncol + c)) < 0.1)
                    v = NAN;
                x[i * ncol + c] = v;
            }
        }
        double med[6 * 3];
        int64_t cnt[6 * 3];
        double mean[6 * 3];
        CU_ASSERT_EQUAL_FATAL(tribe_xstats_medians(par, x, n, ncol, ncol, g, G, 1, med), TRIBE_OK);
        CU_ASSERT_EQUAL_FATAL(tribe_xstats_means(par, x, n, ncol, ncol, g, G, 1, cnt, NULL, mean), TRIBE_OK);
        float *col = malloc((size_t)n * sizeof *col);
        int saw_even = 0;
        for (int q = 0; q <= G; q++)
            for (int c = 0; c < ncol; c++) {
                int64_t m = 0;
                long double s = 0;
                for (int64_t i = 0; i < n; i++)
                    if (q == G || g[i] == q) {
                        col[m++] = x[i * ncol + c];
                        if (!isnan(x[i * ncol + c]))
                            s += x[i * ncol + c];
                    }
                double want = ref_median(col, m);
                CU_ASSERT(med[q * ncol + c] == want);
                int64_t nn = 0;
                for (int64_t i = 0; i < m; i++)
                    nn += !isnan(col[i]);
                saw_even |= nn % 2 == 0;
                CU_ASSERT_EQUAL(cnt[q * ncol + c], nn);
                CU_ASSERT_DOUBLE_EQUAL(mean[q * ncol + c], (double)(s / nn), 1e-12 * fabs((double)(s / nn)) + 1e-300);
            }
        CU_ASSERT(saw_even);
        free(col);
        free(x);
        free(g);
    }
    /* a group with no values at all, and a hand case */
    const float y[] = {NAN, 3, 1, NAN, 2, 10};
    const int32_t gy[] = {0, 1, 1, 0, 1, 1};
    double my[3];
    CU_ASSERT_EQUAL(tribe_xstats_medians(par, y, 6, 1, 1, gy, 2, 1, my), TRIBE_OK);
    CU_ASSERT(isnan(my[0]));
    CU_ASSERT_EQUAL(my[1], 2.5);
    CU_ASSERT_EQUAL(my[2], 2.5);
    tribe_par_finalize(&par);
}

static void quantiles_should_equal_sorting_with_nan_ties_and_small_groups(void)
{
    tribe_par *par = tribe_test_serial();
    int G = 5, ncol = 3;
    const double prob[] = {0.25, 0.75, 0.1, 0.5, 0, 1};
    const int np = 6;
    for (int trial = 0; trial < 6; trial++) {
        /* Small groups for some trials, so counts 1, 2, 3 occur. */
        int64_t n = trial < 2 ? 5 + 3 * trial : 200 + 37 * trial + (trial % 2);
        float *x = malloc((size_t)n * ncol * sizeof *x);
        int32_t *g = malloc((size_t)n * sizeof *g);
        for (int64_t i = 0; i < n; i++) {
            g[i] = (int32_t)tribe_rng_below(19, (uint64_t)trial, (uint64_t)i, (uint64_t)G + 1) - 1;
            for (int c = 0; c < ncol; c++) {
                double u = tribe_rng_normal(18, (uint64_t)trial, (uint64_t)(i * ncol + c));
                float v = c == 0 ? (float)(u * 1000) : c == 1 ? (float)floor(u * 3) : (float)exp(u * 5);
                if (tribe_rng_unif(17, (uint64_t)trial, (uint64_t)(i * ncol + c)) < 0.1)
                    v = NAN;
                x[i * ncol + c] = v;
            }
        }
        double q[6 * 6 * 3], med[6 * 3];
        CU_ASSERT_EQUAL_FATAL(tribe_xstats_quantiles(par, x, n, ncol, ncol, g, G, 1, np, prob, q), TRIBE_OK);
        CU_ASSERT_EQUAL_FATAL(tribe_xstats_medians(par, x, n, ncol, ncol, g, G, 1, med), TRIBE_OK);
        float *col = malloc((size_t)n * sizeof *col);
        size_t cells = (size_t)(G + 1) * ncol;
        for (int grp = 0; grp <= G; grp++)
            for (int c = 0; c < ncol; c++) {
                int64_t m = 0;
                for (int64_t i = 0; i < n; i++)
                    if (grp == G || g[i] == grp)
                        col[m++] = x[i * ncol + c];
                for (int p = 0; p < np; p++) {
                    double got = q[(size_t)p * cells + (size_t)grp * ncol + c], want = ref_quantile(col, m, prob[p]);
                    CU_ASSERT((isnan(got) && isnan(want)) || got == want);
                }
                /* quartiles bracket the median; p = 0.5 is the median up to rounding */
                double q1 = q[(size_t)grp * ncol + c], q3 = q[cells + (size_t)grp * ncol + c];
                double md = med[grp * ncol + c], q50 = q[3 * cells + (size_t)grp * ncol + c];
                if (!isnan(md)) {
                    CU_ASSERT(q1 <= md && md <= q3);
                    CU_ASSERT_DOUBLE_EQUAL(q50, md, 1e-12 * fabs(md));
                }
            }
        free(col);
        free(x);
        free(g);
    }
    /* hand case: 1 2 3 10 -> q1 = 1.75, q3 = 4.75; one value -> itself; bad p */
    const float y[] = {NAN, 3, 1, NAN, 2, 10, 7};
    const int32_t gy[] = {0, 1, 1, 0, 1, 1, 2};
    const double pq[] = {0.25, 0.75};
    double qy[2 * 4];
    CU_ASSERT_EQUAL(tribe_xstats_quantiles(par, y, 7, 1, 1, gy, 3, 1, 2, pq, qy), TRIBE_OK);
    CU_ASSERT(isnan(qy[0]) && isnan(qy[4]));
    CU_ASSERT_EQUAL(qy[1], 1.75);
    CU_ASSERT_EQUAL(qy[5], 4.75);
    CU_ASSERT_EQUAL(qy[2], 7.0);
    CU_ASSERT_EQUAL(qy[6], 7.0);
    CU_ASSERT_EQUAL(qy[3], 2.0);  /* 1 2 3 7 10 */
    CU_ASSERT_EQUAL(qy[7], 7.0);
    const double badp[] = {1.5};
    CU_ASSERT_EQUAL(tribe_xstats_quantiles(par, y, 7, 1, 1, gy, 3, 1, 1, badp, qy), TRIBE_ERR_USAGE);
    tribe_par_finalize(&par);
}

static void medians_should_not_depend_on_the_thread_count(void)
{
    tribe_par *par = tribe_test_serial();
    int64_t n = 20001; /* above TRIBE_OMP_MIN_WORK */
    float *x = malloc((size_t)n * 4 * sizeof *x);
    int32_t *g = malloc((size_t)n * sizeof *g);
    for (int64_t i = 0; i < n; i++) {
        g[i] = (int32_t)(i % 3);
        for (int c = 0; c < 4; c++)
            x[i * 4 + c] = (float)tribe_rng_normal(1, 1, (uint64_t)(i * 4 + c));
    }
    double a[16], b[16], ma[16], mb[16];
    int nt = omp_get_max_threads();
    omp_set_num_threads(1);
    CU_ASSERT_EQUAL(tribe_xstats_medians(par, x, n, 4, 4, g, 3, 1, a), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_xstats_means(par, x, n, 4, 4, g, 3, 1, NULL, NULL, ma), TRIBE_OK);
    omp_set_num_threads(2);
    CU_ASSERT_EQUAL(tribe_xstats_medians(par, x, n, 4, 4, g, 3, 1, b), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_xstats_means(par, x, n, 4, 4, g, 3, 1, NULL, NULL, mb), TRIBE_OK);
    omp_set_num_threads(nt);
    CU_ASSERT(memcmp(a, b, sizeof a) == 0);
    CU_ASSERT(memcmp(ma, mb, sizeof ma) == 0);
    x[5] = INFINITY;
    CU_ASSERT_EQUAL(tribe_xstats_medians(par, x, n, 4, 4, g, 3, 1, b), TRIBE_ERR_INPUT);
    free(x);
    free(g);
    tribe_par_finalize(&par);
}

/* Column c of a mixed test matrix: shapes the selection treats differently
 * (spread values, many ties, zeros beside subnormals, a wide range,
 * negatives, a constant, nothing but NaN, subnormals at most), about 5%
 * NaN elsewhere. */
static float mixed_value(int c, int64_t i, uint64_t seed)
{
    double u = tribe_rng_normal(seed, (uint64_t)c, (uint64_t)i), w = tribe_rng_unif(seed + 1, (uint64_t)c, (uint64_t)i);
    if (c != 5 && c != 6 && c != 7 && w < 0.05)
        return NAN;
    switch (c) {
    case 0: return (float)(u * 1000);                              /* spread, both signs */
    case 1: return (float)floor(fabs(u) * 3);                      /* small integers: ties */
    case 2: return w < 0.75 ? 0.0f : w < 0.8 ? 1e-41f * (float)(1 + i % 7) : (float)exp(u * 4); /* zeros, subnormals */
    case 3: return (float)exp(u * 12);                             /* many binades */
    case 4: return w < 0.5 ? -0.0f : (float)(-exp(u));             /* negative zero and negatives */
    case 5: return 42.5f;                                          /* constant */
    case 6: return NAN;                                            /* no value */
    default: return w < 0.3 ? 0.0f : 1e-44f * (float)(i % 9) * (u < 0 ? -1 : 1); /* subnormal at most */
    }
}

/* The documented exact sum (tribe/xstats.h): every term scaled by
 * tribe_xsum_scale(max |x|, n) and rounded with tribe_xsum_of. */
static double ref_exact_sum(const float *col, int64_t m, double maxabs, int64_t n)
{
    double sc = tribe_xsum_scale(maxabs, n);
    tribe_xsum acc = 0;
    for (int64_t i = 0; i < m; i++)
        if (!isnan(col[i]))
            acc += tribe_xsum_of((double)col[i] * sc);
    return tribe_xsum_value(acc) / sc;
}

/* describe against sorting and the exact-sum definition, and against the
 * three separate calls; groups with out-of-range labels, with and without
 * the whole base. */
static void check_describe(int64_t n, int G, int with_total, uint64_t seed)
{
    tribe_par *par = tribe_test_serial();
    const int ncol = 8, np = 3;
    const double prob[] = {0.25, 0.75, 0.9};
    int GT = G + with_total;
    size_t cells = (size_t)GT * ncol;
    float *x = malloc((size_t)n * ncol * sizeof *x), *col = malloc((size_t)n * sizeof *col);
    int32_t *g = malloc((size_t)n * sizeof *g);
    int64_t *cnt = malloc(cells * sizeof *cnt), *cnt1 = malloc(cells * sizeof *cnt1);
    double *sum = malloc(cells * sizeof *sum), *mean = malloc(cells * sizeof *mean), *med = malloc(cells * sizeof *med);
    double *q = malloc(np * cells * sizeof *q), *sum1 = malloc(cells * sizeof *sum1);
    double *mean1 = malloc(cells * sizeof *mean1), *med1 = malloc(cells * sizeof *med1), *q1 = malloc(np * cells * sizeof *q1);
    for (int64_t i = 0; i < n; i++) {
        g[i] = (int32_t)tribe_rng_below(seed, 99, (uint64_t)i, (uint64_t)G + 2) - 1; /* -1 and G: no group */
        for (int c = 0; c < ncol; c++)
            x[i * ncol + c] = mixed_value(c, i, seed);
    }
    tribe_xstats_out o = {cnt, sum, mean, med, np, prob, q};
    CU_ASSERT_EQUAL_FATAL(tribe_xstats_describe(par, x, n, ncol, ncol, g, G, with_total, &o), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_xstats_means(par, x, n, ncol, ncol, g, G, with_total, cnt1, sum1, mean1), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_xstats_medians(par, x, n, ncol, ncol, g, G, with_total, med1), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_xstats_quantiles(par, x, n, ncol, ncol, g, G, with_total, np, prob, q1), TRIBE_OK);
    CU_ASSERT(memcmp(cnt, cnt1, cells * sizeof *cnt) == 0);
    CU_ASSERT(memcmp(sum, sum1, cells * sizeof *sum) == 0);
    CU_ASSERT(memcmp(mean, mean1, cells * sizeof *mean) == 0);
    CU_ASSERT(memcmp(med, med1, cells * sizeof *med) == 0);
    CU_ASSERT(memcmp(q, q1, np * cells * sizeof *q) == 0);
    for (int c = 0; c < ncol; c++) {
        double maxabs = 0;
        for (int64_t i = 0; i < n; i++)
            if (fabs((double)x[i * ncol + c]) > maxabs)
                maxabs = fabs((double)x[i * ncol + c]);
        for (int grp = 0; grp < GT; grp++) {
            int64_t m = 0, nn = 0;
            for (int64_t i = 0; i < n; i++)
                if (grp == G || g[i] == grp) {
                    col[m++] = x[i * ncol + c];
                    nn += !isnan(x[i * ncol + c]);
                }
            size_t cell = (size_t)grp * ncol + c;
            double want = ref_median(col, m), s = ref_exact_sum(col, m, maxabs, n);
            CU_ASSERT_EQUAL(cnt[cell], nn);
            CU_ASSERT((isnan(med[cell]) && isnan(want)) || med[cell] == want);
            CU_ASSERT(memcmp(&sum[cell], &s, sizeof s) == 0);
            CU_ASSERT(nn == 0 ? isnan(mean[cell]) : mean[cell] == s / (double)nn);
            for (int p = 0; p < np; p++) {
                double wq = ref_quantile(col, m, prob[p]), got = q[(size_t)p * cells + cell];
                CU_ASSERT((isnan(got) && isnan(wq)) || got == wq);
            }
        }
    }
    free(x);
    free(col);
    free(g);
    free(cnt);
    free(cnt1);
    free(sum);
    free(mean);
    free(med);
    free(q);
    free(sum1);
    free(mean1);
    free(med1);
    free(q1);
    tribe_par_finalize(&par);
}

static void describe_should_equal_sorting_and_the_separate_calls(void)
{
    check_describe(1500, 4, 1, 3);   /* small: every value a candidate of the refining passes */
    check_describe(1500, 3, 0, 4);   /* without the whole base */
    check_describe(60000, 5, 1, 5);  /* large: ties too many to copy, the refining passes read the rows */
    check_describe(7, 3, 1, 6);      /* tiny groups, some empty */
}

static void describe_should_not_depend_on_the_thread_count(void)
{
    tribe_par *par = tribe_test_serial();
    const int ncol = 8, G = 4;
    const int64_t n = 30011; /* above TRIBE_OMP_MIN_WORK, not a multiple of any thread count */
    const double prob[] = {0.1, 0.5};
    float *x = malloc((size_t)n * ncol * sizeof *x);
    int32_t *g = malloc((size_t)n * sizeof *g);
    for (int64_t i = 0; i < n; i++) {
        g[i] = (int32_t)(i % (G + 1)); /* G: no group */
        for (int c = 0; c < ncol; c++)
            x[i * ncol + c] = mixed_value(c, i, 11);
    }
    enum { CELLS = (4 + 1) * 8 };
    double out[4][5 * CELLS];
    int64_t cnt[4][CELLS];
    int nt = omp_get_max_threads();
    for (int r = 0; r < 4; r++) {
        omp_set_num_threads(r + 1);
        tribe_xstats_out o = {cnt[r], out[r], out[r] + CELLS, out[r] + 2 * CELLS, 2, prob, out[r] + 3 * CELLS};
        CU_ASSERT_EQUAL(tribe_xstats_describe(par, x, n, ncol, ncol, g, G, 1, &o), TRIBE_OK);
    }
    omp_set_num_threads(nt);
    for (int r = 1; r < 4; r++) {
        CU_ASSERT(memcmp(out[0], out[r], sizeof out[0]) == 0);
        CU_ASSERT(memcmp(cnt[0], cnt[r], sizeof cnt[0]) == 0);
    }
    x[3 * ncol + 2] = -INFINITY;
    x[5 * ncol + 1] = INFINITY;
    tribe_xstats_out o = {.median = out[0]};
    CU_ASSERT_EQUAL(tribe_xstats_describe(par, x, n, ncol, ncol, g, G, 1, &o), TRIBE_ERR_INPUT);
    CU_ASSERT_STRING_EQUAL(tribe_errmsg(), "rank 0, local row 3, column 2: value is infinite");
    free(x);
    free(g);
    tribe_par_finalize(&par);
}

static void describe_should_fail_cleanly_without_memory(void)
{
    tribe_par *par = tribe_test_serial();
    const int ncol = 8, G = 3;
    const int64_t n = 900;
    const double prob[] = {0.25, 0.75};
    float *x = malloc((size_t)n * ncol * sizeof *x);
    int32_t *g = malloc((size_t)n * sizeof *g);
    for (int64_t i = 0; i < n; i++) {
        g[i] = (int32_t)(i % G);
        for (int c = 0; c < ncol; c++)
            x[i * ncol + c] = mixed_value(c, i, 31);
    }
    double want[5 * (3 + 1) * 8], got[5 * (3 + 1) * 8];
    enum { CELLS = (3 + 1) * 8 };
    tribe_xstats_out o = {NULL, want, want + CELLS, want + 2 * CELLS, 2, prob, want + 3 * CELLS};
    CU_ASSERT_EQUAL_FATAL(tribe_xstats_describe(par, x, n, ncol, ncol, g, G, 1, &o), TRIBE_OK);
    int ok = 0;
    for (long k = 1; k < 60 && !ok; k++) {
        tribe_xstats_out p = {NULL, got, got + CELLS, got + 2 * CELLS, 2, prob, got + 3 * CELLS};
        tribe_alloc_fail_after(k);
        tribe_status st = tribe_xstats_describe(par, x, n, ncol, ncol, g, G, 1, &p);
        tribe_alloc_fail_after(0);
        /* every allocation but the candidate lists' is needed; those only
         * change which rows the passes read */
        CU_ASSERT(st == TRIBE_OK || st == TRIBE_ERR_NOMEM);
        if (st == TRIBE_OK)
            CU_ASSERT(memcmp(got, want, sizeof got) == 0);
        ok = st == TRIBE_OK && k > 1;
    }
    CU_ASSERT(ok);
    free(x);
    free(g);
    tribe_par_finalize(&par);
}

/* tribe_xacc against a tribe_xsum_of per term, at every magnitude the scaled
 * sums produce: below and across 2^63 fixed-point units, up to the 2^124 a
 * whole sum may reach, both signs, halves that round away from zero. */
static void exact_accumulator_should_equal_a_fixed_point_sum_per_term(void)
{
    for (int trial = 0; trial < 8; trial++) {
        int64_t n = 1 + 300 * trial;
        int top = 118 - 9 * trial; /* largest term below 2^(top + 1) units: n terms fit 2^124 */
        tribe_xacc a = {0, 0};
        tribe_xsum want = 0;
        for (int64_t i = 0; i < n; i++) {
            double u = tribe_rng_unif(21, (uint64_t)trial, (uint64_t)i);
            int e = (int)(tribe_rng_below(22, (uint64_t)trial, (uint64_t)i, (uint64_t)top + 40)) - 40;
            double v = ldexp(u, e) / TRIBE_XSUM_SCALE * (i % 3 == 0 ? -1 : 1);
            if (i % 17 == 0)
                v = (0.5 + (double)(i % 5)) / TRIBE_XSUM_SCALE * (i % 2 ? -1 : 1); /* exact halves */
            if (i % 19 == 0)
                v = ldexp(1.0, 63 + (int)(i % 4)) / TRIBE_XSUM_SCALE * (i % 2 ? -1 : 1); /* 2^63.. */
            tribe_xacc_add(&a, v);
            want += tribe_xsum_of(v);
        }
        CU_ASSERT(tribe_xacc_value(a) == want);
    }
}

static const char *FEATS[] = {"recency_days", "frequency", "monetary"};

static void segments_should_profile_each_segment(void)
{
    tribe_par *par = tribe_test_serial();
    tribe_table *t = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_table_create(6, 3, FEATS, &t), TRIBE_OK);
    t->n_global = 6;
    const float rows[6][3] = {{5, 10, 100}, {7, 8, 300}, {NAN, 9, 200}, {90, 1, 10}, {120, 2, 30}, {60, 1, NAN}};
    const int32_t lab[] = {0, 0, 0, 1, 1, 1};
    for (int i = 0; i < 6; i++) {
        t->id[i] = 10 + i;
        memcpy(t->x + i * 3, rows[i], sizeof rows[i]);
    }
    const char *dev[] = {"mobile", "desktop"};
    tribe_catcol *cc = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_table_add_cat(t, "device", 2, dev, &cc), TRIBE_OK);
    const int32_t codes[] = {0, 0, 1, 1, -1, 1};
    memcpy(cc->code, codes, sizeof codes);
    const double cent[] = {1.5, -0.5, -1.5, 0.5}; /* model = (frequency, monetary) */
    const int mcols[] = {1, 2};
    tribe_segments *s = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_segments_build(par, t, lab, 2, cent, mcols, 2, 2, &s), TRIBE_OK);
    CU_ASSERT_EQUAL(s->n_total, 6);
    CU_ASSERT_EQUAL(s->seg[0].size, 3);
    CU_ASSERT_DOUBLE_EQUAL(s->seg[0].share, 0.5, 1e-15);
    CU_ASSERT_EQUAL(s->seg[0].median[0], 6.0);  /* 5, 7 (NaN skipped) */
    CU_ASSERT_EQUAL(s->seg[0].mean[2], 200.0);
    CU_ASSERT_EQUAL(s->seg[1].median[2], 20.0); /* 10, 30 */
    CU_ASSERT_EQUAL(s->overall_median[1], 5.0); /* 1 1 2 8 9 10 */
    CU_ASSERT_EQUAL(s->overall_q1[1], 1.25);     /* h = 1.25: 1 + 0.25 * (2 - 1) */
    CU_ASSERT_EQUAL(s->overall_q3[1], 8.75);     /* h = 3.75: 9 - 0.25 * (9 - 8) */
    CU_ASSERT_EQUAL(s->seg[0].q1[0], 5.5);       /* 5, 7 */
    CU_ASSERT_EQUAL(s->seg[0].q3[0], 6.5);
    CU_ASSERT_EQUAL(s->seg[1].q1[2], 15.0);      /* 10, 30 */
    CU_ASSERT_DOUBLE_EQUAL(s->overall_mean[0], (5 + 7 + 90 + 120 + 60) / 5.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(s->seg[0].revenue_share, 600.0 / 640.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(s->seg[1].revenue_share, 40.0 / 640.0, 1e-15);
    CU_ASSERT(isnan(s->seg[0].centroid[0])); /* not a model feature */
    CU_ASSERT_EQUAL(s->seg[0].centroid[1], 1.5);
    CU_ASSERT_EQUAL(s->seg[1].centroid[2], 0.5);
    CU_ASSERT_EQUAL_FATAL(s->n_mix, 1);
    CU_ASSERT_STRING_EQUAL(s->mix[0].name, "device");
    CU_ASSERT_STRING_EQUAL(s->mix[0].levels[1], "desktop");
    const int64_t want[] = {2, 1, 0, 2, 2, 3}; /* [k+1][levels]; the missing code is not counted */
    for (int q = 0; q < 6; q++)
        CU_ASSERT_EQUAL(s->mix[0].count[q], want[q]);
    CU_ASSERT(isnan(s->silhouette));
    tribe_segments_destroy(&s);

    /* errors: a label out of range, an infinite value (named by id) */
    int32_t bad[] = {0, 0, 2, 1, 1, 1};
    CU_ASSERT_EQUAL(tribe_segments_build(par, t, bad, 2, cent, mcols, 2, 2, &s), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NULL(s);
    t->x[4 * 3 + 1] = -INFINITY;
    CU_ASSERT_EQUAL(tribe_segments_build(par, t, lab, 2, cent, mcols, 2, 2, &s), TRIBE_ERR_INPUT);
    CU_ASSERT_STRING_EQUAL(tribe_errmsg(), "customer 14, feature 'frequency': value is infinite");
    CU_ASSERT_EQUAL(tribe_segments_build(par, t, lab, 2, cent, mcols, 2, 3, &s), TRIBE_ERR_USAGE);
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
}

/* A tribe_segments with given (recency, frequency, monetary) medians per
 * segment and base medians (30 days, 3 orders, 300). */
static tribe_segments *rfm_segments(int k, const double (*med)[3], const char *const *names)
{
    tribe_segments *s = NULL;
    if (tribe_segments_create(k, 3, names, &s) != TRIBE_OK)
        return NULL;
    s->overall_median[0] = 30;
    s->overall_median[1] = 3;
    s->overall_median[2] = 300;
    for (int c = 0; c < k; c++)
        for (int j = 0; j < 3; j++)
            s->seg[c].median[j] = med[c][j];
    return s;
}

static void names_should_follow_the_rfm_rules(void)
{
    const double med[][3] = {
        {3, 12, 2500},  /* very recent, frequent, big: Champions */
        {200, 1, 40},   /* long gone, one small order: Lost */
        {5, 1, 60},     /* very recent, one small order: New Customers */
        {120, 10, 2000}, /* was frequent and big, gone quiet: Can't Lose Them */
    };
    tribe_segments *s = rfm_segments(4, med, FEATS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    tribe_segments_name(s);
    CU_ASSERT_STRING_EQUAL(s->seg[0].name, "Champions");
    CU_ASSERT_STRING_EQUAL(s->seg[1].name, "Lost");
    CU_ASSERT_STRING_EQUAL(s->seg[2].name, "New Customers");
    CU_ASSERT_STRING_EQUAL(s->seg[3].name, "Can't Lose Them");
    tribe_segments_destroy(&s);
}

static void names_should_be_unique_even_for_identical_segments(void)
{
    /* 16 segments, several identical, more than there are names */
    double med[16][3];
    for (int c = 0; c < 16; c++) {
        med[c][0] = c < 6 ? 3 : 10 + 15 * c;
        med[c][1] = c < 6 ? 12 : 1 + c % 4;
        med[c][2] = c < 6 ? 2500 : 100 + 50 * (c % 5);
    }
    tribe_segments *s = rfm_segments(16, (const double(*)[3])med, FEATS);
    tribe_segments_name(s);
    CU_ASSERT_STRING_EQUAL(s->seg[0].name, "Champions");
    for (int a = 0; a < 16; a++) {
        CU_ASSERT(strlen(s->seg[a].name) > 0);
        for (int b = a + 1; b < 16; b++)
            CU_ASSERT(strcmp(s->seg[a].name, s->seg[b].name) != 0);
    }
    tribe_segments_destroy(&s);

    /* Without R, F and M: "Segment N" by id. */
    const char *other[] = {"age", "sessions", "tenure_days"};
    s = rfm_segments(3, (const double(*)[3])med, other);
    tribe_segments_name(s);
    CU_ASSERT_STRING_EQUAL(s->seg[0].name, "Segment 1");
    CU_ASSERT_STRING_EQUAL(s->seg[2].name, "Segment 3");
    tribe_segments_destroy(&s);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(order_keys_should_sort_like_floats),
        TRIBE_TEST(medians_should_equal_sorting_with_nan_and_even_counts),
        TRIBE_TEST(quantiles_should_equal_sorting_with_nan_ties_and_small_groups),
        TRIBE_TEST(medians_should_not_depend_on_the_thread_count),
        TRIBE_TEST(describe_should_equal_sorting_and_the_separate_calls),
        TRIBE_TEST(describe_should_not_depend_on_the_thread_count),
        TRIBE_TEST(describe_should_fail_cleanly_without_memory),
        TRIBE_TEST(exact_accumulator_should_equal_a_fixed_point_sum_per_term),
        TRIBE_TEST(segments_should_profile_each_segment),
        TRIBE_TEST(names_should_follow_the_rfm_rules),
        TRIBE_TEST(names_should_be_unique_even_for_identical_segments),
        {NULL, NULL}};
    return tribe_test_main("segstats", cases);
}
