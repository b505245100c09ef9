/* Cluster quality and K selection give bit-identical results on 1, 2 and 4
 * ranks: Calinski-Harabasz, Davies-Bouldin, the exact squared-Euclidean
 * silhouette, ARI, the sampled silhouette, and a whole K sweep (every row,
 * the elbow, the recommended K, its reason and stability) against a
 * tribe_par_serial run of the full table. Rows come from the counter RNG by
 * global index, so every rank builds its own block. */
#include "testutil.h"
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NROWS 5003
#define D 6
#define K 5

static void make_rows(int64_t lo, int64_t hi, float *z, int32_t *lab, int32_t *other)
{
    for (int64_t g = lo; g < hi; g++) {
        int64_t i = g - lo;
        int c = (int)tribe_rng_below(31, 1, (uint64_t)g, K);
        lab[i] = c;
        other[i] = (int32_t)tribe_rng_below(31, 3, (uint64_t)g, 3);
        for (int j = 0; j < D; j++)
            z[i * D + j] = (float)(7.0 * (j == c % D) - 4.0 * (c == 4) + tribe_rng_normal(31, 2, (uint64_t)(g * D + j)));
    }
}

typedef struct {
    tribe_cluster_quality q;
    double ari, sil, ci;
    tribe_ksweep *ks;
} result;

static tribe_status measure(tribe_par *par, const float *z, const int32_t *lab, const int32_t *other, int64_t n,
                            int64_t off, int32_t *work, result *r)
{
    tribe_status st = TRIBE_OK;
    tribe_rows rows;
    TRIBE_TRY(tribe_rows_init(par, n, off, NROWS, &rows));
    tribe_dmat zm = {&rows, z, D};
    TRIBE_TRY(tribe_cluster_quality_compute(&zm, lab, K, &r->q));
    TRIBE_TRY(tribe_ari(par, lab, K, other, 3, n, &r->ari));
    TRIBE_TRY(tribe_silhouette_sample(&zm, lab, K, 800, 17, &r->sil, &r->ci));
    tribe_ksweep_cfg cfg = {.k_lo = 2, .k_hi = 6, .sil_sample = 400, .stability = 1};
    tribe_kmeans_cfg_default(&cfg.kmeans);
    cfg.kmeans.seed = 99;
    cfg.kmeans.batch_size = 512;
    cfg.kmeans.init_sample = 2000;
    TRIBE_TRY(tribe_ksweep_run(&zm, &cfg, work, &r->ks));
cleanup:
    return st;
}

#define SAME(a, b) (memcmp(&(a), &(b), sizeof(a)) == 0)

int main(int argc, char **argv)
{
    tribe_par *par = tribe_mpitest_init(&argc, &argv);
    int rank = tribe_par_rank(par), size = tribe_par_size(par);
    int64_t lo, hi;
    tribe_par_block(NROWS, size, rank, &lo, &hi);
    int64_t n = hi - lo;
    float *z = malloc(((size_t)n + 1) * D * sizeof *z), *fz = malloc((size_t)NROWS * D * sizeof *fz);
    int32_t *lab = malloc(((size_t)n + 1) * sizeof *lab), *oth = malloc(((size_t)n + 1) * sizeof *oth);
    int32_t *flab = malloc((size_t)NROWS * sizeof *flab), *foth = malloc((size_t)NROWS * sizeof *foth);
    int32_t *work = malloc((size_t)NROWS * sizeof *work);
    TRIBE_MPI_CHECK(par, z && fz && lab && oth && flab && foth && work, "allocations");
    make_rows(lo, hi, z, lab, oth);
    make_rows(0, NROWS, fz, flab, foth);

    result a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    tribe_status st = measure(par, z, lab, oth, n, lo, work, &a);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "distributed: %s", tribe_errmsg());
    tribe_par *one = NULL;
    tribe_par_serial(&one);
    tribe_status st1 = measure(one, fz, flab, foth, NROWS, 0, work, &b);
    TRIBE_MPI_CHECK(par, st1 == TRIBE_OK, "serial: %s", tribe_errmsg());
    if (st == TRIBE_OK && st1 == TRIBE_OK) {
        TRIBE_MPI_CHECK(par, SAME(a.q.ch, b.q.ch), "CH %.17g vs %.17g", a.q.ch, b.q.ch);
        TRIBE_MPI_CHECK(par, SAME(a.q.db, b.q.db), "DB %.17g vs %.17g", a.q.db, b.q.db);
        TRIBE_MPI_CHECK(par, SAME(a.q.silhouette_sq, b.q.silhouette_sq), "squared silhouette %.17g vs %.17g",
                        a.q.silhouette_sq, b.q.silhouette_sq);
        TRIBE_MPI_CHECK(par, SAME(a.ari, b.ari), "ARI %.17g vs %.17g", a.ari, b.ari);
        TRIBE_MPI_CHECK(par, SAME(a.sil, b.sil) && SAME(a.ci, b.ci), "sampled silhouette %.17g vs %.17g", a.sil,
                        b.sil);
        TRIBE_MPI_CHECK(par, a.q.ch > 0 && a.q.db > 0 && a.q.silhouette_sq > 0 && a.q.silhouette_sq < 1,
                        "ranges: CH %g DB %g sq %g", a.q.ch, a.q.db, a.q.silhouette_sq);
        TRIBE_MPI_CHECK(par, fabs(a.ari) < 0.05, "ARI of independent labelings %g", a.ari);
        TRIBE_MPI_CHECK(par, a.ks->n == b.ks->n && a.ks->n == 5, "sweep rows");
        for (int i = 0; i < a.ks->n && i < b.ks->n; i++)
            TRIBE_MPI_CHECK(par, SAME(a.ks->row[i], b.ks->row[i]), "sweep row K=%d", a.ks->row[i].k);
        TRIBE_MPI_CHECK(par,
                        a.ks->recommended_k == b.ks->recommended_k && a.ks->elbow_k == b.ks->elbow_k &&
                            SAME(a.ks->stability_ari, b.ks->stability_ari) && strcmp(a.ks->reason, b.ks->reason) == 0,
                        "recommendation: '%s' vs '%s'", a.ks->reason, b.ks->reason);
        TRIBE_MPI_CHECK(par, a.ks->recommended_k == K, "planted K: %s", a.ks->reason);
        TRIBE_MPI_CHECK(par,
                        memcmp(a.ks->centroids, b.ks->centroids,
                               (size_t)a.ks->n * a.ks->k_max * D * sizeof(double)) == 0,
                        "sweep centroids");
    }
    tribe_ksweep_destroy(&a.ks);
    tribe_ksweep_destroy(&b.ks);
    tribe_par_finalize(&one);
    free(z);
    free(fz);
    free(lab);
    free(oth);
    free(flab);
    free(foth);
    free(work);
    return tribe_mpitest_finish(&par);
}
