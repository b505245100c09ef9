/* The whole modelling core (transform, K-Means, relabel, silhouette, segment
 * profiles and names, projection) gives bit-identical results on 1, 2 and 4
 * ranks: every rank builds its block of a synthetic table from the counter
 * RNG by global index, runs the distributed pipeline, and compares with a
 * tribe_par_serial run of the full table. */
#include "testutil.h"
#include "tribe/cluster.h"
#include "tribe/transform.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NROWS 6007
#define K 4
static const char *FEATS[] = {"recency_days", "frequency", "monetary", "sessions", "age"};
#define D 5

/* Customer i: one of 4 planted behaviours, some values missing. */
static tribe_table *make_shard(int64_t lo, int64_t hi)
{
    static const double mu[4][D] = {
        {5, 12, 2500, 40, 35}, {200, 1, 40, 2, 60}, {10, 1, 80, 8, 25}, {100, 8, 1500, 15, 45}};
    tribe_table *t = NULL;
    if (tribe_table_create(hi - lo, D, FEATS, &t) != TRIBE_OK)
        return NULL;
    t->n_global = NROWS;
    t->offset = lo;
    const char *dev[] = {"mobile", "desktop", "tablet"};
    const char *cty[] = {"UK", "FR", "DE", "NL"};
    if (tribe_table_add_cat(t, "device", 3, dev, NULL) != TRIBE_OK ||
        tribe_table_add_cat(t, "country", 4, cty, NULL) != TRIBE_OK) {
        tribe_table_destroy(&t);
        return NULL;
    }
    /* after both adds: add_cat reallocates t->cat, moving earlier columns */
    tribe_catcol *cd = &t->cat[0], *cc = &t->cat[1];
    for (int64_t g = lo; g < hi; g++) {
        int64_t i = g - lo;
        int q = (int)tribe_rng_below(77, 1, (uint64_t)g, 4);
        t->id[i] = 100000 + 3 * g;
        for (int j = 0; j < D; j++) {
            double e = tribe_rng_normal(77, 2, (uint64_t)(g * D + j));
            double v = j == 2 ? mu[q][j] * exp(0.3 * e) : fmax(0, mu[q][j] * (1 + 0.2 * e));
            if ((j == 4 || j == 0) && tribe_rng_unif(77, 3, (uint64_t)(g * D + j)) < 0.03)
                v = NAN;
            t->x[i * D + j] = (float)v;
        }
        cd->code[i] = (int32_t)tribe_rng_below(77, 4, (uint64_t)g, 4) - 1; /* -1 = missing */
        cc->code[i] = (int32_t)((g + q) % 4);
    }
    return t;
}

typedef struct {
    tribe_scaler *sc;
    float *z;
    double cent[K * D];
    tribe_kmeans_info info;
    int32_t *label;
    int perm[K];
    double sil, ci;
    tribe_segments *segs;
    tribe_projection *proj;
} result;

static tribe_status pipeline(tribe_par *par, const tribe_table *t, result *r)
{
    tribe_status st = TRIBE_OK;
    int cols[] = {0, 1, 2, 3, 4}, logs[] = {1, 1, 1, 1, 0};
    TRIBE_TRY(tribe_scaler_fit(par, t, cols, D, logs, &r->sc));
    TRIBE_TRY(tribe_scaler_apply_table(r->sc, t, &r->z));
    tribe_kmeans_cfg cfg;
    tribe_kmeans_cfg_default(&cfg);
    cfg.k = K;
    cfg.seed = 2024;
    cfg.batch_size = 512;
    cfg.init_sample = 2000;
    cfg.n_init = 2;
    tribe_rows rows;
    TRIBE_TRY(tribe_rows_init(par, t->n_local, t->offset, t->n_global, &rows));
    const tribe_dmat zm = {&rows, r->z, D};
    TRIBE_TRY(tribe_kmeans_fit(&zm, &cfg, r->cent, &r->info));
    TRIBE_TRY(tribe_alloc((void **)&r->label, (size_t)t->n_local * sizeof *r->label));
    tribe_kmeans_assign(r->z, t->n_local, D, r->cent, K, r->label, NULL);
    TRIBE_TRY(tribe_kmeans_relabel(par, t, 2, K, D, r->cent, r->label, r->perm));
    TRIBE_TRY(tribe_silhouette_sample(&zm, r->label, K, 300, 9, &r->sil, &r->ci));
    TRIBE_TRY(tribe_segments_build(par, t, r->label, K, r->cent, cols, D, 2, &r->segs));
    r->segs->silhouette = r->sil;
    r->segs->silhouette_ci = r->ci;
    r->segs->inertia = r->info.inertia;
    tribe_segments_name(r->segs);
    TRIBE_TRY(tribe_projection_fit(&zm, r->label, 500, 9, &r->proj));
cleanup:
    return st;
}

