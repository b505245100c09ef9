/* Unit tests for TreeSHAP (tribe_gbdt_shap): additivity on trained models and
 * equality with brute-force Shapley values of the path-dependent value
 * function on small trees. */
#include "testutil.h"
#include "tribe/gbdt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float *data(int64_t n, int d, uint64_t seed, double *y, int objective)
{
    float *x = malloc((size_t)n * d * sizeof *x);
    for (int64_t i = 0; i < n; i++) {
        for (int f = 0; f < d; f++) {
            x[i * d + f] = (float)tribe_rng_unif(seed, 1, (uint64_t)(i * d + f));
            if ((i + f) % 11 == 0)
                x[i * d + f] = NAN;
        }
        double a = isnan(x[i * d]) ? 0.5 : x[i * d], b = isnan(x[i * d + 1]) ? 0.2 : x[i * d + 1];
        double s = 3 * a * b + (d > 2 && x[i * d + 2] > 0.3f) - a + 0.1 * tribe_rng_normal(seed, 2, (uint64_t)i);
        if (objective == TRIBE_GBDT_SOFTMAX)
            y[i] = s < 0 ? 0 : s < 0.8 ? 1 : 2;
        else if (objective == TRIBE_GBDT_POISSON)
            y[i] = floor(exp(s) * tribe_rng_unif(seed, 3, (uint64_t)i) * 2);
        else
            y[i] = s;
    }
    return x;
}

/* Path-dependent value of a tree for the features in mask: follow the row
 * where the split feature is known, else average the children by cover. */
static double tree_value(const tribe_gbdt_tree *t, int node, const float *xr, unsigned mask)
{
    const tribe_gbdt_node *nd = &t->nodes[node];
    if (nd->feature < 0)
        return nd->value;
    if (mask >> nd->feature & 1) {
        float v = xr[nd->feature];
        int left = isnan(v) ? nd->default_left : v <= nd->threshold;
        return tree_value(t, left ? nd->left : nd->right, xr, mask);
    }
    return (t->nodes[nd->left].cover * tree_value(t, nd->left, xr, mask) +
            t->nodes[nd->right].cover * tree_value(t, nd->right, xr, mask)) / nd->cover;
}

static double fact(int k)
{
    double r = 1;
    for (int i = 2; i <= k; i++)
        r *= i;
    return r;
}

/* Shapley values of the model's group k by enumerating every subset. */
static void brute_shap(const tribe_gbdt_model *m, const float *xr, int k, double *phi)
{
    int d = m->n_features;
    for (int f = 0; f < d; f++) {
        phi[f] = 0;
        for (unsigned s = 0; s < (1u << d); s++) {
            if (s >> f & 1)
                continue;
            int sz = __builtin_popcount(s);
            double w = fact(sz) * fact(d - sz - 1) / fact(d), dv = 0;
            for (int t = 0; t < m->n_trees; t++)
                if (m->trees[t].group == k)
                    dv += tree_value(&m->trees[t], 0, xr, s | 1u << f) - tree_value(&m->trees[t], 0, xr, s);
            phi[f] += w * dv;
        }
    }
}

static void check_additivity(const tribe_gbdt_model *m, const float *x, int64_t n)
{
    int d = m->n_features, ng = m->n_groups;
    double *phi = malloc((size_t)n * ng * (d + 1) * sizeof *phi), *raw = malloc((size_t)n * ng * sizeof *raw);
    CU_ASSERT_EQUAL_FATAL(tribe_gbdt_shap(m, x, n, phi), TRIBE_OK);
    tribe_gbdt_predict_raw(m, x, n, raw);
    double ev[8];
    tribe_gbdt_expected_value(m, ev);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < ng; k++) {
            const double *p = phi + ((size_t)i * ng + k) * (d + 1);
            double s = 0;
            for (int f = 0; f <= d; f++)
                s += p[f];
            bad += !(fabs(s - raw[i * ng + k]) <= 1e-5 * fmax(1.0, fabs(raw[i * ng + k])));
            bad += p[d] != ev[k];
        }
    CU_ASSERT_EQUAL(bad, 0);
    free(phi);
    free(raw);
}

