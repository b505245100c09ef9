/* The beyond-K-Means drivers (outliers, Gaussian mixture, Ward tree, PCA
 * projection) give bit-identical results on 1, 2 and 4 ranks: every rank
 * builds its block of a synthetic model-space matrix from the counter RNG by
 * global index, runs the drivers, and compares with a tribe_par_serial run
 * on the full matrix. */
#include "testutil.h"
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NROWS 5003
#define K 4
#define D 5

static const double MU[K][D] = {
    {0, 0, 0, 0, 0}, {3, 1, -2, 0.5, 1}, {-1, 4, 1, -1, 2}, {2, -3, 2, 2, -1}};

/* Rows [lo, hi): planted blobs, one far-out row in 200. */
static float *make_block(int64_t lo, int64_t hi)
{
    float *z = malloc((size_t)(hi - lo + 1) * D * sizeof *z);
    for (int64_t g = lo; g < hi; g++) {
        int c = (int)tribe_rng_below(91, 1, (uint64_t)g, K);
        double far = g % 200 == 7 ? 6.0 : 1.0;
        for (int j = 0; j < D; j++)
            z[(g - lo) * D + j] =
                (float)(MU[c][j] + far * (0.4 + 0.2 * c) * tribe_rng_normal(91, 2, (uint64_t)(g * D + j)));
    }
    return z;
}

typedef struct {
    int32_t *label;
    float *dist;
    uint8_t *flag;
    float *score;
    float *memb;
    tribe_outliers *out;
    tribe_gmm *gmm, *gmm_s; /* every row; a sample */
    tribe_ward *ward;
    tribe_projection *proj;
} result;

static tribe_status drivers(tribe_par *par, const float *z, int64_t n, int64_t off, result *r)
{
    tribe_status st = TRIBE_OK;
    r->label = malloc((size_t)(n + 1) * sizeof *r->label);
    r->dist = malloc((size_t)(n + 1) * sizeof *r->dist);
    r->flag = malloc((size_t)(n + 1));
    r->score = malloc((size_t)(n + 1) * sizeof *r->score);
    r->memb = malloc((size_t)(n + 1) * K * sizeof *r->memb);
    if (!r->label || !r->dist || !r->flag || !r->score || !r->memb)
        return TRIBE_ERR_NOMEM;
    tribe_rows rows;
    TRIBE_TRY(tribe_rows_init(par, n, off, NROWS, &rows));
    const tribe_dmat zm = {&rows, z, D};
    tribe_kmeans_assign(z, n, D, &MU[0][0], K, r->label, r->dist);
    for (int64_t i = 0; i < n; i++)
        r->dist[i] = sqrtf(r->dist[i]);
    TRIBE_TRY(tribe_outliers_fit(par, r->dist, r->label, n, K, 3.0, r->flag, r->score, &r->out));
    tribe_gmm_cfg cfg;
    tribe_gmm_cfg_default(&cfg);
    cfg.tol = 1e-6;
    TRIBE_TRY(tribe_gmm_fit(&zm, r->label, K, &MU[0][0], &cfg, r->memb, &r->gmm));
    cfg.sample_size = 1500;
    cfg.seed = 3;
    TRIBE_TRY(tribe_gmm_fit(&zm, r->label, K, &MU[0][0], &cfg, NULL, &r->gmm_s));
    TRIBE_TRY(tribe_ward_fit(par, r->label, n, &MU[0][0], K, D, &r->ward));
    TRIBE_TRY(tribe_projection_fit(&zm, r->label, 400, 5, &r->proj));
cleanup:
    return st;
}

static void result_free(result *r)
{
    free(r->label);
    free(r->dist);
    free(r->flag);
    free(r->score);
    free(r->memb);
    tribe_outliers_destroy(&r->out);
    tribe_gmm_destroy(&r->gmm);
    tribe_gmm_destroy(&r->gmm_s);
    tribe_ward_destroy(&r->ward);
    tribe_projection_destroy(&r->proj);
}

#define SAME(a, b, bytes) (memcmp((a), (b), (bytes)) == 0)

