/* The Kruskal-Wallis test across segments (tribe/kruskal.h) gives
 * bit-identical H, p, Holm p, epsilon^2 and pairwise deltas on 1, 2 and 4
 * ranks, equal to a tribe_par_serial run over the whole table. The data
 * have many ties (whole numbers), NaN, -0 and +0, a constant column, a
 * column with one segment's values only, and a rank whose block is empty
 * of values in one column: the value-range exchange must see every copy of a
 * value wherever it lives. Rows come from the counter RNG by global index. */
#include "testutil.h"
#include "tribe/kruskal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NROWS 100003
#define D 5
#define K 6

static void make_rows(int64_t lo, int64_t hi, float *x, int32_t *lab)
{
    for (int64_t g = lo; g < hi; g++) {
        int64_t i = g - lo;
        int c = (int)tribe_rng_below(41, 1, (uint64_t)g, K);
        lab[i] = c;
        double z = tribe_rng_normal(41, 2, (uint64_t)g);
        x[i * D + 0] = (float)floor(4 * z + c);                                    /* ties, negatives, -0 */
        x[i * D + 1] = tribe_rng_below(41, 3, (uint64_t)g, 9) == 0 ? NAN : (float)(z + 0.3 * c); /* NaN */
        x[i * D + 2] = 2.5f;                                                       /* constant */
        x[i * D + 3] = c == 2 ? (float)g : NAN;                                    /* one segment */
        x[i * D + 4] = g < NROWS / 3 ? NAN : (float)(c % 3);                       /* first block empty */
        if (x[i * D] == 0 && (g & 1))
            x[i * D] = -0.0f;
    }
}

int main(int argc, char **argv)
{
    tribe_par *par = tribe_mpitest_init(&argc, &argv);
    int rank = tribe_par_rank(par), size = tribe_par_size(par);
    int64_t lo, hi;
    tribe_par_block(NROWS, size, rank, &lo, &hi);
    int64_t n = hi - lo;
    float *x = malloc(((size_t)n + 1) * D * sizeof *x), *fx = malloc((size_t)NROWS * D * sizeof *fx);
    int32_t *lab = malloc(((size_t)n + 1) * sizeof *lab), *flab = malloc((size_t)NROWS * sizeof *flab);
    TRIBE_MPI_CHECK(par, x && fx && lab && flab, "allocations");
    make_rows(lo, hi, x, lab);
    make_rows(0, NROWS, fx, flab);

    tribe_segtest *a = NULL, *b = NULL;
    tribe_status st = tribe_kw_test(par, x, n, D, D, lab, K, &a);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "distributed: %s", tribe_errmsg());
    tribe_par *one = NULL;
    tribe_par_serial(&one);
    tribe_status st1 = tribe_kw_test(one, fx, NROWS, D, D, flab, K, &b);
    TRIBE_MPI_CHECK(par, st1 == TRIBE_OK, "serial: %s", tribe_errmsg());
    if (st == TRIBE_OK && st1 == TRIBE_OK) {
        TRIBE_MPI_CHECK(par, memcmp(a->n, b->n, D * sizeof *a->n) == 0 && memcmp(a->k_used, b->k_used, D * sizeof(int)) == 0,
                        "counts");
        TRIBE_MPI_CHECK(par, memcmp(a->h, b->h, D * sizeof(double)) == 0, "H %.17g vs %.17g", a->h[0], b->h[0]);
        TRIBE_MPI_CHECK(par, memcmp(a->p, b->p, D * sizeof(double)) == 0, "p");
        TRIBE_MPI_CHECK(par, memcmp(a->p_holm, b->p_holm, D * sizeof(double)) == 0, "Holm p");
        TRIBE_MPI_CHECK(par, memcmp(a->eps2, b->eps2, D * sizeof(double)) == 0, "epsilon^2");
        TRIBE_MPI_CHECK(par, memcmp(a->delta, b->delta, (size_t)D * K * K * sizeof(double)) == 0, "deltas");
        /* what the columns are built to give */
        TRIBE_MPI_CHECK(par, a->n[0] == NROWS && a->k_used[0] == K && a->h[0] > 0 && a->eps2[0] > 0.01,
                        "column 0: n %lld H %g eps2 %g", (long long)a->n[0], a->h[0], a->eps2[0]);
        TRIBE_MPI_CHECK(par, a->n[1] < NROWS && a->p[1] < 1e-6, "column 1: n %lld p %g", (long long)a->n[1], a->p[1]);
        TRIBE_MPI_CHECK(par, isnan(a->h[2]) && a->delta[2 * K * K + 1] == 0, "constant column: H %g", a->h[2]);
        TRIBE_MPI_CHECK(par, isnan(a->h[3]) && a->k_used[3] == 1, "one segment: H %g", a->h[3]);
        TRIBE_MPI_CHECK(par, a->n[4] == NROWS - NROWS / 3 && a->h[4] > 0, "column 4: n %lld", (long long)a->n[4]);
        for (int j = 0; j < D; j++)
            for (int p = 0; p < K; p++)
                for (int q = 0; q < K; q++) {
                    double dpq = a->delta[((size_t)j * K + p) * K + q], dqp = a->delta[((size_t)j * K + q) * K + p];
                    TRIBE_MPI_CHECK(par, (isnan(dpq) && isnan(dqp)) || (dpq == -dqp && fabs(dpq) <= 1),
                                    "delta %d %d %d: %g %g", j, p, q, dpq, dqp);
                }
    }
    tribe_segtest_destroy(&a);
    tribe_segtest_destroy(&b);
    tribe_par_finalize(&one);
    free(x);
    free(fx);
    free(lab);
    free(flab);
    return tribe_mpitest_finish(&par);
}
