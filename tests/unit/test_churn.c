/* Unit tests for src/predict/churn.c and churn_metrics.c: AUC (ties count
 * half), Brier score and the calibration table on small exact cases and
 * against a brute-force pair count; BG/NBD's P(no purchase in h); the extra
 * columns. */
#include "testutil.h"
#include "tribe/churn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static tribe_churn_metrics metrics_of(const double *risk, const uint8_t *y, int64_t n, tribe_status *st)
{
    tribe_par *par = tribe_test_serial();
    tribe_churn_metrics m;
    memset(&m, 0, sizeof m);
    *st = tribe_churn_metrics_compute(TRIBE_TEST_ROWS(par, n), risk, y, &m);
    tribe_par_finalize(&par);
    return m;
}

/* Churners at 0.4 and 0.8, stayers at 0.1, 0.4, 0.4: the churner at 0.4
 * beats 0.1 and ties twice (1 + 1/2 + 1/2), the one at 0.8 beats all three:
 * 5 of 6 pairs. */
static void auc_should_count_ties_as_half(void)
{
    double risk[5] = {0.1, 0.4, 0.4, 0.8, 0.4};
    uint8_t y[5] = {0, 1, 0, 1, 0};
    tribe_status st;
    tribe_churn_metrics m = metrics_of(risk, y, 5, &st);
    CU_ASSERT_EQUAL_FATAL(st, TRIBE_OK);
    CU_ASSERT_EQUAL(m.n, 5);
    CU_ASSERT_EQUAL(m.n_churned, 2);
    CU_ASSERT_DOUBLE_EQUAL(m.auc, 5.0 / 6.0, 1e-15);
}

static void auc_should_be_one_half_for_one_risk_and_one_or_zero_when_sorted(void)
{
    double flat[4] = {0.3, 0.3, 0.3, 0.3}, up[4] = {0.1, 0.2, 0.7, 0.9};
    uint8_t y[4] = {0, 0, 1, 1}, down[4] = {1, 1, 0, 0}, one[4] = {1, 1, 1, 1};
    tribe_status st;
    CU_ASSERT_EQUAL(metrics_of(flat, y, 4, &st).auc, 0.5);
    CU_ASSERT_EQUAL(metrics_of(up, y, 4, &st).auc, 1.0);
    CU_ASSERT_EQUAL(metrics_of(up, down, 4, &st).auc, 0.0);
    CU_ASSERT(isnan(metrics_of(up, one, 4, &st).auc)); /* one class: no pair */
    CU_ASSERT_EQUAL(st, TRIBE_OK);
}

/* 2,000 rows on 21 risk levels (many ties) against the O(n^2) pair count. */
static void auc_should_equal_a_brute_force_pair_count(void)
{
    enum { N = 2000 };
    double *risk = malloc(N * sizeof *risk);
    uint8_t *y = malloc(N);
    for (int i = 0; i < N; i++) {
        risk[i] = floor(21 * tribe_rng_unif(3, 1, (uint64_t)i)) / 20;
        y[i] = tribe_rng_unif(3, 2, (uint64_t)i) < 0.3 + 0.4 * risk[i];
    }
    double num = 0, pos = 0, neg = 0;
    for (int i = 0; i < N; i++) {
        pos += y[i];
        neg += !y[i];
        for (int j = 0; j < N && y[i]; j++)
            if (!y[j])
                num += risk[i] > risk[j] ? 1.0 : risk[i] == risk[j] ? 0.5 : 0.0;
    }
    tribe_status st;
    tribe_churn_metrics m = metrics_of(risk, y, N, &st);
    CU_ASSERT_EQUAL_FATAL(st, TRIBE_OK);
    CU_ASSERT_DOUBLE_EQUAL(m.auc, num / pos / neg, 1e-14);
    CU_ASSERT(m.auc > 0.6 && m.auc < 0.9);
    free(risk);
    free(y);
}

/* Errors 0, 0.75^2, 0.5^2, 0: Brier 0.8125 / 4. */
static void brier_should_be_the_mean_squared_error(void)
{
    double risk[4] = {0, 0.25, 0.5, 1};
    uint8_t y[4] = {0, 1, 1, 1};
    tribe_status st;
    CU_ASSERT_DOUBLE_EQUAL(metrics_of(risk, y, 4, &st).brier, 0.203125, 1e-9);
}

/* Bin 0: four rows at 0.05, one churner (rate 0.25); bin 9: 0.95 and 1.0
 * (1.0 belongs to the last bin), both churners. ECE = 4/6 |0.05 - 0.25| +
 * 2/6 |0.975 - 1|. Other bins are empty: count 0, NaN means. */
