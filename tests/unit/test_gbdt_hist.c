/* Unit tests for the exact histogram kernel (src/gbdt/hist.c): the chunked
 * multi-threaded int64 path gives the integers of the serial 128-bit
 * reference for gradients anywhere in range, and models on money targets
 * (which used to take the serial 128-bit path) have the reference's bits. */
#include "testutil.h"
#include "tribe/gbdt.h"

#include "../../src/gbdt/gbdt_internal.h" /* gbdt_hist_build_ranges, gbdt_fit */

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum { HD = 5 };

/* Rows of codes[m][HD] over features of 3, 254, 0, 17 and 100 edges, and
 * fixed-point gradients and hessians up to the 2^62 limit, skewed (most
 * small, some near the limit), as money targets give. Returns gmax. */
static uint64_t random_rows(int64_t m, const int *hoff, uint8_t *codes, int64_t *g, int64_t *h)
{
    uint64_t gmax = 0;
    for (int64_t r = 0; r < m; r++) {
        for (int f = 0; f < HD; f++) {
            int nb = hoff[f + 1] - hoff[f];
            codes[r * HD + f] = (uint8_t)(tribe_rng_unif(11, 1, (uint64_t)(r * HD + f)) * nb);
        }
        double u = tribe_rng_unif(11, 2, (uint64_t)r), v = tribe_rng_unif(11, 3, (uint64_t)r);
        double s = 4.6e18 * u * u * u * u; /* < 2^62 = 4.61e18 */
        g[r] = (int64_t)(v < 0.5 ? -s : s);
        h[r] = (int64_t)(4.6e18 * v * v * v);
        uint64_t a = (uint64_t)(g[r] < 0 ? -g[r] : g[r]);
        gmax = a > gmax ? a : gmax;
        gmax = (uint64_t)h[r] > gmax ? (uint64_t)h[r] : gmax;
    }
    return gmax;
}

/* The rows as hc's records (gbdt_internal.h), malloc'ed. */
static uint8_t *records(const gbdt_hist *hc, int64_t m, const uint8_t *codes, const int64_t *g, const int64_t *h)
{
    uint8_t *rec = calloc((size_t)m, (size_t)hc->rs);
    for (int64_t r = 0; r < m && rec; r++) {
        uint8_t *p = rec + (size_t)r * hc->rs;
        int32_t row = (int32_t)r;
        memcpy(p, &g[r], 8);
        if (!hc->hconst)
            memcpy(p + 8, &h[r], 8);
        memcpy(p + hc->coff - 4, &row, 4);
        memcpy(p + hc->coff, codes + r * HD, HD);
    }
    return rec;
}

static void chunked_histograms_should_equal_the_128_bit_reference(void)
{
    const int64_t m = 40000; /* m * HD >= TRIBE_OMP_MIN_WORK: threaded */
    const int ne[HD] = {3, 254, 0, 17, 100};
    int hoff[HD + 1] = {0};
    for (int f = 0; f < HD; f++)
        hoff[f + 1] = hoff[f] + ne[f] + 2;
    uint8_t *codes = malloc((size_t)m * HD);
    int64_t *g = malloc((size_t)m * sizeof *g), *h = malloc((size_t)m * sizeof *h);
    size_t len = (size_t)3 * hoff[HD];
    tribe_xsum *ref = malloc(len * sizeof *ref), *out = malloc(len * sizeof *out);
    uint64_t gmax = random_rows(m, hoff, codes, g, h);
    CU_ASSERT(gmax > ((uint64_t)1 << 61));
    CU_ASSERT_EQUAL(gbdt_hist_chunk(gmax), 1); /* every row its own chunk */
    /* logistic and softmax (|g| <= 1, h <= 1/4: gmax = 2^32): one chunk of
     * up to 2^30 - 1 rows per thread, the int64-only path */
    CU_ASSERT_EQUAL(gbdt_hist_chunk((uint64_t)1 << 32), ((int64_t)1 << 30) - 1);
    int saved = omp_get_max_threads(), checked = 0;
    /* gradients near the limit (chunks of 1 row), of 2^52 (chunks of about
     * 1000 rows) and of 2^22 (one chunk per thread), each also with chunks
     * capped at 7 and 4999 rows */
    const int shifts[3] = {0, 10, 40};
    const int64_t caps[3] = {0, 7, 4999};
    for (int s = 0; s < 3; s++) {
        if (s > 0)
            for (int64_t r = 0; r < m; r++) {
                g[r] >>= shifts[s] - shifts[s - 1];
                h[r] >>= shifts[s] - shifts[s - 1];
            }
        for (int hconst = 0; hconst < 2; hconst++) {
            for (int nt = 1; nt <= 3; nt++) {
                omp_set_num_threads(nt);
                gbdt_hist hc;
                CU_ASSERT_EQUAL_FATAL(gbdt_hist_init(&hc, HD, hoff, hconst, (int64_t)1 << 32, 1), TRIBE_OK);
                CU_ASSERT_EQUAL(hc.nthreads, nt);
                hc.gmax = gmax >> shifts[s];
                uint8_t *rec = records(&hc, m, codes, g, h);
                CU_ASSERT_FATAL(rec != NULL);
                gbdt_hist_build_ref(&hc, rec, m, ref);
                for (int c = 0; c < 3; c++) {
                    hc.max_chunk = caps[c];
                    memset(out, 0x5a, len * sizeof *out);
                    gbdt_hist_build_ranges(&hc, rec, 1, (const int64_t[2]){0, m}, out);
                    CU_ASSERT(memcmp(out, ref, len * sizeof *out) == 0);
                    checked++;
                }
                free(rec);
                gbdt_hist_free(&hc);
            }
        }
    }
    CU_ASSERT(gbdt_hist_chunk(gmax >> 10) > 500 && gbdt_hist_chunk(gmax >> 10) < 5000);
    CU_ASSERT(gbdt_hist_chunk(gmax >> 40) > m);
    omp_set_num_threads(saved);
    CU_ASSERT_EQUAL(checked, 54);
    free(codes);
    free(g);
    free(h);
    free(ref);
    free(out);
}

