/* Unit tests for the K-Means engine: every pass kernel (asked for by name,
 * checked to be the one that ran, skipped where the CPU lacks it) against
 * the naive loop, exact fused sums, the workspace, k-means|| and restarts
 * sharing passes. Serial. */
#include "testutil.h"
#include "tribe/cluster.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cluster/kmeans_internal.h"

/* n rows of d features around k planted centres (spread 4, noise 1),
 * shifted by `shift` (a large shift makes |x|.|c| big next to the
 * distances: the GEMM bound then nominates many centres). */
static float *blobs(int64_t n, int d, int k, double shift, uint64_t seed)
{
    float *z = malloc((size_t)n * d * sizeof *z);
    for (int64_t i = 0; i < n; i++) {
        int q = (int)(i % k);
        for (int j = 0; j < d; j++)
            z[i * d + j] = (float)(shift + 4.0 * tribe_rng_normal(seed, 7, (uint64_t)(q * d + j)) +
                                   tribe_rng_normal(seed, 8, (uint64_t)(i * d + j)));
    }
    return z;
}

static const char *const KERNEL_NAME[] = {"SGEMM", "AVX-512", "AVX2"};

/* 1 when this CPU (or TRIBE_SIMD) lacks the kernel: the case is then
 * skipped (tribe_test_skip) instead of testing another kernel. */
static int kernel_missing(int kernel)
{
    static char why[96];
    if (tribe_kmeans_kernel_available(kernel))
        return 0;
    snprintf(why, sizeof why, "CPU lacks the %s kernel, or TRIBE_SIMD disables it", KERNEL_NAME[kernel]);
    tribe_test_skip(why);
    return 1;
}

/* A workspace for passes of up to nsets sets of k centres that runs
 * `kernel` (asserted). */
static tribe_kmeans_ws *workspace(int kernel, int nsets, int k, int d, int threads)
{
    tribe_kmeans_ws *ws = NULL;
    tribe_kmeans_ws_spec spec = {.nsets = nsets, .k = k, .d = d, .threads = threads, .kernel = kernel};
    CU_ASSERT_EQUAL_FATAL(tribe_kmeans_ws_create(&spec, &ws), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_kmeans_ws_kernel(ws), kernel);
    return ws;
}

/* Shapes that reach every path of the direct kernels: k <= 8, <= 16, <= 32
 * (permutes), k > 32 (gathers), d > 16 (two transposed column chunks), a
 * partial last tile (n = 3001); a large shift makes |x|.|c| big next to the
 * distances (the bounds then nominate many centres). */
