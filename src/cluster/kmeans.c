/* Distributed mini-batch K-Means (tribe_kmeans_fit in tribe/cluster.h): a
 * thin driver around the kernels in kmeans_kernel.c. What crosses the
 * network per step is k*(d+1) exact sums; everything else (the k-means++
 * sample, the centres, the per-centre counts) is replicated and updated by the
 * same code on every rank, so every rank holds bit-identical centres. */
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kmeans_internal.h"
#include "tribe/xstats.h"

void tribe_kmeans_cfg_default(tribe_kmeans_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->k = 8;
    cfg->seed = 0;
    cfg->batch_size = 1024;
    cfg->max_steps = 300;
    cfg->init_sample = 10000;
    cfg->tol = 1e-6;
    cfg->n_init = 1;
    cfg->lloyd_passes = 3;
}

typedef struct {
    tribe_par *par;
    const float *z;
    int64_t n, off, N;
    int d, k;
    const tribe_kmeans_cfg *cfg;
    uint64_t seed;       /* of the current initialisation */
    const float *S;      /* k-means++ sample [m][d], same on every rank */
    int64_t m;
    double *cent;        /* [k][d] */
    double *other;       /* [k][d] work: the centres but one */
    double *sd2;         /* [m] work */
    int32_t *lab;        /* [n] */
    double *dist;        /* [n] */
    tribe_xsum *sums;    /* [k][d] kernel output */
    int64_t *cnt;        /* [k] kernel output */
    tribe_xsum *xs;      /* [k][d+1] packed for one reduction */
    int64_t *gcnt;       /* [k] global counts after the reduction */
    float *bz;           /* [batch][d] this rank's rows of a mini-batch */
    int32_t *blab;       /* [batch] */
    int64_t *bn;         /* [k] cumulative mini-batch counts */
    uint64_t reassign_ctr;
    int64_t reassigned;
} km_ctx;

/* Collective. The row farthest from its nearest of the kc centres c (lowest
 * global index on ties) into row[d]; *found = 0 when every row sits on a
 * centre. Used when the sample cannot provide a new distinct point. */
static tribe_status farthest_row(km_ctx *x, const double *c, int kc, double *row, int *found)
{
    tribe_status st = TRIBE_OK;
    void *buf = NULL;
    size_t tot = 0;
    double lm = 0;
    int64_t li = -1;
    tribe_kmeans_assign_d(x->z, x->n, x->d, c, kc, x->lab, x->dist);
    for (int64_t i = 0; i < x->n; i++)
        if (x->dist[i] > lm) {
            lm = x->dist[i];
            li = i;
        }
    double v = lm;
    TRIBE_TRY(tribe_par_max_f64(x->par, &v, 1));
    int64_t g = (li >= 0 && lm == v && v > 0) ? x->off + li : INT64_MAX;
    TRIBE_TRY(tribe_par_min_i64(x->par, &g, 1));
    *found = v > 0;
    if (!*found)
        goto cleanup;
    double mine[256];
    int own = g >= x->off && g < x->off + x->n;
    for (int j = 0; own && j < x->d; j++)
        mine[j] = (double)x->z[(g - x->off) * x->d + j];
    TRIBE_TRY(tribe_par_allgatherv(x->par, mine, own ? (size_t)x->d * sizeof(double) : 0, &buf, &tot, NULL, NULL));
    if (tot != (size_t)x->d * sizeof(double)) {
        st = tribe_fail(TRIBE_ERR_INTERNAL, "k-means: farthest row gathered %zu bytes", tot);
        goto cleanup;
    }
    memcpy(row, buf, tot);
cleanup:
    free(buf);
    return st;
}

/* Collective (only reaches the network in the fallback). Moves centre c to a
 * new position: a sample row drawn with probability proportional to its
 * squared distance to the nearest OTHER centre (as k-means++ would add it),
 * or, when every sample row sits on another centre, the farthest row of the
 * table. Deterministic: the draw is keyed by a counter every rank advances
 * identically. */
