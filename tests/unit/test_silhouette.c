/* Unit tests for the sampled silhouette and the 2-D projection
 * (tribe/cluster.h), against brute force and, when available, sklearn. */
#include "testutil.h"
#include "tribe/cluster.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Overlapping blobs so silhouettes spread over [-1, 1]; a singleton cluster
 * k-1 when `singleton` (row 0). */
static void make_data(int64_t n, int d, int k, int singleton, float **z, int32_t **lab)
{
    *z = malloc((size_t)n * d * sizeof **z);
    *lab = malloc((size_t)n * sizeof **lab);
    for (int64_t i = 0; i < n; i++) {
        int c = (int)(i % (singleton ? k - 1 : k));
        (*lab)[i] = c;
        for (int j = 0; j < d; j++)
            (*z)[i * d + j] = (float)(1.5 * (j == c % d) + tribe_rng_normal(4, 2, (uint64_t)(i * d + j)));
    }
    if (singleton) {
        (*lab)[0] = k - 1;
        for (int j = 0; j < d; j++)
            (*z)[j] = 9.0f;
    }
}

static void silhouette_of_every_row_should_equal_brute_force(void)
{
    tribe_par *par = tribe_test_serial();
    int64_t n = 400;
    int d = 3, k = 4;
    for (int singleton = 0; singleton < 2; singleton++) {
        float *z;
        int32_t *lab;
        make_data(n, d, k, singleton, &z, &lab);
        double mean = 0, ci = 0;
        CU_ASSERT_EQUAL_FATAL(tribe_silhouette_sample(TRIBE_TEST_DMAT(par, z, n, d), lab, k, n, 1, &mean, &ci),
                              TRIBE_OK);
        double want = tribe_test_silhouette(z, lab, n, d, k, 0);
        /* Distances are float sums (about 1e-7 relative), rounded to 2^-20. */
        CU_ASSERT_DOUBLE_EQUAL(mean, want, 1e-7);
        CU_ASSERT_EQUAL(ci, 0.0);
        CU_ASSERT(mean > -1 && mean < 1);
        free(z);
        free(lab);
    }
    tribe_par_finalize(&par);
}

static void silhouette_should_agree_with_sklearn(void)
{
    const char *py = "/usr/bin/python3";
    if (!tribe_test_need_python("sklearn"))
        return;
    tribe_par *par = tribe_test_serial();
    int64_t n = 300;
    int d = 4, k = 5;
    float *z;
    int32_t *lab;
    make_data(n, d, k, 1, &z, &lab);
    char dir[256], path[512], cmd[1200];
    snprintf(dir, sizeof dir, "%s", tribe_test_tmpdir());
    snprintf(path, sizeof path, "%s/sil.csv", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int64_t i = 0; i < n; i++) {
        fprintf(f, "%d", lab[i]);
        for (int j = 0; j < d; j++)
            fprintf(f, ",%.9g", z[i * d + j]);
        fprintf(f, "\n");
    }
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "%s -c \"import numpy as np; from sklearn.metrics import silhouette_score as s; "
             "a=np.loadtxt('%s',delimiter=',',dtype=np.float64); print('%%.15f' %% s(a[:,1:], a[:,0].astype(int)))\"",
             py, path);
    FILE *p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    double want = NAN;
    CU_ASSERT_EQUAL(fscanf(p, "%lf", &want), 1);
    pclose(p);
    unlink(path);
    rmdir(dir);
    double mean = 0, ci = 0;
    CU_ASSERT_EQUAL(tribe_silhouette_sample(TRIBE_TEST_DMAT(par, z, n, d), lab, k, n, 1, &mean, &ci), TRIBE_OK);
    CU_ASSERT_DOUBLE_EQUAL(mean, want, 1e-6);
    free(z);
    free(lab);
    tribe_par_finalize(&par);
}

static void sampled_silhouette_should_bracket_the_exact_one(void)
{
    tribe_par *par = tribe_test_serial();
    int64_t n = 3000;
    int d = 3, k = 3;
    float *z;
    int32_t *lab;
    make_data(n, d, k, 0, &z, &lab);
    double exact = 0, ci0 = 0, mean = 0, ci = 0;
    CU_ASSERT_EQUAL(tribe_silhouette_sample(TRIBE_TEST_DMAT(par, z, n, d), lab, k, n, 1, &exact, &ci0), TRIBE_OK);
    int inside = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        CU_ASSERT_EQUAL(tribe_silhouette_sample(TRIBE_TEST_DMAT(par, z, n, d), lab, k, 300, seed, &mean, &ci),
                        TRIBE_OK);
        CU_ASSERT(ci > 0 && ci < 0.1);
        inside += fabs(mean - exact) <= ci;
    }
    CU_ASSERT(inside >= 7); /* 95% intervals: 10 of 10 expected, 7 leaves room */
    /* one non-empty cluster: undefined */
    for (int64_t i = 0; i < n; i++)
        lab[i] = 1;
    CU_ASSERT_EQUAL(tribe_silhouette_sample(TRIBE_TEST_DMAT(par, z, n, d), lab, k, 100, 1, &mean, &ci), TRIBE_OK);
    CU_ASSERT(isnan(mean) && isnan(ci));
    lab[3] = 7;
    CU_ASSERT_EQUAL(tribe_silhouette_sample(TRIBE_TEST_DMAT(par, z, n, d), lab, k, 100, 1, &mean, &ci),
                    TRIBE_ERR_INPUT);
    free(z);
    free(lab);
    tribe_par_finalize(&par);
}

