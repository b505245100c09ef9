/* Unit tests for the Kruskal-Wallis test across segments and the pairwise
 * Cliff's deltas (tribe/kruskal.h) against scipy.stats. The hard-coded
 * references were computed with scipy 1.10.1 (/usr/bin/python3) by the
 * snippet above each; the random case runs scipy at test time (skipped when
 * scipy is missing). */
#include "testutil.h"
#include "tribe/kruskal.h"
#include "tribe/xstats.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REL(a, b, tol) CU_ASSERT(fabs((a) - (b)) <= (tol) * fabs(b))

/* Columns: 0 the scipy case below (NaN on the two extra rows), 1 constant. */
#define N1 16
static const float CASE1[N1] = {1, 2, 2, 3, 5, 2, 4, 4, 6, 7, 7, 8, 1.5f, 3, NAN, NAN};
static const int32_t LAB1[N1] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 1, 0};

/* stats.kruskal([1,2,2,3,5], [2,4,4,6], [7,7,8,1.5,3]) -> 2.8901785714285655, 0.23572502873867765;
 * 2 * stats.mannwhitneyu(x, y).statistic / (len(x) * len(y)) - 1 for (a,b), (a,c), (b,c) -> -0.5, -0.56, -0.3 */
static void kw_should_match_scipy_with_ties_nan_and_a_constant_feature(void)
{
    tribe_par *par = tribe_test_serial();
    float x[N1 * 2];
    for (int i = 0; i < N1; i++) {
        x[2 * i] = CASE1[i];
        x[2 * i + 1] = 3.0f;
    }
    tribe_segtest *t = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_kw_test(par, x, N1, 2, 2, LAB1, 3, &t), TRIBE_OK);
    CU_ASSERT_EQUAL(t->n[0], 14);
    CU_ASSERT_EQUAL(t->k_used[0], 3);
    REL(t->h[0], 2.8901785714285655, 1e-13);
    REL(t->p[0], 0.23572502873867765, 1e-13);
    REL(t->eps2[0], 2.8901785714285655 / 13, 1e-13);
    const double *dl = t->delta;
    CU_ASSERT_DOUBLE_EQUAL(dl[0 * 3 + 1], -0.5, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(dl[0 * 3 + 2], -0.56, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(dl[1 * 3 + 2], -0.3, 1e-15);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            CU_ASSERT_EQUAL(dl[a * 3 + b], -dl[b * 3 + a]);
    /* a constant feature: every value tied, H undefined (scipy raises "All
     * numbers are identical"): NaN, written as null and shown as "constant";
     * every pair's delta is 0 */
    CU_ASSERT_EQUAL(t->n[1], 16);
    CU_ASSERT(isnan(t->h[1]) && isnan(t->p[1]) && isnan(t->eps2[1]) && isnan(t->p_holm[1]));
    CU_ASSERT_EQUAL(t->delta[9 + 0 * 3 + 2], 0.0);
    /* one test with a p: Holm leaves it as it is */
    CU_ASSERT_EQUAL(t->p_holm[0], t->p[0]);
    tribe_segtest_destroy(&t);
    CU_ASSERT_PTR_NULL(t);
    tribe_par_finalize(&par);
}

/* stats.kruskal([2.9,3.0,2.5,2.6,3.2], [3.8,2.7,4.0,2.4], [2.8,3.4,3.7,2.2,2.0]) (scipy's docstring
 * example) -> 0.7714285714285722, 0.6799647735788936 */
static void kw_should_match_scipy_without_ties(void)
{
    tribe_par *par = tribe_test_serial();
    const float x[14] = {2.9f, 3.0f, 2.5f, 2.6f, 3.2f, 3.8f, 2.7f, 4.0f, 2.4f, 2.8f, 3.4f, 3.7f, 2.2f, 2.0f};
    const int32_t lab[14] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2};
    tribe_segtest *t = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_kw_test(par, x, 14, 1, 1, lab, 3, &t), TRIBE_OK);
    REL(t->h[0], 0.7714285714285722, 1e-13);
    REL(t->p[0], 0.6799647735788936, 1e-13);
    CU_ASSERT_STRING_EQUAL(tribe_kw_magnitude(t->eps2[0]), "small"); /* 0.0593 */
    tribe_segtest_destroy(&t);
    tribe_par_finalize(&par);
}

