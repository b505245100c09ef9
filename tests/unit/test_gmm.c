/* Unit tests for the diagonal Gaussian mixture (tribe_gmm_*, tribe/cluster.h):
 * a small exact E/M step, thread independence, and a cross-check against
 * scikit-learn's GaussianMixture (skipped when /usr/bin/python3 lacks it). */
#include "testutil.h"
#include "tribe/cluster.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define NEAR(a, b, tol) CU_ASSERT(fabs((a) - (b)) <= (tol))

static void gmm_estep_should_split_a_midpoint_evenly(void)
{
    /* 1-D, two unit-variance components at 0 and 2 with equal weights: the
     * row x = 1 has r = 1/2 each and log-likelihood log N(1 | 0, 1). */
    tribe_gmm *g = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_gmm_create(2, 1, &g), TRIBE_OK);
    g->weight[0] = g->weight[1] = 0.5;
    g->mean[0] = 0;
    g->mean[1] = 2;
    g->var[0] = g->var[1] = 1;
    float z[] = {1, 1};
    float resp[4];
    tribe_xsum st[6], ll = 0;
    tribe_gmm_ws *ws = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_gmm_ws_create(2, 1, 1, &ws), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_gmm_estep(ws, z, 2, 1, g, st, &ll, resp), TRIBE_OK);
    tribe_gmm_ws_destroy(&ws);
    tribe_gmm_ws_destroy(&ws); /* NULL is fine */
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(resp[i], 0.5f);
    NEAR(tribe_xsum_value(ll), 2 * (-0.5 * log(2 * M_PI) - 0.5), 1e-9);
    CU_ASSERT_EQUAL(tribe_xsum_value(st[0]), 1.0);   /* sum r */
    CU_ASSERT_EQUAL(tribe_xsum_value(st[1]), 1.0);   /* sum r x */
    CU_ASSERT_EQUAL(tribe_xsum_value(st[2]), 1.0);   /* sum r x^2 */
    /* M-step: both components move to x = 1 with variance reg_covar. */
    tribe_gmm_mstep(st, 2, 1e-6, g);
    NEAR(g->mean[0], 1, 1e-12);
    NEAR(g->mean[1], 1, 1e-12);
    NEAR(g->var[0], 1e-6, 1e-12);
    NEAR(g->weight[0], 0.5, 1e-12);
    tribe_gmm_destroy(&g);
    tribe_gmm_destroy(&g);
}

/* n rows of d features around 3 planted centres (float). */
static float *blobs(int64_t n, int d, uint64_t seed, int32_t *truth)
{
    static const double mu[3][4] = {{0, 0, 0, 0}, {3, 1, -2, 0.5}, {-1, 4, 1, -1}};
    float *z = malloc((size_t)n * d * sizeof *z);
    for (int64_t i = 0; i < n; i++) {
        int c = (int)tribe_rng_below(seed, 1, (uint64_t)i, 3);
        if (truth)
            truth[i] = c;
        for (int j = 0; j < d; j++)
            z[i * d + j] = (float)(mu[c][j] + (0.5 + 0.3 * c) * tribe_rng_normal(seed, 2, (uint64_t)(i * d + j)));
    }
    return z;
}

static void gmm_should_not_depend_on_the_thread_count(void)
{
    const int64_t n = 40000;
    const int d = 4, k = 3;
    float *z = blobs(n, d, 11, NULL);
    int32_t *lab = malloc(n * sizeof *lab);
    float *r1 = malloc(n * k * sizeof *r1), *r2 = malloc(n * k * sizeof *r2);
    static const double cent[3 * 4] = {0, 0, 0, 0, 3, 1, -2, 0.5, -1, 4, 1, -1};
    tribe_kmeans_assign(z, n, d, cent, k, lab, NULL);
    tribe_par *par = NULL;
    tribe_gmm *a = NULL, *b = NULL;
    tribe_gmm_cfg cfg;
    tribe_gmm_cfg_default(&cfg);
    CU_ASSERT_EQUAL_FATAL(tribe_par_serial(&par), TRIBE_OK);
    int nt = omp_get_max_threads();
    omp_set_num_threads(1);
    CU_ASSERT_EQUAL_FATAL(tribe_gmm_fit(TRIBE_TEST_DMAT(par, z, n, d), lab, k, cent, &cfg, r1, &a), TRIBE_OK);
    omp_set_num_threads(3);
    CU_ASSERT_EQUAL_FATAL(tribe_gmm_fit(TRIBE_TEST_DMAT(par, z, n, d), lab, k, cent, &cfg, r2, &b), TRIBE_OK);
    omp_set_num_threads(nt);
    CU_ASSERT(memcmp(a->weight, b->weight, (size_t)k * (1 + 2 * d) * sizeof(double)) == 0);
    CU_ASSERT(memcmp(r1, r2, (size_t)n * k * sizeof(float)) == 0);
    CU_ASSERT(a->loglik == b->loglik && a->iterations == b->iterations);
    CU_ASSERT(a->converged && a->iterations > 1);
    /* memberships are probabilities */
    for (int64_t i = 0; i < n; i += 97) {
        double s = r1[i * k] + r1[i * k + 1] + r1[i * k + 2];
        NEAR(s, 1, 1e-5);
    }
    tribe_gmm_destroy(&a);
    tribe_gmm_destroy(&b);
    tribe_par_finalize(&par);
    free(z);
    free(lab);
    free(r1);
    free(r2);
}

