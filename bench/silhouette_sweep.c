/* Times the K scoring of a K sweep as `tribe run` does it (docs/benchmarks.md,
 * "The whole job with a K sweep 3-10 on 10M customers"): reads a customers.h5
 * (e.g. from `tribe gen --blobs`), standardises every column as the default
 * job does (no log1p column in a blobs table), and runs tribe_ksweep_run for
 * K = k_lo..k_hi with the default job's K-Means settings, seed 42 and a
 * silhouette sample of 2,000. Rank 0 prints every sweep value with 17
 * digits (to diff two versions) and the fit / scoring seconds. Built and run
 * by bench/silhouette_bench.sh sweep:
 *     mpiexec -n R silhouette_sweep FILE.h5 K_LO K_HI [STABILITY(1|0)] */
#include "tribe/cluster.h"
#include "tribe/h5.h"
#include "tribe/par.h"
#include "tribe/table.h"
#include "tribe/transform.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void print_sweep(const tribe_ksweep *ks, double seconds, double cpu)
{
    for (int i = 0; i < ks->n; i++) {
        const tribe_ksweep_row *r = &ks->row[i];
        printf("K=%d inertia %.17g silhouette %.17g ci %.17g sq %.17g ch %.17g db %.17g ari %.17g steps %d\n", r->k,
               r->inertia, r->silhouette, r->silhouette_ci, r->silhouette_sq, r->ch, r->db, r->stability, r->steps);
    }
    printf("recommended %d elbow %d stability %.17g: %s\n", ks->recommended_k, ks->elbow_k, ks->stability_ari,
           ks->reason);
    printf("seconds: fits %.3f scoring %.3f (silhouette %.3f, quality %.3f, stability %.3f) sweep %.3f (cpu %.3f)\n",
           ks->fit_seconds, ks->score_seconds, ks->silhouette_seconds, ks->quality_seconds, ks->stability_seconds,
           seconds, cpu);
}

int main(int argc, char **argv)
{
    tribe_par *par = NULL;
    tribe_table *t = NULL;
    tribe_scaler *sc = NULL;
    tribe_ksweep *ks = NULL;
    float *z = NULL;
    int32_t *label = NULL;
    int *cols = NULL;
    char *ledger = NULL;
    tribe_status st = tribe_par_init(&argc, &argv, &par);
    if (st != TRIBE_OK || argc < 4) {
        fprintf(stderr, "usage: silhouette_sweep FILE.h5 K_LO K_HI [STABILITY]\n");
        return 2;
    }
    int k_lo = atoi(argv[2]), k_hi = atoi(argv[3]);
    int stability = argc > 4 ? atoi(argv[4]) : 1;
    TRIBE_TRY(tribe_store_read_customers(par, argv[1], &t, &ledger));
    TRIBE_TRY(tribe_calloc((void **)&cols, (size_t)t->d, sizeof *cols));
    for (int j = 0; j < t->d; j++)
        cols[j] = j;
    TRIBE_TRY(tribe_par_agree(par, tribe_scaler_fit(par, t, cols, t->d, NULL, &sc)));
    TRIBE_TRY(tribe_par_agree(par, tribe_scaler_apply_table(sc, t, &z)));
    TRIBE_TRY(tribe_alloc((void **)&label, ((size_t)t->n_local + 1) * sizeof *label));
    tribe_ksweep_cfg cfg = {.k_lo = k_lo, .k_hi = k_hi, .sil_sample = 2000, .stability = stability};
    tribe_kmeans_cfg_default(&cfg.kmeans); /* then the default job's settings (src/core/job.c) */
    cfg.kmeans.seed = 42;
    cfg.kmeans.batch_size = 2048;
    cfg.kmeans.max_steps = 200;
    cfg.kmeans.init_sample = 20000;
    cfg.kmeans.tol = 1e-4;
    cfg.kmeans.n_init = 1;
    cfg.kmeans.lloyd_passes = 3;
    cfg.kmeans.inertia_tol = 1e-4;
    tribe_rows rows;
    TRIBE_TRY(tribe_rows_init(par, t->n_local, t->offset, t->n_global, &rows));
    tribe_dmat zm = {&rows, z, t->d};
    double t0 = tribe_now(), c0 = (double)clock() / CLOCKS_PER_SEC;
    TRIBE_TRY(tribe_ksweep_run(&zm, &cfg, label, &ks));
    if (tribe_par_rank(par) == 0)
        print_sweep(ks, tribe_now() - t0, (double)clock() / CLOCKS_PER_SEC - c0);
cleanup:
    if (st != TRIBE_OK)
        fprintf(stderr, "silhouette_sweep: %s\n", tribe_errmsg());
    tribe_ksweep_destroy(&ks);
    free(z);
    free(label);
    free(cols);
    free(ledger);
    tribe_scaler_destroy(&sc);
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
    return st == TRIBE_OK ? 0 : 1;
}