static void result_free(result *r)
{
    tribe_scaler_destroy(&r->sc);
    free(r->z);
    free(r->label);
    tribe_segments_destroy(&r->segs);
    tribe_projection_destroy(&r->proj);
}

#define SAME(a, b, bytes) (memcmp((a), (b), (bytes)) == 0)

int main(int argc, char **argv)
{
    tribe_par *par = tribe_mpitest_init(&argc, &argv);
    int rank = tribe_par_rank(par), size = tribe_par_size(par);
    int64_t lo, hi;
    tribe_par_block(NROWS, size, rank, &lo, &hi);
    tribe_table *shard = make_shard(lo, hi), *full = make_shard(0, NROWS);
    TRIBE_MPI_CHECK(par, shard && full, "tables");

    result dist, ser;
    memset(&dist, 0, sizeof dist);
    memset(&ser, 0, sizeof ser);
    tribe_status st = pipeline(par, shard, &dist);
    TRIBE_MPI_CHECK(par, st == TRIBE_OK, "distributed pipeline: %s", tribe_errmsg());
    tribe_par *one = NULL;
    tribe_par_serial(&one);
    tribe_status st1 = pipeline(one, full, &ser);
    TRIBE_MPI_CHECK(par, st1 == TRIBE_OK, "serial pipeline: %s", tribe_errmsg());

    if (st == TRIBE_OK && st1 == TRIBE_OK) {
        int64_t n = hi - lo;
        TRIBE_MPI_CHECK(par, SAME(dist.sc->mean, ser.sc->mean, D * sizeof(double)), "scaler mean");
        TRIBE_MPI_CHECK(par, SAME(dist.sc->std, ser.sc->std, D * sizeof(double)), "scaler std");
        TRIBE_MPI_CHECK(par, SAME(dist.z, ser.z + lo * D, (size_t)n * D * sizeof(float)), "z block");
        TRIBE_MPI_CHECK(par, SAME(dist.cent, ser.cent, sizeof dist.cent), "centroids");
        TRIBE_MPI_CHECK(par, SAME(dist.perm, ser.perm, sizeof dist.perm), "relabel permutation");
        TRIBE_MPI_CHECK(par, dist.info.inertia == ser.info.inertia && dist.info.steps == ser.info.steps &&
                                 dist.info.best_init == ser.info.best_init &&
                                 dist.info.reassigned == ser.info.reassigned,
                        "info: inertia %.17g vs %.17g, steps %d vs %d", dist.info.inertia, ser.info.inertia,
                        dist.info.steps, ser.info.steps);
        TRIBE_MPI_CHECK(par, SAME(dist.label, ser.label + lo, (size_t)n * sizeof(int32_t)), "labels");
        TRIBE_MPI_CHECK(par, dist.sil == ser.sil && dist.ci == ser.ci, "silhouette %.17g vs %.17g", dist.sil,
                        ser.sil);
        TRIBE_MPI_CHECK(par, dist.sil > 0.3 && dist.sil <= 1 && dist.ci > 0, "silhouette %g +- %g", dist.sil,
                        dist.ci);
        const tribe_segments *a = dist.segs, *b = ser.segs;
        int64_t total = 0;
        for (int c = 0; c < K; c++) {
            const tribe_segment *x = &a->seg[c], *y = &b->seg[c];
            total += x->size;
            TRIBE_MPI_CHECK(par, x->size == y->size && x->share == y->share, "segment %d size", c);
            TRIBE_MPI_CHECK(par, x->size > 0, "segment %d is empty", c);
            TRIBE_MPI_CHECK(par, SAME(&x->revenue_share, &y->revenue_share, sizeof(double)), "revenue share %d", c);
            TRIBE_MPI_CHECK(par, SAME(x->mean, y->mean, D * sizeof(double)), "segment %d means", c);
            TRIBE_MPI_CHECK(par, SAME(x->median, y->median, D * sizeof(double)), "segment %d medians", c);
            TRIBE_MPI_CHECK(par, SAME(x->q1, y->q1, D * sizeof(double)), "segment %d first quartiles", c);
            TRIBE_MPI_CHECK(par, SAME(x->q3, y->q3, D * sizeof(double)), "segment %d third quartiles", c);
            TRIBE_MPI_CHECK(par, SAME(x->centroid, y->centroid, D * sizeof(double)), "segment %d centroid", c);
            TRIBE_MPI_CHECK(par, strcmp(x->name, y->name) == 0, "segment %d name '%s' vs '%s'", c, x->name, y->name);
            if (c > 0)
                TRIBE_MPI_CHECK(par, x->mean[2] <= a->seg[c - 1].mean[2], "ids by descending monetary");
        }
        TRIBE_MPI_CHECK(par, total == NROWS, "sizes sum to %lld", (long long)total);
        TRIBE_MPI_CHECK(par, SAME(a->overall_mean, b->overall_mean, D * sizeof(double)), "overall means");
        TRIBE_MPI_CHECK(par, SAME(a->overall_median, b->overall_median, D * sizeof(double)), "overall medians");
        TRIBE_MPI_CHECK(par, SAME(a->overall_q1, b->overall_q1, D * sizeof(double)), "overall first quartiles");
        TRIBE_MPI_CHECK(par, SAME(a->overall_q3, b->overall_q3, D * sizeof(double)), "overall third quartiles");
        TRIBE_MPI_CHECK(par, a->n_mix == 2 && b->n_mix == 2, "mixes");
        for (int m = 0; m < a->n_mix && m < b->n_mix; m++)
            TRIBE_MPI_CHECK(par, SAME(a->mix[m].count, b->mix[m].count, (K + 1) * a->mix[m].n_levels * sizeof(int64_t)),
                            "mix %d", m);
        const tribe_projection *p = dist.proj, *q = ser.proj;
        TRIBE_MPI_CHECK(par, p->m == q->m && p->m > 300, "projection sample %lld vs %lld", (long long)p->m,
                        (long long)q->m);
        if (p->m == q->m) {
            TRIBE_MPI_CHECK(par, SAME(p->xy, q->xy, (size_t)p->m * 2 * sizeof(float)), "projection coordinates");
            TRIBE_MPI_CHECK(par, SAME(p->label, q->label, (size_t)p->m * sizeof(int32_t)), "projection labels");
        }
        TRIBE_MPI_CHECK(par, strcmp(p->axis[0], q->axis[0]) == 0 && strcmp(p->axis[1], q->axis[1]) == 0, "axes");
        if (rank == 0) {
            for (int c = 0; c < K; c++)
                printf("segment %d %-20s size %5lld  median R %6.1f F %4.1f M %7.1f  revenue %.3f\n", c,
                       a->seg[c].name, (long long)a->seg[c].size, a->seg[c].median[0], a->seg[c].median[1],
                       a->seg[c].median[2], a->seg[c].revenue_share);
            printf("silhouette %.4f +- %.4f, inertia %.1f, steps %d, %s / %s\n", dist.sil, dist.ci,
                   dist.info.inertia, dist.info.steps, p->axis[0], p->axis[1]);
        }
    }

    /* The sample walked as gaps: this rank's part of it is exactly the
     * whole table's sample cut to its block (a 1 000 001-row table, so the
     * walk crosses every block boundary), about `size` rows in all, spread
     * evenly over the table. */
    {
        const int64_t N = 1000001, want_size = 20000;
        int64_t bl, bh, *mine = NULL, *all = NULL, nm = 0, na = 0;
        tribe_par_block(N, size, rank, &bl, &bh);
        tribe_rows block = {par, bh - bl, bl, N}, whole = {par, N, 0, N}; /* whole: each rank walks every row */
        tribe_status s1 = tribe_sample_local(&block, want_size, 9, 3, &mine, &nm);
        tribe_status s2 = tribe_sample_local(&whole, want_size, 9, 3, &all, &na);
        TRIBE_MPI_CHECK(par, s1 == TRIBE_OK && s2 == TRIBE_OK, "tribe_sample_local: %s", tribe_errmsg());
        int64_t first = 0, half = 0;
        while (first < na && all[first] < bl)
            first++;
        int64_t in_block = 0;
        while (first + in_block < na && all[first + in_block] < bh)
            in_block++;
        TRIBE_MPI_CHECK(par, nm == in_block && SAME(mine, all + first, (size_t)nm * sizeof *mine),
                        "rank %d: %lld sampled rows in its block, %lld in the whole table's sample", rank,
                        (long long)nm, (long long)in_block);
        for (int64_t j = 0; j < na; j++) {
            TRIBE_MPI_CHECK(par, all[j] >= 0 && all[j] < N && (j == 0 || all[j] > all[j - 1]), "row %lld",
                            (long long)all[j]);
            half += all[j] < N / 2;
        }
        /* 5 standard deviations of a binomial(N, p) count and of the split. */
        double p = (double)want_size / (double)N, sd = sqrt((double)N * p * (1 - p));
        TRIBE_MPI_CHECK(par, fabs((double)na - (double)want_size) < 5 * sd, "sample of %lld rows", (long long)na);
        TRIBE_MPI_CHECK(par, fabs((double)half - na / 2.0) < 5 * sqrt(na / 4.0), "%lld of %lld in the first half",
                        (long long)half, (long long)na);
        int64_t *every = NULL, ne = 0;
        TRIBE_MPI_CHECK(par, tribe_sample_local(&block, N, 9, 3, &every, &ne) == TRIBE_OK &&
                                 ne == bh - bl && (ne == 0 || (every[0] == bl && every[ne - 1] == bh - 1)),
                        "size >= n takes every row");
        free(every);
        free(mine);
        free(all);
    }

    /* Errors agree across ranks: K above the customers, and an infinite
     * value on the last rank, named by its customer id. */
    tribe_kmeans_cfg cfg;
    tribe_kmeans_cfg_default(&cfg);
    cfg.k = NROWS + 1;
    double dummy[D];
    if (dist.z) {
        st = tribe_kmeans_fit(&(tribe_dmat){&(tribe_rows){par, hi - lo, lo, NROWS}, dist.z, D}, &cfg, dummy, NULL);
        char want[64];
        snprintf(want, sizeof want, "K=%d but only %d customers", NROWS + 1, NROWS);
        TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && strcmp(tribe_errmsg(), want) == 0, "K > n: %s", tribe_errmsg());
    }
    /* A rank that claims the wrong offset is caught on every rank. */
    {
        tribe_rows bad_rows;
        st = tribe_rows_init(par, hi - lo, rank == size - 1 ? lo + 1 : lo, NROWS, &bad_rows);
        TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INTERNAL, "wrong offset: %d %s", st, tribe_errmsg());
    }
    if (rank == size - 1 && shard && shard->n_local > 2)
        shard->x[2 * D + 1] = INFINITY;
    tribe_scaler *bad = NULL;
    int cols[] = {0, 1};
    st = tribe_scaler_fit(par, shard, cols, 2, NULL, &bad);
    char want[96];
    int64_t blo, bhi;
    tribe_par_block(NROWS, size, size - 1, &blo, &bhi);
    snprintf(want, sizeof want, "customer %lld, feature 'frequency': value is infinite", (long long)(100000 + 3 * (blo + 2)));
    TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && strcmp(tribe_errmsg(), want) == 0, "inf: %s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, bad == NULL, "no scaler on error");

    result_free(&dist);
    result_free(&ser);
    tribe_table_destroy(&shard);
    tribe_table_destroy(&full);
    tribe_par_finalize(&one);
    return tribe_mpitest_finish(&par);
}