/* Dollar spend: lognormal with cents, a few whales of ten million; the
 * tweedie rows also have zeros. y > 100 for logistic. */
static void money_rows(int64_t n, int d, int objective, float *x, double *y)
{
    for (int64_t i = 0; i < n; i++) {
        for (int f = 0; f < d; f++)
            x[i * d + f] = (float)tribe_rng_unif(23, 1, (uint64_t)(i * d + f));
        double s = 2 + 3 * x[i * d] + 1.5 * x[i * d + 1] * x[i * d + 2];
        double v = round(100 * exp(s + 1.5 * tribe_rng_normal(23, 2, (uint64_t)i))) / 100;
        if (i % 9973 == 17)
            v = 1e7 + 0.37 * (double)i;
        if (objective == TRIBE_GBDT_TWEEDIE && tribe_rng_unif(23, 3, (uint64_t)i) < 0.3)
            v = 0;
        y[i] = objective == TRIBE_GBDT_LOGISTIC ? (double)(v > 100) : v;
    }
}

static char *fit_json(const float *x, int64_t n, int d, const double *y, const tribe_gbdt_cfg *cfg, int ref128,
                      int threads)
{
    tribe_par *par = tribe_test_serial();
    int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    tribe_gbdt_model *m = NULL;
    char *json = NULL;
    tribe_status st = gbdt_fit(TRIBE_TEST_DMAT(par, x, n, d), y, NULL, cfg, ref128, &m);
    if (st == TRIBE_OK)
        st = tribe_gbdt_to_json(m, &json);
    if (st != TRIBE_OK)
        fprintf(stderr, "fit: %s\n", tribe_errmsg());
    CU_ASSERT_EQUAL(st, TRIBE_OK);
    omp_set_num_threads(saved);
    tribe_gbdt_model_destroy(&m);
    tribe_par_finalize(&par);
    return json;
}

static void money_targets_should_give_the_128_bit_reference_model_bit_for_bit(void)
{
    const int64_t n = 30000;
    const int d = 4;
    float *x = malloc((size_t)n * d * sizeof *x);
    double *y = malloc((size_t)n * sizeof *y);
    /* squared error twice: bagged (gradients from the scores), and on all
     * rows (gradients updated in fixed point, roots from the leaves) */
    const tribe_gbdt_objective objs[4] = {TRIBE_GBDT_SQUARED, TRIBE_GBDT_TWEEDIE, TRIBE_GBDT_LOGISTIC,
                                          TRIBE_GBDT_SQUARED};
    for (int o = 0; o < 4; o++) {
        money_rows(n, d, objs[o], x, y);
        if (objs[o] == TRIBE_GBDT_SQUARED) {
            /* the old fast path needed max |y - prediction| x rows < 2^30 */
            double mean = 0, far = 0;
            for (int64_t i = 0; i < n; i++)
                mean += y[i] / (double)n;
            for (int64_t i = 0; i < n; i++)
                far = fmax(far, fabs(y[i] - mean));
            CU_ASSERT(far * (double)n > 100 * 1073741824.0); /* 100 x past it */
        }
        tribe_gbdt_cfg cfg;
        tribe_gbdt_cfg_default(&cfg);
        cfg.objective = objs[o];
        cfg.n_rounds = 6;
        cfg.max_leaves = 15;
        cfg.subsample = o < 3 ? 0.8 : 1.0;
        /* on all rows, the reference also checks every derived root */
        char *ref = fit_json(x, n, d, y, &cfg, o < 3 ? 1 : 2, 1);
        char *one = fit_json(x, n, d, y, &cfg, 0, 1);
        char *three = fit_json(x, n, d, y, &cfg, 0, 3);
        CU_ASSERT_FATAL(ref && one && three);
        CU_ASSERT(strlen(ref) > 2000);
        CU_ASSERT_STRING_EQUAL(one, ref);
        CU_ASSERT_STRING_EQUAL(three, ref);
        free(ref);
        free(one);
        free(three);
    }
    free(x);
    free(y);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(chunked_histograms_should_equal_the_128_bit_reference),
        TRIBE_TEST(money_targets_should_give_the_128_bit_reference_model_bit_for_bit),
        {NULL, NULL}};
    return tribe_test_main("gbdt_hist", cases);
}
