/* Distributed mini-batch K-Means (tribe_kmeans_fit in tribe/cluster.h): a
 * thin driver around the kernels of kmeans_pass.c. What crosses the
 * network per step is k*(d+1) exact sums; everything else (the k-means++
 * sample, the centres, the per-centre counts) is replicated and updated by the
 * same code on every rank, so every rank holds bit-identical centres. */
#include "tribe/cluster.h"

#include <math.h>
#include <omp.h>
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
    cfg->init = TRIBE_KMEANS_INIT_PP;
    cfg->algorithm = TRIBE_KMEANS_MINIBATCH;
    cfg->par_rounds = 5;
    cfg->par_oversample = 2.0;
    cfg->inertia_tol = 1e-4;
    cfg->kernel = TRIBE_KMEANS_KERNEL_AUTO;
}

typedef struct {
    tribe_par *par;
    const float *z;
    int64_t n, off, N;
    int d, k;
    const tribe_kmeans_cfg *cfg;
    tribe_kmeans_ws *ws; /* every pass of the fit (sized for n_init sets of k) */
    uint64_t seed;       /* of the current initialisation */
    float *S;            /* k-means++ sample [m][d], same on every rank (owned) */
    int64_t m;
    double *cent;        /* [k][d]: the current set (points into sets) */
    double *sets;        /* [n_init][k][d] all restarts */
    double *other;       /* [k][d] work: the centres but one */
    double *sd2;         /* [m] work */
    int32_t *lab;        /* [n] work of farthest_row, allocated there */
    double *dist;        /* [n] idem */
    tribe_xsum *sums;    /* [n_init][k][d] kernel output */
    int64_t *cnt;        /* [n_init][k] kernel output */
    tribe_xsum *xs;      /* [n_init][k][d+1] + [n_init] packed for one reduction */
    tribe_xsum *inert;   /* [n_init] kernel output */
    tribe_xsum *sq;      /* [n_init][k] kernel output: sums of |x|^2 */
    int64_t *gcnt;       /* [n_init][k] global counts after the reduction */
    float *bz;           /* [batch][d] this rank's rows of a mini-batch */
    int32_t *blab;       /* [batch] */
    int64_t *bn;         /* [k] cumulative mini-batch counts */
    uint64_t reassign_ctr;
    int64_t reassigned;
    int64_t passes;      /* full data passes so far */
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
    if (!x->lab) { /* allocated on first use: this fallback is rare */
        st = tribe_alloc((void **)&x->lab, ((size_t)x->n + 1) * sizeof *x->lab);
        if (st == TRIBE_OK)
            st = tribe_alloc((void **)&x->dist, ((size_t)x->n + 1) * sizeof *x->dist);
    }
    TRIBE_TRY(tribe_par_agree(x->par, st));
    if (x->n > 0 && kc > 0) {
        tribe_kmeans_pass_io p = {.cent = c, .nsets = 1, .k = kc, .d = x->d, .label = x->lab, .dist2 = x->dist};
        st = tribe_kmeans_pass(x->ws, x->z, x->n, &p);
    }
    for (int64_t i = 0; kc == 0 && i < x->n; i++) /* no centre yet (an empty sample): the first row */
        x->dist[i] = INFINITY;
    TRIBE_TRY(tribe_par_agree(x->par, st));
    x->passes++;
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
    double mine[TRIBE_MAX_FEATURES];
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

/* Collective: the exact sums, counts and inertia of `ns` centre sets
 * (x->sums, x->cnt, x->inert, and with with_sq x->sq, filled by the
 * caller's pass or the batch kernel) reduced in ONE allreduce: global counts
 * into x->gcnt, packed sums in x->xs ([ns][k][d+1], count last), inertia
 * [ns] after them, then (with_sq) the sums of |x|^2 [ns][k]. */
static tribe_status reduce_packed(km_ctx *x, int ns, int with_sq)
{
    int d = x->d, k = x->k;
    size_t kt = (size_t)ns * k;
    for (size_t c = 0; c < kt; c++) {
        for (int j = 0; j < d; j++)
            x->xs[c * (d + 1) + j] = x->sums[c * d + j];
        x->xs[c * (d + 1) + d] = x->cnt[c]; /* an integer, not scaled */
    }
    for (int s = 0; s < ns; s++)
        x->xs[kt * (d + 1) + s] = x->inert[s];
    for (size_t c = 0; with_sq && c < kt; c++)
        x->xs[kt * (d + 1) + ns + c] = x->sq[c];
    tribe_status st = tribe_par_sum_xsum(x->par, x->xs, (int64_t)(kt * (d + 1) + ns + (with_sq ? kt : 0)));
    for (size_t c = 0; st == TRIBE_OK && c < kt; c++)
        x->gcnt[c] = (int64_t)x->xs[c * (d + 1) + d];
    return st;
}

/* Collective: assigns the rows z[n] to x->cent (labels into lab) and sums
 * them by centre in the same pass (the exact integers tribe_kmeans_sums
 * gives), reduced; leaves the global counts in x->gcnt and the packed sums
 * in x->xs. */
static tribe_status assign_reduce_sums(km_ctx *x, const float *z, int64_t n, int32_t *lab)
{
    tribe_status st = TRIBE_OK;
    if (n > 0) {
        tribe_kmeans_pass_io p = {.cent = x->cent, .nsets = 1, .k = x->k, .d = x->d, .label = lab, .sum = x->sums,
                                  .count = x->cnt};
        st = tribe_kmeans_pass(x->ws, z, n, &p);
    } else {
        memset(x->sums, 0, (size_t)x->k * x->d * sizeof *x->sums);
        memset(x->cnt, 0, (size_t)x->k * sizeof *x->cnt);
    }
    TRIBE_TRY(tribe_par_agree(x->par, st));
    x->inert[0] = 0;
    TRIBE_TRY(reduce_packed(x, 1, 0));
cleanup:
    return st;
}

/* Collective: one fused pass (assign + exact sums) of every row against the
 * ns sets at cent[ns][k][d], reduced. with_inertia: the exact inertia
 * (a distance per row); otherwise the per-centre sums of |x|^2, from which
 * lloyd_shared gets the inertia without any distance. */
static tribe_status fused_pass(km_ctx *x, const double *cent, int ns, int with_inertia)
{
    tribe_status st = TRIBE_OK;
    tribe_kmeans_pass_io p = {.cent = cent, .nsets = ns, .k = x->k, .d = x->d, .sum = x->sums, .count = x->cnt,
                              .inertia = with_inertia ? x->inert : NULL, .sumsq = with_inertia ? NULL : x->sq};
    st = tribe_kmeans_pass(x->ws, x->z, x->n, &p);
    TRIBE_TRY(tribe_par_agree(x->par, st));
    x->passes++;
    if (!with_inertia)
        for (int s = 0; s < ns; s++)
            x->inert[s] = 0;
    TRIBE_TRY(reduce_packed(x, ns, !with_inertia));
cleanup:
    return st;
}

/* Collective: assigns every row against x->cent for the counts and the
 * exact inertia (no labels, distances or sums are kept: nothing reads
 * them), reduced into x->gcnt and x->xs; restarts empty clusters
 * (move_centre) until none is left. */
static tribe_status assign_all(km_ctx *x)
{
    tribe_status st = TRIBE_OK;
    memset(x->sums, 0, (size_t)x->k * x->d * sizeof *x->sums);
    for (int round = 0;; round++) {
        tribe_kmeans_pass_io p = {.cent = x->cent, .nsets = 1, .k = x->k, .d = x->d, .count = x->cnt,
                                  .inertia = x->inert};
        st = tribe_kmeans_pass(x->ws, x->z, x->n, &p);
        TRIBE_TRY(tribe_par_agree(x->par, st));
        x->passes++;
        TRIBE_TRY(reduce_packed(x, 1, 0));
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
        TRIBE_TRY(assign_reduce_sums(x, x->bz, nb, x->blab));
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

/* Serial, identical on every rank: greedy k-means++ over m weighted
 * candidate rows c[m][d] (weights w >= 0), then weighted Lloyd on them until
 * no candidate changes centre (at most 50 rounds). Returns the distinct
 * centres found (< k when fewer candidates of positive weight are distinct).
 * Work arrays: d2[m], lab[m]. */
static int weighted_pp(const double *c, const double *w, int64_t m, int d, int k, uint64_t seed, double *out,
                       double *d2, int32_t *lab)
{
    uint64_t ctr = 0;
    int64_t first = -1;
    for (int64_t i = 0; i < m; i++)
        d2[i] = w[i];
    first = tribe_kmeans_draw(d2, m, seed, TRIBE_STREAM_KMEANS_PAR_PP, ctr++);
    if (first < 0)
        return 0;
    memcpy(out, c + first * d, (size_t)d * sizeof *out);
    for (int64_t i = 0; i < m; i++) {
        double s = 0;
        for (int j = 0; j < d; j++)
            s += (c[i * d + j] - out[j]) * (c[i * d + j] - out[j]);
        d2[i] = s;
    }
    int trials = 2 + (int)floor(log((double)k)), found = 1;
    double *wd = d2 + m; /* second half of the work array: w * d2 */
    for (; found < k; found++) {
        for (int64_t i = 0; i < m; i++)
            wd[i] = w[i] * d2[i];
        int64_t best = -1;
        double best_pot = INFINITY;
        for (int t = 0; t < trials; t++) {
            int64_t cand = tribe_kmeans_draw(wd, m, seed, TRIBE_STREAM_KMEANS_PAR_PP, ctr++);
            if (cand < 0)
                break;
            double pot = 0;
            for (int64_t i = 0; i < m; i++) {
                double s = 0;
                for (int j = 0; j < d; j++)
                    s += (c[i * d + j] - c[cand * d + j]) * (c[i * d + j] - c[cand * d + j]);
                pot += w[i] * (s < d2[i] ? s : d2[i]);
            }
            if (pot < best_pot) {
                best_pot = pot;
                best = cand;
            }
        }
        if (best < 0)
            break; /* every weighted candidate sits on a chosen centre */
        double *cc = out + (size_t)found * d;
        memcpy(cc, c + best * d, (size_t)d * sizeof *cc);
        for (int64_t i = 0; i < m; i++) {
            double s = 0;
            for (int j = 0; j < d; j++)
                s += (c[i * d + j] - cc[j]) * (c[i * d + j] - cc[j]);
            if (s < d2[i])
                d2[i] = s;
        }
    }
    if (found < k)
        return found;
    for (int64_t i = 0; i < m; i++)
        lab[i] = -1;
    for (int it = 0; it < 50; it++) {
        int changed = 0;
        for (int64_t i = 0; i < m; i++) {
            int b = 0;
            double bd = INFINITY;
            for (int q = 0; q < k; q++) {
                double s = 0;
                for (int j = 0; j < d; j++)
                    s += (c[i * d + j] - out[(size_t)q * d + j]) * (c[i * d + j] - out[(size_t)q * d + j]);
                if (s < bd) {
                    bd = s;
                    b = q;
                }
            }
            changed |= lab[i] != b;
            lab[i] = b;
        }
        if (!changed)
            break;
        for (int q = 0; q < k; q++) {
            double ws = 0;
            for (int64_t i = 0; i < m; i++)
                if (lab[i] == q)
                    ws += w[i];
            if (!(ws > 0))
                continue; /* keep a centre that lost its candidates */
            for (int j = 0; j < d; j++) {
                double a = 0;
                for (int64_t i = 0; i < m; i++)
                    if (lab[i] == q)
                        a += w[i] * c[i * d + j];
                out[(size_t)q * d + j] = a / ws;
            }
        }
    }
    return k;
}

/* Per-restart state of the shared Lloyd passes. */
typedef struct {
    uint64_t seed, reassign_ctr;
    int64_t reassigned;
    int steps, converged, active, found;
    double last_inertia, sample_inertia;
} km_set;

/* Not collective. Grows *buf to hold at least n items of `size` bytes (at
 * least doubling), keeping *cap in items; no allocation when it already
 * does. */
static tribe_status grow(double **buf, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return TRIBE_OK;
    size_t c = n > 2 * *cap ? n : 2 * *cap;
    tribe_status st = tribe_realloc((void **)buf, c * size);
    if (st == TRIBE_OK)
        *cap = c;
    return st;
}

/* Not collective. The exact (integer) sum of m[n]: the same whatever the
 * threads. */
static tribe_xsum sum_exact(const double *m, int64_t n)
{
    tribe_xsum acc = 0;
#pragma omp parallel if (n >= TRIBE_OMP_MIN_WORK)
    {
        tribe_xsum a = 0;
#pragma omp for schedule(static) nowait
        for (int64_t i = 0; i < n; i++)
            a += tribe_xsum_of(m[i]);
#pragma omp critical(km_psi)
        acc += a;
    }
    return acc;
}

/* Not collective. This rank's k-means|| picks for one restart (seed) in
 * `round`, in row order, into (*mine)[*nmine][d] (grown, never shrunk, with
 * *cap rows): round 0 the first centre, a uniform draw by global index;
 * later rounds each row with probability min(1, l m[i] / P), m[n] the
 * squared distances to the nearest candidate, P their global total (no row
 * when P is 0). sel[n] is work. Errors: NOMEM. */
static tribe_status pick_local(const km_ctx *x, uint64_t seed, int round, const double *m, double P,
                               unsigned char *sel, float **mine, int64_t *cap, int64_t *nmine)
{
    tribe_status st = TRIBE_OK;
    int d = x->d;
    uint64_t N = (uint64_t)x->N;
    double l = x->cfg->par_oversample * x->k;
    int64_t npick = 0, first = -1;
    *nmine = 0;
    if (round == 0) {
        int64_t g = (int64_t)tribe_rng_below(seed, TRIBE_STREAM_KMEANS_PAR, 0, N);
        if (g >= x->off && g < x->off + x->n) {
            first = g - x->off;
            npick = 1;
        }
    } else if (P > 0) {
        /* The draws in parallel (each a function of the global index). */
        uint64_t key = tribe_rng_key(seed, TRIBE_STREAM_KMEANS_PAR);
        uint64_t base = (uint64_t)round * N + (uint64_t)x->off;
#pragma omp parallel for schedule(static) reduction(+ : npick) if (x->n >= TRIBE_OMP_MIN_WORK)
        for (int64_t i = 0; i < x->n; i++) {
            sel[i] = (unsigned char)(m[i] > 0 && !(tribe_rng_unif_keyed(key, base + (uint64_t)i) >= l * m[i] / P));
            npick += sel[i];
        }
    }
    if (npick > *cap) {
        int64_t c = npick > 2 * *cap ? npick : 2 * *cap;
        TRIBE_TRY(tribe_realloc((void **)mine, (size_t)c * d * sizeof **mine));
        *cap = c;
    }
    if (first >= 0)
        memcpy(*mine + (*nmine)++ * d, x->z + first * d, (size_t)d * sizeof **mine);
    for (int64_t i = 0; first < 0 && i < x->n && *nmine < npick; i++)
        if (sel[i])
            memcpy(*mine + (*nmine)++ * d, x->z + i * d, (size_t)d * sizeof **mine);
cleanup:
    return st;
}

/* Collective: k-means|| (Bahmani et al. 2012) for every restart at once, into
 * x->sets[r] (sets[r].found = distinct centres found). Per restart: a first
 * centre drawn uniformly by global index, then par_rounds rounds: with psi
 * the exact total of every row's squared distance to its nearest candidate,
 * global row g joins with probability min(1, l d2 / psi), decided by the
 * counter RNG at (round, g): the candidates do not depend on the rank count.
 * Each round is ONE pass for all restarts that lowers their d2 against their
 * new candidates (a restart with fewer new candidates is padded with copies,
 * which the pass skips: kset). A last pass counts the rows nearest each
 * candidate (the weights; padding again skipped, ties going to the lower
 * index), then weighted k-means++ and Lloyd on the candidates run on every
 * rank alike. Memory: n_init doubles and one byte per local row. */
static tribe_status kmeans_parallel(km_ctx *x, km_set *sets, int ns)
{
    tribe_status st = TRIBE_OK;
    int d = x->d, k = x->k;
    size_t kd = (size_t)k * d;
    double *md = NULL, *pad = NULL, *work = NULL, *w = NULL;
    double **C = NULL;
    int64_t *mc = NULL, *add = NULL, *cnt = NULL;
    tribe_xsum *psi = NULL;
    float *mine = NULL;
    void *buf = NULL;
    int32_t *wl = NULL;
    unsigned char *sel = NULL; /* [n] this round's picks */
    int *kset = NULL;          /* [ns] live candidates of a padded pass */
    int64_t cap_m = 0;
    size_t pad_cap = 0;
    size_t tot = 0;

    TRIBE_TRY(tribe_alloc((void **)&md, (size_t)ns * (size_t)(x->n + 1) * sizeof *md));
    TRIBE_TRY(tribe_calloc((void **)&C, (size_t)ns, sizeof *C));
    TRIBE_TRY(tribe_calloc((void **)&mc, (size_t)ns, sizeof *mc));
    TRIBE_TRY(tribe_calloc((void **)&add, (size_t)ns, sizeof *add));
    TRIBE_TRY(tribe_calloc((void **)&psi, (size_t)ns, sizeof *psi));
    TRIBE_TRY(tribe_calloc((void **)&kset, (size_t)ns, sizeof *kset));
    TRIBE_TRY(tribe_alloc((void **)&sel, (size_t)x->n + 1));
#pragma omp parallel for schedule(static) if (x->n >= TRIBE_OMP_MIN_WORK)
    for (int64_t i = 0; i < (int64_t)ns * x->n; i++)
        md[i] = INFINITY;
    for (int round = 0; round <= x->cfg->par_rounds; round++) {
        if (round > 0) {
            for (int r = 0; r < ns; r++)
                psi[r] = sum_exact(md + (size_t)r * x->n, x->n);
            TRIBE_TRY(tribe_par_sum_xsum(x->par, psi, ns));
        }
        int64_t amax = 0, live = 0;
        for (int r = 0; r < ns; r++) {
            /* This round's picks of restart r, in global order (the gather
             * is in rank order). */
            int64_t nmine = 0;
            double P = tribe_xsum_value(psi[r]);
            live += round > 0 && P > 0;
            st = pick_local(x, sets[r].seed, round, md + (size_t)r * x->n, P, sel, &mine, &cap_m, &nmine);
            TRIBE_TRY(tribe_par_agree(x->par, st));
            free(buf);
            buf = NULL;
            TRIBE_TRY(tribe_par_allgatherv(x->par, mine, (size_t)nmine * d * sizeof(float), &buf, &tot, NULL, NULL));
            add[r] = (int64_t)(tot / ((size_t)d * sizeof(float)));
            if (add[r] > 0) {
                TRIBE_TRY(tribe_realloc((void **)&C[r], (size_t)(mc[r] + add[r]) * d * sizeof **C));
                for (int64_t q = 0; q < add[r] * d; q++)
                    C[r][mc[r] * d + q] = (double)((float *)buf)[q];
            }
            if (add[r] > amax)
                amax = add[r];
        }
        if (round > 0 && live == 0)
            break; /* every row of every restart sits on a candidate */
        if (amax == 0)
            continue;
        /* d2 := min(d2, distance to the nearest NEW candidate), all
         * restarts in one pass. The buffers only grow. */
        st = grow(&pad, &pad_cap, (size_t)ns * amax * d, sizeof *pad);
        if (st == TRIBE_OK)
            st = tribe_kmeans_ws_reserve(x->ws, ns, (int)amax);
        TRIBE_TRY(tribe_par_agree(x->par, st));
        for (int r = 0; r < ns; r++)
            for (int64_t q = 0; q < amax; q++) {
                const double *src = add[r] > 0 ? C[r] + (mc[r] + (q < add[r] ? q : 0)) * d : C[r];
                memcpy(pad + ((size_t)r * amax + q) * d, src, (size_t)d * sizeof *pad);
            }
        for (int r = 0; r < ns; r++)
            kset[r] = add[r] > 0 ? (int)add[r] : 1; /* the padding is never read */
        tribe_kmeans_pass_io p = {.cent = pad, .nsets = ns, .k = (int)amax, .d = d, .mind2 = md, .kset = kset};
        st = tribe_kmeans_pass(x->ws, x->z, x->n, &p);
        TRIBE_TRY(tribe_par_agree(x->par, st));
        x->passes++;
        for (int r = 0; r < ns; r++)
            mc[r] += add[r];
    }
    /* Weights: rows nearest each candidate (exact integer counts). */
    int64_t kmax = 0;
    for (int r = 0; r < ns; r++)
        if (mc[r] > kmax)
            kmax = mc[r];
    st = grow(&pad, &pad_cap, (size_t)ns * kmax * d, sizeof *pad);
    if (st == TRIBE_OK)
        st = tribe_kmeans_ws_reserve(x->ws, ns, (int)kmax);
    TRIBE_TRY(tribe_par_agree(x->par, st));
    for (int r = 0; r < ns; r++)
        for (int64_t q = 0; q < kmax; q++)
            memcpy(pad + ((size_t)r * kmax + q) * d, C[r] + (q < mc[r] ? q : 0) * d, (size_t)d * sizeof *pad);
    TRIBE_TRY(tribe_calloc((void **)&cnt, (size_t)ns * kmax, sizeof *cnt));
    for (int r = 0; r < ns; r++)
        kset[r] = mc[r] > 0 ? (int)mc[r] : 1;
    {
        tribe_kmeans_pass_io p = {.cent = pad, .nsets = ns, .k = (int)kmax, .d = d, .count = cnt, .kset = kset};
        st = tribe_kmeans_pass(x->ws, x->z, x->n, &p);
        TRIBE_TRY(tribe_par_agree(x->par, st));
        x->passes++;
        TRIBE_TRY(tribe_par_sum_i64(x->par, cnt, (int64_t)ns * kmax));
    }
    TRIBE_TRY(tribe_alloc((void **)&w, (size_t)kmax * sizeof *w));
    TRIBE_TRY(tribe_alloc((void **)&work, (size_t)kmax * 2 * sizeof *work));
    TRIBE_TRY(tribe_alloc((void **)&wl, (size_t)kmax * sizeof *wl));
    for (int r = 0; r < ns; r++) {
        for (int64_t q = 0; q < mc[r]; q++)
            w[q] = (double)cnt[(size_t)r * kmax + q];
        sets[r].found = weighted_pp(C[r], w, mc[r], d, k, sets[r].seed, x->sets + (size_t)r * kd, work, wl);
    }
cleanup:
    for (int r = 0; C && r < ns; r++)
        free(C[r]);
    free(C);
    free(md);
    free(pad);
    free(work);
    free(w);
    free(mc);
    free(add);
    free(cnt);
    free(psi);
    free(mine);
    free(buf);
    free(wl);
    free(sel);
    free(kset);
    return st;
}

/* Not collective. Centres cent[k][d] become the exact means sum[c][j] /
 * cnt[c] (sum rows `ld` apart); a centre without rows stays. Returns the
 * largest squared move. */
static double move_to_means(double *cent, const tribe_xsum *sum, int ld, const int64_t *cnt, int k, int d)
{
    double shift = 0;
    for (int c = 0; c < k; c++) {
        if (cnt[c] == 0)
            continue;
        double s2 = 0;
        for (int j = 0; j < d; j++) {
            double *cc = cent + (size_t)c * d + j;
            double nv = tribe_xsum_value(sum[(size_t)c * ld + j]) / (double)cnt[c];
            s2 += (nv - *cc) * (nv - *cc);
            *cc = nv;
        }
        if (s2 > shift)
            shift = s2;
    }
    return shift;
}

/* The restarts still running (done[r] == 0, or s[r].active when done is
 * NULL) into idx[], their centre sets packed into work[na][k][d] for one
 * shared pass; returns na. */
static int pack_sets(const km_ctx *x, const km_set *s, const int *done, int ns, int *idx, double *work)
{
    size_t kd = (size_t)x->k * x->d;
    int na = 0;
    for (int r = 0; r < ns; r++)
        if (done ? !done[r] : s[r].active)
            idx[na++] = r;
    for (int a = 0; a < na; a++)
        memcpy(work + a * kd, x->sets + (size_t)idx[a] * kd, kd * sizeof *work);
    return na;
}

/* Not collective (the sample is the same on every rank, and the pass's
 * sums are exact): Lloyd on the k-means++ sample for every restart that
 * found k centres, all of them assigned in the same pass over the sample;
 * a restart stops when its sample inertia falls by no more than
 * inertia_tol of itself, its largest squared shift is <= tol, or after
 * max_steps passes (each restart exactly as if it ran alone); a centre
 * without sample rows stays. Leaves each restart's last sample inertia in
 * sample_inertia. `work` holds [ns][k][d]. Errors: NOMEM. */
static tribe_status sample_lloyd(km_ctx *x, km_set *s, int ns, double *work)
{
    tribe_status st = TRIBE_OK;
    int d = x->d, k = x->k;
    size_t kd = (size_t)k * d;
    int idx[ns], done[ns];
    double last[ns];
    for (int r = 0; r < ns; r++) {
        done[r] = s[r].found != k;
        last[r] = 0;
    }
    for (int it = 0; it < x->cfg->max_steps; it++) {
        int na = pack_sets(x, s, done, ns, idx, work);
        if (na == 0)
            break;
        tribe_kmeans_pass_io p = {.cent = work, .nsets = na, .k = k, .d = d, .sum = x->sums, .count = x->cnt,
                                  .inertia = x->inert};
        TRIBE_TRY(tribe_kmeans_pass(x->ws, x->S, x->m, &p));
        for (int a = 0; a < na; a++) {
            int r = idx[a];
            double inertia = tribe_xsum_value(x->inert[a]);
            double shift = move_to_means(x->sets + (size_t)r * kd, x->sums + (size_t)a * kd, d, x->cnt + (size_t)a * k,
                                         k, d);
            s[r].sample_inertia = inertia;
            if (shift <= x->cfg->tol || (it > 0 && last[r] - inertia <= x->cfg->inertia_tol * inertia))
                done[r] = 1;
            last[r] = inertia;
        }
    }
cleanup:
    return st;
}

/* Collective (the sample is the same on every rank): k-means++ on the
 * sample for every restart (found centres into s[r].found), the restarts
 * spread over threads, each one serial and so the same on any thread
 * count; under kmeans++-lloyd then Lloyd on the sample (sample_lloyd). */
static tribe_status seed_restarts(km_ctx *x, km_set *s, int ns, double *work)
{
    tribe_status st = TRIBE_OK;
    size_t kd = (size_t)x->k * x->d;
    int failed = 0;
#pragma omp parallel for schedule(dynamic) reduction(| : failed) if (ns > 1)
    for (int r = 0; r < ns; r++) {
        double *d2 = malloc((size_t)x->m * sizeof *d2);
        s[r].found = d2 ? tribe_kmeanspp(x->S, x->m, x->d, x->k, s[r].seed, TRIBE_STREAM_KMEANS_PP,
                                         x->sets + (size_t)r * kd, d2)
                        : -1;
        free(d2);
        failed |= s[r].found < 0;
        s[r].sample_inertia = INFINITY; /* no sample Lloyd ran */
    }
    if (failed)
        st = tribe_fail(TRIBE_ERR_NOMEM, "k-means++: out of memory for a %lld-row sample", (long long)x->m);
    if (st == TRIBE_OK && x->cfg->init == TRIBE_KMEANS_INIT_PP_LLOYD)
        st = sample_lloyd(x, s, ns, work);
    return tribe_par_agree(x->par, st);
}

/* Collective: completes the current set (x->cent), of which the first
 * `found` centres are set, by farthest-first over the whole table while
 * fewer than k distinct centres exist, which also proves whether k distinct
 * rows exist. */
static tribe_status init_set(km_ctx *x, int found)
{
    tribe_status st = TRIBE_OK;
    int d = x->d, k = x->k;
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
cleanup:
    return st;
}

static void use_set(km_ctx *x, km_set *s, int r)
{
    x->cent = x->sets + (size_t)r * x->k * x->d;
    x->seed = s[r].seed;
    x->reassign_ctr = s[r].reassign_ctr;
    x->reassigned = s[r].reassigned;
}

static void keep_set(km_ctx *x, km_set *s, int r)
{
    s[r].reassign_ctr = x->reassign_ctr;
    s[r].reassigned = x->reassigned;
}

/* Collective: up to `passes` Lloyd iterations for every active restart, all
 * restarts assigned in the SAME pass over the rows (one GEMM against the
 * stacked centres, one allreduce of every set's sums). A restart with an
 * empty cluster moves that centre and is re-assigned in the next pass;
 * otherwise its centres become the exact means, and it stops when the
 * largest squared shift is <= tol or (use_rtol) the inertia fell by less
 * than inertia_tol of itself. */
static tribe_status lloyd_shared(km_ctx *x, km_set *s, int ns, int passes, int use_rtol, double *work)
{
    tribe_status st = TRIBE_OK;
    int d = x->d, k = x->k;
    int idx[ns > 0 ? ns : 1];
    for (int it = 0; it < passes; it++) {
        int na = pack_sets(x, s, NULL, ns, idx, work);
        if (na == 0)
            break;
        TRIBE_TRY(fused_pass(x, work, na, 0));
        for (int a = 0; a < na; a++) {
            int r = idx[a];
            use_set(x, s, r);
            int empty = 0;
            for (int c = 0; c < k; c++)
                if (x->gcnt[(size_t)a * k + c] == 0) {
                    empty = 1;
                    TRIBE_TRY(move_centre(x, c));
                }
            keep_set(x, s, r);
            if (empty)
                continue;
            /* Inertia of this pass's assignment, from exact sums: per centre
             * sum|x|^2 - 2 c.S + n |c|^2 (pre-update c), the same on every
             * rank; it only drives the stopping rule. */
            double inertia = 0;
            for (int c = 0; c < k; c++) {
                const tribe_xsum *row = x->xs + ((size_t)a * k + c) * (d + 1);
                const double *cc = x->cent + (size_t)c * d;
                double cs = 0, c2 = 0;
                for (int j = 0; j < d; j++) {
                    cs += cc[j] * tribe_xsum_value(row[j]);
                    c2 += cc[j] * cc[j];
                }
                inertia += tribe_xsum_value(x->xs[(size_t)na * k * (d + 1) + na + (size_t)a * k + c]) - 2 * cs +
                           (double)x->gcnt[(size_t)a * k + c] * c2;
            }
            double shift = move_to_means(x->cent, x->xs + (size_t)a * k * (d + 1), d + 1, x->gcnt + (size_t)a * k, k, d);
            s[r].steps++;
            int stop = shift <= x->cfg->tol;
            if (use_rtol && x->cfg->inertia_tol > 0 && s[r].last_inertia > 0 &&
                s[r].last_inertia - inertia <= x->cfg->inertia_tol * inertia)
                stop = 1;
            s[r].last_inertia = inertia;
            if (stop) {
                s[r].converged = 1;
                s[r].active = 0;
            }
        }
    }
cleanup:
    return st;
}

tribe_status tribe_kmeans_fit(const tribe_dmat *zm, const tribe_kmeans_cfg *cfg, double *centroids,
                              tribe_kmeans_info *info)
{
    return tribe_kmeans_fit_restarts(zm, cfg, 0, cfg->n_init, centroids, info);
}

/* Not collective. The settings the fit accepts (USAGE naming them all). */
static tribe_status check_cfg(const tribe_kmeans_cfg *cfg, int d, int ns, int first)
{
    int k = cfg->k;
    int64_t B = cfg->batch_size;
    if (k < 1 || d < 1 || d > TRIBE_MAX_FEATURES || B < 1 || cfg->max_steps < 0 || cfg->init_sample < 1 || ns < 1 ||
        ns > 1000 || first < 0 || (cfg->start && ns != 1) || cfg->lloyd_passes < 0 || !(cfg->tol >= 0) ||
        (cfg->init != TRIBE_KMEANS_INIT_PP && cfg->init != TRIBE_KMEANS_INIT_PARALLEL &&
         cfg->init != TRIBE_KMEANS_INIT_PP_LLOYD) ||
        (cfg->algorithm != TRIBE_KMEANS_MINIBATCH && cfg->algorithm != TRIBE_KMEANS_LLOYD) || cfg->par_rounds < 1 ||
        cfg->par_rounds > 100 || !(cfg->par_oversample > 0 && cfg->par_oversample <= 100) ||
        !(cfg->inertia_tol >= 0))
        return tribe_fail(TRIBE_ERR_USAGE,
                          "kmeans: invalid settings (k=%d, d=%d, batch_size=%lld, max_steps=%d, init_sample=%lld, "
                          "n_init=%d, lloyd_passes=%d, tol=%g, init=%d, algorithm=%d, par_rounds=%d, "
                          "par_oversample=%g, inertia_tol=%g); need k>=1, 1<=d<=%d, batch_size>=1, "
                          "init_sample>=1, 1<=n_init<=1000, a known init and algorithm, 1<=par_rounds<=100, "
                          "0<par_oversample<=100 and the rest >= 0",
                          k, d, (long long)B, cfg->max_steps, (long long)cfg->init_sample, ns, cfg->lloyd_passes,
                          cfg->tol, cfg->init, cfg->algorithm, cfg->par_rounds, cfg->par_oversample,
                          cfg->inertia_tol, TRIBE_MAX_FEATURES);
    return TRIBE_OK;
}

/* Not collective. The fit's buffers for ns restarts (x->m, k, d and cfg set),
 * work[ns][k][d], sets[ns] and the pass workspace, all sized once: no step
 * of the fit allocates. Errors: NOMEM (ctx_free frees what was made). */
static tribe_status ctx_alloc(km_ctx *x, int ns, double **work, km_set **sets)
{
    tribe_status st = TRIBE_OK;
    int k = x->k, d = x->d;
    int64_t B = x->cfg->batch_size;
    size_t kd = (size_t)k * (size_t)d, kt = (size_t)ns * k;
    TRIBE_TRY(tribe_alloc((void **)&x->sets, (size_t)ns * kd * sizeof *x->sets));
    TRIBE_TRY(tribe_alloc((void **)work, (size_t)ns * kd * sizeof **work));
    TRIBE_TRY(tribe_calloc((void **)sets, (size_t)ns, sizeof **sets));
    TRIBE_TRY(tribe_alloc((void **)&x->other, kd * sizeof *x->other));
    TRIBE_TRY(tribe_alloc((void **)&x->sd2, (size_t)x->m * sizeof *x->sd2));
    TRIBE_TRY(tribe_alloc((void **)&x->sums, kt * d * sizeof *x->sums));
    TRIBE_TRY(tribe_alloc((void **)&x->cnt, kt * sizeof *x->cnt));
    TRIBE_TRY(tribe_alloc((void **)&x->inert, (size_t)ns * sizeof *x->inert));
    TRIBE_TRY(tribe_alloc((void **)&x->sq, kt * sizeof *x->sq));
    TRIBE_TRY(tribe_alloc((void **)&x->xs, (kt * (d + 2) + (size_t)ns) * sizeof *x->xs));
    TRIBE_TRY(tribe_alloc((void **)&x->gcnt, kt * sizeof *x->gcnt));
    TRIBE_TRY(tribe_alloc((void **)&x->bz, (size_t)B * (size_t)d * sizeof *x->bz));
    TRIBE_TRY(tribe_alloc((void **)&x->blab, (size_t)B * sizeof *x->blab));
    TRIBE_TRY(tribe_alloc((void **)&x->bn, (size_t)k * sizeof *x->bn));
    /* One workspace for every pass of the fit (k-means|| grows it). */
    tribe_kmeans_ws_spec spec = {.nsets = ns, .k = k, .d = d, .threads = omp_get_max_threads(),
                                 .kernel = x->cfg->kernel};
    TRIBE_TRY(tribe_kmeans_ws_create(&spec, &x->ws));
cleanup:
    return st;
}

static void ctx_free(km_ctx *x)
{
    free(x->S);
    free(x->sets);
    free(x->other);
    free(x->sd2);
    free(x->lab);
    free(x->dist);
    free(x->sums);
    free(x->cnt);
    free(x->inert);
    free(x->sq);
    free(x->xs);
    free(x->gcnt);
    free(x->bz);
    free(x->blab);
    free(x->bn);
    tribe_kmeans_ws_destroy(&x->ws);
}

/* Collective: the restart that goes on to the final assignment: `best`
 * when kmeans++-lloyd chose it on the sample, else the one of lowest exact
 * inertia over one shared pass (lowest index on ties; every rank alike). */
static tribe_status choose_restart(km_ctx *x, int ns, int *best)
{
    tribe_status st = TRIBE_OK;
    if (*best >= 0)
        return TRIBE_OK;
    *best = 0;
    if (ns > 1) {
        TRIBE_TRY(fused_pass(x, x->sets, ns, 1));
        size_t at = (size_t)ns * x->k * (x->d + 1);
        for (int r = 1; r < ns; r++)
            if (x->xs[at + r] < x->xs[at + *best])
                *best = r;
    }
cleanup:
    return st;
}

tribe_status tribe_kmeans_fit_restarts(const tribe_dmat *zm, const tribe_kmeans_cfg *cfg, int first, int count,
                                       double *centroids, tribe_kmeans_info *info)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = zm->rows->par;
    int64_t n_global = zm->rows->n_global;
    int d = zm->d, k = cfg->k, ns = count;
    km_ctx x = {.par = par, .z = zm->x, .n = zm->rows->n_local, .off = zm->rows->offset, .N = n_global, .d = d,
                .k = k, .cfg = cfg};
    double *work = NULL;
    km_set *sets = NULL;

    TRIBE_TRY(tribe_par_agree(par, check_cfg(cfg, d, ns, first)));
    if (n_global < k)
        st = tribe_fail(TRIBE_ERR_INPUT, "K=%d but only %lld customers", k, (long long)n_global);
    if (st == TRIBE_OK) {
        int64_t bad = tribe_km_first_nonfinite(x.z, x.n * d);
        if (bad >= 0)
            st = tribe_fail(TRIBE_ERR_INPUT, "kmeans: model value of row %lld, column %d is not finite",
                            (long long)(x.off + bad / d), (int)(bad % d));
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    /* The sample seeds k-means++ and restarts starving or empty centres
     * (also under k-means||). */
    TRIBE_TRY(tribe_sample_rows(zm, NULL, cfg->init_sample, cfg->seed, TRIBE_STREAM_KMEANS_SAMPLE, &x.S, NULL, NULL,
                                &x.m));
    TRIBE_TRY(tribe_par_agree(par, ctx_alloc(&x, ns, &work, &sets)));

    /* 1. Initialisation (k-means|| passes shared by all restarts), then per
     * restart its mini-batch steps, which touch batches only. */
    int small = x.N <= cfg->batch_size;
    for (int r = 0; r < ns; r++) {
        sets[r].seed = tribe_hash2(cfg->seed, (uint64_t)(first + r));
        sets[r].active = 1;
        sets[r].found = -1;
    }
    if (cfg->start) { /* warm start: the given centres (under kmeans++-lloyd first polished on the sample) */
        memcpy(x.sets, cfg->start, (size_t)k * d * sizeof *x.sets);
        sets[0].found = k;
        sets[0].sample_inertia = INFINITY;
        if (cfg->init == TRIBE_KMEANS_INIT_PP_LLOYD)
            TRIBE_TRY(tribe_par_agree(par, sample_lloyd(&x, sets, 1, work)));
    } else if (cfg->init == TRIBE_KMEANS_INIT_PARALLEL) {
        TRIBE_TRY(kmeans_parallel(&x, sets, ns));
    } else {
        TRIBE_TRY(seed_restarts(&x, sets, ns, work));
    }
    for (int r = 0; r < ns; r++) {
        use_set(&x, sets, r);
        TRIBE_TRY(init_set(&x, sets[r].found));
        if (cfg->algorithm == TRIBE_KMEANS_MINIBATCH && !small && !cfg->start)
            TRIBE_TRY(minibatch(&x, &sets[r].steps, &sets[r].converged));
        keep_set(&x, sets, r);
    }
    /* With kmeans++-lloyd only the restart of lowest sample inertia (lowest
     * index on ties; the same on every rank) goes on to the full passes. */
    int best = -1;
    if (cfg->init == TRIBE_KMEANS_INIT_PP_LLOYD && !cfg->start) {
        best = 0;
        for (int r = 1; r < ns; r++)
            if (sets[r].sample_inertia < sets[best].sample_inertia)
                best = r;
        for (int r = 0; r < ns; r++)
            sets[r].active = r == best;
    }
    /* 2. Full passes shared by every restart. When the whole table fits in
     * one batch, mini-batch is plain Lloyd anyway (tol rule only, as before). */
    if (cfg->algorithm == TRIBE_KMEANS_LLOYD || small || cfg->start)
        TRIBE_TRY(lloyd_shared(&x, sets, ns, cfg->max_steps, !small, work));
    else
        TRIBE_TRY(lloyd_shared(&x, sets, ns, cfg->lloyd_passes, 1, work));

    /* 3. The winner (scored on one shared pass unless already chosen), and
     * its final assignment: no cluster may be empty. */
    TRIBE_TRY(choose_restart(&x, ns, &best));
    use_set(&x, sets, best);
    TRIBE_TRY(assign_all(&x));
    keep_set(&x, sets, best);
    memcpy(centroids, x.cent, (size_t)k * d * sizeof *centroids);
    if (info) {
        memset(info, 0, sizeof *info);
        info->steps = sets[best].steps;
        info->converged = sets[best].converged;
        info->best_init = first + best;
        info->reassigned = sets[best].reassigned;
        info->inertia = tribe_xsum_value(x.xs[(size_t)k * (d + 1)]);
        info->passes = x.passes;
    }
cleanup:
    free(work);
    free(sets);
    ctx_free(&x);
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
