/* Unit tests for the histogram booster (tribe/gbdt.h), serial. */
#include "testutil.h"
#include "tribe/gbdt.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* x[n][d] uniform in [0, 1) keyed by (row, feature). */
static float *uniform_x(int64_t n, int d, uint64_t seed)
{
    float *x = malloc((size_t)n * d * sizeof *x);
    for (int64_t i = 0; i < n; i++)
        for (int f = 0; f < d; f++)
            x[i * d + f] = (float)tribe_rng_unif(seed, 1, (uint64_t)(i * d + f));
    return x;
}

static tribe_gbdt_model *fit(tribe_par *par, const float *x, int64_t n, int d, const double *y,
                             const uint8_t *valid, const tribe_gbdt_cfg *cfg)
{
    tribe_gbdt_model *m = NULL;
    tribe_status st = tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, n, d), y, valid, cfg, &m);
    if (st != TRIBE_OK)
        fprintf(stderr, "fit: %s\n", tribe_errmsg());
    CU_ASSERT_EQUAL(st, TRIBE_OK);
    return m;
}

static void bins_should_give_each_distinct_value_a_bin_when_few(void)
{
    float v[] = {3, 1, 2, 4, 2, 1};
    int64_t off[] = {0, 6};
    tribe_gbdt_bins *b = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_gbdt_bins_from_sample(v, off, 1, 255, &b), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(b->n_edges[0], 3);
    CU_ASSERT(b->edges[0] == 1 && b->edges[1] == 2 && b->edges[2] == 3);
    const float x[] = {0.5f, 1, 1.5f, 2, 3, 4, 5, NAN};
    uint8_t c[8];
    tribe_gbdt_bin_codes(b, x, 8, c);
    const uint8_t want[] = {1, 1, 2, 2, 3, 4, 4, 0};
    CU_ASSERT(memcmp(c, want, 8) == 0);
    tribe_gbdt_bins_destroy(&b);
    CU_ASSERT_PTR_NULL(b);
    tribe_gbdt_bins_destroy(NULL);
}

static void bins_should_sort_negative_values_and_signed_zeros(void)
{
    float v[] = {-3.5f, 2, -0.0f, 0.0f, -1e30f, 7, -3.5f, INFINITY, -INFINITY};
    int64_t off[] = {0, 9};
    tribe_gbdt_bins *b = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_gbdt_bins_from_sample(v, off, 1, 255, &b), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(b->n_edges[0], 6);
    const float want[] = {-INFINITY, -1e30f, -3.5f, 0.0f, 2, 7};
    for (int j = 0; j < 6; j++)
        CU_ASSERT(b->edges[j] == want[j]);
    tribe_gbdt_bins_destroy(&b);
}

static void bins_should_cut_at_quantiles_and_skip_constant_and_missing_features(void)
{
    /* feature 0: 1..100, feature 1: constant 7, feature 2: no values */
    float v[101];
    for (int i = 0; i < 100; i++)
        v[i] = (float)(100 - i);
    v[100] = 7;
    int64_t off[] = {0, 100, 101, 101};
    tribe_gbdt_bins *b = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_gbdt_bins_from_sample(v, off, 3, 4, &b), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(b->n_edges[0], 3);
    CU_ASSERT(b->edges[0] == 25 && b->edges[1] == 50 && b->edges[2] == 75);
    CU_ASSERT_EQUAL(b->n_edges[1], 0);
    CU_ASSERT_EQUAL(b->n_edges[2], 0);
    const float x[] = {25, 7, NAN, 25.5f, 7, 1, 1000, 3, 2};
    uint8_t c[9];
    tribe_gbdt_bin_codes(b, x, 3, c);
    const uint8_t want[] = {1, 1, 0, 2, 1, 1, 4, 1, 1};
    CU_ASSERT(memcmp(c, want, 9) == 0);
    tribe_gbdt_bins_destroy(&b);
    CU_ASSERT_EQUAL(tribe_gbdt_bins_from_sample(v, off, 3, 256, &b), TRIBE_ERR_USAGE);
}

