/* Unit tests for the K-Means kernels and driver (tribe/cluster.h), serial. */
#include "testutil.h"
#include "tribe/cluster.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* n rows around `nc` planted centres c_q = 10 * (q-th corner pattern), noise
 * sd `noise`, row i in cluster i % nc. Returns the planted centres too. */
static float *planted(int64_t n, int d, int nc, double noise, uint64_t seed, double *centres)
{
    float *z = malloc((size_t)n * d * sizeof *z);
    for (int q = 0; q < nc; q++)
        for (int j = 0; j < d; j++)
            centres[q * d + j] = ((q >> (j % 3)) & 1 ? 10.0 : -10.0) + 3.0 * (j == q % d);
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            z[i * d + j] = (float)(centres[(i % nc) * d + j] + noise * tribe_rng_normal(seed, 1, (uint64_t)(i * d + j)));
    return z;
}

static void assign_should_pick_the_nearest_centre_and_break_ties_low(void)
{
    const float z[] = {0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 0, 2};
    const double c[] = {0, 0, 2, 0, 4, 0};
    int32_t lab[6];
    float d2[6];
    tribe_kmeans_assign(z, 6, 2, c, 3, lab, d2);
    /* (1,0) is 1 from centres 0 and 1: lowest index; (3,0) likewise 1 vs 2. */
    const int32_t want[] = {0, 0, 1, 1, 2, 0};
    const float want_d2[] = {0, 1, 0, 1, 0, 4};
    for (int i = 0; i < 6; i++) {
        CU_ASSERT_EQUAL(lab[i], want[i]);
        CU_ASSERT_EQUAL(d2[i], want_d2[i]);
    }
    tribe_kmeans_assign(z, 6, 2, c, 3, lab, NULL); /* dist2 optional */
    CU_ASSERT_EQUAL(lab[4], 2);
}

static void sums_should_match_a_naive_loop(void)
{
    int64_t n = 1000;
    int d = 3, k = 4;
    double cent[12];
    float *z = planted(n, d, k, 1.0, 3, cent);
    int32_t *lab = malloc((size_t)n * sizeof *lab);
    for (int64_t i = 0; i < n; i++)
        lab[i] = (int32_t)((i * 7) % (k + 1)) - (i % 11 == 0); /* some -1 and k: skipped */
    tribe_xsum sum[12];
    int64_t cnt[4];
    tribe_kmeans_sums(z, n, d, lab, k, sum, cnt);
    for (int c = 0; c < k; c++) {
        int64_t nc = 0;
        tribe_xsum want[3] = {0, 0, 0};
        for (int64_t i = 0; i < n; i++)
            if (lab[i] == c) {
                nc++;
                for (int j = 0; j < d; j++)
                    want[j] += tribe_xsum_of(z[i * d + j]);
            }
        CU_ASSERT_EQUAL(cnt[c], nc);
        for (int j = 0; j < d; j++)
            CU_ASSERT(sum[c * d + j] == want[j]);
    }
    free(z);
    free(lab);
}

/* Matches each planted centre to its nearest fitted one; returns the worst
 * distance and whether the matching is one-to-one. */
static double match_centres(const double *want, const double *got, int k, int d, int *bijective)
{
    int used[64] = {0};
    double worst = 0;
    *bijective = 1;
    for (int q = 0; q < k; q++) {
        int best = -1;
        double bd = INFINITY;
        for (int c = 0; c < k; c++) {
            double s = 0;
            for (int j = 0; j < d; j++)
                s += (want[q * d + j] - got[c * d + j]) * (want[q * d + j] - got[c * d + j]);
            if (s < bd)
                bd = s, best = c;
        }
        if (used[best]++)
            *bijective = 0;
        if (sqrt(bd) > worst)
            worst = sqrt(bd);
    }
    return worst;
}