int main(int argc, char **argv)
{
    tribe_par *par = tribe_mpitest_init(&argc, &argv);
    int rank = tribe_par_rank(par), size = tribe_par_size(par);
    int64_t lo, hi;
    tribe_par_block(NROWS, size, rank, &lo, &hi);
    int64_t n = hi - lo;
    float *zb = make_block(lo, hi), *zf = make_block(0, NROWS);
    result a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    tribe_status st = drivers(par, zb, n, lo, &a);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "distributed drivers: %s", tribe_errmsg());
    tribe_par *one = NULL;
    tribe_par_serial(&one);
    tribe_status st1 = drivers(one, zf, NROWS, 0, &b);
    TRIBE_MPI_CHECK(par, st1 == TRIBE_OK, "serial drivers: %s", tribe_errmsg());

    if (st == TRIBE_OK && st1 == TRIBE_OK) {
        /* outliers */
        TRIBE_MPI_CHECK(par, SAME(a.flag, b.flag + lo, (size_t)n), "outlier flags");
        TRIBE_MPI_CHECK(par, SAME(a.score, b.score + lo, (size_t)n * sizeof(float)), "outlier scores");
        TRIBE_MPI_CHECK(par, SAME(a.out->q1, b.out->q1, 3 * K * sizeof(double)), "quartiles and fences");
        TRIBE_MPI_CHECK(par, SAME(a.out->count, b.out->count, K * sizeof(int64_t)), "outlier counts");
        TRIBE_MPI_CHECK(par, a.out->total == b.out->total && a.out->total > 0 && a.out->total < NROWS / 20,
                        "outliers %lld", (long long)a.out->total);
        /* the planted far-out rows are most of the flagged ones */
        int64_t planted = 0;
        for (int64_t i = 0; i < n; i++)
            planted += a.flag[i] && (lo + i) % 200 == 7;
        TRIBE_MPI_CHECK(par, tribe_par_sum_i64(par, &planted, 1) == TRIBE_OK && 2 * planted > a.out->total,
                        "planted %lld of %lld flagged", (long long)planted, (long long)a.out->total);
        /* mixture */
        TRIBE_MPI_CHECK(par, SAME(a.gmm->weight, b.gmm->weight, (size_t)K * (1 + 2 * D) * sizeof(double)),
                        "mixture parameters");
        TRIBE_MPI_CHECK(par, a.gmm->loglik == b.gmm->loglik && a.gmm->iterations == b.gmm->iterations &&
                                 a.gmm->lower_bound == b.gmm->lower_bound,
                        "log-likelihood %.17g vs %.17g, iterations %d vs %d", a.gmm->loglik, b.gmm->loglik,
                        a.gmm->iterations, b.gmm->iterations);
        TRIBE_MPI_CHECK(par, SAME(a.memb, b.memb + lo * K, (size_t)n * K * sizeof(float)), "memberships");
        TRIBE_MPI_CHECK(par, SAME(a.gmm_s->weight, b.gmm_s->weight, (size_t)K * (1 + 2 * D) * sizeof(double)) &&
                                 a.gmm_s->loglik == b.gmm_s->loglik && a.gmm_s->rows == b.gmm_s->rows,
                        "sampled mixture");
        TRIBE_MPI_CHECK(par, a.gmm_s->rows > 1200 && a.gmm_s->rows < 1800 && a.gmm->rows == NROWS,
                        "EM rows %lld", (long long)a.gmm_s->rows);
        /* Ward tree */
        TRIBE_MPI_CHECK(par, SAME(a.ward->merges, b.ward->merges, 2 * (K - 1) * sizeof(int32_t)), "ward merges");
        TRIBE_MPI_CHECK(par, SAME(a.ward->heights, b.ward->heights, (K - 1) * sizeof(double)), "ward heights");
        TRIBE_MPI_CHECK(par, SAME(a.ward->sizes, b.ward->sizes, (K - 1) * sizeof(int64_t)), "ward sizes");
        TRIBE_MPI_CHECK(par, a.ward->sizes[K - 2] == NROWS, "root holds everyone");
        /* projection */
        const tribe_projection *p = a.proj, *q = b.proj;
        TRIBE_MPI_CHECK(par, p->m == q->m && p->m > 200, "projection sample %lld", (long long)p->m);
        if (p->m == q->m)
            TRIBE_MPI_CHECK(par, SAME(p->xy, q->xy, (size_t)p->m * 2 * sizeof(float)), "projection coordinates");
        TRIBE_MPI_CHECK(par, SAME(p->explained_variance, q->explained_variance, D * sizeof(double)) &&
                                 SAME(p->components, q->components, sizeof p->components) &&
                                 SAME(p->mean, q->mean, D * sizeof(double)),
                        "projection axes");
        double rs = 0;
        for (int j = 0; j < D; j++)
            rs += p->explained_variance_ratio[j];
        TRIBE_MPI_CHECK(par, fabs(rs - 1) < 1e-12, "explained variance ratios sum to %.17g", rs);
        if (rank == 0)
            printf("outliers %lld (per segment %lld %lld %lld %lld); gmm %d iterations, loglik %.6f; ward top "
                   "height %.3f; PC1 %.1f%%\n",
                   (long long)a.out->total, (long long)a.out->count[0], (long long)a.out->count[1],
                   (long long)a.out->count[2], (long long)a.out->count[3], a.gmm->iterations, a.gmm->loglik,
                   a.ward->heights[K - 2], 100 * p->explained_variance_ratio[0]);
    }
    /* A bad label is an INPUT error on every rank. */
    if (a.label && n > 0 && rank == size - 1)
        a.label[n - 1] = K;
    if (a.label) {
        tribe_ward *w = NULL;
        st = tribe_ward_fit(par, a.label, n, &MU[0][0], K, D, &w);
        TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && w == NULL, "bad label: %d %s", st, tribe_errmsg());
        tribe_gmm *g = NULL;
        tribe_gmm_cfg cfg;
        tribe_gmm_cfg_default(&cfg);
        tribe_rows rows;
        st = tribe_rows_init(par, n, lo, NROWS, &rows);
        if (st == TRIBE_OK)
            st = tribe_gmm_fit(&(tribe_dmat){&rows, zb, D}, a.label, K, &MU[0][0], &cfg, NULL, &g);
        TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && g == NULL, "bad label (gmm): %d %s", st, tribe_errmsg());
    }
    result_free(&a);
    result_free(&b);
    free(zb);
    free(zf);
    tribe_par_finalize(&one);
    return tribe_mpitest_finish(&par);
}