static void bins_fit_should_sample_by_global_row_and_skip_flagged_rows(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 1000;
    float *x = uniform_x(n, 2, 3);
    uint8_t *skip = calloc((size_t)n, 1);
    for (int64_t i = 0; i < n; i++) {
        if (i % 3 == 0)
            x[i * 2 + 1] = NAN;
        skip[i] = i >= 900;
    }
    x[950 * 2] = 100; /* skipped rows never shape the edges */
    tribe_gbdt_bins *b = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_gbdt_bins_fit(TRIBE_TEST_DMAT(par, x, n, 2), skip, 16, 300, 9, &b), TRIBE_OK);
    CU_ASSERT_EQUAL(b->n_edges[0], 15);
    CU_ASSERT_EQUAL(b->n_edges[1], 15);
    for (int f = 0; f < 2; f++)
        for (int j = 0; j < b->n_edges[f]; j++) {
            CU_ASSERT(b->edges[b->off[f] + j] < 1.0f);
            if (j)
                CU_ASSERT(b->edges[b->off[f] + j] > b->edges[b->off[f] + j - 1]);
        }
    tribe_gbdt_bins_destroy(&b);
    free(x);
    free(skip);
    tribe_par_finalize(&par);
}

static void a_single_split_should_recover_a_step_function_exactly(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 400;
    float *x = uniform_x(n, 2, 5);
    double *y = malloc(n * sizeof *y), *p = malloc(n * sizeof *p);
    float lo_max = -1, hi_min = 2;
    for (int64_t i = 0; i < n; i++) {
        /* 200 distinct levels: each its own bin, so the step is representable */
        x[i * 2 + 1] = (float)((i * 37) % 200) / 200.0f;
        y[i] = x[i * 2 + 1] < 0.3f ? 1.0 : 5.0;
        if (y[i] == 1.0 && x[i * 2 + 1] > lo_max)
            lo_max = x[i * 2 + 1];
        if (y[i] == 5.0 && x[i * 2 + 1] < hi_min)
            hi_min = x[i * 2 + 1];
    }
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.n_rounds = 1;
    cfg.max_leaves = 2;
    cfg.learning_rate = 1.0;
    cfg.lambda = 0;
    cfg.min_samples_leaf = 1;
    tribe_gbdt_model *m = fit(par, x, n, 2, y, NULL, &cfg);
    CU_ASSERT_FATAL(m != NULL);
    CU_ASSERT_EQUAL(m->n_trees, 1);
    const tribe_gbdt_node *root = &m->trees[0].nodes[0];
    CU_ASSERT_EQUAL(root->feature, 1);
    CU_ASSERT(root->threshold >= lo_max && root->threshold < hi_min);
    CU_ASSERT_EQUAL(m->trees[0].n_nodes, 3);
    tribe_gbdt_predict(m, x, n, p);
    for (int64_t i = 0; i < n; i++)
        CU_ASSERT(fabs(p[i] - y[i]) < 1e-9);
    tribe_gbdt_model_destroy(&m);
    CU_ASSERT_PTR_NULL(m);
    tribe_gbdt_model_destroy(NULL);
    free(x);
    free(y);
    free(p);
    tribe_par_finalize(&par);
}

/* Targets of 5e8: 400 rows of fixed-point gradients would overflow int64
 * partial sums, so histograms take the 128-bit path; the split and leaves
 * are still exact. */