static const char GMM_PY[] =
    "import sys, warnings, numpy as np\n"
    "from sklearn.mixture import GaussianMixture\n"
    "warnings.simplefilter('ignore')\n"
    "base, k, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])\n"
    "w = np.loadtxt(base + '.w', ndmin=1)\n"
    "m = np.loadtxt(base + '.m', ndmin=2).reshape(k, d)\n"
    "v = np.loadtxt(base + '.v', ndmin=2).reshape(k, d)\n"
    "X = np.loadtxt(base + '.x', ndmin=2)\n"
    "g = GaussianMixture(k, covariance_type='diag', tol=float(sys.argv[4]), max_iter=int(sys.argv[5]),\n"
    "                    reg_covar=1e-6, weights_init=w, means_init=m, precisions_init=1 / v).fit(X)\n"
    "print(g.n_iter_, repr(g.lower_bound_), repr(g.score(X)))\n"
    "for r in (g.weights_, g.means_.ravel(), g.covariances_.ravel(), g.predict_proba(X)[:5].ravel()):\n"
    "    print(' '.join(repr(float(x)) for x in r))\n";

static void write_vec(const char *base, const char *ext, const double *v, int64_t rows, int cols)
{
    char path[600];
    snprintf(path, sizeof path, "%s%s", base, ext);
    FILE *fp = fopen(path, "w");
    CU_ASSERT_FATAL(fp != NULL);
    for (int64_t i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            fprintf(fp, "%.17g%s", v[i * cols + j], j == cols - 1 ? "\n" : " ");
    fclose(fp);
}

static void gmm_should_agree_with_scikit_learn_from_the_same_start(void)
{
    if (!tribe_test_need_python("sklearn"))
        return;
    enum { N = 400, Dm = 3, K = 3 };
    float *z = blobs(N, Dm, 23, NULL);
    int32_t lab[N];
    float resp[N * K];
    double xd[N * Dm];
    tribe_par *par = NULL;
    tribe_gmm *g = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_par_serial(&par), TRIBE_OK);
    /* A K-Means start, as the runner gives it. */
    double cent[K * Dm];
    tribe_kmeans_cfg kc;
    tribe_kmeans_cfg_default(&kc);
    kc.k = K;
    kc.seed = 4;
    CU_ASSERT_EQUAL_FATAL(tribe_kmeans_fit(TRIBE_TEST_DMAT(par, z, N, Dm), &kc, cent, NULL), TRIBE_OK);
    tribe_kmeans_assign(z, N, Dm, cent, K, lab, NULL);
    /* The start tribe_gmm_fit builds, for scikit-learn's *_init. */
    double w0[K] = {0}, v0[K * Dm] = {0};
    for (int i = 0; i < N; i++) {
        w0[lab[i]] += 1;
        for (int j = 0; j < Dm; j++) {
            double e = (double)z[i * Dm + j] - cent[lab[i] * Dm + j];
            v0[lab[i] * Dm + j] += e * e;
            xd[i * Dm + j] = z[i * Dm + j];
        }
    }
    for (int c = 0; c < K; c++) {
        for (int j = 0; j < Dm; j++)
            v0[c * Dm + j] = v0[c * Dm + j] / w0[c] + 1e-6;
        w0[c] /= (double)N;
    }
    tribe_gmm_cfg cfg;
    tribe_gmm_cfg_default(&cfg);
    cfg.tol = 1e-7; /* many iterations, to compare the whole path */
    cfg.max_iter = 100;
    CU_ASSERT_EQUAL_FATAL(tribe_gmm_fit(TRIBE_TEST_DMAT(par, z, N, Dm), lab, K, cent, &cfg, resp, &g), TRIBE_OK);

    char base[512], py[600], cmd[1400];
    snprintf(base, sizeof base, "%s/gmm", tribe_test_tmpdir());
    snprintf(py, sizeof py, "%s.py", base);
    write_vec(base, ".w", w0, 1, K);
    write_vec(base, ".m", cent, K, Dm);
    write_vec(base, ".v", v0, K, Dm);
    write_vec(base, ".x", xd, N, Dm);
    FILE *fs = fopen(py, "w");
    CU_ASSERT_FATAL(fs != NULL);
    fputs(GMM_PY, fs);
    fclose(fs);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %d %d %.17g %d", py, base, K, Dm, cfg.tol, cfg.max_iter);
    FILE *pp = popen(cmd, "r");
    CU_ASSERT_FATAL(pp != NULL);
    int it = -1, ok = 1;
    double lb = NAN, score = NAN, v;
    ok &= fscanf(pp, "%d %lf %lf", &it, &lb, &score) == 3;
    double *mine[4] = {g->weight, g->mean, g->var, NULL};
    int len[4] = {K, K * Dm, K * Dm, 5 * K};
    double worst = 0;
    for (int r = 0; r < 4 && ok; r++)
        for (int i = 0; i < len[r] && ok; i++) {
            ok &= fscanf(pp, "%lf", &v) == 1;
            double m = r < 3 ? mine[r][i] : (double)resp[i];
            double tol = r < 3 ? 1e-7 * (1 + fabs(v)) : 1e-6;
            if (fabs(m - v) > worst)
                worst = fabs(m - v);
            CU_ASSERT(fabs(m - v) <= tol);
        }
    pclose(pp);
    CU_ASSERT_FATAL(ok);
    if (getenv("TRIBE_TEST_VERBOSE"))
        fprintf(stderr, "sklearn: %d iterations, lower bound %.10g, score %.10g; tribe: %d, %.10g, %.10g; worst "
                "parameter difference %.3g\n", it, lb, score, g->iterations, g->lower_bound, g->loglik, worst);
    CU_ASSERT_EQUAL(g->iterations, it);
    NEAR(g->lower_bound, lb, 1e-9 * (1 + fabs(lb)));
    NEAR(g->loglik, score, 1e-9 * (1 + fabs(score)));
    free(z);
    tribe_gmm_destroy(&g);
    tribe_par_finalize(&par);
}

