/* Soft membership: a diagonal Gaussian mixture fitted by EM from the K-Means
 * solution (tribe_gmm_fit in tribe/cluster.h). The E-step is local to each
 * rank; what crosses the network per iteration is k*(1+2d)+1 exact sums, so
 * the model is bit-identical on any number of ranks and threads. The update
 * rules are scikit-learn's GaussianMixture(covariance_type='diag'), so the two
 * can be compared from the same start (tests/unit/test_gmm.c). */
#include "tribe/cluster.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>


#define LOG_2PI 1.8378770664093454836

/* Below this, r, r*x and r*x^2 (|x| bounded as in the E-step) all round to 0
 * in a tribe_xsum (resolution 2^-32, rounding to nearest): skipping them
 * changes nothing. */
#define NEGLIGIBLE 0x1p-34

void tribe_gmm_cfg_default(tribe_gmm_cfg *cfg)
{
    cfg->max_iter = 100;
    cfg->tol = 1e-3;
    cfg->reg_covar = 1e-6;
    cfg->sample_size = 0;
    cfg->seed = 0;
}

tribe_status tribe_gmm_create(int k, int d, tribe_gmm **out)
{
    tribe_status st = TRIBE_OK;
    tribe_gmm *g = NULL;
    *out = NULL;
    TRIBE_TRY(tribe_calloc((void **)&g, 1, sizeof *g));
    TRIBE_TRY(tribe_calloc((void **)&g->weight, (size_t)k * (1 + 2 * (size_t)d), sizeof *g->weight));
    g->k = k;
    g->d = d;
    g->mean = g->weight + k;
    g->var = g->mean + (size_t)k * d;
    *out = g;
    g = NULL;
cleanup:
    tribe_gmm_destroy(&g);
    return st;
}

void tribe_gmm_destroy(tribe_gmm **g)
{
    if (!g || !*g)
        return;
    free((*g)->weight);
    free(*g);
    *g = NULL;
}

struct tribe_gmm_ws {
    int k, d, threads;
    tribe_xsum *part; /* [threads][k (1 + 2d) + 1] per-thread exact sums */
    double *cst;      /* [k] constants, then prec [k][d], then lp [threads][k] */
};

tribe_status tribe_gmm_ws_create(int k, int d, int threads, tribe_gmm_ws **out)
{
    tribe_status st = TRIBE_OK;
    tribe_gmm_ws *ws = NULL;
    size_t ns = (size_t)k * (1 + 2 * (size_t)d);
    *out = NULL;
    if (k < 1 || d < 1 || threads < 1)
        return tribe_fail(TRIBE_ERR_INTERNAL, "gmm workspace: k=%d, d=%d, threads=%d", k, d, threads);
    TRIBE_TRY(tribe_calloc((void **)&ws, 1, sizeof *ws));
    ws->k = k;
    ws->d = d;
    ws->threads = threads;
    TRIBE_TRY(tribe_alloc((void **)&ws->part, (size_t)threads * (ns + 1) * sizeof *ws->part));
    TRIBE_TRY(tribe_alloc((void **)&ws->cst, ((size_t)k * (1 + (size_t)d) + (size_t)threads * k) * sizeof *ws->cst));
    *out = ws;
    ws = NULL;
cleanup:
    tribe_gmm_ws_destroy(&ws);
    return st;
}

void tribe_gmm_ws_destroy(tribe_gmm_ws **ws)
{
    if (!ws || !*ws)
        return;
    free((*ws)->part);
    free((*ws)->cst);
    free(*ws);
    *ws = NULL;
}