static void huge_targets_should_still_split_exactly(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 400;
    float *x = uniform_x(n, 1, 43);
    double *y = malloc(n * sizeof *y), *p = malloc(n * sizeof *p);
    for (int64_t i = 0; i < n; i++) {
        x[i] = (float)(i % 50);
        y[i] = x[i] < 20 ? -5e8 : 5e8;
    }
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.n_rounds = 1;
    cfg.max_leaves = 2;
    cfg.learning_rate = 1.0;
    cfg.lambda = 0;
    tribe_gbdt_model *m = fit(par, x, n, 1, y, NULL, &cfg);
    CU_ASSERT_FATAL(m != NULL);
    CU_ASSERT(m->trees[0].nodes[0].threshold == 19.0f);
    tribe_gbdt_predict(m, x, n, p);
    for (int64_t i = 0; i < n; i++)
        CU_ASSERT(fabs(p[i] - y[i]) < 1e-6);
    tribe_gbdt_model_destroy(&m);
    free(x);
    free(y);
    free(p);
    tribe_par_finalize(&par);
}

static double r2(const double *y, const double *p, int64_t n)
{
    double mean = 0, ss = 0, sr = 0;
    for (int64_t i = 0; i < n; i++)
        mean += y[i] / n;
    for (int64_t i = 0; i < n; i++) {
        ss += (y[i] - mean) * (y[i] - mean);
        sr += (y[i] - p[i]) * (y[i] - p[i]);
    }
    return 1 - sr / ss;
}

static void squared_error_boosting_should_fit_a_smooth_function(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 4000;
    const int d = 4;
    float *x = uniform_x(n, d, 7);
    double *y = malloc(n * sizeof *y), *p = malloc(n * sizeof *p);
    for (int64_t i = 0; i < n; i++) {
        const float *r = x + i * d;
        y[i] = sin(6 * r[0]) + 2 * r[1] * r[1] + (r[2] > 0.5f) + 0.05 * tribe_rng_normal(7, 2, (uint64_t)i);
    }
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.n_rounds = 150;
    tribe_gbdt_model *m = fit(par, x, n, d, y, NULL, &cfg);
    CU_ASSERT_FATAL(m != NULL);
    tribe_gbdt_predict(m, x, n, p);
    double fit_r2 = r2(y, p, n);
    CU_ASSERT(fit_r2 > 0.95);
    /* held-out rows from the same function */
    float *xt = uniform_x(1000, d, 8);
    for (int64_t i = 0; i < 1000; i++) {
        const float *r = xt + i * d;
        y[i] = sin(6 * r[0]) + 2 * r[1] * r[1] + (r[2] > 0.5f);
    }
    tribe_gbdt_predict(m, xt, 1000, p);
    CU_ASSERT(r2(y, p, 1000) > 0.95);
    /* the irrelevant feature 3 carries little gain */
    double gain[4] = {0};
    for (int t = 0; t < m->n_trees; t++)
        for (int k = 0; k < m->trees[t].n_nodes; k++)
            if (m->trees[t].nodes[k].feature >= 0)
                gain[m->trees[t].nodes[k].feature] += m->trees[t].nodes[k].gain;
    CU_ASSERT(gain[3] < 0.05 * (gain[0] + gain[1] + gain[2]));
    tribe_gbdt_model_destroy(&m);
    free(x);
    free(xt);
    free(y);
    free(p);
    tribe_par_finalize(&par);
}