static tribe_status move_centre(km_ctx *x, int c)
{
    tribe_status st = TRIBE_OK;
    int d = x->d, k = x->k, ko = 0;
    for (int o = 0; o < k; o++)
        if (o != c)
            memcpy(x->other + (size_t)ko++ * d, x->cent + (size_t)o * d, (size_t)d * sizeof(double));
    int64_t idx = -1;
    if (ko > 0 && x->m > 0) {
        for (int64_t i = 0; i < x->m; i++) {
            double best = INFINITY;
            for (int o = 0; o < ko; o++) {
                double s = 0;
                for (int j = 0; j < d; j++) {
                    double t = (double)x->S[i * d + j] - x->other[(size_t)o * d + j];
                    s += t * t;
                }
                if (s < best)
                    best = s;
            }
            x->sd2[i] = best;
        }
        idx = tribe_kmeans_draw(x->sd2, x->m, x->seed, TRIBE_STREAM_KMEANS_REASSIGN, x->reassign_ctr++);
    }
    if (idx >= 0) {
        for (int j = 0; j < d; j++)
            x->cent[(size_t)c * d + j] = (double)x->S[idx * d + j];
    } else {
        int found = 0;
        TRIBE_TRY(farthest_row(x, x->other, ko, x->cent + (size_t)c * d, &found));
        if (!found) {
            st = tribe_fail(TRIBE_ERR_INTERNAL, "k-means: no row left to restart empty cluster %d", c);
            goto cleanup;
        }
    }
    x->reassigned++;
cleanup:
    return st;
}

/* Collective: sums[k][d] and counts of rows z[n] by label, reduced exactly;
 * leaves the global counts in x->gcnt and the packed sums in x->xs. */
static tribe_status reduce_sums(km_ctx *x, const float *z, int64_t n, const int32_t *lab)
{
    int d = x->d, k = x->k;
    tribe_kmeans_sums(z, n, d, lab, k, x->sums, x->cnt);
    for (int c = 0; c < k; c++) {
        for (int j = 0; j < d; j++)
            x->xs[(size_t)c * (d + 1) + j] = x->sums[(size_t)c * d + j];
        x->xs[(size_t)c * (d + 1) + d] = x->cnt[c]; /* an integer, not scaled */
    }
    tribe_status st = tribe_par_sum_xsum(x->par, x->xs, (int64_t)k * (d + 1));
    for (int c = 0; st == TRIBE_OK && c < k; c++)
        x->gcnt[c] = (int64_t)x->xs[(size_t)c * (d + 1) + d];
    return st;
}

/* Collective: assigns every row and reduces the sums; restarts empty
 * clusters (move_centre) until none is left. */
static tribe_status assign_all(km_ctx *x)
{
    tribe_status st = TRIBE_OK;
    for (int round = 0;; round++) {
        tribe_kmeans_assign_d(x->z, x->n, x->d, x->cent, x->k, x->lab, x->dist);
        TRIBE_TRY(reduce_sums(x, x->z, x->n, x->lab));
        int empty = 0;
        for (int c = 0; c < x->k; c++)
            if (x->gcnt[c] == 0) {
                empty = 1;
                TRIBE_TRY(move_centre(x, c));
            }
        if (!empty)
            break;
        if (round > x->k + 10) {
            st = tribe_fail(TRIBE_ERR_INTERNAL, "k-means: clusters keep emptying after %d restarts", round);
            goto cleanup;
        }
    }
cleanup:
    return st;
}

/* Collective: one Lloyd step (assign, then centres := exact means). */
static tribe_status lloyd_step(km_ctx *x, double *shift)
{
    tribe_status st = TRIBE_OK;
    int d = x->d;
    TRIBE_TRY(assign_all(x));
    *shift = 0;
    for (int c = 0; c < x->k; c++) {
        double s2 = 0;
        for (int j = 0; j < d; j++) {
            double *cc = x->cent + (size_t)c * d + j;
            double nv = tribe_xsum_value(x->xs[(size_t)c * (d + 1) + j]) / (double)x->gcnt[c];
            s2 += (nv - *cc) * (nv - *cc);
            *cc = nv;
        }
        if (s2 > *shift)
            *shift = s2;
    }
cleanup:
    return st;
}

/* Collective: mini-batch K-Means (Sculley 2010) with per-centre learning
 * rate eta = (rows of the centre in this batch) / (its cumulative count). */