tribe_status tribe_gmm_estep(tribe_gmm_ws *ws, const float *z, int64_t n, int d, const tribe_gmm *g,
                             tribe_xsum *stats, tribe_xsum *loglik, float *resp)
{
    int k = g->k;
    size_t ns = (size_t)k * (1 + 2 * (size_t)d);
    if (k != ws->k || d != ws->d || d != g->d)
        return tribe_fail(TRIBE_ERR_INTERNAL, "gmm E-step: k=%d, d=%d on a workspace for k=%d, d=%d", k, d, ws->k,
                          ws->d);
    int nthr = n * k * d >= TRIBE_OMP_MIN_WORK ? ws->threads : 1;
    tribe_xsum *part = ws->part;
    double *cst = ws->cst, *prec = cst + k, *lp = prec + (size_t)k * d;
    memset(part, 0, (size_t)nthr * (ns + 1) * sizeof *part);
    /* log w_c - 0.5 (d log 2pi + sum_j log var_cj), and 1/var. */
    for (int c = 0; c < k; c++) {
        double s = (double)d * LOG_2PI;
        for (int j = 0; j < d; j++) {
            s += log(g->var[(size_t)c * d + j]);
            prec[(size_t)c * d + j] = 1.0 / g->var[(size_t)c * d + j];
        }
        cst[c] = log(g->weight[c]) - 0.5 * s;
    }
    /* Each thread owns its partial sums; exact integer sums make the final
     * combination independent of which thread took which rows. */
#pragma omp parallel num_threads(nthr)
    {
        int t = omp_get_thread_num();
        tribe_xsum *my = part + (size_t)t * (ns + 1);
        double *l = lp + (size_t)t * k;
#pragma omp for schedule(static)
        for (int64_t i = 0; i < n; i++) {
            const float *x = z + i * d;
            double mx = -INFINITY;
            for (int c = 0; c < k; c++) {
                const double *mu = g->mean + (size_t)c * d, *pr = prec + (size_t)c * d;
                double q = 0;
                for (int j = 0; j < d; j++) {
                    double e = (double)x[j] - mu[j];
                    q += e * e * pr[j];
                }
                l[c] = cst[c] - 0.5 * q;
                if (l[c] > mx)
                    mx = l[c];
            }
            double se = 0, big = 1;
            for (int c = 0; c < k; c++)
                se += exp(l[c] - mx);
            double lse = mx + log(se);
            my[ns] += tribe_xsum_of(lse);
            for (int j = 0; j < d; j++) {
                double x2 = (double)x[j] * (double)x[j];
                if (x2 > big)
                    big = x2;
            }
            for (int c = 0; c < k; c++) {
                double r = exp(l[c] - lse);
                if (resp)
                    resp[i * k + c] = (float)r;
                /* |r|, |r x|, |r x^2| <= r * big: all round to 0 below this */
                if (r * big < NEGLIGIBLE)
                    continue;
                tribe_xsum *sc = my + (size_t)c * (1 + 2 * (size_t)d);
                sc[0] += tribe_xsum_of(r);
                for (int j = 0; j < d; j++) {
                    double rx = r * (double)x[j];
                    sc[1 + j] += tribe_xsum_of(rx);
                    sc[1 + d + j] += tribe_xsum_of(rx * (double)x[j]);
                }
            }
        }
    }
    memset(stats, 0, ns * sizeof *stats);
    *loglik = 0;
    for (int t = 0; t < nthr; t++) {
        const tribe_xsum *my = part + (size_t)t * (ns + 1);
        for (size_t a = 0; a < ns; a++)
            stats[a] += my[a];
        *loglik += my[ns];
    }
    return TRIBE_OK;
}

void tribe_gmm_mstep(const tribe_xsum *stats, int64_t n_total, double reg_covar, tribe_gmm *g)
{
    int k = g->k, d = g->d;
    for (int c = 0; c < k; c++) {
        const tribe_xsum *sc = stats + (size_t)c * (1 + 2 * (size_t)d);
        /* scikit-learn adds 10 eps so an emptied component divides by > 0. */
        double nk = tribe_xsum_value(sc[0]) + 10 * DBL_EPSILON;
        g->weight[c] = nk / (double)n_total;
        for (int j = 0; j < d; j++) {
            double m = tribe_xsum_value(sc[1 + j]) / nk;
            double v = tribe_xsum_value(sc[1 + d + j]) / nk - m * m + reg_covar;
            g->mean[(size_t)c * d + j] = m;
            g->var[(size_t)c * d + j] = v > reg_covar ? v : reg_covar;
        }
    }
}

tribe_status tribe_gmm_fit(const tribe_dmat *zm, const int32_t *label, int k, const double *centroids,
                           const tribe_gmm_cfg *cfg, float *membership, tribe_gmm **out)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = zm->rows->par;
    const float *z = zm->x;
    int64_t n_local = zm->rows->n_local, offset = zm->rows->offset, n_global = zm->rows->n_global;
    int d = zm->d;
    tribe_gmm *g = NULL;
    tribe_gmm_ws *ws = NULL;
    tribe_xsum *stats = NULL;
    float *zs = NULL;
    const float *ze = z; /* the rows EM iterates on */
    int64_t ne = n_local, n_em = n_global;
    size_t ns = (size_t)k * (1 + 2 * (size_t)d);
    *out = NULL;
    if (k < 1 || d < 1 || d > TRIBE_MAX_FEATURES)
        st = tribe_fail(TRIBE_ERR_USAGE, "gmm: k=%d, d=%d: need k >= 1 and d in 1..%d", k, d,
                        TRIBE_MAX_FEATURES);
    else if (cfg->max_iter < 1 || !(cfg->tol >= 0) || !(cfg->reg_covar >= 0) || !isfinite(cfg->reg_covar) ||
             cfg->sample_size < 0)
        st = tribe_fail(TRIBE_ERR_USAGE, "gmm: max_iter=%d, tol=%g, reg_covar=%g, sample_size=%lld: need "
                        "max_iter >= 1, tol >= 0, reg_covar >= 0, sample_size >= 0", cfg->max_iter, cfg->tol,
                        cfg->reg_covar, (long long)cfg->sample_size);
    else if (n_global < 1)
        st = tribe_fail(TRIBE_ERR_INPUT, "gmm: no customers");
    if (st == TRIBE_OK)
        st = tribe_gmm_create(k, d, &g);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&stats, ns + 1, sizeof *stats);
    if (st == TRIBE_OK) /* every E-step's buffers, once */
        st = tribe_gmm_ws_create(k, d, omp_get_max_threads(), &ws);
    for (int64_t i = 0; st == TRIBE_OK && i < n_local; i++)
        if (label[i] < 0 || label[i] >= k) {
            st = tribe_fail(TRIBE_ERR_INPUT, "gmm: local row %lld has label %d, outside [0, %d)", (long long)i,
                            label[i], k);
            break;
        }
    TRIBE_TRY(tribe_par_agree(par, st));

    /* Start: the K-Means clusters as hard responsibilities. Exact counts and
     * sums of (x - centroid)^2 per cluster: the variance is taken about the
     * centroid (close to the cluster mean after the Lloyd polish), the
     * start scikit-learn gets from means_init / precisions_init. */