/* Counts (Poisson), zero-inflated spend (Tweedie), clicks (logistic). */
static void poisson_tweedie_and_logistic_losses_should_decrease(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 3000;
    const int d = 3;
    float *x = uniform_x(n, d, 11);
    double *y = malloc(n * sizeof *y), *p = malloc(n * sizeof *p);
    tribe_gbdt_objective objs[] = {TRIBE_GBDT_POISSON, TRIBE_GBDT_TWEEDIE, TRIBE_GBDT_LOGISTIC};
    for (int o = 0; o < 3; o++) {
        for (int64_t i = 0; i < n; i++) {
            const float *r = x + i * d;
            double mu = exp(1.5 * r[0] + r[1]);
            double u = tribe_rng_unif(11, 3 + o, (uint64_t)i);
            if (objs[o] == TRIBE_GBDT_POISSON)
                y[i] = floor(mu * 2 * u);
            else if (objs[o] == TRIBE_GBDT_TWEEDIE)
                y[i] = u < 0.4 ? 0 : 20 * mu * u;
            else
                y[i] = u < 1 / (1 + exp(-(4 * r[0] - 2))) ? 1 : 0;
        }
        tribe_gbdt_cfg cfg;
        tribe_gbdt_cfg_default(&cfg);
        cfg.objective = objs[o];
        cfg.n_rounds = 40;
        cfg.max_leaves = 8;
        tribe_gbdt_model *m = fit(par, x, n, d, y, NULL, &cfg);
        CU_ASSERT_FATAL(m != NULL);
        CU_ASSERT_EQUAL(m->n_hist, 40);
        CU_ASSERT(m->train_loss[39] < m->train_loss[0] - 1e-3);
        for (int r = 1; r < 40; r++)
            CU_ASSERT(m->train_loss[r] <= m->train_loss[r - 1] + 1e-9);
        tribe_gbdt_predict(m, x, n, p);
        for (int64_t i = 0; i < n; i++)
            CU_ASSERT(objs[o] == TRIBE_GBDT_LOGISTIC ? (p[i] > 0 && p[i] < 1) : p[i] > 0);
        tribe_gbdt_model_destroy(&m);
    }
    free(x);
    free(y);
    free(p);
    tribe_par_finalize(&par);
}

static void softmax_should_separate_three_classes(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 1500;
    float *x = uniform_x(n, 2, 13);
    double *y = malloc(n * sizeof *y), *p = malloc(3 * n * sizeof *p);
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i * 2] < 0.33f ? 0 : x[i * 2 + 1] < 0.5f ? 1 : 2;
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.objective = TRIBE_GBDT_SOFTMAX;
    cfg.n_class = 3;
    cfg.n_rounds = 20;
    cfg.max_leaves = 4;
    tribe_gbdt_model *m = fit(par, x, n, 2, y, NULL, &cfg);
    CU_ASSERT_FATAL(m != NULL);
    CU_ASSERT_EQUAL(m->n_groups, 3);
    CU_ASSERT_EQUAL(m->n_trees, 60);
    tribe_gbdt_predict(m, x, n, p);
    int64_t right = 0;
    for (int64_t i = 0; i < n; i++) {
        double s = p[3 * i] + p[3 * i + 1] + p[3 * i + 2];
        CU_ASSERT(fabs(s - 1) < 1e-12);
        int best = p[3 * i + 1] > p[3 * i] ? 1 : 0;
        best = p[3 * i + 2] > p[3 * i + best] ? 2 : best;
        right += best == (int)y[i];
    }
    CU_ASSERT(right > 0.98 * n);
    tribe_gbdt_model_destroy(&m);
    free(x);
    free(y);
    free(p);
    tribe_par_finalize(&par);
}

static void missing_values_should_learn_their_own_direction(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 600;
    float *x = uniform_x(n, 1, 17);
    double *y = malloc(n * sizeof *y), p[3];
    for (int64_t i = 0; i < n; i++) {
        if (i % 4 == 0)
            x[i] = NAN;
        /* missing rows behave like the high ones */
        y[i] = isnan(x[i]) || x[i] > 0.5f ? 10 : 0;
    }
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.n_rounds = 1;
    cfg.max_leaves = 2;
    cfg.learning_rate = 1;
    cfg.lambda = 0;
    tribe_gbdt_model *m = fit(par, x, n, 1, y, NULL, &cfg);
    CU_ASSERT_FATAL(m != NULL);
    CU_ASSERT_EQUAL(m->trees[0].nodes[0].default_left, 0);
    const float q[] = {NAN, 0.1f, 0.9f};
    tribe_gbdt_predict(m, q, 3, p);
    CU_ASSERT(fabs(p[0] - 10) < 1e-9 && fabs(p[1]) < 1e-9 && fabs(p[2] - 10) < 1e-9);
    tribe_gbdt_model_destroy(&m);
    free(x);
    free(y);
    tribe_par_finalize(&par);
}