static tribe_status minibatch(km_ctx *x, int *steps, int *converged)
{
    tribe_status st = TRIBE_OK;
    const tribe_kmeans_cfg *cfg = x->cfg;
    int d = x->d, k = x->k;
    int64_t B = cfg->batch_size;
    int stall = 0;
    for (int c = 0; c < k; c++)
        x->bn[c] = 0;
    for (int step = 0; step < cfg->max_steps; step++) {
        /* The batch is a list of global row indices (with replacement); each
         * rank takes the ones it holds, so the batch is the same on any
         * number of ranks. */
        int64_t nb = 0;
        for (int64_t j = 0; j < B; j++) {
            int64_t g = (int64_t)tribe_rng_below(x->seed, TRIBE_STREAM_KMEANS_BATCH,
                                                 (uint64_t)step * (uint64_t)B + (uint64_t)j, (uint64_t)x->N);
            if (g >= x->off && g < x->off + x->n)
                memcpy(x->bz + nb++ * d, x->z + (g - x->off) * d, (size_t)d * sizeof(float));
        }
        tribe_kmeans_assign_d(x->bz, nb, d, x->cent, k, x->blab, NULL);
        TRIBE_TRY(reduce_sums(x, x->bz, nb, x->blab));
        double shift = 0;
        for (int c = 0; c < k; c++) {
            int64_t b = x->gcnt[c];
            if (b == 0)
                continue;
            x->bn[c] += b;
            double s2 = 0;
            for (int j = 0; j < d; j++) {
                double *cc = x->cent + (size_t)c * d + j;
                double sum = tribe_xsum_value(x->xs[(size_t)c * (d + 1) + j]);
                /* c + (b / N) * (batch mean - c), written without the mean */
                double nv = *cc + (sum - (double)b * *cc) / (double)x->bn[c];
                s2 += (nv - *cc) * (nv - *cc);
                *cc = nv;
            }
            if (s2 > shift)
                shift = s2;
        }
        (*steps)++;
        stall = shift < cfg->tol ? stall + 1 : 0;
        if (stall >= 5) {
            *converged = 1;
            break;
        }
        /* Starving centres (sklearn's rule: cumulative count below 1% of the
         * largest) are restarted every 10 steps during the first half, so a
         * bad seed does not waste a cluster; the Lloyd polish that follows
         * restarts any cluster that is still empty. */
        if ((step + 1) % 10 == 0 && step + 1 <= cfg->max_steps / 2) {
            int64_t mx = 0, mn = INT64_MAX;
            for (int c = 0; c < k; c++)
                if (x->bn[c] > mx)
                    mx = x->bn[c];
            for (int c = 0; c < k; c++)
                if ((double)x->bn[c] >= 0.01 * (double)mx && x->bn[c] < mn)
                    mn = x->bn[c];
            for (int c = 0; c < k; c++)
                if ((double)x->bn[c] < 0.01 * (double)mx) {
                    TRIBE_TRY(move_centre(x, c));
                    x->bn[c] = mn; /* as sklearn: start at the smallest healthy weight */
                    stall = 0;
                }
        }
    }
cleanup:
    return st;
}

/* Collective: one complete initialisation + fit; inertia as an exact sum. */
static tribe_status fit_once(km_ctx *x, int *steps, int *converged, tribe_xsum *inertia)
{
    tribe_status st = TRIBE_OK;
    const tribe_kmeans_cfg *cfg = x->cfg;
    int d = x->d, k = x->k;
    *steps = 0;
    *converged = 0;
    x->reassigned = 0;
    x->reassign_ctr = 0;
    int found = tribe_kmeanspp(x->S, x->m, d, k, x->seed, TRIBE_STREAM_KMEANS_PP, x->cent, x->sd2);
    /* The sample had fewer than k distinct rows: farthest-first over the
     * whole table, which also proves whether k distinct rows exist. */
    while (found < k) {
        int ok = 0;
        TRIBE_TRY(farthest_row(x, x->cent, found, x->cent + (size_t)found * d, &ok));
        if (!ok) {
            st = tribe_fail(TRIBE_ERR_INPUT, "K=%d but only %d distinct customer rows (in the model's features)",
                            k, found);
            goto cleanup;
        }
        found++;
    }
    double shift = 0;
    if (x->N <= cfg->batch_size) {
        /* Everything fits in one batch: plain Lloyd is cheaper and exact. */
        for (int s = 0; s < cfg->max_steps; s++) {
            TRIBE_TRY(lloyd_step(x, &shift));
            (*steps)++;
            if (shift <= cfg->tol) {
                *converged = 1;
                break;
            }
        }
    } else {
        TRIBE_TRY(minibatch(x, steps, converged));
        for (int p = 0; p < cfg->lloyd_passes; p++) {
            TRIBE_TRY(lloyd_step(x, &shift));
            if (shift <= cfg->tol)
                break;
        }
    }
    /* Final assignment against the returned centres: no cluster may be empty. */
    TRIBE_TRY(assign_all(x));
    tribe_xsum acc = 0;
    for (int64_t i = 0; i < x->n; i++)
        acc += tribe_xsum_of(x->dist[i]);
    TRIBE_TRY(tribe_par_sum_xsum(x->par, &acc, 1));
    *inertia = acc;
cleanup:
    return st;
}

