/* Unit tests for src/predict/ltv_features.c: the transferable LTV features.
 *
 * The classic parts use the CDNOW estimates of FHL 2005 (weeks; any unit
 * works) whose E[X], P(alive) reference values (scipy 1.10) test_clv.c
 * checks; Gamma-Gamma p = 6.25, q = 3.74, v = 15.44, so for x = 2, mbar =
 * 20: E[spend] = 6.25 (15.44 + 40) / (12.5 + 2.74) = 22.73622047244094. */
#include "testutil.h"
#include "tribe/ltv_features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const tribe_ltv_classic cdnow = {.bg = {0.243, 4.414, 0.793, 2.426}, .gg = {6.25, 3.74, 15.44}, .horizon = 39};

static void features_should_be_the_documented_rates_and_ratios(void)
{
    tribe_ltv_inputs in = {2, 30.43, 38.86, 20, 120, 4, 6};
    float f[TRIBE_LTV_NFEAT];
    tribe_ltv_features1(&cdnow, &in, f);
    CU_ASSERT_DOUBLE_EQUAL(f[0], 1.226028174767135, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(f[1], 0.726578570080673, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(f[2], 22.73622047244094, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(f[3], 1.226028174767135 * 22.73622047244094, 1e-5);
    CU_ASSERT_EQUAL(f[4], (float)(120 / 39.86));     /* spend per day of tenure T + 1 */
    CU_ASSERT_EQUAL(f[5], (float)(120 / 39.86));     /* 4 invoices per 30 days */
    CU_ASSERT_EQUAL(f[6], (float)(90 / 39.86));      /* 3 purchase days per 30 days */
    CU_ASSERT_EQUAL(f[7], (float)(38.86 - 30.43));   /* recency */
    CU_ASSERT_EQUAL(f[8], (float)((38.86 - 30.43) / (30.43 / 2))); /* in mean gaps */
    CU_ASSERT_EQUAL(f[9], (float)((38.86 - 30.43) / 39.86));
    CU_ASSERT_EQUAL(f[10], 30.0f);
    CU_ASSERT_EQUAL(f[11], 20.0f);
    CU_ASSERT_EQUAL(f[12], 1.5f);
    CU_ASSERT_DOUBLE_EQUAL(tribe_ltv_classic_predict1(&cdnow, 2, 30.43, 38.86, 20), f[3], 1e-4);
    for (int j = 0; j < TRIBE_LTV_NFEAT; j++)
        CU_ASSERT(TRIBE_LTV_FEATURE_NAMES[j] && TRIBE_LTV_FEATURE_NAMES[j][0]);
    CU_ASSERT_STRING_EQUAL(TRIBE_LTV_FEATURE_NAMES[8], "recency_over_gap");
}

/* A one-time buyer: no gap, no repeat spend (NaN = missing), P(alive) = 1,
 * Gamma-Gamma's population mean p v / (q - 1); absent columns give NaN. */
static void features_should_be_missing_where_undefined(void)
{
    tribe_ltv_inputs in = {0, 0, 10, 0, NAN, NAN, NAN};
    float f[TRIBE_LTV_NFEAT];
    tribe_ltv_features1(&cdnow, &in, f);
    CU_ASSERT_EQUAL(f[1], 1.0f);
    CU_ASSERT_DOUBLE_EQUAL(f[2], 6.25 * 15.44 / 2.74, 1e-5);
    CU_ASSERT_EQUAL(f[7], 10.0f);
    CU_ASSERT(isnan(f[8]) && isnan(f[11]));
    CU_ASSERT(isnan(f[4]) && isnan(f[5]) && isnan(f[10]) && isnan(f[12]));
    CU_ASSERT_EQUAL(f[6], (float)(30.0 / 11));
    /* inconsistent inputs (t_x > T): every BG/NBD-based feature missing, no NaN
     * parameters reach the series */
    tribe_ltv_inputs bad = {1, 12, 10, 5, 50, 2, 2};
    tribe_ltv_features1(&cdnow, &bad, f);
    for (int j = 0; j < 10; j++)
        CU_ASSERT(isnan(f[j]));
    CU_ASSERT_EQUAL(f[10], 25.0f);
    CU_ASSERT(isnan(tribe_ltv_classic_predict1(&cdnow, 1, 12, 10, 5)));
}

static tribe_table *table(int n, int d, const char *const *names, const float *x)
{
    tribe_table *t = NULL;
    CU_ASSERT_FATAL(tribe_table_create(n, d, names, &t) == TRIBE_OK);
    memcpy(t->x, x, (size_t)n * (size_t)d * sizeof *x);
    return t;
}

/* The table wrapper finds the columns by name in any order, agrees with the
 * kernel, tolerates absent customer columns and refuses a target without
 * the BG/NBD inputs. */
static void features_table_should_match_the_kernel(void)
{
    static const char *const fn[] = {"frequency", "recency_days", "monetary"}; /* no distinct_products */
    static const char *const tn[] = {"future_spend", "bgnbd_x", "bgnbd_t_x", "bgnbd_T", "repeat_mean_spend"};
    const float fx[] = {4, 8, 120, 1, 10, 35};
    const float tx[] = {99, 2, 30, 38, 20, NAN, 0, 0, 10, 0};
    tribe_table *f = table(2, 3, fn, fx), *tg = table(2, 5, tn, tx);
    float out[2 * TRIBE_LTV_NFEAT], want[TRIBE_LTV_NFEAT];
    CU_ASSERT_EQUAL(tribe_ltv_features_table(&cdnow, f, tg, out), TRIBE_OK);
    tribe_ltv_inputs in[2] = {{2, 30, 38, 20, 120, 4, NAN}, {0, 0, 10, 0, 35, 1, NAN}};
    for (int i = 0; i < 2; i++) {
        tribe_ltv_features1(&cdnow, &in[i], want);
        CU_ASSERT(memcmp(want, out + i * TRIBE_LTV_NFEAT, sizeof want) == 0);
    }
    CU_ASSERT(isnan(out[12]));
    float one[TRIBE_LTV_NFEAT]; /* the second row alone */
    CU_ASSERT_EQUAL(tribe_ltv_features_range(&cdnow, f, tg, 1, 1, one), TRIBE_OK);
    CU_ASSERT(memcmp(one, out + TRIBE_LTV_NFEAT, sizeof one) == 0);
    CU_ASSERT_EQUAL(tribe_ltv_features_table(&cdnow, tg, f, out), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "bgnbd_x"));
    tribe_table_destroy(&f);
    tribe_table_destroy(&tg);
}

/* tribe_ltv_classic_fit = tribe_bgnbd_fit + tribe_gammagamma_fit on the
 * target table's columns, bit for bit. */
static void classic_fit_should_equal_the_separate_fits(void)
{
    enum { N = 400 };
    static const char *const tn[] = {"future_spend", "bgnbd_x", "bgnbd_t_x", "bgnbd_T", "repeat_mean_spend"};
    const tribe_bgnbd truth = {0.5, 6.0, 0.7, 2.5};
    const tribe_gammagamma gt = {4, 3, 20};
    float *tx = malloc(N * 5 * sizeof *tx);
    double *x = malloc(N * sizeof *x), *t = malloc(N * sizeof *t), *T = malloc(N * sizeof *T),
           *mb = malloc(N * sizeof *mb);
    for (int i = 0; i < N; i++) {
        T[i] = 20 + i % 60;
        tribe_bgnbd_simulate1(&truth, 7, i, T[i], &x[i], &t[i]);
        mb[i] = x[i] > 0 ? (double)(float)tribe_gammagamma_simulate1(&gt, 7, i, (int64_t)x[i]) : 0;
        float row[5] = {0, (float)x[i], (float)t[i], (float)T[i], (float)mb[i]};
        x[i] = row[1], t[i] = row[2], T[i] = row[3];
        memcpy(tx + i * 5, row, sizeof row);
    }
    tribe_table *tg = table(N, 5, tn, tx);
    tribe_par *par = tribe_test_serial();
    tribe_ltv_classic c;
    CU_ASSERT_EQUAL_FATAL(tribe_ltv_classic_fit(TRIBE_TEST_ROWS(par, N), tg, 90, &c), TRIBE_OK);
    tribe_bgnbd bg;
    tribe_gammagamma gg;
    tribe_clv_fit_info i1, i2;
    CU_ASSERT_EQUAL(tribe_bgnbd_fit(TRIBE_TEST_ROWS(par, N), x, t, T, NULL, &bg, &i1), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_gammagamma_fit(TRIBE_TEST_ROWS(par, N), x, mb, NULL, &gg, &i2), TRIBE_OK);
    CU_ASSERT(memcmp(&bg, &c.bg, sizeof bg) == 0 && memcmp(&gg, &c.gg, sizeof gg) == 0);
    CU_ASSERT_EQUAL(c.bg_info.loglik, i1.loglik);
    CU_ASSERT_EQUAL(c.gg_info.loglik, i2.loglik);
    CU_ASSERT_EQUAL(c.horizon, 90);
    tribe_par_finalize(&par);
    tribe_table_destroy(&tg);
    free(tx), free(x), free(t), free(T), free(mb);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(features_should_be_the_documented_rates_and_ratios),
        TRIBE_TEST(features_should_be_missing_where_undefined),
        TRIBE_TEST(features_table_should_match_the_kernel),
        TRIBE_TEST(classic_fit_should_equal_the_separate_fits),
        {NULL, NULL}};
    return tribe_test_main("ltv_features", cases);
}