static void constant_and_all_missing_features_should_never_be_split(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 500;
    const int d = 3;
    float *x = uniform_x(n, d, 19);
    double *y = malloc(n * sizeof *y);
    for (int64_t i = 0; i < n; i++) {
        x[i * d] = 4.0f;
        x[i * d + 2] = NAN;
        y[i] = x[i * d + 1] + (i % 2);
    }
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.n_rounds = 10;
    tribe_gbdt_model *m = fit(par, x, n, d, y, NULL, &cfg);
    CU_ASSERT_FATAL(m != NULL);
    int splits = 0;
    for (int t = 0; t < m->n_trees; t++)
        for (int k = 0; k < m->trees[t].n_nodes; k++) {
            int f = m->trees[t].nodes[k].feature;
            CU_ASSERT(f == -1 || f == 1);
            splits += f == 1;
        }
    CU_ASSERT(splits > 0);
    tribe_gbdt_model_destroy(&m);
    free(x);
    free(y);
    tribe_par_finalize(&par);
}

static void early_stopping_should_keep_the_best_round(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 2000;
    float *x = uniform_x(n, 2, 23);
    double *y = malloc(n * sizeof *y);
    uint8_t *valid = malloc(n);
    for (int64_t i = 0; i < n; i++) {
        valid[i] = i % 5 == 0;
        /* pure noise: the validation loss soon stops improving */
        y[i] = tribe_rng_normal(23, 4, (uint64_t)i);
    }
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.n_rounds = 200;
    cfg.learning_rate = 0.3;
    cfg.min_samples_leaf = 5;
    cfg.early_stopping_rounds = 5;
    tribe_gbdt_model *m = fit(par, x, n, 2, y, valid, &cfg);
    CU_ASSERT_FATAL(m != NULL);
    CU_ASSERT(m->n_hist < 200);
    CU_ASSERT_EQUAL(m->n_hist, m->best_round + 1 + 5);
    CU_ASSERT_EQUAL(m->n_trees, m->best_round + 1);
    for (int r = 0; r < m->n_hist; r++)
        CU_ASSERT(m->valid_loss[r] >= m->valid_loss[m->best_round]);
    tribe_gbdt_model_destroy(&m);
    /* early stopping without validation rows is a usage error */
    CU_ASSERT_EQUAL(tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, n, 2), y, NULL, &cfg, &m), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NULL(m);
    free(x);
    free(y);
    free(valid);
    tribe_par_finalize(&par);
}