static void kernel_should_equal_the_naive_loop_bit_for_bit(int kernel)
{
    if (kernel_missing(kernel))
        return;
    const double shifts[] = {0, 1000};
    const int shapes[][2] = {{7, 13}, {16, 8}, {20, 6}, {3, 40}, {5, 27}};
    for (int t = 0; t < 5 * 2; t++) {
        int64_t n = 3001;
        int d = shapes[t / 2][0], k = shapes[t / 2][1];
        float *z = blobs(n, d, k, shifts[t % 2], 5);
        double *c = malloc((size_t)k * d * sizeof *c);
        for (int q = 0; q < k; q++)
            for (int j = 0; j < d; j++)
                c[q * d + j] = z[(q * 37) * d + j] + 0.25;
        /* Exact ties: centre 5 duplicates centre 2, and row 10 sits exactly
         * between centres 0 and 1 along one axis. */
        memcpy(c + 5 * d, c + 2 * d, (size_t)d * sizeof *c);
        for (int j = 0; j < d; j++) {
            c[1 * d + j] = c[0 * d + j];
            z[10 * d + j] = (float)c[j];
        }
        c[1 * d] = c[0] + 2.0;
        z[10 * d] = (float)(c[0] + 1.0);
        /* A row with a NaN gets what the plain loop gives it (centre 0). */
        z[20 * d] = NAN;
        int32_t *la = malloc((size_t)n * sizeof *la), *lb = malloc((size_t)n * sizeof *lb);
        double *da = malloc((size_t)n * sizeof *da), *db = malloc((size_t)n * sizeof *db);
        float *df = malloc((size_t)n * sizeof *df);
        tribe_kmeans_assign_naive(z, n, d, c, k, la, da);
        for (int th = 1; th <= 2; th++) {
            tribe_kmeans_ws *ws = workspace(kernel, 1, k, d, th);
            tribe_kmeans_pass_io p = {.cent = c, .nsets = 1, .k = k, .d = d, .label = lb, .dist2 = db};
            CU_ASSERT_EQUAL_FATAL(tribe_kmeans_pass(ws, z, n, &p), TRIBE_OK);
            CU_ASSERT_EQUAL(p.kernel, kernel);
            CU_ASSERT(memcmp(la, lb, (size_t)n * sizeof *la) == 0);
            CU_ASSERT(memcmp(da, db, (size_t)n * sizeof *da) == 0);
            CU_ASSERT_EQUAL(lb[10], 0); /* the tie goes to the lower index */
            for (int64_t i = 0; i < n; i++)
                CU_ASSERT(lb[i] != 5); /* a duplicate centre never wins */
            /* Labels only (no distance computed for single nominees) agree. */
            memset(lb, 0xff, (size_t)n * sizeof *lb);
            p = (tribe_kmeans_pass_io){.cent = c, .nsets = 1, .k = k, .d = d, .label = lb};
            CU_ASSERT_EQUAL_FATAL(tribe_kmeans_pass(ws, z, n, &p), TRIBE_OK);
            CU_ASSERT(memcmp(la, lb, (size_t)n * sizeof *la) == 0);
            /* Float distances (tribe_kmeans_assign's outputs) agree too. */
            p = (tribe_kmeans_pass_io){.cent = c, .nsets = 1, .k = k, .d = d, .label = lb, .dist2f = df};
            CU_ASSERT_EQUAL_FATAL(tribe_kmeans_pass(ws, z, n, &p), TRIBE_OK);
            CU_ASSERT(memcmp(la, lb, (size_t)n * sizeof *la) == 0);
            for (int64_t i = 0; i < n; i++)
                CU_ASSERT(df[i] == (float)da[i] || (isnan(df[i]) && isnan(da[i])));
            tribe_kmeans_ws_destroy(&ws);
        }
        /* The public entry point (automatic kernel, a workspace of its own). */
        tribe_kmeans_assign(z, n, d, c, k, lb, df);
        CU_ASSERT(memcmp(la, lb, (size_t)n * sizeof *la) == 0);
        for (int64_t i = 0; i < n; i++)
            CU_ASSERT(df[i] == (float)da[i] || (isnan(df[i]) && isnan(da[i])));
        free(df);
        free(z);
        free(c);
        free(la);
        free(lb);
        free(da);
        free(db);
    }
}

static void sgemm_kernel_should_equal_the_naive_loop_bit_for_bit(void)
{
    kernel_should_equal_the_naive_loop_bit_for_bit(TRIBE_KMEANS_KERNEL_GEMM);
}
static void avx512_kernel_should_equal_the_naive_loop_bit_for_bit(void)
{
    kernel_should_equal_the_naive_loop_bit_for_bit(TRIBE_KMEANS_KERNEL_AVX512);
}
static void avx2_kernel_should_equal_the_naive_loop_bit_for_bit(void)
{
    kernel_should_equal_the_naive_loop_bit_for_bit(TRIBE_KMEANS_KERNEL_AVX2);
}