tribe_status tribe_kmeans_fit(tribe_par *par, const float *z, int64_t n_local, int64_t offset,
                              int64_t n_global, int d, const tribe_kmeans_cfg *cfg,
                              double *centroids, tribe_kmeans_info *info)
{
    tribe_status st = TRIBE_OK;
    km_ctx x;
    memset(&x, 0, sizeof x);
    float *S = NULL;
    double *best = NULL;
    int k = cfg->k;
    int64_t B = cfg->batch_size;

    if (k < 1 || d < 1 || d > 256 || B < 1 || cfg->max_steps < 0 || cfg->init_sample < 1 ||
        cfg->n_init < 1 || cfg->lloyd_passes < 0 || !(cfg->tol >= 0))
        st = tribe_fail(TRIBE_ERR_USAGE,
                        "kmeans: invalid settings (k=%d, d=%d, batch_size=%lld, max_steps=%d, init_sample=%lld, "
                        "n_init=%d, lloyd_passes=%d, tol=%g); need k>=1, 1<=d<=256, batch_size>=1, "
                        "init_sample>=1, n_init>=1 and the rest >= 0",
                        k, d, (long long)B, cfg->max_steps, (long long)cfg->init_sample, cfg->n_init,
                        cfg->lloyd_passes, cfg->tol);
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_cluster_check_rows(par, n_local, offset, n_global, "kmeans"));
    if (n_global < k)
        st = tribe_fail(TRIBE_ERR_INPUT, "K=%d but only %lld customers", k, (long long)n_global);
    if (st == TRIBE_OK) {
        int64_t bad = -1;
        for (int64_t i = 0; i < n_local * d && bad < 0; i++)
            if (!isfinite(z[i]))
                bad = i;
        if (bad >= 0)
            st = tribe_fail(TRIBE_ERR_INPUT, "kmeans: model value of row %lld, column %d is not finite",
                            (long long)(offset + bad / d), (int)(bad % d));
    }
    TRIBE_TRY(tribe_par_agree(par, st));

    x.par = par;
    x.z = z;
    x.n = n_local;
    x.off = offset;
    x.N = n_global;
    x.d = d;
    x.k = k;
    x.cfg = cfg;
    TRIBE_TRY(tribe_sample_rows(par, z, n_local, offset, n_global, d, NULL, cfg->init_sample, cfg->seed,
                                TRIBE_STREAM_KMEANS_SAMPLE, &S, NULL, NULL, &x.m));
    x.S = S;
    size_t kd = (size_t)k * (size_t)d;
    st = tribe_alloc((void **)&x.cent, kd * sizeof *x.cent);
    if (st == TRIBE_OK) st = tribe_alloc((void **)&x.other, kd * sizeof *x.other);
    if (st == TRIBE_OK) st = tribe_alloc((void **)&best, kd * sizeof *best);
    if (st == TRIBE_OK) st = tribe_alloc((void **)&x.sd2, (size_t)x.m * sizeof *x.sd2);
    if (st == TRIBE_OK) st = tribe_alloc((void **)&x.lab, (size_t)n_local * sizeof *x.lab);
    if (st == TRIBE_OK) st = tribe_alloc((void **)&x.dist, (size_t)n_local * sizeof *x.dist);
    if (st == TRIBE_OK) st = tribe_alloc((void **)&x.sums, kd * sizeof *x.sums);
    if (st == TRIBE_OK) st = tribe_alloc((void **)&x.cnt, (size_t)k * sizeof *x.cnt);
    if (st == TRIBE_OK) st = tribe_alloc((void **)&x.xs, (size_t)k * (size_t)(d + 1) * sizeof *x.xs);
    if (st == TRIBE_OK) st = tribe_alloc((void **)&x.gcnt, (size_t)k * sizeof *x.gcnt);
    if (st == TRIBE_OK) st = tribe_alloc((void **)&x.bz, (size_t)B * (size_t)d * sizeof *x.bz);
    if (st == TRIBE_OK) st = tribe_alloc((void **)&x.blab, (size_t)B * sizeof *x.blab);
    if (st == TRIBE_OK) st = tribe_alloc((void **)&x.bn, (size_t)k * sizeof *x.bn);
    TRIBE_TRY(tribe_par_agree(par, st));

    tribe_xsum best_inertia = 0;
    tribe_kmeans_info bi;
    memset(&bi, 0, sizeof bi);
    for (int r = 0; r < cfg->n_init; r++) {
        int steps = 0, conv = 0;
        tribe_xsum inertia = 0;
        x.seed = tribe_hash2(cfg->seed, (uint64_t)r);
        TRIBE_TRY(fit_once(&x, &steps, &conv, &inertia));
        /* Exact sums: every rank compares the same integers. */
        if (r == 0 || inertia < best_inertia) {
            best_inertia = inertia;
            memcpy(best, x.cent, kd * sizeof *best);
            bi.steps = steps;
            bi.converged = conv;
            bi.best_init = r;
            bi.reassigned = x.reassigned;
            bi.inertia = tribe_xsum_value(inertia);
        }
    }
    memcpy(centroids, best, kd * sizeof *best);
    if (info)
        *info = bi;
