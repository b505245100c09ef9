/* DBSCAN outliers (tribe_dbscan_fit) give bit-identical results on 1, 2 and
 * 4 ranks: the sample (by global row), eps from the knee, the core points and
 * clusters, and every customer's cluster, flag and score, against a
 * tribe_par_serial run of the full table. Rows come from the counter RNG by
 * global index, so every rank builds its own block. */
#include "testutil.h"
#include "tribe/dbscan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NROWS 6007
#define D 4

static void make_rows(int64_t lo, int64_t hi, float *z)
{
    for (int64_t g = lo; g < hi; g++) {
        int c = (int)tribe_rng_below(41, 1, (uint64_t)g, 4);
        for (int j = 0; j < D; j++) {
            uint64_t at = (uint64_t)(g * D + j);
            double v = c == 3 ? 8 * tribe_rng_unif(41, 2, at) - 4 : 2.0 * ((j + c) % 3 - 1) + 0.4 * tribe_rng_normal(41, 3, at);
            z[(g - lo) * D + j] = (float)v;
        }
    }
}

static tribe_status fit(tribe_par *par, const float *z, int64_t n, int64_t off, const tribe_dbscan_cfg *cfg,
                        int32_t *cl, uint8_t *fl, float *sc, tribe_dbscan **db)
{
    tribe_status st = TRIBE_OK;
    tribe_rows rows;
    TRIBE_TRY(tribe_rows_init(par, n, off, NROWS, &rows));
    tribe_dmat zm = {&rows, z, D};
    TRIBE_TRY(tribe_dbscan_fit(&zm, cfg, cl, fl, sc, db));
cleanup:
    return st;
}

static int same_model(const tribe_dbscan *a, const tribe_dbscan *b)
{
    if (a->eps != b->eps || a->eps2 != b->eps2 || a->n_core != b->n_core || a->n_clusters != b->n_clusters ||
        a->m != b->m || a->knee != b->knee || a->noise != b->noise || a->min_samples != b->min_samples)
        return 0;
    size_t nc = (size_t)a->n_core, k = (size_t)a->n_clusters;
    return memcmp(a->core, b->core, nc * D * sizeof *a->core) == 0 &&
           memcmp(a->core_index, b->core_index, nc * sizeof *a->core_index) == 0 &&
           memcmp(a->core_cluster, b->core_cluster, nc * sizeof *a->core_cluster) == 0 &&
           memcmp(a->cluster_size, b->cluster_size, k * sizeof *a->cluster_size) == 0 &&
           memcmp(a->core_count, b->core_count, k * sizeof *a->core_count) == 0;
}

int main(int argc, char **argv)
{
    tribe_par *par = tribe_mpitest_init(&argc, &argv);
    int rank = tribe_par_rank(par), size = tribe_par_size(par);
    int64_t lo, hi;
    tribe_par_block(NROWS, size, rank, &lo, &hi);
    int64_t n = hi - lo;
    float *z = malloc(((size_t)n + 1) * D * sizeof *z), *fz = malloc((size_t)NROWS * D * sizeof *fz);
    float *sc = malloc(((size_t)n + 1) * sizeof *sc), *fsc = malloc((size_t)NROWS * sizeof *fsc);
    int32_t *cl = malloc(((size_t)n + 1) * sizeof *cl), *fcl = malloc((size_t)NROWS * sizeof *fcl);
    uint8_t *fl = malloc((size_t)n + 1), *ffl = malloc((size_t)NROWS);
    TRIBE_MPI_CHECK(par, z && fz && sc && fsc && cl && fcl && fl && ffl, "allocations");
    make_rows(lo, hi, z);
    make_rows(0, NROWS, fz);
    tribe_par *one = NULL;
    tribe_par_serial(&one);
    /* eps from the knee (min_samples 2 x columns), then eps given */
    tribe_dbscan_cfg cfgs[2] = {{.sample_size = 2000, .seed = 5}, {.sample_size = 2500, .min_samples = 5, .eps = 0.5, .seed = 6}};
    for (int t = 0; t < 2; t++) {
        tribe_dbscan *a = NULL, *b = NULL;
        tribe_status st = fit(par, z, n, lo, &cfgs[t], cl, fl, sc, &a);
        TRIBE_MPI_CHECK(par, st == TRIBE_OK, "distributed %d: %s", t, tribe_errmsg());
        tribe_status st1 = fit(one, fz, NROWS, 0, &cfgs[t], fcl, ffl, fsc, &b);
        TRIBE_MPI_CHECK(par, st1 == TRIBE_OK, "serial %d: %s", t, tribe_errmsg());
        if (st != TRIBE_OK || st1 != TRIBE_OK)
            continue;
        TRIBE_MPI_CHECK(par, same_model(a, b), "case %d: model differs from the serial one", t);
        TRIBE_MPI_CHECK(par, memcmp(cl, fcl + lo, (size_t)n * sizeof *cl) == 0, "case %d: clusters differ", t);
        TRIBE_MPI_CHECK(par, memcmp(fl, ffl + lo, (size_t)n) == 0, "case %d: flags differ", t);
        TRIBE_MPI_CHECK(par, memcmp(sc, fsc + lo, (size_t)n * sizeof *sc) == 0, "case %d: scores differ", t);
        /* The sample is about sample_size rows; noise is there (a quarter of the
         * rows are uniform over the box, most of them noise) but not the most, and
         * every customer is counted once: in a cluster or as noise. */
        int64_t tot = b->noise;
        for (int c = 0; c < b->n_clusters; c++)
            tot += b->cluster_size[c];
        TRIBE_MPI_CHECK(par, tot == NROWS, "case %d: %lld customers counted", t, (long long)tot);
        TRIBE_MPI_CHECK(par, b->m > cfgs[t].sample_size * 9 / 10 && b->m < cfgs[t].sample_size * 11 / 10,
                        "case %d: sample of %lld", t, (long long)b->m);
        TRIBE_MPI_CHECK(par, b->noise > 0 && b->noise < NROWS / 3, "case %d: %lld noise", t, (long long)b->noise);
        TRIBE_MPI_CHECK(par, (b->knee >= 0) == (t == 0) && b->eps_from_knee == (t == 0), "case %d: eps source", t);
        tribe_dbscan_destroy(&a);
        tribe_dbscan_destroy(&b);
    }
    tribe_par_finalize(&one);
    free(z);
    free(fz);
    free(sc);
    free(fsc);
    free(cl);
    free(fcl);
    free(fl);
    free(ffl);
    return tribe_mpitest_finish(&par);
}