static void contributions_should_sum_to_the_raw_prediction(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 2000;
    const int d = 6;
    double *y = malloc(n * sizeof *y);
    int objs[] = {TRIBE_GBDT_SQUARED, TRIBE_GBDT_POISSON, TRIBE_GBDT_SOFTMAX};
    for (int o = 0; o < 3; o++) {
        float *x = data(n, d, 41 + o, y, objs[o]);
        tribe_gbdt_cfg cfg;
        tribe_gbdt_cfg_default(&cfg);
        cfg.objective = (tribe_gbdt_objective)objs[o];
        cfg.n_class = 3;
        cfg.n_rounds = 30;
        cfg.max_leaves = 15; /* deep leaf-wise trees that reuse features */
        cfg.min_samples_leaf = 5;
        cfg.subsample = 0.8;
        tribe_gbdt_model *m = NULL;
        CU_ASSERT_EQUAL_FATAL(tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, n, d), y, NULL, &cfg, &m), TRIBE_OK);
        check_additivity(m, x, n);
        tribe_gbdt_model_destroy(&m);
        free(x);
    }
    free(y);
    tribe_par_finalize(&par);
}

static void contributions_should_equal_brute_force_shapley_values_on_small_trees(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 300;
    const int d = 4;
    double *y = malloc(n * sizeof *y);
    int objs[] = {TRIBE_GBDT_SQUARED, TRIBE_GBDT_SOFTMAX};
    for (int o = 0; o < 2; o++) {
        float *x = data(n, d, 53 + o, y, objs[o]);
        tribe_gbdt_cfg cfg;
        tribe_gbdt_cfg_default(&cfg);
        cfg.objective = (tribe_gbdt_objective)objs[o];
        cfg.n_class = 3;
        cfg.n_rounds = 4;
        cfg.max_depth = 3;
        cfg.max_leaves = 8;
        cfg.min_samples_leaf = 3;
        cfg.learning_rate = 0.5;
        tribe_gbdt_model *m = NULL;
        CU_ASSERT_EQUAL_FATAL(tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, n, d), y, NULL, &cfg, &m), TRIBE_OK);
        int ng = m->n_groups, reused = 0;
        /* the trees should exercise a feature split twice on one path */
        for (int t = 0; t < m->n_trees; t++)
            for (int k = 0; k < m->trees[t].n_nodes; k++) {
                const tribe_gbdt_node *nd = &m->trees[t].nodes[k];
                if (nd->feature >= 0 && m->trees[t].nodes[nd->left].feature == nd->feature)
                    reused = 1;
                if (nd->feature >= 0 && m->trees[t].nodes[nd->right].feature == nd->feature)
                    reused = 1;
            }
        CU_ASSERT(o == 1 || reused);
        double *phi = malloc((size_t)n * ng * (d + 1) * sizeof *phi), want[4];
        CU_ASSERT_EQUAL_FATAL(tribe_gbdt_shap(m, x, n, phi), TRIBE_OK);
        double worst = 0;
        for (int64_t i = 0; i < n; i++)
            for (int k = 0; k < ng; k++) {
                brute_shap(m, x + i * d, k, want);
                for (int f = 0; f < d; f++)
                    worst = fmax(worst, fabs(phi[((size_t)i * ng + k) * (d + 1) + f] - want[f]));
            }
        CU_ASSERT(worst < 1e-9);
        free(phi);
        tribe_gbdt_model_destroy(&m);
        free(x);
    }
    free(y);
    tribe_par_finalize(&par);
}

