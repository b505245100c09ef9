/* Unit tests for cluster quality (Calinski-Harabasz, Davies-Bouldin, the
 * exact squared-Euclidean silhouette, ARI), the sampled silhouette's two
 * distance kernels, and K selection (tribe/cluster.h): tiny exact cases,
 * brute force, and scikit-learn when /usr/bin/python3 has it. */
#include "testutil.h"
#include "tribe/cluster.h"
#include "../../src/cluster/silhouette_internal.h" /* tribe_silhouette_kernel */

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* k overlapping blobs (cluster c shifted by `sep` along axis c % d), labels
 * the planted ones. */
static void blobs(int64_t n, int d, int k, double sep, uint64_t seed, float **z, int32_t **lab)
{
    *z = malloc((size_t)n * d * sizeof **z);
    *lab = malloc((size_t)n * sizeof **lab);
    for (int64_t i = 0; i < n; i++) {
        int c = (int)(i % k);
        (*lab)[i] = c;
        for (int j = 0; j < d; j++)
            (*z)[i * d + j] = (float)(sep * (j == c % d) * (1 + c / d) + tribe_rng_normal(seed, 2, (uint64_t)(i * d + j)));
    }
}

static void quality_of_two_points_per_cluster_should_match_hand_values(void)
{
    /* 1-D: cluster 0 = {0, 2}, cluster 1 = {10, 12}. Means 1 and 11, grand
     * mean 6. Between = 2*25 + 2*25 = 100, within = 4 * 1 = 4,
     * CH = (100 / 1) / (4 / 2) = 50. Spreads 1 and 1, centre distance 10:
     * DB = 0.2. Squared silhouette of x=0: a = 4, b = (100 + 144)/2 = 122,
     * s = 118/122; by symmetry every row has the same s = 1 - 4/122
     * (x=2: a = 4, b = (64 + 100)/2 = 82 -> 78/82). */
    tribe_par *par = tribe_test_serial();
    float z[4] = {0, 2, 10, 12};
    int32_t lab[4] = {0, 0, 1, 1};
    tribe_cluster_quality q;
    const tribe_dmat *zm = TRIBE_TEST_DMAT(par, z, 4, 1);
    CU_ASSERT_EQUAL_FATAL(tribe_cluster_quality_compute(zm, lab, 2, &q), TRIBE_OK);
    CU_ASSERT_DOUBLE_EQUAL(q.ch, 50.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(q.db, 0.2, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(q.silhouette_sq, (118.0 / 122 + 78.0 / 82) / 2, 1e-9);
    CU_ASSERT_EQUAL(q.clusters, 2);
    /* one non-empty cluster of 2: all undefined */
    int32_t one[4] = {1, 1, 1, 1};
    CU_ASSERT_EQUAL_FATAL(tribe_cluster_quality_compute(zm, one, 3, &q), TRIBE_OK);
    CU_ASSERT(isnan(q.ch) && isnan(q.db) && isnan(q.silhouette_sq));
    CU_ASSERT_EQUAL(q.clusters, 1);
    /* a label out of range is an input error */
    int32_t bad[4] = {0, 0, 2, 1};
    CU_ASSERT_EQUAL(tribe_cluster_quality_compute(zm, bad, 2, &q), TRIBE_ERR_INPUT);
    tribe_par_finalize(&par);
}

static void ari_should_match_known_values(void)
{
    tribe_par *par = tribe_test_serial();
    double ari = 0;
    int32_t a[4] = {0, 0, 1, 1}, b[4] = {1, 1, 0, 0}, c[4] = {0, 0, 1, 2}, e[4] = {0, 1, 0, 1};
    CU_ASSERT_EQUAL(tribe_ari(par, a, 2, b, 2, 4, &ari), TRIBE_OK);
    CU_ASSERT_DOUBLE_EQUAL(ari, 1.0, 1e-15); /* a relabelling */
    CU_ASSERT_EQUAL(tribe_ari(par, a, 2, c, 3, 4, &ari), TRIBE_OK);
    CU_ASSERT_DOUBLE_EQUAL(ari, 4.0 / 7.0, 1e-15); /* sklearn: 0.5714285714285715 */
    CU_ASSERT_EQUAL(tribe_ari(par, a, 2, e, 2, 4, &ari), TRIBE_OK);
    CU_ASSERT_DOUBLE_EQUAL(ari, -0.5, 1e-15);
    int32_t z4[4] = {0, 0, 0, 0};
    CU_ASSERT_EQUAL(tribe_ari(par, z4, 1, z4, 1, 4, &ari), TRIBE_OK);
    CU_ASSERT_DOUBLE_EQUAL(ari, 1.0, 0);
    CU_ASSERT_EQUAL(tribe_ari(par, a, 1, b, 2, 4, &ari), TRIBE_ERR_INPUT);
    tribe_par_finalize(&par);
}

static void exact_squared_silhouette_should_equal_brute_force(void)
{
    tribe_par *par = tribe_test_serial();
    int64_t n = 500;
    int d = 3, k = 4;
    float *z;
    int32_t *lab;
    blobs(n, d, k, 2.0, 5, &z, &lab);
    lab[7] = 3; /* uneven sizes */
    tribe_cluster_quality q;
    const tribe_dmat *zm = TRIBE_TEST_DMAT(par, z, n, d);
    CU_ASSERT_EQUAL_FATAL(tribe_cluster_quality_compute(zm, lab, k, &q), TRIBE_OK);
    double want = tribe_test_silhouette(z, lab, n, d, k, 1);
    CU_ASSERT_DOUBLE_EQUAL(q.silhouette_sq, want, 1e-9);
    CU_ASSERT(q.silhouette_sq > -1 && q.silhouette_sq < 1);
    free(z);
    free(lab);
    tribe_par_finalize(&par);
}

/* Runs python on a CSV of "label,other_label,x..." rows and reads numbers. */
static int sklearn_values(const char *csv, const char *expr, double *v, int nv)
{
    char cmd[2400];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import numpy as np; from sklearn import metrics as m; "
             "a=np.loadtxt('%s',delimiter=',',dtype=np.float64); l=a[:,0].astype(int); o=a[:,1].astype(int); "
             "x=a[:,2:]; print(' '.join('%%.17g' %% v for v in [%s]))\"",
             csv, expr);
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    int got = 0;
    while (got < nv && fscanf(p, "%lf", &v[got]) == 1)
        got++;
    pclose(p);
    return got;
}

static void quality_should_agree_with_sklearn(void)
{
    if (!tribe_test_need_python("sklearn"))
        return;
    tribe_par *par = tribe_test_serial();
    int64_t n = 400;
    int d = 4, k = 5;
    float *z;
    int32_t *lab, *other = malloc((size_t)n * sizeof *other);
    blobs(n, d, k, 1.8, 9, &z, &lab);
    for (int64_t i = 0; i < n; i++)
        other[i] = (int32_t)((lab[i] + (i % 7 == 0)) % 4);
    char path[512];
    snprintf(path, sizeof path, "%s/q.csv", tribe_test_tmpdir());
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int64_t i = 0; i < n; i++) {
        fprintf(f, "%d,%d", lab[i], other[i]);
        for (int j = 0; j < d; j++)
            fprintf(f, ",%.9g", z[i * d + j]);
        fprintf(f, "\n");
    }
    fclose(f);
    double v[5];
    int got = sklearn_values(path,
                             "m.calinski_harabasz_score(x,l), m.davies_bouldin_score(x,l), "
                             "m.adjusted_rand_score(l,o), m.silhouette_score(x,l,metric='euclidean'), "
                             "m.silhouette_score(x,l,metric='sqeuclidean')",
                             v, 5);
    unlink(path);
    CU_ASSERT_EQUAL_FATAL(got, 5);
    tribe_cluster_quality q;
    double ari = 0, sil = 0, ci = 0;
    const tribe_dmat *zm = TRIBE_TEST_DMAT(par, z, n, d);
    CU_ASSERT_EQUAL_FATAL(tribe_cluster_quality_compute(zm, lab, k, &q), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_ari(par, lab, k, other, 4, n, &ari), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_silhouette_sample(zm, lab, k, n, 1, &sil, &ci), TRIBE_OK);
    CU_ASSERT_DOUBLE_EQUAL(q.ch, v[0], 1e-9 * v[0]);
    CU_ASSERT_DOUBLE_EQUAL(q.db, v[1], 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(ari, v[2], 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(sil, v[3], 1e-6); /* float distances in the sampled kernel */
    CU_ASSERT_DOUBLE_EQUAL(q.silhouette_sq, v[4], 1e-9);
    free(z);
    free(lab);
    free(other);
    tribe_par_finalize(&par);
}

static void silhouette_kernels_should_give_the_same_bits(void)
{
    /* The portable, AVX2+FMA and AVX-512 kernels (those the CPU has), on 1
     * and 3 threads; a far row exercises the >= 2048 path. */
    tribe_par *par = tribe_test_serial();
    int64_t n = 3001;
    int d = 7, k = 6;
    float *z;
    int32_t *lab;
    blobs(n, d, k, 2.5, 3, &z, &lab);
    for (int j = 0; j < d; j++) {
        z[11 * d + j] = 5000.0f;
        z[12 * d + j] = -3000.0f;
        z[2000 * d + j] = 2500.0f;
    }
    int th = omp_get_max_threads(), best = tribe_silhouette_kernel(-1);
    double m0 = 0, c0 = 0;
    const tribe_dmat *zm = TRIBE_TEST_DMAT(par, z, n, d);
    /* Levels above best are ones the CPU lacks: skipped (and named). */
    for (int level = TRIBE_SIL_PORTABLE_BASE; level <= best; level++) {
        double m = 0, c = 0;
        CU_ASSERT_EQUAL(tribe_silhouette_kernel(level), level);
        omp_set_num_threads(level % 2 ? 3 : 1);
        CU_ASSERT_EQUAL(tribe_silhouette_sample(zm, lab, k, 700, 4, &m, &c), TRIBE_OK);
        if (level == TRIBE_SIL_PORTABLE_BASE) {
            m0 = m;
            c0 = c;
        }
        CU_ASSERT(memcmp(&m0, &m, sizeof m) == 0 && memcmp(&c0, &c, sizeof c) == 0);
    }
    fprintf(stderr, "(kernels 0..%d compared%s) ", best,
            best < TRIBE_SIL_AVX512 ? "; the CPU or TRIBE_SIMD rules out the others" : "");
    CU_ASSERT(m0 > -1 && m0 < 1 && c0 > 0);
    tribe_silhouette_kernel(-1);
    omp_set_num_threads(th);
    free(z);
    free(lab);
    tribe_par_finalize(&par);
}

static void several_labelings_scored_together_should_equal_each_alone(void)
{
    /* Eight labelings of the same rows, as a K sweep scores them: nested
     * ones (few joint clusters, one shared pass) and random ones with many
     * clusters (too many joint clusters: the passes split), with far rows on
     * the >= 2048 path, on 1 and 3 threads; every value must be the bits of
     * scoring that labeling alone. */
    tribe_par *par = tribe_test_serial();
    int64_t n = 10000; /* past the 8 x 900 sampled rows and the far row at 9000 */
    int d = 5, L = TRIBE_LABELINGS_MAX;
    float *z;
    int32_t *lab, *one = malloc((size_t)n * sizeof *one);
    uint16_t *lab16 = malloc((size_t)L * n * sizeof *lab16);
    blobs(n, d, 6, 3.0, 11, &z, &lab);
    for (int j = 0; j < d; j++) {
        z[5 * d + j] = 4000.0f;
        z[9000 * d + j] = -2600.0f;
    }
    tribe_labelings ls = {.n = L, .n_local = n, .lab16 = lab16};
    for (int l = 0; l < L; l++) {
        ls.k[l] = l < 4 ? 6 << (l / 2) : 40 + l;
        ls.coff[l + 1] = ls.coff[l] + ls.k[l];
        for (int64_t i = 0; i < n; i++)
            lab16[(size_t)l * n + i] =
                (uint16_t)(l < 4 ? lab[i] + 6 * (int)((i >> l) % (uint64_t)(1 << (l / 2)))
                                 : (int)tribe_rng_below(12, (uint64_t)l, (uint64_t)i, (uint64_t)ls.k[l]));
    }
    const tribe_dmat *zm = TRIBE_TEST_DMAT(par, z, n, d);
    int th = omp_get_max_threads();
    for (int nt = 1; nt <= 3; nt += 2) {
        omp_set_num_threads(nt);
        double mean[TRIBE_LABELINGS_MAX], ci[TRIBE_LABELINGS_MAX];
        tribe_cluster_quality q[TRIBE_LABELINGS_MAX];
        CU_ASSERT_EQUAL_FATAL(tribe_silhouette_multi(zm, &ls, 900, 8, mean, ci), TRIBE_OK);
        CU_ASSERT_EQUAL_FATAL(tribe_quality_multi(zm, &ls, q), TRIBE_OK);
        for (int l = 0; l < L; l++) {
            for (int64_t i = 0; i < n; i++)
                one[i] = lab16[(size_t)l * n + i];
            double m1, c1;
            tribe_cluster_quality q1;
            CU_ASSERT_EQUAL_FATAL(tribe_silhouette_sample(zm, one, ls.k[l], 900, 8, &m1, &c1), TRIBE_OK);
            CU_ASSERT_EQUAL_FATAL(tribe_cluster_quality_compute(zm, one, ls.k[l], &q1), TRIBE_OK);
            CU_ASSERT(memcmp(&m1, &mean[l], sizeof m1) == 0 && memcmp(&c1, &ci[l], sizeof c1) == 0);
            CU_ASSERT(memcmp(&q1.ch, &q[l].ch, sizeof q1.ch) == 0 && memcmp(&q1.db, &q[l].db, sizeof q1.db) == 0);
            CU_ASSERT(memcmp(&q1.silhouette_sq, &q[l].silhouette_sq, sizeof q1.silhouette_sq) == 0);
            CU_ASSERT_EQUAL(q1.clusters, q[l].clusters);
            CU_ASSERT(isfinite(mean[l]) && isfinite(q[l].ch) && q[l].clusters == ls.k[l]);
        }
    }
    omp_set_num_threads(th);
    free(z);
    free(lab);
    free(one);
    free(lab16);
    tribe_par_finalize(&par);
}

static tribe_ksweep_row mkrow(int k, double inertia, double sil, double sq, double ch, double db, double ari)
{
    tribe_ksweep_row r = {.k = k, .inertia = inertia, .silhouette = sil, .silhouette_ci = 0.01,
                          .silhouette_sq = sq, .ch = ch, .db = db, .stability = ari};
    return r;
}

static void elbow_and_recommendation_should_follow_the_documented_rules(void)
{
    /* Inertia falls steeply to K=4, then slowly: the chord rule finds 4. */
    tribe_ksweep_row r[6] = {mkrow(2, 100, .30, .50, 900, 1.2, .99), mkrow(3, 60, .35, .55, 1000, 1.0, .95),
                             mkrow(4, 30, .40, .60, 1100, 0.9, .97), mkrow(5, 27, .33, .52, 1200, 1.1, .90),
                             mkrow(6, 25, .30, .50, 1000, 1.3, .85), mkrow(7, 24, .28, .47, 950, 1.4, .90)};
    CU_ASSERT_EQUAL(tribe_ksweep_elbow(r, 6), 4);
    char why[512];
    CU_ASSERT_EQUAL(tribe_ksweep_recommend(r, 6, 4, why, sizeof why), 4);
    CU_ASSERT_STRING_EQUAL(why, "K=4: 4 of 5 criteria agree (silhouette, squared-distance silhouette, "
                                "Davies-Bouldin, elbow); Calinski-Harabasz prefers K=5");
    /* K=4 unstable: it may not win; the stable K vote again. */
    r[2].stability = 0.5;
    CU_ASSERT_EQUAL(tribe_ksweep_recommend(r, 6, 4, why, sizeof why), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "unstable (split-half ARI < 0.8): K=4 (0.50)"));
    /* nothing stable: every K competes */
    for (int i = 0; i < 6; i++)
        r[i].stability = 0.1;
    CU_ASSERT_EQUAL(tribe_ksweep_recommend(r, 6, 4, why, sizeof why), 4);
    /* one K: fixed */
    CU_ASSERT_EQUAL(tribe_ksweep_recommend(r, 1, 0, why, sizeof why), 2);
    CU_ASSERT_STRING_EQUAL(why, "K=2: fixed by the job");
    /* a tie (2 votes each) goes to the higher sampled silhouette */
    tribe_ksweep_row t[2] = {mkrow(3, 10, .40, .50, 900, 1.2, NAN), mkrow(4, 9, .30, .60, 800, 1.0, NAN)};
    CU_ASSERT_EQUAL(tribe_ksweep_recommend(t, 2, 0, why, sizeof why), 3);
}

static void sweep_should_recommend_the_planted_k(void)
{
    /* Five well separated blobs in 3-D: every criterion and the stability
     * check agree on K=5. */
    tribe_par *par = tribe_test_serial();
    int64_t n = 4000;
    int d = 3;
    float *z;
    int32_t *lab, *work = malloc((size_t)n * sizeof *work);
    blobs(n, d, 5, 8.0, 21, &z, &lab);
    tribe_ksweep_cfg cfg = {.k_lo = 2, .k_hi = 8, .sil_sample = 500, .stability = 1};
    tribe_kmeans_cfg_default(&cfg.kmeans);
    cfg.kmeans.seed = 5;
    tribe_ksweep *ks = NULL;
    const tribe_dmat *zm = TRIBE_TEST_DMAT(par, z, n, d);
    CU_ASSERT_EQUAL_FATAL(tribe_ksweep_run(zm, &cfg, work, &ks), TRIBE_OK);
    CU_ASSERT_EQUAL(ks->n, 7);
    CU_ASSERT_EQUAL(ks->recommended_k, 5);
    CU_ASSERT(ks->stability_ari > 0.99);
    fprintf(stderr, "(%s) ", ks->reason);
    CU_ASSERT_PTR_NOT_NULL(tribe_ksweep_centroids(ks, 5));
    CU_ASSERT_PTR_NULL(tribe_ksweep_centroids(ks, 9));
    for (int i = 0; i < ks->n; i++)
        CU_ASSERT(ks->row[i].silhouette_sq > -1 && ks->row[i].silhouette_sq < 1 && ks->row[i].ch > 0 &&
                  ks->row[i].db > 0);
    /* Without stability, over more K than one batch scores together: the
     * same values for the same K, the stability NaN (and then stable). */
    tribe_ksweep *k2 = NULL;
    cfg.k_hi = 11;
    cfg.stability = 0;
    CU_ASSERT_EQUAL_FATAL(tribe_ksweep_run(zm, &cfg, work, &k2), TRIBE_OK);
    CU_ASSERT_EQUAL(k2->n, 10);
    for (int i = 0; i < k2->n; i++) {
        CU_ASSERT(isnan(k2->row[i].stability));
        if (i < ks->n) {
            tribe_ksweep_row a = ks->row[i], b = k2->row[i];
            a.stability = b.stability = 0;
            CU_ASSERT(memcmp(&a, &b, sizeof a) == 0);
        }
    }
    CU_ASSERT(isnan(k2->stability_ari));
    CU_ASSERT(k2->recommended_k >= 2 && k2->recommended_k <= 11);
    tribe_ksweep_destroy(&k2);
    /* A fixed K (the caller's labels, scored alone): the row it has in the sweep. */
    cfg.k_lo = cfg.k_hi = 5;
    CU_ASSERT_EQUAL_FATAL(tribe_ksweep_run(zm, &cfg, work, &k2), TRIBE_OK);
    CU_ASSERT_EQUAL(k2->n, 1);
    CU_ASSERT_EQUAL(k2->recommended_k, 5);
    tribe_ksweep_row a = ks->row[3], b = k2->row[0];
    CU_ASSERT(a.k == 5 && isnan(b.stability));
    a.stability = b.stability = 0;
    CU_ASSERT(memcmp(&a, &b, sizeof a) == 0);
    tribe_ksweep_destroy(&k2);
    tribe_ksweep_destroy(&ks);
    tribe_ksweep_destroy(&ks); /* NULL: no-op */
    free(z);
    free(lab);
    free(work);
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(quality_of_two_points_per_cluster_should_match_hand_values),
        TRIBE_TEST(ari_should_match_known_values),
        TRIBE_TEST(exact_squared_silhouette_should_equal_brute_force),
        TRIBE_TEST(quality_should_agree_with_sklearn),
        TRIBE_TEST(silhouette_kernels_should_give_the_same_bits),
        TRIBE_TEST(several_labelings_scored_together_should_equal_each_alone),
        TRIBE_TEST(elbow_and_recommendation_should_follow_the_documented_rules),
        TRIBE_TEST(sweep_should_recommend_the_planted_k),
        {NULL, NULL}};
    return tribe_test_main("quality", cases);
}