static void fused_pass_should_give_exact_sums_counts_and_inertia_per_set(int kernel)
{
    if (kernel_missing(kernel))
        return;
    int64_t n = 2500;
    int d = 5, k = 4, ns = 3;
    float *z = blobs(n, d, k, 0, 9);
    z[17 * d + 2] = 5e7f; /* above 2^22: the int128 path */
    z[18 * d + 1] = -6e6f;
    double *c = malloc((size_t)ns * k * d * sizeof *c);
    for (int s = 0; s < ns; s++)
        for (int q = 0; q < k; q++)
            for (int j = 0; j < d; j++)
                c[(s * k + q) * d + j] = z[((s + 1) * 11 + q * 3) * d + j];
    tribe_xsum *sum = malloc((size_t)ns * k * d * sizeof *sum), ref[4 * 5], in[3];
    int64_t cnt[12], rc[4];
    int32_t *lab = malloc((size_t)n * sizeof *lab);
    double *dd = malloc((size_t)n * sizeof *dd);
    tribe_xsum sq[12], rsq[4];
    double *md = malloc((size_t)ns * n * sizeof *md);
    for (int th = 1; th <= 2; th++) {
        tribe_kmeans_ws *ws = workspace(kernel, ns, k, d, th);
        for (int64_t q = 0; q < ns * n; q++)
            md[q] = q % 3 ? INFINITY : 30.0;
        tribe_kmeans_pass_io p = {.cent = c, .nsets = ns, .k = k, .d = d, .sum = sum, .count = cnt, .inertia = in,
                                  .sumsq = sq, .mind2 = md};
        CU_ASSERT_EQUAL_FATAL(tribe_kmeans_pass(ws, z, n, &p), TRIBE_OK);
        CU_ASSERT_EQUAL(p.kernel, kernel);
        tribe_kmeans_ws_destroy(&ws);
        for (int s = 0; s < ns; s++) {
            tribe_kmeans_assign_naive(z, n, d, c + (size_t)s * k * d, k, lab, dd);
            tribe_kmeans_sums(z, n, d, lab, k, ref, rc);
            tribe_xsum acc = 0;
            memset(rsq, 0, sizeof rsq);
            int md_ok = 1;
            for (int64_t i = 0; i < n; i++) {
                acc += tribe_xsum_of(dd[i]);
                double xx = 0;
                for (int j = 0; j < d; j++)
                    xx += (double)z[i * d + j] * z[i * d + j];
                rsq[lab[i]] += tribe_xsum_of(xx);
                double m = (s * n + i) % 3 ? INFINITY : 30.0;
                md_ok &= md[s * n + i] == (dd[i] < m ? dd[i] : m);
            }
            CU_ASSERT(memcmp(ref, sum + (size_t)s * k * d, sizeof ref) == 0);
            CU_ASSERT(memcmp(rc, cnt + s * k, sizeof rc) == 0);
            CU_ASSERT(acc == in[s]);
            CU_ASSERT(memcmp(rsq, sq + s * k, sizeof rsq) == 0);
            CU_ASSERT(md_ok);
        }
    }
    free(md);
    free(z);
    free(c);
    free(sum);
    free(lab);
    free(dd);
}

static void sgemm_fused_pass_should_give_exact_sums_counts_and_inertia_per_set(void)
{
    fused_pass_should_give_exact_sums_counts_and_inertia_per_set(TRIBE_KMEANS_KERNEL_GEMM);
}
static void avx512_fused_pass_should_give_exact_sums_counts_and_inertia_per_set(void)
{
    fused_pass_should_give_exact_sums_counts_and_inertia_per_set(TRIBE_KMEANS_KERNEL_AVX512);
}
static void avx2_fused_pass_should_give_exact_sums_counts_and_inertia_per_set(void)
{
    fused_pass_should_give_exact_sums_counts_and_inertia_per_set(TRIBE_KMEANS_KERNEL_AVX2);
}