/* One hand-made split: x0 <= 0.5 -> 1 (cover 3), else 5 (cover 1). */
static void a_single_split_should_give_the_textbook_values(void)
{
    tribe_gbdt_node nodes[3];
    memset(nodes, 0, sizeof nodes);
    nodes[0] = (tribe_gbdt_node){.feature = 0, .left = 1, .right = 2, .bin = 1, .default_left = 1, .threshold = 0.5f, .cover = 4};
    nodes[1] = (tribe_gbdt_node){.feature = -1, .left = -1, .right = -1, .value = 1, .cover = 3};
    nodes[2] = (tribe_gbdt_node){.feature = -1, .left = -1, .right = -1, .value = 5, .cover = 1};
    tribe_gbdt_tree tree = {.group = 0, .n_nodes = 3, .nodes = nodes};
    double base = 10;
    tribe_gbdt_model m = {.objective = TRIBE_GBDT_SQUARED, .n_features = 2, .n_groups = 1,
                          .base_score = &base, .n_trees = 1, .trees = &tree};
    const float x[] = {0.0f, 7.0f, 0.9f, 7.0f, NAN, 1.0f};
    double phi[9];
    CU_ASSERT_EQUAL_FATAL(tribe_gbdt_shap(&m, x, 3, phi), TRIBE_OK);
    /* expected value 10 + (3 * 1 + 1 * 5) / 4 = 12 */
    const double want[] = {-1, 0, 12, 3, 0, 12, -1, 0, 12};
    for (int k = 0; k < 9; k++)
        CU_ASSERT_DOUBLE_EQUAL(phi[k], want[k], 1e-12);
}