static void fit_should_recover_planted_centroids(void)
{
    tribe_par *par = tribe_test_serial();
    int d = 4, k = 5;
    double cent[20], got[20];
    /* Mini-batch path (n > batch_size) and the small-data Lloyd path. */
    int64_t sizes[] = {20000, 600};
    for (int s = 0; s < 2; s++) {
        int64_t n = sizes[s];
        float *z = planted(n, d, k, 0.5, 11, cent);
        tribe_kmeans_cfg cfg;
        tribe_kmeans_cfg_default(&cfg);
        cfg.k = k;
        cfg.seed = 7;
        tribe_kmeans_info info;
        CU_ASSERT_EQUAL_FATAL(tribe_kmeans_fit(TRIBE_TEST_DMAT(par, z, n, d), &cfg, got, &info), TRIBE_OK);
        int bij = 0;
        double worst = match_centres(cent, got, k, d, &bij);
        CU_ASSERT(bij);
        CU_ASSERT(worst < 5 * 0.5 * sqrt((double)d * k / (double)n));
        /* Well separated: the fit is the planted groups' own means. */
        double emp[20] = {0};
        for (int64_t i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
                emp[(i % k) * d + j] += z[i * d + j] / (double)(n / k);
        CU_ASSERT(match_centres(emp, got, k, d, &bij) < 1e-6);
        CU_ASSERT(info.steps >= 1);
        /* inertia ~ n * d * noise^2 for a correct fit */
        CU_ASSERT(info.inertia > 0.8 * n * d * 0.25 && info.inertia < 1.2 * n * d * 0.25);
        free(z);
    }
    tribe_par_finalize(&par);
}

static void fit_should_reject_k_above_the_number_of_customers(void)
{
    tribe_par *par = tribe_test_serial();
    float z[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    double c[16];
    tribe_kmeans_cfg cfg;
    tribe_kmeans_cfg_default(&cfg);
    cfg.k = 8;
    CU_ASSERT_EQUAL(tribe_kmeans_fit(TRIBE_TEST_DMAT(par, z, 5, 2), &cfg, c, NULL), TRIBE_ERR_INPUT);
    CU_ASSERT_STRING_EQUAL(tribe_errmsg(), "K=8 but only 5 customers");
    cfg.k = 0;
    CU_ASSERT_EQUAL(tribe_kmeans_fit(TRIBE_TEST_DMAT(par, z, 5, 2), &cfg, c, NULL), TRIBE_ERR_USAGE);
    /* rows that do not tile [0, n_global) are a caller bug, caught once,
     * where the fit's rows are made */
    tribe_rows rows;
    CU_ASSERT_EQUAL(tribe_rows_init(par, 5, 0, 6, &rows), TRIBE_ERR_INTERNAL);
    CU_ASSERT_EQUAL(tribe_rows_init(par, 5, 1, 5, &rows), TRIBE_ERR_INTERNAL);
    CU_ASSERT_EQUAL_FATAL(tribe_rows_init(par, 5, 0, 5, &rows), TRIBE_OK);
    cfg.k = 2;
    CU_ASSERT_EQUAL(tribe_kmeans_fit(&(tribe_dmat){&rows, z, 2}, &cfg, c, NULL), TRIBE_OK);
    tribe_par_finalize(&par);
}

static void fit_should_reject_k_above_the_number_of_distinct_rows(void)
{
    tribe_par *par = tribe_test_serial();
    float z[20];
    for (int i = 0; i < 10; i++) {
        z[2 * i] = (float)(i % 3);
        z[2 * i + 1] = 1;
    }
    double c[8];
    tribe_kmeans_cfg cfg;
    tribe_kmeans_cfg_default(&cfg);
    cfg.k = 4;
    CU_ASSERT_EQUAL(tribe_kmeans_fit(TRIBE_TEST_DMAT(par, z, 10, 2), &cfg, c, NULL), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "only 3 distinct"));
    cfg.k = 3;
    CU_ASSERT_EQUAL(tribe_kmeans_fit(TRIBE_TEST_DMAT(par, z, 10, 2), &cfg, c, NULL), TRIBE_OK);
    tribe_par_finalize(&par);
}

static void fit_should_not_leave_empty_clusters_when_k_equals_distinct_points(void)
{
    tribe_par *par = tribe_test_serial();
    int d = 2, k = 6;
    /* 6 distinct points, very unequal multiplicities; a small init sample so
     * seeding sees only a few of them (exercises the farthest-row fallback
     * and the restarts of empty clusters), both with few and many rows. */
    int64_t sizes[] = {60, 30000};
    for (int s = 0; s < 2; s++) {
        int64_t n = sizes[s];
        float *z = malloc((size_t)n * d * sizeof *z);
        for (int64_t i = 0; i < n; i++) {
            int p = i % 10 < 5 ? 0 : (int)(i % 10) - 4; /* point 0 holds half */
            z[i * d] = (float)p;
            z[i * d + 1] = (float)(p * p);
        }
        double c[12];
        tribe_kmeans_cfg cfg;
        tribe_kmeans_cfg_default(&cfg);
        cfg.k = k;
        cfg.seed = 5;
        cfg.init_sample = 3;
        CU_ASSERT_EQUAL_FATAL(tribe_kmeans_fit(TRIBE_TEST_DMAT(par, z, n, d), &cfg, c, NULL), TRIBE_OK);
        int32_t *lab = malloc((size_t)n * sizeof *lab);
        float *d2 = malloc((size_t)n * sizeof *d2);
        tribe_kmeans_assign(z, n, d, c, k, lab, d2);
        int64_t cnt[6] = {0};
        double inertia = 0;
        for (int64_t i = 0; i < n; i++) {
            cnt[lab[i]]++;
            inertia += d2[i];
        }
        for (int q = 0; q < k; q++)
            CU_ASSERT(cnt[q] > 0);
        CU_ASSERT_EQUAL(inertia, 0.0); /* every point is its own centre */
        free(z);
        free(lab);
        free(d2);
    }
    tribe_par_finalize(&par);
}

static void kmeanspp_should_count_distinct_centres(void)
{
    const float s[] = {0, 0, 0, 0, 1, 1, 1, 1, 0, 0};
    double c[6], w[5];
    CU_ASSERT_EQUAL(tribe_kmeanspp(s, 5, 2, 3, 1, 2, c, w), 2);
    CU_ASSERT_EQUAL(tribe_kmeanspp(s, 5, 2, 2, 1, 2, c, w), 2);
    CU_ASSERT(c[0] != c[2]); /* the two centres differ */
}

static void relabel_should_order_by_descending_mean_then_size(void)
{
    tribe_par *par = tribe_test_serial();
    const char *names[] = {"monetary", "frequency"};
    tribe_table *t = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_table_create(8, 2, names, &t), TRIBE_OK);
    /* cluster 0: monetary 10, 20 (mean 15); 1: 100 (mean 100); 2: NaN only;
     * 3: 15, 15, 15 (mean 15, larger than cluster 0). */
    const float mon[] = {10, 20, 100, NAN, NAN, 15, 15, 15};
    const int32_t lab0[] = {0, 0, 1, 2, 2, 3, 3, 3};
    int32_t lab[8];
    for (int i = 0; i < 8; i++) {
        t->x[i * 2] = mon[i];
        t->x[i * 2 + 1] = (float)i;
        lab[i] = lab0[i];
    }
    double cent[8] = {0, 0, 1, 1, 2, 2, 3, 3};
    int perm[4];
    CU_ASSERT_EQUAL_FATAL(tribe_kmeans_relabel(par, t, 0, 4, 2, cent, lab, perm), TRIBE_OK);
    /* new order: 1 (100), 3 (15, size 3), 0 (15, size 2), 2 (no value) */
    CU_ASSERT_EQUAL(perm[1], 0);
    CU_ASSERT_EQUAL(perm[3], 1);
    CU_ASSERT_EQUAL(perm[0], 2);
    CU_ASSERT_EQUAL(perm[2], 3);
    for (int i = 0; i < 8; i++)
        CU_ASSERT_EQUAL(lab[i], perm[lab0[i]]);
    CU_ASSERT_EQUAL(cent[0], 1.0);
    CU_ASSERT_EQUAL(cent[2], 3.0);
    CU_ASSERT_EQUAL(cent[4], 0.0);
    CU_ASSERT_EQUAL(cent[6], 2.0);
    /* by size only: 3 (3 rows), then 0 and 2 (2 rows, by old id), then 1 */
    for (int i = 0; i < 8; i++)
        lab[i] = lab0[i];
    CU_ASSERT_EQUAL_FATAL(tribe_kmeans_relabel(par, t, -1, 4, 2, cent, lab, perm), TRIBE_OK);
    CU_ASSERT_EQUAL(perm[3], 0);
    CU_ASSERT_EQUAL(perm[0], 1);
    CU_ASSERT_EQUAL(perm[2], 2);
    CU_ASSERT_EQUAL(perm[1], 3);
    CU_ASSERT_EQUAL(tribe_kmeans_relabel(par, t, 2, 4, 2, cent, lab, perm), TRIBE_ERR_USAGE);
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
}