static void padded_pass_should_equal_the_unpadded_sets(int kernel)
{
    if (kernel_missing(kernel))
        return;
    /* Sets of 3, 1 and 6 live centres padded to k = 6 with copies of their
     * first one (as k-means|| pads): with kset the pass gives each set's
     * mind2 and counts exactly as a pass over its live centres alone. */
    int64_t n = 3001;
    int d = 5, k = 6, ns = 3, live[3] = {3, 1, 6};
    float *z = blobs(n, d, 4, 0, 31);
    double *c = malloc((size_t)ns * k * d * sizeof *c);
    for (int s = 0; s < ns; s++)
        for (int q = 0; q < k; q++)
            for (int j = 0; j < d; j++)
                c[(s * k + q) * d + j] = z[((s + 1) * 13 + (q < live[s] ? q : 0) * 7) * d + j];
    double *md = malloc((size_t)ns * n * sizeof *md), *m1 = malloc((size_t)n * sizeof *m1);
    int64_t cnt[18], c1[6];
    for (int th = 1; th <= 2; th++) {
        tribe_kmeans_ws *ws = workspace(kernel, ns, k, d, th);
        for (int64_t q = 0; q < ns * n; q++)
            md[q] = q % 5 ? INFINITY : 20.0;
        tribe_kmeans_pass_io p = {.cent = c, .nsets = ns, .k = k, .d = d, .count = cnt, .mind2 = md, .kset = live};
        CU_ASSERT_EQUAL_FATAL(tribe_kmeans_pass(ws, z, n, &p), TRIBE_OK);
        CU_ASSERT_EQUAL(p.kernel, kernel);
        CU_ASSERT_EQUAL(p.rechecked, 0); /* the copies make no ties */
        for (int s = 0; s < ns; s++) {
            for (int64_t i = 0; i < n; i++)
                m1[i] = (s * n + i) % 5 ? INFINITY : 20.0;
            tribe_kmeans_pass_io q = {.cent = c + (size_t)s * k * d, .nsets = 1, .k = live[s], .d = d, .count = c1,
                                      .mind2 = m1};
            CU_ASSERT_EQUAL_FATAL(tribe_kmeans_pass(ws, z, n, &q), TRIBE_OK);
            CU_ASSERT(memcmp(m1, md + (size_t)s * n, (size_t)n * sizeof *m1) == 0);
            CU_ASSERT(memcmp(c1, cnt + s * k, (size_t)live[s] * sizeof *c1) == 0);
            for (int q2 = live[s]; q2 < k; q2++)
                CU_ASSERT_EQUAL(cnt[s * k + q2], 0);
        }
        tribe_kmeans_ws_destroy(&ws);
    }
    free(z);
    free(c);
    free(md);
    free(m1);
}

static void sgemm_padded_pass_should_equal_the_unpadded_sets(void)
{
    padded_pass_should_equal_the_unpadded_sets(TRIBE_KMEANS_KERNEL_GEMM);
}
static void avx512_padded_pass_should_equal_the_unpadded_sets(void)
{
    padded_pass_should_equal_the_unpadded_sets(TRIBE_KMEANS_KERNEL_AVX512);
}
static void avx2_padded_pass_should_equal_the_unpadded_sets(void)
{
    padded_pass_should_equal_the_unpadded_sets(TRIBE_KMEANS_KERNEL_AVX2);
}

/* The workspace is sized once: a pass larger than it is refused, a reserve
 * grows it, and an unavailable kernel is replaced by the automatic choice. */