static void mean_abs_shap_should_average_per_segment(void)
{
    tribe_par *par = tribe_test_serial();
    /* 3 rows, 1 group, d = 2: phi rows (a, b, ev) */
    const double phi[] = {1, -2, 9, -3, 4, 9, 5, 5, 9};
    const int32_t seg[] = {1, 1, -1};
    double out[4];
    int64_t cnt[2];
    CU_ASSERT_EQUAL_FATAL(tribe_gbdt_shap_mean_abs(par, phi, 3, 1, 2, seg, 2, out, cnt), TRIBE_OK);
    CU_ASSERT(out[0] == 0 && out[1] == 0 && cnt[0] == 0);
    CU_ASSERT_DOUBLE_EQUAL(out[2], 2.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(out[3], 3.0, 1e-9);
    CU_ASSERT_EQUAL(cnt[1], 2);
    const int32_t bad[] = {0, 2, 0};
    CU_ASSERT_EQUAL(tribe_gbdt_shap_mean_abs(par, phi, 3, 1, 2, bad, 2, out, NULL), TRIBE_ERR_INPUT);
    tribe_par_finalize(&par);
}

static void top_contributions_should_rank_by_magnitude_with_ties_low(void)
{
    const double phi[] = {0.5, -2, 1, 2, 0, 99};
    int idx[5];
    double val[5];
    CU_ASSERT_EQUAL(tribe_gbdt_top_contrib(phi, 5, 3, idx, val), 3);
    CU_ASSERT(idx[0] == 1 && idx[1] == 3 && idx[2] == 2);
    CU_ASSERT(val[0] == -2 && val[1] == 2 && val[2] == 1);
    CU_ASSERT_EQUAL(tribe_gbdt_top_contrib(phi, 5, 9, idx, val), 5);
    CU_ASSERT(idx[3] == 0 && idx[4] == 4);
}

static void gain_importance_should_sum_split_gains_per_feature(void)
{
    tribe_gbdt_node nodes[5];
    memset(nodes, 0, sizeof nodes);
    nodes[0] = (tribe_gbdt_node){.feature = 1, .left = 1, .right = 2, .gain = 3, .cover = 4};
    nodes[1] = (tribe_gbdt_node){.feature = 1, .left = 3, .right = 4, .gain = 0.5, .cover = 2};
    nodes[2] = (tribe_gbdt_node){.feature = -1, .cover = 2};
    nodes[3] = (tribe_gbdt_node){.feature = -1, .cover = 1};
    nodes[4] = (tribe_gbdt_node){.feature = -1, .cover = 1};
    tribe_gbdt_tree trees[2] = {{.group = 0, .n_nodes = 5, .nodes = nodes}, {.group = 0, .n_nodes = 1, .nodes = nodes + 2}};
    double base = 0, gain[3];
    tribe_gbdt_model m = {.n_features = 3, .n_groups = 1, .base_score = &base, .n_trees = 2, .trees = trees};
    tribe_gbdt_importance_gain(&m, gain);
    CU_ASSERT(gain[0] == 0 && gain[1] == 3.5 && gain[2] == 0);
}

static int depth_of(const tribe_gbdt_tree *t, int node)
{
    const tribe_gbdt_node *nd = &t->nodes[node];
    if (nd->feature < 0)
        return 0;
    int a = depth_of(t, nd->left), b = depth_of(t, nd->right);
    return 1 + (a > b ? a : b);
}

/* The tables give every row's contributions bit for bit as the recursion:
 * softmax and regression models, missing values, shallow trees (tables) and a
 * deep one (depth over 10: the recursion inside the row function). */
static void table_rows_should_equal_the_recursion_bit_for_bit(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t n = 3000;
    const int d = 6;
    static const struct {
        int objective, leaves, depth, rounds;
    } cases[] = {{TRIBE_GBDT_SOFTMAX, 15, 0, 12}, {TRIBE_GBDT_SQUARED, 8, 3, 10}, {TRIBE_GBDT_SQUARED, 64, 0, 4},
                 {TRIBE_GBDT_SQUARED, 2, 0, 3}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        double *y = malloc(n * sizeof *y);
        float *x = data(n, d, 40 + c, y, cases[c].objective);
        for (int64_t i = 0; c == 2 && i < n; i++) /* a spike at 0: leaf-wise growth chains down into it */
            y[i] = isnan(x[i * d]) ? 0 : 1.0 / (x[i * d] + 1e-3);
        tribe_gbdt_cfg cfg;
        tribe_gbdt_cfg_default(&cfg);
        cfg.objective = cases[c].objective;
        cfg.n_class = 3;
        cfg.n_rounds = cases[c].rounds;
        cfg.max_leaves = cases[c].leaves;
        cfg.max_depth = cases[c].depth;
        cfg.min_samples_leaf = 2;
        tribe_gbdt_model *m = NULL;
        tribe_gbdt_shap_table *tb = NULL;
        CU_ASSERT_EQUAL_FATAL(tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, n, d), y, NULL, &cfg, &m), TRIBE_OK);
        CU_ASSERT_EQUAL_FATAL(tribe_gbdt_shap_table_build(m, &tb), TRIBE_OK);
        int deepest = 0;
        for (int t = 0; t < m->n_trees; t++)
            deepest = depth_of(&m->trees[t], 0) > deepest ? depth_of(&m->trees[t], 0) : deepest;
        if (c == 2)
            CU_ASSERT(deepest > 10); /* the recursion's fallback is exercised */
        if (c == 0)
            CU_ASSERT(deepest >= 4 && deepest <= 10); /* tables */
        size_t w = (size_t)m->n_groups * (d + 1);
        double *ref = malloc(w * n * sizeof *ref), *row = malloc(w * sizeof *row);
        CU_ASSERT_EQUAL_FATAL(tribe_gbdt_shap(m, x, n, ref), TRIBE_OK);
        int64_t differ = 0;
        for (int64_t i = 0; i < n; i++) {
            CU_ASSERT_EQUAL(tribe_gbdt_shap_row(tb, x + i * d, row), TRIBE_OK);
            differ += memcmp(row, ref + i * w, w * sizeof *row) != 0;
        }
        CU_ASSERT_EQUAL(differ, 0);
        if (differ)
            fprintf(stderr, "case %zu: %lld of %lld rows differ\n", c, (long long)differ, (long long)n);
        tribe_gbdt_shap_table_destroy(&tb);
        CU_ASSERT_PTR_NULL(tb);
        tribe_gbdt_model_destroy(&m);
        free(ref);
        free(row);
        free(x);
        free(y);
    }
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(contributions_should_sum_to_the_raw_prediction),
        TRIBE_TEST(table_rows_should_equal_the_recursion_bit_for_bit),
        TRIBE_TEST(contributions_should_equal_brute_force_shapley_values_on_small_trees),
        TRIBE_TEST(a_single_split_should_give_the_textbook_values),
        TRIBE_TEST(mean_abs_shap_should_average_per_segment),
        TRIBE_TEST(top_contributions_should_rank_by_magnitude_with_ties_low),
        TRIBE_TEST(gain_importance_should_sum_split_gains_per_feature),
        {NULL, NULL}};
    return tribe_test_main("treeshap", cases);
}