/* One segment holding every value (k = 1, or k = 3 with two empty): no
 * test; H, p and epsilon^2 are NaN, the empty segments' deltas too. */
static void kw_should_leave_one_segment_undefined(void)
{
    tribe_par *par = tribe_test_serial();
    const float x[5] = {1, 2, 3, 4, 5};
    const int32_t one[5] = {0, 0, 0, 0, 0}, mid[5] = {1, 1, 1, 1, 1};
    tribe_segtest *t = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_kw_test(par, x, 5, 1, 1, one, 1, &t), TRIBE_OK);
    CU_ASSERT_EQUAL(t->k_used[0], 1);
    CU_ASSERT(isnan(t->h[0]) && isnan(t->p[0]) && isnan(t->eps2[0]));
    CU_ASSERT_EQUAL(t->delta[0], 0.0);
    tribe_segtest_destroy(&t);
    CU_ASSERT_EQUAL_FATAL(tribe_kw_test(par, x, 5, 1, 1, mid, 3, &t), TRIBE_OK);
    CU_ASSERT_EQUAL(t->n[0], 5);
    CU_ASSERT_EQUAL(t->k_used[0], 1);
    CU_ASSERT(isnan(t->h[0]) && isnan(t->delta[0 * 3 + 1]) && isnan(t->delta[1 * 3 + 2]));
    CU_ASSERT_EQUAL(t->delta[1 * 3 + 1], 0.0);
    tribe_segtest_destroy(&t);
    tribe_par_finalize(&par);
}