static void fit_should_not_depend_on_the_thread_count(void)
{
    tribe_par *par = tribe_test_serial();
    int d = 5, k = 6;
    int64_t n = 20000; /* above TRIBE_OMP_MIN_WORK for every kernel */
    double cent[30], a[30], b[30];
    float *z = planted(n, d, k, 2.0, 19, cent);
    tribe_kmeans_cfg cfg;
    tribe_kmeans_cfg_default(&cfg);
    cfg.k = k;
    cfg.seed = 3;
    cfg.n_init = 2;
    tribe_kmeans_info ia, ib;
    int nt = omp_get_max_threads();
    omp_set_num_threads(1);
    CU_ASSERT_EQUAL_FATAL(tribe_kmeans_fit(TRIBE_TEST_DMAT(par, z, n, d), &cfg, a, &ia), TRIBE_OK);
    omp_set_num_threads(2);
    CU_ASSERT_EQUAL_FATAL(tribe_kmeans_fit(TRIBE_TEST_DMAT(par, z, n, d), &cfg, b, &ib), TRIBE_OK);
    omp_set_num_threads(nt);
    CU_ASSERT(memcmp(a, b, sizeof a) == 0);
    CU_ASSERT(ia.inertia == ib.inertia && ia.steps == ib.steps && ia.best_init == ib.best_init);
    free(z);
    tribe_par_finalize(&par);
}

