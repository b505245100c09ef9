/* Degenerate training sets for the booster (issue 4, "Bad input"), serial:
 * no usable feature at all, a single row, the min_samples_leaf boundary,
 * and tribe_gbdt_fit_blocks on one rank. Documented in docs/gbdt.md and
 * docs/ltv.md ("Bad input"). */
#include "testutil.h"
#include "tribe/gbdt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Every feature constant or all-missing: nothing can be split; the fit
 * succeeds with single-leaf trees and predicts the training mean, with or
 * without early stopping, for every objective that takes y >= 0. */
static void no_splittable_feature_should_give_a_constant_model(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 300;
    const int d = 3;
    float *x = malloc((size_t)n * d * sizeof *x);
    double *y = malloc((size_t)n * sizeof *y);
    uint8_t *valid = malloc((size_t)n);
    double sum = 0;
    int64_t ntr = 0;
    for (int64_t i = 0; i < n; i++) {
        x[i * d] = 2.5f;     /* constant */
        x[i * d + 1] = NAN;  /* all missing */
        x[i * d + 2] = -1.0f; /* constant */
        y[i] = (double)(i % 7);
        valid[i] = i % 5 == 0;
        if (!valid[i]) {
            sum += y[i];
            ntr++;
        }
    }
    tribe_gbdt_objective objs[] = {TRIBE_GBDT_SQUARED, TRIBE_GBDT_POISSON, TRIBE_GBDT_TWEEDIE};
    for (int o = 0; o < 3; o++) {
        tribe_gbdt_cfg cfg;
        tribe_gbdt_cfg_default(&cfg);
        cfg.objective = objs[o];
        cfg.n_rounds = 30;
        cfg.early_stopping_rounds = 3;
        tribe_gbdt_model *m = NULL;
        tribe_status st = tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, n, d), y, valid, &cfg, &m);
        CU_ASSERT_EQUAL_FATAL(st, TRIBE_OK);
        CU_ASSERT(m->n_trees >= 1);
        for (int t = 0; t < m->n_trees; t++)
            CU_ASSERT_EQUAL(m->trees[t].n_nodes, 1);
        double p[2];
        float probe[2 * 3] = {2.5f, NAN, -1.0f, 100.0f, 3.0f, NAN}; /* unseen values too */
        tribe_gbdt_predict(m, probe, 2, p);
        CU_ASSERT(isfinite(p[0]) && p[0] == p[1]);
        /* boosting a constant only moves toward the training mean */
        CU_ASSERT(fabs(p[0] - sum / (double)ntr) < 0.02 * (sum / (double)ntr));
        double *phi = malloc((size_t)2 * (d + 1) * sizeof *phi);
        CU_ASSERT_EQUAL(tribe_gbdt_shap(m, probe, 2, phi), TRIBE_OK);
        for (int f = 0; f < d; f++)
            CU_ASSERT_EQUAL(phi[f], 0.0);
        free(phi);
        tribe_gbdt_model_destroy(&m);
    }
    free(x);
    free(y);
    free(valid);
    tribe_par_finalize(&par);
}

/* min_samples_leaf counts training rows (validation rows excluded): one
 * row fewer than it is an INPUT error naming both numbers; exactly as many
 * fit (nothing can be split: each child would be smaller). */
static void rows_at_the_min_samples_leaf_boundary(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 12;
    float x[12];
    double y[12];
    uint8_t valid[12];
    for (int64_t i = 0; i < n; i++) {
        x[i] = (float)i;
        y[i] = (double)(i % 3);
        valid[i] = i >= 10; /* 10 training rows */
    }
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.n_rounds = 3;
    cfg.min_samples_leaf = 11;
    tribe_gbdt_model *m = NULL;
    CU_ASSERT_EQUAL(tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, n, 1), y, valid, &cfg, &m), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "10 training rows, fewer than min_samples_leaf = 11"));
    CU_ASSERT_PTR_NULL(m);
    cfg.min_samples_leaf = 10;
    CU_ASSERT_EQUAL_FATAL(tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, n, 1), y, valid, &cfg, &m), TRIBE_OK);
    for (int t = 0; t < m->n_trees; t++)
        CU_ASSERT_EQUAL(m->trees[t].n_nodes, 1);
    tribe_gbdt_model_destroy(&m);
    /* one training row, min_samples_leaf 1: a constant model too */
    cfg.min_samples_leaf = 1;
    CU_ASSERT_EQUAL_FATAL(tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, 1, 1), y, NULL, &cfg, &m), TRIBE_OK);
    CU_ASSERT_EQUAL(m->trees[0].n_nodes, 1);
    tribe_gbdt_model_destroy(&m);
    /* no row at all */
    CU_ASSERT_EQUAL(tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, 0, 1), y, NULL, &cfg, &m), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "0 training rows"));
    tribe_par_finalize(&par);
}