static void kw_should_refuse_a_label_outside_the_segments(void)
{
    tribe_par *par = tribe_test_serial();
    const float x[3] = {1, 2, 3};
    const int32_t lab[3] = {0, 2, 1};
    tribe_segtest *t = NULL;
    CU_ASSERT_EQUAL(tribe_kw_test(par, x, 3, 1, 1, lab, 2, &t), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT(strstr(tribe_errmsg(), "row 1") != NULL);
    CU_ASSERT_EQUAL(tribe_kw_test(par, x, 3, 1, 1, lab, 0, &t), TRIBE_ERR_USAGE);
    tribe_par_finalize(&par);
}

/* special.gammaincc(1.5, 250.0) = stats.chi2.sf(500, 3) -> 4.771672031912771e-108;
 * gammaincc(0.5, 0.3) -> 0.4385780260809997; (4.5, 3.0) -> 0.7399182920946538; (10, 30) -> 7.121750862815593e-06 */
static void gamma_q_should_match_scipy_in_both_branches_and_far_tails(void)
{
    REL(tribe_kw_gamma_q(1.5, 250.0), 4.771672031912771e-108, 1e-12);
    REL(tribe_kw_gamma_q(0.5, 0.3), 0.4385780260809997, 1e-13);
    REL(tribe_kw_gamma_q(4.5, 3.0), 0.7399182920946538, 1e-13);
    REL(tribe_kw_gamma_q(10, 30), 7.121750862815593e-06, 1e-12);
    CU_ASSERT_EQUAL(tribe_kw_gamma_q(2, 0), 1.0);
    CU_ASSERT_EQUAL(tribe_kw_gamma_q(2, 1e6), 0.0); /* underflows: shown as "< 1e-300" */
    CU_ASSERT(isnan(tribe_kw_gamma_q(0, 1)) && isnan(tribe_kw_gamma_q(1, NAN)));
}

/* Holm by hand: sorted 0.01 (x4), 0.03 (x3), 0.04 (x2, raised to 0.09 by the running max), 0.5 (x1). */
static void holm_should_step_down_over_the_features_with_a_p(void)
{
    const double p[5] = {0.01, 0.04, 0.03, NAN, 0.5};
    double adj[5];
    tribe_kw_holm(5, p, adj);
    CU_ASSERT_DOUBLE_EQUAL(adj[0], 0.04, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(adj[1], 0.09, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(adj[2], 0.09, 1e-15);
    CU_ASSERT(isnan(adj[3]));
    CU_ASSERT_DOUBLE_EQUAL(adj[4], 0.5, 1e-15);
}

static void magnitudes_should_follow_the_stated_bands(void)
{
    CU_ASSERT_STRING_EQUAL(tribe_kw_magnitude(0.0099), "negligible");
    CU_ASSERT_STRING_EQUAL(tribe_kw_magnitude(0.01), "small");
    CU_ASSERT_STRING_EQUAL(tribe_kw_magnitude(0.06), "medium");
    CU_ASSERT_STRING_EQUAL(tribe_kw_magnitude(0.14), "large");
    CU_ASSERT_STRING_EQUAL(tribe_kw_magnitude(NAN), "n/a");
    CU_ASSERT_STRING_EQUAL(tribe_kw_delta_magnitude(-0.146), "negligible");
    CU_ASSERT_STRING_EQUAL(tribe_kw_delta_magnitude(0.147), "small");
    CU_ASSERT_STRING_EQUAL(tribe_kw_delta_magnitude(-0.33), "medium");
    CU_ASSERT_STRING_EQUAL(tribe_kw_delta_magnitude(0.474), "large");
}

/* The runs kernel: ascending (value, segment) runs whose counts add up to
 * the non-NaN rows; -0 and +0 are one value. */
static void runs_should_sort_and_count_every_value(void)
{
    const float x[8] = {0.0f, -0.0f, 2, -1, NAN, 2, -1, 2};
    const int32_t lab[8] = {1, 1, 0, 2, 0, 0, 1, 0};
    uint64_t key[8], cnt[8];
    int64_t nr = 0, hist[TRIBE_KW_HIST(1)];
    tribe_kw_runs(x, 8, 1, lab, 3, 1, hist, key, cnt, &nr);
    CU_ASSERT_EQUAL_FATAL(nr, 4); /* (-1,1) (-1,2) (0,1)x2 (2,0)x3 */
    uint64_t tot = 0;
    for (int64_t r = 0; r < nr; r++) {
        tot += cnt[r];
        if (r)
            CU_ASSERT(key[r] > key[r - 1]);
    }
    CU_ASSERT_EQUAL(tot, 7);
    CU_ASSERT_EQUAL(key[0] >> 32, tribe_f32_key(-1.0f));
    CU_ASSERT_EQUAL((uint32_t)key[1], 2);
    CU_ASSERT_EQUAL(cnt[2], 2);
    CU_ASSERT_EQUAL(cnt[3], 3);
}

/* Counts that push the pair sums past 64 bits. (1) Runs (value 1, segment
 * 0), (2, 1), (3, 0) of A = 2^40 customers each: one run's pair term is past
 * 2^63 (the 128-bit path). By hand: twice the mid-ranks are A+1, 3A+1,
 * 5A+1, so 2R = (6A^2 + 2A, 3A^2 + A); 2U(0 over 1) = A (2A) = 2A^2 =
 * 2U(1 over 0); 2U(0 over 0) = A*A + A*3A = 4A^2; ties 3 (A^3 - A).
 * (2) 2^40 customers of segment 1 at value 0, then 8 runs of 2^21 of
 * segment 0 at values 1..8: each run adds 2^21 * 2 * 2^40 = 2^62 to
 * 2U(0 over 1), 2^65 in all, so the 64-bit accumulators must be flushed. */
static void sums_should_stay_exact_past_64_bits(void)
{
    tribe_xsum A = (tribe_xsum)1 << 40;
    uint64_t key[9] = {(uint64_t)tribe_f32_key(1) << 32, (uint64_t)tribe_f32_key(2) << 32 | 1,
                       (uint64_t)tribe_f32_key(3) << 32};
    uint64_t cnt[9] = {(uint64_t)A, (uint64_t)A, (uint64_t)A};
    int64_t below[2] = {0, 0}, work[TRIBE_KW_WORK(2)] = {0};
    tribe_xsum sums[TRIBE_KW_SUMS(2)] = {0};
    tribe_kw_sums(key, cnt, 3, 2, below, work, sums);
    CU_ASSERT(sums[0] == 2 * A && sums[1] == A);
    CU_ASSERT(sums[2] == 6 * A * A + 2 * A && sums[3] == 3 * A * A + A);
    CU_ASSERT(sums[4] == 4 * A * A && sums[5] == 2 * A * A && sums[6] == 2 * A * A && sums[7] == A * A);
    CU_ASSERT(sums[8] == 3 * (A * A * A - A));
    CU_ASSERT(below[0] == 2 * A && below[1] == A);

    key[0] = (uint64_t)tribe_f32_key(0) << 32 | 1;
    cnt[0] = (uint64_t)A;
    for (int i = 1; i <= 8; i++) {
        key[i] = (uint64_t)tribe_f32_key((float)i) << 32;
        cnt[i] = (uint64_t)1 << 21;
    }
    memset(sums, 0, sizeof sums);
    below[0] = below[1] = 0;
    tribe_kw_sums(key, cnt, 9, 2, below, work, sums);
    CU_ASSERT(sums[0] == (tribe_xsum)1 << 24 && sums[1] == A);
    CU_ASSERT(sums[5] == (tribe_xsum)1 << 65); /* 2U(0 over 1) */
    CU_ASSERT(sums[6] == 0);                  /* 2U(1 over 0): every segment-1 value is below */
    CU_ASSERT(sums[4] == (tribe_xsum)1 << 48); /* 2U(0 over 0) = n_0^2 */
    for (size_t i = 0; i < TRIBE_KW_WORK(2); i++)
        CU_ASSERT_EQUAL(work[i], 0);
}

/* 100,000 customers (past the size where the sort and the sums use
 * threads): the runs and every figure are the same bits on 1, 3 and 4
 * threads. */
static void kw_should_give_the_same_bits_on_any_thread_count(void)
{
    enum { N = 100000, K = 7, D = 3 };
    tribe_par *par = tribe_test_serial();
    float *x = malloc((size_t)N * D * sizeof *x);
    int32_t *lab = malloc((size_t)N * sizeof *lab);
    uint64_t *k1 = malloc(2 * (size_t)N * sizeof *k1), *c1 = malloc(2 * (size_t)N * sizeof *c1);
    int64_t *hist = malloc(TRIBE_KW_HIST(3) * sizeof *hist);
    CU_ASSERT_FATAL(x && lab && k1 && c1 && hist);
    for (int i = 0; i < N; i++) {
        double z = tribe_rng_normal(9, 2, (uint64_t)i);
        lab[i] = (int32_t)tribe_rng_below(9, 1, (uint64_t)i, K);
        x[i * D] = (float)floor(5 * z + lab[i]);
        x[i * D + 1] = (float)(z * (1 + 0.1 * lab[i]) + 0.05 * lab[i]);
        x[i * D + 2] = tribe_rng_below(9, 3, (uint64_t)i, 10) == 0 ? NAN : (float)(lab[i] % 3) - 1.0f;
    }
    int64_t n1 = 0, n3 = 0;
    tribe_kw_runs(x + 1, N, D, lab, K, 1, hist, k1, c1, &n1);
    tribe_kw_runs(x + 1, N, D, lab, K, 3, hist, k1 + N, c1 + N, &n3);
    CU_ASSERT_EQUAL(n1, n3);
    CU_ASSERT(n1 > N / 2 && memcmp(k1, k1 + N, (size_t)n1 * sizeof *k1) == 0 &&
              memcmp(c1, c1 + N, (size_t)n1 * sizeof *c1) == 0);
    int was = omp_get_max_threads();
    tribe_segtest *t[3] = {NULL, NULL, NULL};
    static const int NTH[3] = {1, 3, 4};
    for (int r = 0; r < 3; r++) {
        omp_set_num_threads(NTH[r]);
        CU_ASSERT_EQUAL_FATAL(tribe_kw_test(par, x, N, D, D, lab, K, &t[r]), TRIBE_OK);
    }
    omp_set_num_threads(was);
    for (int r = 1; r < 3; r++) {
        CU_ASSERT(memcmp(t[0]->n, t[r]->n, D * sizeof *t[0]->n) == 0);
        CU_ASSERT(memcmp(t[0]->h, t[r]->h, D * sizeof(double)) == 0);
        CU_ASSERT(memcmp(t[0]->p, t[r]->p, D * sizeof(double)) == 0);
        CU_ASSERT(memcmp(t[0]->eps2, t[r]->eps2, D * sizeof(double)) == 0);
        CU_ASSERT(memcmp(t[0]->delta, t[r]->delta, (size_t)D * K * K * sizeof(double)) == 0);
    }
    CU_ASSERT(t[0]->h[0] > 0 && t[0]->h[1] > 0 && t[0]->h[2] > 0);
    for (int r = 0; r < 3; r++)
        tribe_segtest_destroy(&t[r]);
    free(x);
    free(lab);
    free(k1);
    free(c1);
    free(hist);
    tribe_par_finalize(&par);
}

static const char KW_PY[] =
    "import sys, numpy as np\n"
    "from scipy import stats\n"
    "d = np.loadtxt(sys.argv[1], ndmin=2); k = int(sys.argv[2])\n"
    "for j in range(1, d.shape[1]):\n"
    "    g = [d[(d[:, 0] == c) & ~np.isnan(d[:, j]), j] for c in range(k)]\n"
    "    r = stats.kruskal(*g)\n"
    "    print('%.17g %.17g' % (r.statistic, r.pvalue))\n"
    "    for a in range(k):\n"
    "        for b in range(a + 1, k):\n"
    "            print('%.17g' % (2 * stats.mannwhitneyu(g[a], g[b]).statistic / (len(g[a]) * len(g[b])) - 1))\n";

/* 3000 customers in 5 segments, two features with many ties (whole
 * numbers, some negative, a few NaN), against scipy at test time. */
static void kw_should_match_scipy_on_random_data_with_many_ties(void)
{
    enum { N = 3000, K = 5, D = 2 };
    if (system("/usr/bin/python3 -c 'import scipy' 2>/dev/null") != 0) {
        tribe_test_skip("/usr/bin/python3 has no scipy");
        return;
    }
    tribe_par *par = tribe_test_serial();
    static float x[N * D];
    static int32_t lab[N];
    char base[512], py[600], cmd[1400];
    snprintf(base, sizeof base, "%s/kw.txt", tribe_test_tmpdir());
    snprintf(py, sizeof py, "%s/kw.py", tribe_test_tmpdir());
    FILE *f = fopen(base, "w"), *fs = fopen(py, "w");
    CU_ASSERT_FATAL(f && fs);
    fputs(KW_PY, fs);
    fclose(fs);
    for (int i = 0; i < N; i++) {
        lab[i] = (int32_t)tribe_rng_below(5, 1, (uint64_t)i, K);
        x[i * D] = (float)floor(3 * tribe_rng_normal(5, 2, (uint64_t)i) + 0.4 * lab[i]);
        x[i * D + 1] = tribe_rng_below(5, 3, (uint64_t)i, 50) == 0 ? NAN : (float)tribe_rng_below(5, 4, (uint64_t)i, 7 + lab[i]);
        fprintf(f, "%d %.9g %.9g\n", lab[i], x[i * D], x[i * D + 1]);
    }
    fclose(f);
    tribe_segtest *t = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_kw_test(par, x, N, D, D, lab, K, &t), TRIBE_OK);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %d", py, base, K);
    FILE *pp = popen(cmd, "r");
    CU_ASSERT_FATAL(pp != NULL);
    for (int j = 0; j < D; j++) {
        double h = NAN, p = NAN, dl = NAN;
        CU_ASSERT_FATAL(fscanf(pp, "%lf %lf", &h, &p) == 2);
        REL(t->h[j], h, 1e-11);
        REL(t->p[j], p, 1e-9);
        for (int a = 0; a < K; a++)
            for (int b = a + 1; b < K; b++) {
                CU_ASSERT_FATAL(fscanf(pp, "%lf", &dl) == 1);
                CU_ASSERT_DOUBLE_EQUAL(t->delta[((size_t)j * K + a) * K + b], dl, 1e-14);
            }
        if (getenv("TRIBE_TEST_VERBOSE"))
            fprintf(stderr, "feature %d: H %.17g (scipy %.17g), p %.3g (scipy %.3g), eps2 %.4f\n", j, t->h[j], h,
                    t->p[j], p, t->eps2[j]);
    }
    pclose(pp);
    tribe_segtest_destroy(&t);
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(kw_should_match_scipy_with_ties_nan_and_a_constant_feature),
        TRIBE_TEST(kw_should_match_scipy_without_ties),
        TRIBE_TEST(kw_should_leave_one_segment_undefined),
        TRIBE_TEST(kw_should_refuse_a_label_outside_the_segments),
        TRIBE_TEST(gamma_q_should_match_scipy_in_both_branches_and_far_tails),
        TRIBE_TEST(holm_should_step_down_over_the_features_with_a_p),
        TRIBE_TEST(magnitudes_should_follow_the_stated_bands),
        TRIBE_TEST(runs_should_sort_and_count_every_value),
        TRIBE_TEST(sums_should_stay_exact_past_64_bits),
        TRIBE_TEST(kw_should_give_the_same_bits_on_any_thread_count),
        TRIBE_TEST(kw_should_match_scipy_on_random_data_with_many_ties),
        {NULL, NULL}};
    return tribe_test_main("kruskal", cases);
}