/* Rows for tribe_ksweep_recommend_at: K=2 best on every criterion but the
 * least stable, K=3 the most stable. */
static void ksweep_should_let_only_k_at_the_stability_threshold_compete(void)
{
    tribe_ksweep_row r[3] = {
        {.k = 2, .inertia = 100, .silhouette = 0.5, .silhouette_sq = 0.6, .ch = 900, .db = 0.8, .stability = 0.60},
        {.k = 3, .inertia = 70, .silhouette = 0.4, .silhouette_sq = 0.5, .ch = 800, .db = 1.0, .stability = 0.75},
        {.k = 4, .inertia = 60, .silhouette = 0.3, .silhouette_sq = 0.4, .ch = 700, .db = 1.2, .stability = 0.70}};
    char why[512];
    /* none reaches 0.8: every K competes, and the reason names none as unstable */
    CU_ASSERT_EQUAL(tribe_ksweep_recommend_at(r, 3, 3, 0.8, why, sizeof why), 2);
    CU_ASSERT_PTR_NULL(strstr(why, "unstable"));
    CU_ASSERT_EQUAL(tribe_ksweep_recommend(r, 3, 3, why, sizeof why), 2);
    /* at 0.72 only K=3 may win; the others are named with their ARI */
    CU_ASSERT_EQUAL(tribe_ksweep_recommend_at(r, 3, 3, 0.72, why, sizeof why), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "unstable (split-half ARI < 0.72): K=2 (0.60) K=4 (0.70)"));
}