static void calibration_should_bin_by_predicted_risk(void)
{
    double risk[6] = {0.05, 0.05, 0.05, 0.05, 0.95, 1.0};
    uint8_t y[6] = {0, 0, 0, 1, 1, 1};
    tribe_status st;
    tribe_churn_metrics m = metrics_of(risk, y, 6, &st);
    CU_ASSERT_EQUAL_FATAL(st, TRIBE_OK);
    CU_ASSERT_EQUAL(m.bin_count[0], 4);
    CU_ASSERT_EQUAL(m.bin_count[9], 2);
    CU_ASSERT_DOUBLE_EQUAL(m.bin_risk[0], 0.05, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(m.bin_churned[0], 0.25, 0);
    CU_ASSERT_DOUBLE_EQUAL(m.bin_risk[9], 0.975, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(m.bin_churned[9], 1.0, 0);
    int64_t total = 0;
    for (int b = 0; b < TRIBE_CHURN_BINS; b++) {
        total += m.bin_count[b];
        if (b > 0 && b < 9) {
            CU_ASSERT_EQUAL(m.bin_count[b], 0);
            CU_ASSERT(isnan(m.bin_risk[b]) && isnan(m.bin_churned[b]));
        }
    }
    CU_ASSERT_EQUAL(total, m.n);
    CU_ASSERT_DOUBLE_EQUAL(m.ece, 4.0 / 6 * 0.2 + 2.0 / 6 * 0.025, 1e-9);
}

static void metrics_should_reject_bad_rows(void)
{
    double risk[3] = {0.2, 1.5, 0.3}, ok[3] = {0.2, 0.5, 0.3}, nan[3] = {0.2, NAN, 0.3};
    uint8_t y[3] = {0, 1, 0}, y2[3] = {0, 1, 2};
    tribe_status st;
    metrics_of(risk, y, 3, &st);
    CU_ASSERT_EQUAL(st, TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "row 1"));
    metrics_of(nan, y, 3, &st);
    CU_ASSERT_EQUAL(st, TRIBE_ERR_INPUT);
    metrics_of(ok, y2, 3, &st);
    CU_ASSERT_EQUAL(st, TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "row 2"));
    metrics_of(ok, y, 0, &st);
    CU_ASSERT_EQUAL(st, TRIBE_ERR_INPUT);
}

/* With no purchase yet (x = 0, P(alive) = 1) the chance of none in h is the
 * NBD's ((alpha + T) / (alpha + T + h))^r; with a repeat buyer it mixes the
 * dead (certain) and the alive (Gamma(r + x, alpha + T) rate) customers. */
static void p_none_should_mix_the_dead_and_the_quiet(void)
{
    const tribe_bgnbd m = {0.243, 4.414, 0.793, 2.426};
    CU_ASSERT_DOUBLE_EQUAL(tribe_churn_bgnbd_p_none(&m, 0, 0, 30, 10), pow(34.414 / 44.414, 0.243), 1e-14);
    double pa = tribe_bgnbd_p_alive(&m, 2, 30.43, 38.86);
    double want = 1 - pa + pa * pow((4.414 + 38.86) / (4.414 + 38.86 + 39), 2.243);
    CU_ASSERT_DOUBLE_EQUAL(tribe_churn_bgnbd_p_none(&m, 2, 30.43, 38.86, 39), want, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(tribe_churn_bgnbd_p_none(&m, 2, 30.43, 38.86, 0), 1 - pa + pa, 1e-15);
    /* a longer silence after the last purchase means more risk */
    CU_ASSERT(tribe_churn_bgnbd_p_none(&m, 2, 10, 38.86, 39) > tribe_churn_bgnbd_p_none(&m, 2, 30, 38.86, 39));
}

static void extra_columns_should_follow_bgnbd_and_the_own_cadence(void)
{
    const tribe_bgnbd m = {0.243, 4.414, 0.793, 2.426};
    float e[TRIBE_CHURN_EXTRA];
    tribe_churn_extra(&m, 2, 20, 30, 39, e);
    CU_ASSERT_EQUAL(e[0], (float)tribe_bgnbd_p_alive(&m, 2, 20, 30));
    CU_ASSERT_EQUAL(e[1], (float)tribe_bgnbd_expected(&m, 2, 20, 30, 39));
    CU_ASSERT_EQUAL(e[2], (float)tribe_churn_bgnbd_p_none(&m, 2, 20, 30, 39));
    CU_ASSERT_EQUAL(e[3], 1.0f); /* 10 days since the last purchase, one mean gap of 10 */
    tribe_churn_extra(&m, 0, 0, 30, 39, e);
    CU_ASSERT_EQUAL(e[0], 1.0f);
    CU_ASSERT(isnan(e[3])); /* no repeat purchase: no cadence */
    const tribe_bgnbd one = {1, 1, 1, 2}; /* a == 1: E[X] is NaN, left missing */
    tribe_churn_extra(&one, 1, 5, 10, 30, e);
    CU_ASSERT(isnan(e[1]));
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(auc_should_count_ties_as_half),
        TRIBE_TEST(auc_should_be_one_half_for_one_risk_and_one_or_zero_when_sorted),
        TRIBE_TEST(auc_should_equal_a_brute_force_pair_count),
        TRIBE_TEST(brier_should_be_the_mean_squared_error),
        TRIBE_TEST(calibration_should_bin_by_predicted_risk),
        TRIBE_TEST(metrics_should_reject_bad_rows),
        TRIBE_TEST(p_none_should_mix_the_dead_and_the_quiet),
        TRIBE_TEST(extra_columns_should_follow_bgnbd_and_the_own_cadence),
        {NULL, NULL}};
    return tribe_test_main("churn", cases);
}