static void save_and_load_should_round_trip_predictions_bit_for_bit(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 1000;
    const int d = 3;
    float *x = uniform_x(n, d, 29);
    double *y = malloc(n * sizeof *y), *p1 = malloc(n * sizeof *p1), *p2 = malloc(n * sizeof *p2);
    for (int64_t i = 0; i < n; i++) {
        if (i % 7 == 0)
            x[i * d + 1] = NAN;
        y[i] = exp(x[i * d] + x[i * d + 2]) * (i % 3);
        if (i % 5 == 0) /* -inf is a legal value and may become an edge */
            x[i * d + 2] = -INFINITY;
    }
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.objective = TRIBE_GBDT_TWEEDIE;
    cfg.tweedie_power = 1.3;
    cfg.n_rounds = 20;
    cfg.subsample = 0.7;
    tribe_gbdt_model *m = fit(par, x, n, d, y, NULL, &cfg), *back = NULL;
    CU_ASSERT_FATAL(m != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/model.json", tribe_test_tmpdir());
    CU_ASSERT_EQUAL_FATAL(tribe_gbdt_save(m, path), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_gbdt_load(path, &back), TRIBE_OK);
    tribe_gbdt_predict(m, x, n, p1);
    tribe_gbdt_predict(back, x, n, p2);
    CU_ASSERT(memcmp(p1, p2, n * sizeof *p1) == 0);
    char *j1 = NULL, *j2 = NULL;
    CU_ASSERT_EQUAL(tribe_gbdt_to_json(m, &j1), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_gbdt_to_json(back, &j2), TRIBE_OK);
    CU_ASSERT(j1 && j2 && strcmp(j1, j2) == 0);
    CU_ASSERT(j1 && strstr(j1, "\"threshold\":-1e999"));
    free(j1);
    free(j2);
    tribe_gbdt_model_destroy(&m);
    tribe_gbdt_model_destroy(&back);
    free(x);
    free(y);
    free(p1);
    free(p2);
    tribe_par_finalize(&par);
}

static void a_model_of_another_version_should_fail_naming_both_versions(void)
{
    tribe_gbdt_model *m = NULL;
    const char *v2 = "{\"format\":\"tribe-gbdt\",\"version\":2,\"objective\":\"squared\",\"tweedie_power\":0,"
                     "\"n_features\":1,\"n_groups\":1,\"best_round\":0,\"base_score\":[0],\"trees\":[]}";
    CU_ASSERT_EQUAL(tribe_gbdt_from_json(v2, &m), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "version 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "version 1"));
    /* the same text at version 1 loads */
    char *v1 = strdup(v2);
    strstr(v1, "\"version\":2")[10] = '1';
    CU_ASSERT_EQUAL(tribe_gbdt_from_json(v1, &m), TRIBE_OK);
    tribe_gbdt_model_destroy(&m);
    /* a child index pointing backwards is rejected, naming the node */
    const char *cyc = "{\"format\":\"tribe-gbdt\",\"version\":1,\"objective\":\"squared\",\"tweedie_power\":0,"
                      "\"n_features\":1,\"n_groups\":1,\"best_round\":0,\"base_score\":[0],\"trees\":[{\"group\":0,"
                      "\"nodes\":[{\"feature\":0,\"threshold\":1,\"bin\":1,\"default_left\":true,\"left\":0,"
                      "\"right\":1,\"gain\":1,\"cover\":2},{\"leaf\":1,\"cover\":1}]}]}";
    CU_ASSERT_EQUAL(tribe_gbdt_from_json(cyc, &m), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "trees[0].nodes[0]"));
    CU_ASSERT_EQUAL(tribe_gbdt_from_json("{not json", &m), TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(tribe_gbdt_load("/nonexistent/model.json", &m), TRIBE_ERR_IO);
    free(v1);
}

static void bad_targets_and_tiny_data_should_fail_clearly(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 50;
    float *x = uniform_x(n, 2, 31);
    double *y = calloc(n, sizeof *y);
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.n_rounds = 2;
    tribe_gbdt_model *m = NULL;
    y[17] = NAN;
    /* global index = offset + local row */
    tribe_rows at1000 = {par, n, 1000, 1000 + n}; /* (one rank's view of a larger table) */
    CU_ASSERT_EQUAL(tribe_gbdt_fit(&(tribe_dmat){&at1000, x, 2}, y, NULL, &cfg, &m), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "row 1017"));
    y[17] = -1;
    cfg.objective = TRIBE_GBDT_POISSON;
    CU_ASSERT_EQUAL(tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, n, 2), y, NULL, &cfg, &m), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "row 17"));
    y[17] = 0;
    cfg.min_samples_leaf = 51;
    CU_ASSERT_EQUAL(tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, n, 2), y, NULL, &cfg, &m), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "min_samples_leaf"));
    /* 50 rows, min_samples_leaf 30: no split fits; a constant model */
    cfg.min_samples_leaf = 30;
    cfg.objective = TRIBE_GBDT_SQUARED;
    y[3] = 5;
    CU_ASSERT_EQUAL_FATAL(tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, n, 2), y, NULL, &cfg, &m), TRIBE_OK);
    for (int t = 0; t < m->n_trees; t++)
        CU_ASSERT_EQUAL(m->trees[t].n_nodes, 1);
    tribe_gbdt_model_destroy(&m);
    cfg.tweedie_power = 2.5;
    cfg.objective = TRIBE_GBDT_TWEEDIE;
    CU_ASSERT_EQUAL(tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, n, 2), y, NULL, &cfg, &m), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "tweedie_power"));
    free(x);
    free(y);
    tribe_par_finalize(&par);
}