/* One round Gaussian cloud: any partition of it into 3 or 4 is one of many
 * rotations, so no K reproduces on the two halves. */
static void ksweep_should_say_when_no_k_holds(void)
{
    tribe_par *par = tribe_test_serial();
    int64_t n = 6000;
    int d = 2;
    double c[2];
    float *z = planted(n, d, 1, 1.0, 23, c);
    int32_t *work = malloc((size_t)n * sizeof *work);
    tribe_ksweep_cfg cfg = {.k_lo = 3, .k_hi = 4, .sil_sample = 300, .stability = 1};
    tribe_kmeans_cfg_default(&cfg.kmeans);
    cfg.kmeans.seed = 9;
    tribe_ksweep *ks = NULL;
    const tribe_dmat *zm = TRIBE_TEST_DMAT(par, z, n, d);
    CU_ASSERT_EQUAL_FATAL(tribe_ksweep_run(zm, &cfg, work, &ks), TRIBE_OK);
    CU_ASSERT_EQUAL(ks->stability_min, TRIBE_KSWEEP_STABLE_ARI); /* 0 in the cfg: the default */
    CU_ASSERT(ks->stability_ari < 0.8);
    CU_ASSERT_EQUAL(ks->k_stable, -1);
    char want[64];
    snprintf(want, sizeof want, "K=%d (agreement %.2f) is only the best of unreliable", ks->recommended_k,
             ks->stability_ari);
    CU_ASSERT_PTR_NOT_NULL(strstr(ks->stability_note, "No number of segments from 3 to 4 is reliable"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ks->stability_note, want));
    double ari = ks->stability_ari;
    int k = ks->recommended_k;
    tribe_ksweep_destroy(&ks);
    /* the same sweep under a threshold it passes: reliable, no note */
    cfg.stability_min = ari / 2;
    CU_ASSERT_EQUAL_FATAL(tribe_ksweep_run(zm, &cfg, work, &ks), TRIBE_OK);
    CU_ASSERT(ks->k_stable == 1 && ks->stability_note[0] == '\0' && ks->stability_min == ari / 2);
    tribe_ksweep_destroy(&ks);
    /* a fixed K asked for its stability says it in its own words; without stability: not measured */
    cfg.stability_min = 0;
    cfg.k_lo = cfg.k_hi = k;
    CU_ASSERT_EQUAL_FATAL(tribe_ksweep_run(zm, &cfg, work, &ks), TRIBE_OK);
    CU_ASSERT_EQUAL(ks->k_stable, -1);
    snprintf(want, sizeof want, "K=%d is not reliable", k);
    CU_ASSERT_PTR_NOT_NULL(strstr(ks->stability_note, want));
    tribe_ksweep_destroy(&ks);
    cfg.stability = 0;
    CU_ASSERT_EQUAL_FATAL(tribe_ksweep_run(zm, &cfg, work, &ks), TRIBE_OK);
    CU_ASSERT(ks->k_stable == 0 && ks->stability_note[0] == '\0');
    tribe_ksweep_destroy(&ks);
    free(work);
    free(z);
    tribe_par_finalize(&par);
}

/* A checkpoint hook that keeps every fit and asks to stop after stop_k's. */
typedef struct {
    int stop_k, n, fitted_calls;
    tribe_ksweep_row row[8];
    double cen[8][6 * 2];
} held_fits;

static tribe_status hold_fit(void *ctx, int k, const double *centroids, const tribe_ksweep_row *row, int *stop)
{
    held_fits *h = ctx;
    h->fitted_calls++;
    h->row[h->n] = *row;
    memcpy(h->cen[h->n++], centroids, (size_t)k * 2 * sizeof *centroids);
    *stop = k == h->stop_k;
    return TRIBE_OK;
}