static void workspace_should_refuse_passes_larger_than_it_and_grow_on_reserve(void)
{
    int64_t n = 500;
    int d = 3;
    float *z = blobs(n, d, 4, 0, 3);
    double c[2 * 9 * 3];
    for (int q = 0; q < 2 * 9 * 3; q++)
        c[q] = z[q];
    int64_t cnt[18];
    tribe_kmeans_ws *ws = NULL;
    tribe_kmeans_ws_spec spec = {.nsets = 1, .k = 4, .d = d, .threads = 2, .kernel = TRIBE_KMEANS_KERNEL_AUTO};
    CU_ASSERT_EQUAL_FATAL(tribe_kmeans_ws_create(&spec, &ws), TRIBE_OK);
    CU_ASSERT(tribe_kmeans_kernel_available(tribe_kmeans_ws_kernel(ws)));
    tribe_kmeans_pass_io p = {.cent = c, .nsets = 2, .k = 9, .d = d, .count = cnt};
    CU_ASSERT_EQUAL(tribe_kmeans_pass(ws, z, n, &p), TRIBE_ERR_INTERNAL);
    CU_ASSERT_EQUAL_FATAL(tribe_kmeans_ws_reserve(ws, 2, 9), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_kmeans_pass(ws, z, n, &p), TRIBE_OK);
    int64_t total = 0;
    for (int q = 0; q < 9; q++)
        total += cnt[q];
    CU_ASSERT_EQUAL(total, n);
    p.d = 4; /* another width than the workspace's */
    CU_ASSERT_EQUAL(tribe_kmeans_pass(ws, z, n, &p), TRIBE_ERR_INTERNAL);
    tribe_kmeans_ws_destroy(&ws);
    tribe_kmeans_ws_destroy(&ws); /* NULL is fine */
    for (int kernel = TRIBE_KMEANS_KERNEL_AVX512; kernel <= TRIBE_KMEANS_KERNEL_AVX2; kernel++) {
        if (tribe_kmeans_kernel_available(kernel))
            continue;
        spec.kernel = kernel;
        CU_ASSERT_EQUAL_FATAL(tribe_kmeans_ws_create(&spec, &ws), TRIBE_OK);
        CU_ASSERT(tribe_kmeans_ws_kernel(ws) != kernel);
        tribe_kmeans_ws_destroy(&ws);
    }
    free(z);
}

static void sample_lloyd_init_should_recover_planted_centres_on_any_thread_count(void)
{
    tribe_par *par = tribe_test_serial();
    int64_t n = 8000;
    int d = 6, k = 5;
    float *z = blobs(n, d, k, 0, 21);
    tribe_kmeans_cfg cfg;
    tribe_kmeans_cfg_default(&cfg);
    cfg.k = k;
    cfg.seed = 3;
    cfg.n_init = 3;
    cfg.init_sample = 2000;
    cfg.init = TRIBE_KMEANS_INIT_PP_LLOYD;
    cfg.algorithm = TRIBE_KMEANS_LLOYD;
    double cent[2][5 * 6];
    tribe_kmeans_info info[2];
    int nt = omp_get_max_threads();
    for (int v = 0; v < 2; v++) {
        omp_set_num_threads(1 + v);
        CU_ASSERT_EQUAL_FATAL(tribe_kmeans_fit(TRIBE_TEST_DMAT(par, z, n, d), &cfg, cent[v], &info[v]), TRIBE_OK);
    }
    omp_set_num_threads(nt);
    CU_ASSERT(memcmp(cent[0], cent[1], sizeof cent[0]) == 0);
    CU_ASSERT(info[0].inertia == info[1].inertia && info[0].best_init == info[1].best_init);
    /* The restarts share the passes over the sample, but each runs as if
     * alone: the winner, fitted by itself, gives the same centres. */
    double alone[5 * 6];
    tribe_kmeans_info ai;
    CU_ASSERT_EQUAL_FATAL(tribe_kmeans_fit_restarts(TRIBE_TEST_DMAT(par, z, n, d), &cfg, info[0].best_init, 1, alone, &ai),
                          TRIBE_OK);
    CU_ASSERT(memcmp(alone, cent[0], sizeof alone) == 0);
    CU_ASSERT(ai.inertia == info[0].inertia && ai.best_init == info[0].best_init);
    for (int q = 0; q < k; q++) {
        double best = INFINITY;
        for (int c = 0; c < k; c++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                double t = cent[0][c * d + j] - 4.0 * tribe_rng_normal(21, 7, (uint64_t)(q * d + j));
                s += t * t;
            }
            if (s < best)
                best = s;
        }
        CU_ASSERT(sqrt(best) < 0.2);
    }
    free(z);
    tribe_par_finalize(&par);
}