#pragma omp parallel for schedule(dynamic, 1) if (n_local * d >= TRIBE_OMP_MIN_WORK)
    for (int j = 0; j < d; j++)
        for (int64_t i = 0; i < n_local; i++) {
            int c = label[i];
            double e = (double)z[i * d + j] - centroids[(size_t)c * d + j];
            stats[(size_t)c * (1 + 2 * (size_t)d) + 1 + d + j] += tribe_xsum_of(e * e);
        }
    for (int64_t i = 0; i < n_local; i++)
        stats[(size_t)label[i] * (1 + 2 * (size_t)d)] += 1;
    TRIBE_TRY(tribe_par_sum_xsum(par, stats, (int64_t)ns));
    for (int c = 0; c < k; c++) {
        const tribe_xsum *sc = stats + (size_t)c * (1 + 2 * (size_t)d);
        int64_t nc = (int64_t)sc[0]; /* an integer count, not scaled */
        g->weight[c] = (double)nc / (double)n_global;
        for (int j = 0; j < d; j++) {
            g->mean[(size_t)c * d + j] = centroids[(size_t)c * d + j];
            double v = nc > 0 ? tribe_xsum_value(sc[1 + d + j]) / (double)nc : 0.0;
            g->var[(size_t)c * d + j] = v + cfg->reg_covar;
            if (!(g->var[(size_t)c * d + j] > 0))
                g->var[(size_t)c * d + j] = 1.0; /* reg_covar 0 and a single-point cluster */
        }
        if (nc == 0) /* K-Means never returns one, but keep log(0) out */
            g->weight[c] = DBL_MIN;
    }

    /* EM on a sample when asked: this rank's rows of the
     * tribe_sample_local sample (kept where they live, no gather), the same
     * rows on any number of ranks. */
    if (cfg->sample_size > 0 && cfg->sample_size < n_global) {
        int64_t *pos = NULL;
        TRIBE_TRY(tribe_sample_local(zm->rows, cfg->sample_size, cfg->seed, TRIBE_STREAM_GMM_SAMPLE, &pos, &ne));
        st = tribe_alloc((void **)&zs, ((size_t)ne * (size_t)d + 1) * sizeof *zs);
        for (int64_t j = 0; st == TRIBE_OK && j < ne; j++)
            memcpy(zs + j * d, z + (pos[j] - offset) * d, (size_t)d * sizeof *zs);
        free(pos);
        TRIBE_TRY(tribe_par_agree(par, st));
        n_em = ne;
        TRIBE_TRY(tribe_par_sum_i64(par, &n_em, 1));
        ze = zs;
        if (n_em < 1) { /* a tiny sample_size on a tiny table: use every row */
            ze = z;
            ne = n_local;
            n_em = n_global;
        }
    }
    g->rows = n_em;

    double prev = -INFINITY;
    tribe_progress_begin("EM", "iteration", cfg->max_iter);
    for (int it = 1; it <= cfg->max_iter; it++) {
        tribe_xsum ll = 0;
        st = tribe_gmm_estep(ws, ze, ne, d, g, stats, &ll, NULL);
        TRIBE_TRY(tribe_par_agree(par, st));
        stats[ns] = ll;
        TRIBE_TRY(tribe_par_sum_xsum(par, stats, (int64_t)ns + 1));
        double cur = tribe_xsum_value(stats[ns]) / (double)n_em;
        tribe_gmm_mstep(stats, n_em, cfg->reg_covar, g);
        g->iterations = it;
        g->lower_bound = cur;
        tribe_progress_step(it);
        if (fabs(cur - prev) < cfg->tol) {
            g->converged = 1;
            break;
        }
        prev = cur;
    }
    /* The memberships (and the reported log-likelihood) under the returned
     * parameters: one more E-step. */
    {
        tribe_xsum ll = 0;
        st = tribe_gmm_estep(ws, z, n_local, d, g, stats, &ll, membership);
        TRIBE_TRY(tribe_par_agree(par, st));
        TRIBE_TRY(tribe_par_sum_xsum(par, &ll, 1));
        g->loglik = tribe_xsum_value(ll) / (double)n_global;
    }
    tribe_progress_end();
    *out = g;
    g = NULL;
cleanup:
    tribe_gmm_destroy(&g);
    tribe_gmm_ws_destroy(&ws);
    free(stats);
    free(zs);
    return st;
}