static int give_fit(void *ctx, int k, double *centroids, tribe_ksweep_row *row)
{
    const held_fits *h = ctx;
    for (int i = 0; i < h->n; i++)
        if (h->row[i].k == k) {
            *row = h->row[i];
            memcpy(centroids, h->cen[i], (size_t)k * 2 * sizeof *centroids);
            return 1;
        }
    return 0;
}

/* Stopped by its hook after K=4's fit, the sweep returns no result; run
 * again with the fits of K=2..4 given back, it fits only K=5 and 6 and ends
 * with the rows and centroids of an uninterrupted sweep, bit for bit. */
static void ksweep_should_resume_from_the_fits_its_hook_kept(void)
{
    tribe_par *par = tribe_test_serial();
    int64_t n = 3000;
    int d = 2;
    double c[8];
    float *z = planted(n, d, 4, 0.5, 31, c);
    int32_t *work = malloc((size_t)n * sizeof *work);
    tribe_ksweep_cfg cfg = {.k_lo = 2, .k_hi = 6, .sil_sample = 300, .stability = 1};
    tribe_kmeans_cfg_default(&cfg.kmeans);
    cfg.kmeans.seed = 4;
    tribe_ksweep *ref = NULL, *ks = NULL;
    const tribe_dmat *zm = TRIBE_TEST_DMAT(par, z, n, d);
    CU_ASSERT_EQUAL_FATAL(tribe_ksweep_run(zm, &cfg, work, &ref), TRIBE_OK);
    held_fits h = {.stop_k = 4};
    cfg.hook = (tribe_ksweep_hook){.ctx = &h, .fitted = hold_fit, .saved = give_fit};
    CU_ASSERT_EQUAL_FATAL(tribe_ksweep_run(zm, &cfg, work, &ks), TRIBE_OK);
    CU_ASSERT_PTR_NULL(ks);
    CU_ASSERT_EQUAL(h.n, 3);
    h.stop_k = 0;
    h.fitted_calls = 0;
    CU_ASSERT_EQUAL_FATAL(tribe_ksweep_run(zm, &cfg, work, &ks), TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
    CU_ASSERT_EQUAL(h.fitted_calls, 2); /* K=5 and 6 only */
    CU_ASSERT_EQUAL(ks->n, ref->n);
    CU_ASSERT_EQUAL(ks->recommended_k, ref->recommended_k);
    CU_ASSERT_EQUAL(memcmp(ks->row, ref->row, (size_t)ref->n * sizeof *ref->row), 0);
    CU_ASSERT_EQUAL(memcmp(ks->centroids, ref->centroids, (size_t)ref->n * ref->k_max * d * sizeof *ref->centroids), 0);
    tribe_ksweep_destroy(&ks);
    tribe_ksweep_destroy(&ref);
    free(work);
    free(z);
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(assign_should_pick_the_nearest_centre_and_break_ties_low),
        TRIBE_TEST(sums_should_match_a_naive_loop),
        TRIBE_TEST(fit_should_recover_planted_centroids),
        TRIBE_TEST(fit_should_reject_k_above_the_number_of_customers),
        TRIBE_TEST(fit_should_reject_k_above_the_number_of_distinct_rows),
        TRIBE_TEST(fit_should_not_leave_empty_clusters_when_k_equals_distinct_points),
        TRIBE_TEST(kmeanspp_should_count_distinct_centres),
        TRIBE_TEST(relabel_should_order_by_descending_mean_then_size),
        TRIBE_TEST(fit_should_not_depend_on_the_thread_count),
        TRIBE_TEST(ksweep_should_let_only_k_at_the_stability_threshold_compete),
        TRIBE_TEST(ksweep_should_say_when_no_k_holds),
        TRIBE_TEST(ksweep_should_resume_from_the_fits_its_hook_kept),
        {NULL, NULL}};
    return tribe_test_main("kmeans", cases);
}