static void silhouette_and_projection_should_not_depend_on_the_thread_count(void)
{
    tribe_par *par = tribe_test_serial();
    int64_t n = 20000; /* above TRIBE_OMP_MIN_WORK */
    int d = 4, k = 3;
    float *z;
    int32_t *lab;
    make_data(n, d, k, 0, &z, &lab);
    double m1, c1, m2, c2;
    tribe_projection *p1 = NULL, *p2 = NULL;
    int nt = omp_get_max_threads();
    omp_set_num_threads(1);
    CU_ASSERT_EQUAL(tribe_silhouette_sample(TRIBE_TEST_DMAT(par, z, n, d), lab, k, 200, 3, &m1, &c1), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_projection_fit(TRIBE_TEST_DMAT(par, z, n, d), lab, 300, 3, &p1), TRIBE_OK);
    omp_set_num_threads(2);
    CU_ASSERT_EQUAL(tribe_silhouette_sample(TRIBE_TEST_DMAT(par, z, n, d), lab, k, 200, 3, &m2, &c2), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_projection_fit(TRIBE_TEST_DMAT(par, z, n, d), lab, 300, 3, &p2), TRIBE_OK);
    omp_set_num_threads(nt);
    CU_ASSERT(m1 == m2 && c1 == c2);
    CU_ASSERT_FATAL(p1 && p2 && p1->m == p2->m);
    CU_ASSERT(memcmp(p1->xy, p2->xy, (size_t)p1->m * 2 * sizeof(float)) == 0);
    tribe_projection_destroy(&p1);
    tribe_projection_destroy(&p2);
    free(z);
    free(lab);
    tribe_par_finalize(&par);
}

static void projection_should_find_the_dominant_direction(void)
{
    tribe_par *par = tribe_test_serial();
    int64_t n = 1000;
    int d = 3;
    float *z = malloc((size_t)n * d * sizeof *z);
    /* variance 16 along (1, 1, 0)/sqrt2, 1 along z, 0.01 across */
    for (int64_t i = 0; i < n; i++) {
        double a = 4 * tribe_rng_normal(1, 1, (uint64_t)i), b = 0.1 * tribe_rng_normal(1, 2, (uint64_t)i);
        z[i * d] = (float)((a + b) * M_SQRT1_2);
        z[i * d + 1] = (float)((a - b) * M_SQRT1_2);
        z[i * d + 2] = (float)tribe_rng_normal(1, 3, (uint64_t)i);
    }
    tribe_projection *p = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_projection_fit(TRIBE_TEST_DMAT(par, z, n, d), NULL, n, 1, &p), TRIBE_OK);
    CU_ASSERT_EQUAL(p->m, n); /* sample_size >= n: every row, in order */
    int pc = 0, share = -1;
    CU_ASSERT_EQUAL(sscanf(p->axis[0], "PC%d (%d%% of variance)", &pc, &share), 2);
    CU_ASSERT(pc == 1 && share >= 92 && share <= 96); /* 16 / 17.01 */
    CU_ASSERT_PTR_NOT_NULL(strstr(p->axis[1], "PC2 ("));
    CU_ASSERT_EQUAL(p->label[0], -1);
    /* PC1 coordinate ~ (x + y)/sqrt2 minus its mean; sign fixed positive */
    double mx = 0;
    for (int64_t i = 0; i < n; i++)
        mx += (z[i * d] + z[i * d + 1]) * M_SQRT1_2 / n;
    CU_ASSERT_DOUBLE_EQUAL(p->xy[10], (z[5 * d] + z[5 * d + 1]) * M_SQRT1_2 - mx, 1e-2);
    tribe_projection_destroy(&p);
    /* one feature: PC2 is 0 */
    CU_ASSERT_EQUAL_FATAL(tribe_projection_fit(TRIBE_TEST_DMAT(par, z, n, 1), NULL, 10, 1, &p), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(p->axis[0], "PC1 (100% of variance)");
    CU_ASSERT_STRING_EQUAL(p->axis[1], "PC2 (0% of variance)");
    for (int64_t a = 0; a < p->m; a++)
        CU_ASSERT_EQUAL(p->xy[a * 2 + 1], 0.0f);
    tribe_projection_destroy(&p);
    free(z);
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(silhouette_of_every_row_should_equal_brute_force),
        TRIBE_TEST(silhouette_should_agree_with_sklearn),
        TRIBE_TEST(sampled_silhouette_should_bracket_the_exact_one),
        TRIBE_TEST(silhouette_and_projection_should_not_depend_on_the_thread_count),
        TRIBE_TEST(projection_should_find_the_dominant_direction),
        {NULL, NULL}};
    return tribe_test_main("silhouette", cases);
}