static void the_model_should_not_depend_on_the_thread_count(void)
{
    /* 80,000 rows: large enough for the threaded paths (histogram blocks,
     * row moves between buffers); squared error (constant hessian, not
     * summed) and Poisson (summed hessians) */
    tribe_par *par = tribe_test_serial();
    const int64_t n = 80000;
    const int d = 4;
    float *x = uniform_x(n, d, 37);
    double *y = malloc(n * sizeof *y);
    for (int o = 0; o < 2; o++) {
        for (int64_t i = 0; i < n; i++) {
            y[i] = 3 * x[i * d] - x[i * d + 1] * x[i * d + 3] + tribe_rng_normal(37, 1, (uint64_t)i);
            if (o == 1)
                y[i] = exp(0.3 * y[i]);
        }
        tribe_gbdt_cfg cfg;
        tribe_gbdt_cfg_default(&cfg);
        cfg.objective = o == 0 ? TRIBE_GBDT_SQUARED : TRIBE_GBDT_POISSON;
        cfg.n_rounds = 5;
        cfg.subsample = 0.8;
        char *j[2] = {NULL, NULL};
        int saved = omp_get_max_threads();
        for (int k = 0; k < 2; k++) {
            omp_set_num_threads(k == 0 ? 1 : 3);
            tribe_gbdt_model *m = fit(par, x, n, d, y, NULL, &cfg);
            CU_ASSERT_FATAL(m != NULL);
            CU_ASSERT_EQUAL(tribe_gbdt_to_json(m, &j[k]), TRIBE_OK);
            tribe_gbdt_model_destroy(&m);
        }
        omp_set_num_threads(saved);
        CU_ASSERT(j[0] && j[1] && strlen(j[0]) > 1000 && strcmp(j[0], j[1]) == 0);
        free(j[0]);
        free(j[1]);
    }
    free(x);
    free(y);
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(bins_should_give_each_distinct_value_a_bin_when_few),
        TRIBE_TEST(bins_should_sort_negative_values_and_signed_zeros),
        TRIBE_TEST(bins_should_cut_at_quantiles_and_skip_constant_and_missing_features),
        TRIBE_TEST(bins_fit_should_sample_by_global_row_and_skip_flagged_rows),
        TRIBE_TEST(a_single_split_should_recover_a_step_function_exactly),
        TRIBE_TEST(huge_targets_should_still_split_exactly),
        TRIBE_TEST(squared_error_boosting_should_fit_a_smooth_function),
        TRIBE_TEST(poisson_tweedie_and_logistic_losses_should_decrease),
        TRIBE_TEST(softmax_should_separate_three_classes),
        TRIBE_TEST(missing_values_should_learn_their_own_direction),
        TRIBE_TEST(constant_and_all_missing_features_should_never_be_split),
        TRIBE_TEST(early_stopping_should_keep_the_best_round),
        TRIBE_TEST(save_and_load_should_round_trip_predictions_bit_for_bit),
        TRIBE_TEST(a_model_of_another_version_should_fail_naming_both_versions),
        TRIBE_TEST(bad_targets_and_tiny_data_should_fail_clearly),
        TRIBE_TEST(the_model_should_not_depend_on_the_thread_count),
        {NULL, NULL}};
    return tribe_test_main("gbdt", cases);
}