cleanup:
    free(S);
    free(best);
    free(x.cent);
    free(x.other);
    free(x.sd2);
    free(x.lab);
    free(x.dist);
    free(x.sums);
    free(x.cnt);
    free(x.xs);
    free(x.gcnt);
    free(x.bz);
    free(x.blab);
    free(x.bn);
    return st;
}

static int relabel_before(int a, int b, const double *key, const int64_t *size)
{
    int na = isnan(key[a]), nb = isnan(key[b]);
    if (na != nb)
        return nb; /* clusters without a value go last */
    if (!na && key[a] != key[b])
        return key[a] > key[b];
    if (size[a] != size[b])
        return size[a] > size[b];
    return a < b;
}

tribe_status tribe_kmeans_relabel(tribe_par *par, const tribe_table *t, int col, int k, int d,
                                  double *centroids, int32_t *label, int *perm)
{
    tribe_status st = TRIBE_OK;
    double *key = NULL, *tmp = NULL;
    int64_t *size = NULL;
    int *order = NULL;
    if (col < -1 || col >= t->d || k < 1)
        return tribe_fail(TRIBE_ERR_USAGE, "relabel: column %d out of range (table has %d) or k=%d", col, t->d, k);
    TRIBE_TRY(tribe_calloc((void **)&key, (size_t)k, sizeof *key));
    TRIBE_TRY(tribe_calloc((void **)&size, (size_t)k, sizeof *size));
    TRIBE_TRY(tribe_calloc((void **)&order, (size_t)k, sizeof *order));
    TRIBE_TRY(tribe_alloc((void **)&tmp, (size_t)k * (size_t)d * sizeof *tmp));
    for (int64_t i = 0; i < t->n_local; i++)
        if (label[i] >= 0 && label[i] < k)
            size[label[i]]++;
    TRIBE_TRY(tribe_par_sum_i64(par, size, k));
    if (col >= 0)
        TRIBE_TRY(tribe_xstats_means(par, t->x + col, t->n_local, t->d, 1, label, k, 0, NULL, NULL, key));
    /* Insertion sort: k is small, and the comparison is a strict total order. */
    for (int c = 0; c < k; c++) {
        int j = c;
        while (j > 0 && relabel_before(c, order[j - 1], key, size)) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = c;
    }
    for (int r = 0; r < k; r++)
        perm[order[r]] = r;
    for (int c = 0; c < k; c++)
        memcpy(tmp + (size_t)perm[c] * d, centroids + (size_t)c * d, (size_t)d * sizeof *tmp);
    memcpy(centroids, tmp, (size_t)k * (size_t)d * sizeof *tmp);
    for (int64_t i = 0; i < t->n_local; i++)
        if (label[i] >= 0 && label[i] < k)
            label[i] = perm[label[i]];
cleanup:
    free(key);
    free(tmp);
    free(size);
    free(order);
    return st;
}