static void kmeans_parallel_with_lloyd_should_recover_planted_centres(void)
{
    tribe_par *par = tribe_test_serial();
    int64_t n = 8000;
    int d = 6, k = 5;
    float *z = blobs(n, d, k, 0, 21);
    tribe_kmeans_cfg cfg;
    tribe_kmeans_cfg_default(&cfg);
    cfg.k = k;
    cfg.seed = 3;
    cfg.init = TRIBE_KMEANS_INIT_PARALLEL;
    cfg.algorithm = TRIBE_KMEANS_LLOYD;
    double cent[5 * 6];
    tribe_kmeans_info info;
    CU_ASSERT_EQUAL_FATAL(tribe_kmeans_fit(TRIBE_TEST_DMAT(par, z, n, d), &cfg, cent, &info), TRIBE_OK);
    /* Every planted centre has a fitted one within 0.2 (noise 1, 1600 rows
     * each: the mean's error is ~0.025 per coordinate). */
    for (int q = 0; q < k; q++) {
        double best = INFINITY;
        for (int c = 0; c < k; c++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                double t = cent[c * d + j] - 4.0 * tribe_rng_normal(21, 7, (uint64_t)(q * d + j));
                s += t * t;
            }
            best = fmin(best, s);
        }
        CU_ASSERT(sqrt(best) < 0.2);
    }
    /* 1 + 5 rounds + weights = 7 passes of init, then Lloyd, then the final. */
    CU_ASSERT(info.passes >= 8 && info.passes <= 7 + cfg.max_steps + 2);
    CU_ASSERT(info.converged);
    CU_ASSERT(info.inertia > 0.8 * n * d && info.inertia < 1.2 * n * d);
    free(z);
    tribe_par_finalize(&par);
}

/* Restarts share every pass; each must come out exactly as if run alone. */
static void shared_restarts_should_equal_separate_runs(void)
{
    tribe_par *par = tribe_test_serial();
    int64_t n = 3000;
    int d = 4, k = 6;
    float *z = blobs(n, d, 4, 0, 33); /* 4 planted, 6 asked: local minima differ by restart */
    for (int variant = 0; variant < 3; variant++) {
        tribe_kmeans_cfg cfg;
        tribe_kmeans_cfg_default(&cfg);
        cfg.k = k;
        cfg.seed = 11;
        cfg.batch_size = 256;
        cfg.init = variant == 0 ? TRIBE_KMEANS_INIT_PP : TRIBE_KMEANS_INIT_PARALLEL;
        cfg.algorithm = variant == 2 ? TRIBE_KMEANS_MINIBATCH : TRIBE_KMEANS_LLOYD;
        cfg.max_steps = variant == 2 ? 60 : 300;
        double all[6 * 4], one[6 * 4];
        tribe_kmeans_info ia, io;
        CU_ASSERT_EQUAL_FATAL(tribe_kmeans_fit_restarts(TRIBE_TEST_DMAT(par, z, n, d), &cfg, 0, 3, all, &ia), TRIBE_OK);
        double lowest = INFINITY;
        for (int r = 0; r < 3; r++) {
            CU_ASSERT_EQUAL_FATAL(tribe_kmeans_fit_restarts(TRIBE_TEST_DMAT(par, z, n, d), &cfg, r, 1, one, &io), TRIBE_OK);
            lowest = fmin(lowest, io.inertia);
            if (r == ia.best_init) {
                CU_ASSERT(memcmp(all, one, sizeof all) == 0);
                CU_ASSERT(io.inertia == ia.inertia && io.steps == ia.steps);
            }
        }
        CU_ASSERT(ia.inertia == lowest);
        /* n_init through the public entry point is the same thing. */
        cfg.n_init = 3;
        CU_ASSERT_EQUAL_FATAL(tribe_kmeans_fit(TRIBE_TEST_DMAT(par, z, n, d), &cfg, one, &io), TRIBE_OK);
        CU_ASSERT(memcmp(all, one, sizeof all) == 0);
    }
    free(z);
    tribe_par_finalize(&par);
}