/* On one rank, stacking blocks equals fitting their concatenation; an
 * empty block is allowed; bad shapes are usage errors. */
static void stacked_blocks_should_equal_the_concatenation(void)
{
    tribe_par *par = tribe_test_serial();
    enum { N = 400, D = 2 };
    float x[N * D];
    double y[N];
    uint8_t v[N];
    for (int i = 0; i < N; i++) {
        x[i * D] = (float)tribe_rng_unif(3, 1, (uint64_t)i);
        x[i * D + 1] = i % 9 == 0 ? NAN : (float)tribe_rng_unif(3, 2, (uint64_t)i);
        y[i] = 3 * x[i * D] + tribe_rng_normal(3, 3, (uint64_t)i);
        v[i] = i % 4 == 0;
    }
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.n_rounds = 8;
    cfg.subsample = 0.6;
    cfg.bin_sample = 100;
    cfg.early_stopping_rounds = 2;
    tribe_gbdt_model *a = NULL, *b = NULL;
    char *ja = NULL, *jb = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, N, D), y, v, &cfg, &a), TRIBE_OK);
    tribe_rows rows[3] = {{par, 150, 0, 150}, {par, 0, 0, 0}, {par, N - 150, 0, N - 150}};
    tribe_gbdt_block blk[3] = {
        {{&rows[0], x, D}, y, v},
        {{&rows[1], x, D}, y, v}, /* empty */
        {{&rows[2], x + 150 * D, D}, y + 150, v + 150},
    };
    CU_ASSERT_EQUAL_FATAL(tribe_gbdt_fit_blocks(blk, 3, &cfg, &b), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_gbdt_to_json(a, &ja), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_gbdt_to_json(b, &jb), TRIBE_OK);
    CU_ASSERT(ja && jb && strcmp(ja, jb) == 0);
    tribe_gbdt_model_destroy(&b);
    rows[0].n_global = 151; /* a layout made without tribe_rows_init: still caught */
    CU_ASSERT_EQUAL(tribe_gbdt_fit_blocks(blk, 3, &cfg, &b), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "block 0: the ranks hold 150 rows in all, but n_global = 151"));
    CU_ASSERT_PTR_NULL(b);
    CU_ASSERT_EQUAL(tribe_gbdt_fit_blocks(blk, 0, &cfg, &b), TRIBE_ERR_USAGE);
    blk[1].x.d = D + 1; /* blocks of different widths */
    CU_ASSERT_EQUAL(tribe_gbdt_fit_blocks(blk, 3, &cfg, &b), TRIBE_ERR_USAGE);
    tribe_gbdt_model_destroy(&a);
    free(ja);
    free(jb);
    tribe_par_finalize(&par);
}

/* Squared error keeps residuals in 2^-32 fixed point below 2^30, and a row
 * loss above 1e15 is divergence: a $2e9 whale against a base of about $2e6
 * fails with INPUT "gradients overflowed", a $1e8 one with "the loss
 * diverged", both on all rows (gradients updated in place) and on a
 * subsample (gradients from the scores). */
static void targets_past_the_fixed_point_range_should_fail_with_input(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 1000;
    const int d = 2;
    float *x = malloc((size_t)n * d * sizeof *x);
    double *y = malloc((size_t)n * sizeof *y);
    const double whale[2] = {2e9, 1e8};
    const char *says[2] = {"gradients overflowed in round 0", "the loss diverged in round 0"};
    for (int w = 0; w < 2; w++) {
        for (int64_t i = 0; i < n; i++) {
            x[i * d] = (float)(i % 10);
            x[i * d + 1] = (float)(i % 3);
            y[i] = i == 17 ? whale[w] : (double)(i % 10);
        }
        for (int s = 0; s < 2; s++) {
            tribe_gbdt_cfg cfg;
            tribe_gbdt_cfg_default(&cfg);
            cfg.n_rounds = 3;
            cfg.subsample = s ? 0.8 : 1.0;
            tribe_gbdt_model *m = NULL;
            tribe_status st = tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, n, d), y, NULL, &cfg, &m);
            CU_ASSERT_EQUAL(st, TRIBE_ERR_INPUT);
            CU_ASSERT_PTR_NULL(m);
            CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), says[w]));
            tribe_gbdt_model_destroy(&m);
        }
    }
    free(x);
    free(y);
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(no_splittable_feature_should_give_a_constant_model),
        TRIBE_TEST(rows_at_the_min_samples_leaf_boundary),
        TRIBE_TEST(stacked_blocks_should_equal_the_concatenation),
        TRIBE_TEST(targets_past_the_fixed_point_range_should_fail_with_input),
        {NULL, NULL}};
    return tribe_test_main("gbdt_degenerate", cases);
}
