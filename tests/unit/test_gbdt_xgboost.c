/* Cross-check against XGBoost (/usr/bin/python3, Debian's python3-xgboost):
 * one depth-1 tree on discrete features (each value its own bin in both
 * libraries) picks the same feature, the same partition of the rows and the
 * same leaf values. Skipped (exit 77) when XGBoost is not installed. */
#include "testutil.h"
#include "tribe/gbdt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *PY =
    "import sys, json, numpy as np, xgboost as xgb\n"
    "a = np.loadtxt(sys.argv[1], delimiter=',')\n"
    "x, y = a[:, :-1], a[:, -1]\n"
    "d = xgb.DMatrix(x, label=y)\n"
    "p = {'tree_method': 'hist', 'max_depth': 1, 'eta': 1.0, 'lambda': 1.0, 'min_child_weight': 0,\n"
    "     'base_score': float(sys.argv[2]), 'max_bin': 256, 'nthread': 1}\n"
    "b = xgb.train(p, d, 1)\n"
    "t = json.loads(b.get_dump(dump_format='json')[0])\n"
    "leaf = {c['nodeid']: c['leaf'] for c in t['children']}\n"
    "print(int(t['split'][1:]), repr(t['split_condition']), repr(leaf[t['yes']]), repr(leaf[t['no']]))\n";

static void a_depth_one_tree_should_agree_with_xgboost_hist(void)
{
    if (!tribe_test_need_python("numpy, xgboost"))
        return;

    const int64_t n = 600;
    const int d = 3;
    float *x = malloc(n * d * sizeof *x);
    double *y = malloc(n * sizeof *y);
    for (int64_t i = 0; i < n; i++) {
        for (int f = 0; f < d; f++)
            x[i * d + f] = (float)tribe_rng_below(61, 1, (uint64_t)(i * d + f), 40);
        y[i] = (x[i * d + 1] >= 23 ? 3.0 : 0.0) + 0.5 * x[i * d] / 40 + tribe_rng_normal(61, 2, (uint64_t)i);
    }
    char csv[512], py[600], cmd[1400];
    snprintf(csv, sizeof csv, "%s/xgb.csv", tribe_test_tmpdir());
    snprintf(py, sizeof py, "%s.py", csv);
    FILE *fp = fopen(csv, "w"), *fs = fopen(py, "w");
    CU_ASSERT_FATAL(fp && fs);
    for (int64_t i = 0; i < n; i++)
        fprintf(fp, "%g,%g,%g,%.17g\n", x[i * d], x[i * d + 1], x[i * d + 2], y[i]);
    fputs(PY, fs);
    fclose(fp);
    fclose(fs);

    tribe_par *par = tribe_test_serial();
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.n_rounds = 1;
    cfg.max_leaves = 2;
    cfg.learning_rate = 1.0;
    cfg.lambda = 1.0;
    cfg.min_samples_leaf = 1;
    cfg.min_child_weight = 0;
    tribe_gbdt_model *m = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_gbdt_fit(TRIBE_TEST_DMAT(par, x, n, d), y, NULL, &cfg, &m), TRIBE_OK);
    const tribe_gbdt_node *nd = m->trees[0].nodes;
    CU_ASSERT_FATAL(m->trees[0].n_nodes == 3);

    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %.17g", py, csv, m->base_score[0]);
    FILE *pp = popen(cmd, "r");
    int feat = -1;
    double cond = 0, yes = 0, no = 0;
    CU_ASSERT_FATAL(pp != NULL);
    int got = fscanf(pp, "%d %lf %lf %lf", &feat, &cond, &yes, &no);
    pclose(pp);
    CU_ASSERT_EQUAL_FATAL(got, 4);
    if (getenv("TRIBE_TEST_VERBOSE"))
        fprintf(stderr, "xgboost: f%d < %g: %g / %g; tribe: f%d <= %g: %g / %g\n", feat, cond, yes, no, nd[0].feature,
                nd[0].threshold, nd[nd[0].left].value, nd[nd[0].right].value);
    CU_ASSERT_EQUAL(nd[0].feature, feat);
    /* xgboost: x < cond goes to "yes"; tribe: x <= threshold goes left */
    int64_t differ = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i * d + feat];
        differ += (v < cond) != (v <= nd[0].threshold);
    }
    CU_ASSERT_EQUAL(differ, 0);
    /* XGBoost sums gradients in float: leaf values agree to about 1e-5 */
    CU_ASSERT(fabs(nd[nd[0].left].value - yes) < 1e-4 * fmax(1, fabs(yes)));
    CU_ASSERT(fabs(nd[nd[0].right].value - no) < 1e-4 * fmax(1, fabs(no)));
    tribe_gbdt_model_destroy(&m);
    tribe_par_finalize(&par);
    free(x);
    free(y);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(a_depth_one_tree_should_agree_with_xgboost_hist),
        {NULL, NULL}};
    return tribe_test_main("gbdt_xgboost", cases);
}