static void kmeans_parallel_should_never_return_fewer_clusters_than_asked(void)
{
    tribe_par *par = tribe_test_serial();
    int64_t n = 60;
    int d = 2;
    float z[120];
    for (int64_t i = 0; i < n; i++) { /* three distinct points, very unequal counts */
        int q = i < 57 ? 0 : (int)(i - 57);
        z[i * 2] = (float)(q * 3);
        z[i * 2 + 1] = (float)(q == 2);
    }
    tribe_kmeans_cfg cfg;
    tribe_kmeans_cfg_default(&cfg);
    cfg.k = 3;
    cfg.init = TRIBE_KMEANS_INIT_PARALLEL;
    cfg.algorithm = TRIBE_KMEANS_LLOYD;
    double cent[8];
    tribe_kmeans_info info;
    CU_ASSERT_EQUAL_FATAL(tribe_kmeans_fit(TRIBE_TEST_DMAT(par, z, n, d), &cfg, cent, &info), TRIBE_OK);
    int32_t lab[60];
    int64_t seen[3] = {0, 0, 0};
    tribe_kmeans_assign(z, n, d, cent, 3, lab, NULL);
    for (int64_t i = 0; i < n; i++)
        seen[lab[i]]++;
    CU_ASSERT(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
    CU_ASSERT_DOUBLE_EQUAL(info.inertia, 0.0, 0.0);
    cfg.k = 4;
    CU_ASSERT_EQUAL(tribe_kmeans_fit(TRIBE_TEST_DMAT(par, z, n, d), &cfg, cent, &info), TRIBE_ERR_INPUT);
    CU_ASSERT(strstr(tribe_errmsg(), "only 3 distinct") != NULL);
    /* Bad settings are usage errors. */
    cfg.k = 2;
    cfg.init = 7;
    CU_ASSERT_EQUAL(tribe_kmeans_fit(TRIBE_TEST_DMAT(par, z, n, d), &cfg, cent, &info), TRIBE_ERR_USAGE);
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(sgemm_kernel_should_equal_the_naive_loop_bit_for_bit),
        TRIBE_TEST(avx512_kernel_should_equal_the_naive_loop_bit_for_bit),
        TRIBE_TEST(avx2_kernel_should_equal_the_naive_loop_bit_for_bit),
        TRIBE_TEST(sgemm_fused_pass_should_give_exact_sums_counts_and_inertia_per_set),
        TRIBE_TEST(avx512_fused_pass_should_give_exact_sums_counts_and_inertia_per_set),
        TRIBE_TEST(avx2_fused_pass_should_give_exact_sums_counts_and_inertia_per_set),
        TRIBE_TEST(sgemm_padded_pass_should_equal_the_unpadded_sets),
        TRIBE_TEST(avx512_padded_pass_should_equal_the_unpadded_sets),
        TRIBE_TEST(avx2_padded_pass_should_equal_the_unpadded_sets),
        TRIBE_TEST(workspace_should_refuse_passes_larger_than_it_and_grow_on_reserve),
        TRIBE_TEST(kmeans_parallel_with_lloyd_should_recover_planted_centres),
        TRIBE_TEST(sample_lloyd_init_should_recover_planted_centres_on_any_thread_count),
        TRIBE_TEST(shared_restarts_should_equal_separate_runs),
        TRIBE_TEST(kmeans_parallel_should_never_return_fewer_clusters_than_asked),
        {NULL, NULL}};
    return tribe_test_main("kmeans_engine", cases);
}