/* Sure members are customers sure of their own segment: a customer of
 * segment 0 who is 95% sure of component 1 is not one (it counted before,
 * as "sure of some component"). */
static void crispness_should_count_members_sure_of_their_own_segment(void)
{
    const float memb[4 * 2] = {0.95f, 0.05f, 0.05f, 0.95f, 0.60f, 0.40f, 0.02f, 0.98f};
    const int32_t label[4] = {0, 0, 0, 1};
    tribe_par *par = NULL;
    tribe_gmm_crispness *c = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_par_serial(&par), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_gmm_crispness_compute(par, memb, label, 4, 2, &c), TRIBE_OK);
    CU_ASSERT_EQUAL(c->size[0], 3);
    CU_ASSERT_EQUAL(c->crisp[0], 1); /* only the first: the second is sure of segment 1 */
    CU_ASSERT_EQUAL(c->agree[0], 2);
    CU_ASSERT_EQUAL(c->crisp[1], 1);
    CU_ASSERT_DOUBLE_EQUAL(c->mean_max[0], (0.95 + 0.95 + 0.60) / 3, 1e-6);
    tribe_gmm_crispness_destroy(&c);
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(gmm_estep_should_split_a_midpoint_evenly),
        TRIBE_TEST(gmm_should_not_depend_on_the_thread_count),
        TRIBE_TEST(gmm_should_agree_with_scikit_learn_from_the_same_start),
        TRIBE_TEST(crispness_should_count_members_sure_of_their_own_segment),
        {NULL, NULL}};
    return tribe_test_main("gmm", cases);
}
