/* The K-Means engine options (k-means||, Lloyd, shared restarts) and the
 * blobs generator give bit-identical results on 1, 2 and 4 ranks: each rank
 * generates its block of a blobs table by global row, fits, assigns, and
 * compares with a tribe_par_serial run over the whole table. */
#include "testutil.h"
#include "tribe/cluster.h"
#include "tribe/gen.h"
#include "tribe/h5.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NROWS 20011
#define D 16
#define K 8

int main(int argc, char **argv)
{
    tribe_par *par = tribe_mpitest_init(&argc, &argv);
    int rank = tribe_par_rank(par);
    tribe_par *one = NULL;
    tribe_par_serial(&one);

    /* The generator: written by all ranks, read back block-wise, compared
     * with rank 0's serial generation of the same settings. */
    const char *dir = tribe_mpitest_tmpdir(par);
    char path[700], spath[700], truth[800];
    snprintf(path, sizeof path, "%s/blobs.h5", dir);
    snprintf(spath, sizeof spath, "%s/blobs-serial.h5", dir);
    tribe_blobs_cfg bc;
    tribe_blobs_defaults(&bc);
    bc.customers = NROWS;
    bc.seed = 5;
    tribe_status st = tribe_gen_blobs(par, &bc, path);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "gen blobs: %s", tribe_errmsg());
    tribe_table *t = NULL, *full = NULL;
    st = tribe_store_read_customers(par, path, &t, NULL);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK && t->d == D && t->n_global == NROWS, "read blobs: %s", tribe_errmsg());
    int gen_same = 1;
    if (rank == 0) {
        tribe_status s1 = tribe_gen_blobs(one, &bc, spath);
        if (s1 == TRIBE_OK)
            s1 = tribe_store_read_customers(one, spath, &full, NULL);
        gen_same = s1 == TRIBE_OK && full->n_global == NROWS &&
                   memcmp(full->x, t->x, (size_t)t->n_local * D * sizeof(float)) == 0 &&
                   memcmp(full->id, t->id, (size_t)t->n_local * sizeof(int64_t)) == 0;
        tribe_h5 *h = NULL;
        int32_t *lab = NULL;
        int64_t cols = 0;
        tribe_blobs_truth_path(path, truth, sizeof truth);
        if (gen_same && tribe_h5_open(one, truth, &h) == TRIBE_OK &&
            tribe_h5_read_rows(h, "/truth/label", TRIBE_H5_I32, NROWS, 0, NROWS, &cols, (void **)&lab) == TRIBE_OK) {
            int64_t cnt[K] = {0};
            for (int64_t i = 0; i < NROWS; i++)
                cnt[lab[i] >= 0 && lab[i] < K ? lab[i] : 0]++;
            for (int q = 1; q < K; q++) /* shares grow with the cluster index */
                gen_same &= cnt[q] > cnt[q - 1];
        } else {
            gen_same = 0;
        }
        free(lab);
        tribe_h5_close(&h);
        unlink(spath);
        tribe_blobs_truth_path(spath, truth, sizeof truth);
        unlink(truth);
    }
    TRIBE_MPI_CHECK(par, gen_same, "blobs file differs from the serial generation (or bad truth)");
    /* Rank 0's serial table serves as the reference for the fits below:
     * share it (small). */
    if (rank != 0 && t) {
        if (tribe_table_create(NROWS, D, (const char *const *)t->names, &full) != TRIBE_OK)
            full = NULL;
    }
    TRIBE_MPI_CHECK(par, full != NULL, "reference table");
    if (full)
        tribe_par_bcast(par, full->x, (size_t)NROWS * D * sizeof(float), 0);

    static const struct {
        int init, alg, n_init;
    } variants[] = {{TRIBE_KMEANS_INIT_PARALLEL, TRIBE_KMEANS_LLOYD, 3},
                    {TRIBE_KMEANS_INIT_PARALLEL, TRIBE_KMEANS_MINIBATCH, 2},
                    {TRIBE_KMEANS_INIT_PP, TRIBE_KMEANS_LLOYD, 2},
                    {TRIBE_KMEANS_INIT_PP_LLOYD, TRIBE_KMEANS_LLOYD, 3}};
    for (int v = 0; t && full && v < 4; v++) {
        tribe_kmeans_cfg cfg;
        tribe_kmeans_cfg_default(&cfg);
        cfg.k = K;
        cfg.seed = 99;
        cfg.batch_size = 1000;
        cfg.max_steps = 80;
        cfg.init = variants[v].init;
        cfg.algorithm = variants[v].alg;
        cfg.n_init = variants[v].n_init;
        double a[K * D], b[K * D];
        tribe_kmeans_info ia, ib;
        tribe_rows rows, all = {one, NROWS, 0, NROWS};
        st = tribe_rows_init(par, t->n_local, t->offset, NROWS, &rows);
        if (st == TRIBE_OK)
            st = tribe_kmeans_fit(&(tribe_dmat){&rows, t->x, D}, &cfg, a, &ia);
        TRIBE_MPI_CHECK(par, st == TRIBE_OK, "variant %d: %s", v, tribe_errmsg());
        tribe_status s1 = tribe_kmeans_fit(&(tribe_dmat){&all, full->x, D}, &cfg, b, &ib);
        TRIBE_MPI_CHECK(par, s1 == TRIBE_OK, "variant %d serial: %s", v, tribe_errmsg());
        TRIBE_MPI_CHECK(par, memcmp(a, b, sizeof a) == 0, "variant %d: centroids differ", v);
        TRIBE_MPI_CHECK(par, ia.inertia == ib.inertia && ia.steps == ib.steps && ia.best_init == ib.best_init &&
                                 ia.passes == ib.passes && ia.reassigned == ib.reassigned,
                        "variant %d: info inertia %.17g vs %.17g, steps %d vs %d, passes %lld vs %lld", v, ia.inertia,
                        ib.inertia, ia.steps, ib.steps, (long long)ia.passes, (long long)ib.passes);
        int32_t *la = malloc((size_t)(t->n_local + 1) * sizeof *la), *lb = malloc((size_t)NROWS * sizeof *lb);
        float *da = malloc((size_t)(t->n_local + 1) * sizeof *da), *db = malloc((size_t)NROWS * sizeof *db);
        tribe_kmeans_assign(t->x, t->n_local, D, a, K, la, da);
        tribe_kmeans_assign(full->x, NROWS, D, b, K, lb, db);
        TRIBE_MPI_CHECK(par, memcmp(la, lb + t->offset, (size_t)t->n_local * sizeof *la) == 0 &&
                                 memcmp(da, db + t->offset, (size_t)t->n_local * sizeof *da) == 0,
                        "variant %d: labels or distances differ", v);
        int64_t cnt[K] = {0};
        for (int64_t i = 0; i < NROWS; i++)
            cnt[lb[i]]++;
        for (int q = 0; q < K; q++)
            TRIBE_MPI_CHECK(par, cnt[q] > 0, "variant %d: cluster %d empty", v, q);
        if (rank == 0)
            printf("variant %d: inertia %.6f, steps %d, passes %lld, best init %d\n", v, ia.inertia, ia.steps,
                   (long long)ia.passes, ia.best_init);
        free(la);
        free(lb);
        free(da);
        free(db);
    }
    tribe_par_barrier(par);
    if (rank == 0) {
        unlink(path);
        tribe_blobs_truth_path(path, truth, sizeof truth);
        unlink(truth);
    }
    tribe_table_destroy(&t);
    tribe_table_destroy(&full);
    tribe_par_finalize(&one);
    return tribe_mpitest_finish(&par);
}
