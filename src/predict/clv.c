/* BG/NBD, Gamma-Gamma, CLV baselines and their metrics (tribe/clv.h).
 *
 * Each model has a serial kernel (one customer's log-likelihood, its local
 * exact sum) and a thin collective driver (one allreduce of tribe_xsum per
 * objective evaluation). The optimiser is Nelder-Mead on log-parameters: it
 * needs no gradients, and because every objective value is an exact sum it
 * takes the same path on every rank and rank count.
 */
#include "tribe/clv.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ---- counter-RNG variates ---------------------------------------------- */

/* Stream layout: a variate owns 2^20 consecutive streams (2 per rejection
 * attempt; the last one for the shape < 1 boost). `kind` selects a block of
 * 2^40 streams so distinct variates of one customer never share a stream. */
#define CLV_STREAM(kind, j) (((uint64_t)(kind) << 40) + ((uint64_t)(j) << 20))

double tribe_clv_gamma_draw(double shape, uint64_t seed, uint64_t stream, uint64_t counter)
{
    double boost = 1.0;
    if (shape < 1.0) {
        /* G(shape) = G(shape + 1) * U^(1/shape) */
        double u = tribe_rng_unif(seed, stream + (1u << 20) - 1, counter);
        boost = pow(u > 0 ? u : 1e-300, 1.0 / shape);
        shape += 1.0;
    }
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (uint64_t k = 0; k < (1u << 19) - 1; k++) {
        double z = tribe_rng_normal(seed, stream + 2 * k, counter);
        double v = 1.0 + c * z;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = tribe_rng_unif(seed, stream + 2 * k + 1, counter);
        if (u < 1.0 - 0.0331 * z * z * z * z || log(u) < 0.5 * z * z + d * (1.0 - v + log(v)))
            return d * v * boost;
    }
    return d * boost; /* not reached in practice: acceptance rate > 0.95 */
}

void tribe_bgnbd_simulate1(const tribe_bgnbd *m, uint64_t seed, int64_t i, double T, double *x, double *tx)
{
    uint64_t ctr = (uint64_t)i;
    double lambda = tribe_clv_gamma_draw(m->r, seed, CLV_STREAM(1, 0), ctr) / m->alpha;
    double ga = tribe_clv_gamma_draw(m->a, seed, CLV_STREAM(2, 0), ctr);
    double gb = tribe_clv_gamma_draw(m->b, seed, CLV_STREAM(2, 1), ctr);
    double p = ga / (ga + gb);
    double t = 0, last = 0;
    int64_t n = 0;
    /* Purchases form a Poisson process of rate lambda; after each REPEAT
     * purchase the customer drops out with probability p (FHL 2005). */
    for (uint64_t j = 0; lambda > 0 && j < (1u << 20); j++) {
        double u = tribe_rng_unif(seed, CLV_STREAM(3, 0) + j, ctr);
        t += -log1p(-u) / lambda;
        if (t > T)
            break;
        n++;
        last = t;
        if (tribe_rng_unif(seed, CLV_STREAM(4, 0) + j, ctr) < p)
            break;
    }
    *x = (double)n;
    *tx = last;
}

double tribe_gammagamma_simulate1(const tribe_gammagamma *g, uint64_t seed, int64_t i, int64_t x)
{
    uint64_t ctr = (uint64_t)i;
    double nu = tribe_clv_gamma_draw(g->q, seed, CLV_STREAM(5, 0), ctr) / g->v;
    /* the sum of x Gamma(p, nu) spends is Gamma(p x, nu) */
    double total = tribe_clv_gamma_draw(g->p * (double)x, seed, CLV_STREAM(6, 0), ctr) / nu;
    return total / (double)x;
}

/* ---- BG/NBD kernels ----------------------------------------------------- */

/* The parts of a customer's BG/NBD log-likelihood that depend on x alone
 * (and the model): computed once per distinct x by tribe_bgnbd_loglik. */
typedef struct {
    double a12; /* ln Γ(r+x) - ln Γ(r) + r ln α  +  ln B(a, b+x) - ln B(a, b) */
    double c4;  /* ln a - ln(b + x - 1) */
} bgnbd_xpart;

static bgnbd_xpart bgnbd_x(const tribe_bgnbd *m, double x)
{
    double r = m->r, al = m->alpha, a = m->a, b = m->b;
    double a1 = lgamma(r + x) - lgamma(r) + r * log(al);
    double a2 = lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x);
    return (bgnbd_xpart){a1 + a2, log(a) - log(b + x - 1)};
}

/* The log-likelihood from the x parts and lT = ln(alpha + T), ltx =
 * ln(alpha + t_x) (valid parameters and data). */
static double bgnbd_ll(const tribe_bgnbd *m, const bgnbd_xpart *xp, double x, double lT, double ltx)
{
    double r = m->r;
    double a3 = -(r + x) * lT;
    if (x <= 0)
        return xp->a12 + a3;
    double a4 = xp->c4 - (r + x) * ltx;
    double hi = a3 > a4 ? a3 : a4, lo = a3 > a4 ? a4 : a3;
    return xp->a12 + hi + log1p(exp(lo - hi));
}

static int bgnbd_valid(const tribe_bgnbd *m)
{
    return m->r > 0 && m->alpha > 0 && m->a > 0 && m->b > 0;
}

double tribe_bgnbd_loglik1(const tribe_bgnbd *m, double x, double tx, double T)
{
    if (!bgnbd_valid(m) || !(x >= 0 && tx >= 0 && tx <= T))
        return NAN;
    bgnbd_xpart xp = bgnbd_x(m, x);
    return bgnbd_ll(m, &xp, x, log(m->alpha + T), log(m->alpha + tx));
}

/* Gauss hypergeometric 2F1(a, b; c; z) for 0 <= z < 1 by its series; NaN if
 * it has not converged after 200000 terms. */
static double hyp2f1(double a, double b, double c, double z)
{
    double term = 1.0, sum = 1.0;
    for (int k = 0; k < 200000; k++) {
        term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z;
        sum += term;
        if (fabs(term) <= 1e-15 * fabs(sum))
            return sum;
    }
    return NAN;
}

double tribe_bgnbd_p_alive(const tribe_bgnbd *m, double x, double tx, double T)
{
    if (x <= 0)
        return 1.0;
    double lr = log(m->a) - log(m->b + x - 1) + (m->r + x) * (log(m->alpha + T) - log(m->alpha + tx));
    return 1.0 / (1.0 + exp(lr));
}

double tribe_bgnbd_expected(const tribe_bgnbd *m, double x, double tx, double T, double horizon)
{
    double r = m->r, al = m->alpha, a = m->a, b = m->b, t = horizon;
    if (a == 1.0 || !(t >= 0))
        return NAN;
    double z = t / (al + T + t);
    double f = hyp2f1(r + x, b + x, a + b + x - 1, z);
    double num = 1.0 - pow((al + T) / (al + T + t), r + x) * f;
    double den = 1.0;
    if (x > 0)
        den += exp(log(a) - log(b + x - 1) + (r + x) * (log(al + T) - log(al + tx)));
    return (a + b + x - 1) / (a - 1) * num / den;
}

/* ---- Gamma-Gamma kernels ------------------------------------------------ */

/* The parts of a customer's Gamma-Gamma log-likelihood that depend on x
 * alone (and the model), in the order the sum adds them. */
typedef struct {
    double head; /* ln Γ(px+q) - ln Γ(px) - ln Γ(q) + q ln v */
    double xlx;  /* px ln x */
} gg_xpart;

static gg_xpart gg_x(const tribe_gammagamma *g, double x)
{
    double p = g->p, q = g->q, v = g->v, px = p * x;
    return (gg_xpart){lgamma(px + q) - lgamma(px) - lgamma(q) + q * log(v), px * log(x)};
}

static double gg_ll(const tribe_gammagamma *g, const gg_xpart *xp, double x, double mbar)
{
    double px = g->p * x;
    return xp->head + (px - 1) * log(mbar) + xp->xlx - (px + g->q) * log(g->v + x * mbar);
}

static int gg_valid(const tribe_gammagamma *g)
{
    return g->p > 0 && g->q > 0 && g->v > 0;
}

double tribe_gammagamma_loglik1(const tribe_gammagamma *g, double x, double mbar)
{
    if (!gg_valid(g) || !(x > 0 && mbar > 0))
        return NAN;
    gg_xpart xp = gg_x(g, x);
    return gg_ll(g, &xp, x, mbar);
}

double tribe_gammagamma_expected(const tribe_gammagamma *g, double x, double mbar)
{
    if (!(g->q > 1))
        return NAN;
    if (x <= 0)
        return g->p * g->v / (g->q - 1);
    return g->p * (g->v + x * mbar) / (g->p * x + g->q - 1);
}

/* ---- exact sums --------------------------------------------------------- */

/* sums[0] = exact sum of the finite terms, sums[1] = count of non-finite
 * terms (as xsum units), reduced over ranks. */
static tribe_status reduce_ll(tribe_par *par, tribe_xsum sums[2], double *out)
{
    tribe_status st = tribe_par_sum_xsum(par, sums, 2);
    if (st != TRIBE_OK)
        return st;
    *out = sums[1] != 0 ? -INFINITY : tribe_xsum_value(sums[0]);
    return TRIBE_OK;
}

/* |LL| per customer beyond this is treated as non-finite: it keeps the
 * fixed-point sum far from __int128 overflow. */
#define CLV_LL_MAX 1e12

static void add_term(tribe_xsum sums[2], double v)
{
    if (isfinite(v) && fabs(v) < CLV_LL_MAX)
        sums[0] += tribe_xsum_of(v);
    else
        sums[1] += 1;
}

/* The same for w customers with this term: w times the one fixed-point
 * value, so exactly the sum of w add_term calls. */
static void add_terms(tribe_xsum sums[2], double v, int64_t w)
{
    if (isfinite(v) && fabs(v) < CLV_LL_MAX)
        sums[0] += (tribe_xsum)w * tribe_xsum_of(v);
    else
        sums[1] += w;
}

/* Repeat-purchase counts are small integers: the parts of a row's
 * log-likelihood that depend on x alone are computed once per distinct x
 * below XCACHE (the same expressions, so the same bits as the per-row
 * functions) and per row above it. A fixed table on the stack: the fits
 * call these once per Nelder-Mead step. */
#define XCACHE 512

static int cacheable(double x)
{
    return x >= 0 && x < XCACHE && x == floor(x);
}

/* ln(alpha + t) for the whole days t < TCACHE, computed once per
 * evaluation: ages and recencies in days repeat across customers, and the
 * same inputs give the same bits as computing it per customer. */
#define TCACHE 4096
typedef struct {
    double v[TCACHE];
    unsigned char have[TCACHE];
} log_cache;

static double log_alpha_plus(log_cache *c, double al, double t)
{
    if (!(t >= 0 && t < TCACHE && t == floor(t)))
        return log(al + t);
    int k = (int)t;
    if (!c->have[k]) {
        c->v[k] = log(al + t);
        c->have[k] = 1;
    }
    return c->v[k];
}

/* Not collective. Adds to s the fixed-point sum of rows [lo, hi)'s
 * log-likelihoods, row i counting w[i] customers (w NULL: one each). */
static void bgnbd_sum_part(const tribe_bgnbd *m, const double *x, const double *tx, const double *T,
                           const int64_t *w, int64_t lo, int64_t hi, tribe_xsum s[2])
{
    bgnbd_xpart cache[XCACHE];
    unsigned char have[XCACHE] = {0};
    static _Thread_local log_cache lc;
    memset(lc.have, 0, sizeof lc.have);
    int valid = bgnbd_valid(m);
    for (int64_t i = lo; i < hi; i++) {
        int64_t wi = w ? w[i] : 1;
        if (!valid || !(x[i] >= 0 && tx[i] >= 0 && tx[i] <= T[i])) {
            add_terms(s, NAN, wi);
            continue;
        }
        bgnbd_xpart own, *xp = &own;
        if (cacheable(x[i])) {
            int c = (int)x[i];
            if (!have[c])
                cache[c] = bgnbd_x(m, x[i]), have[c] = 1;
            xp = &cache[c];
        } else {
            own = bgnbd_x(m, x[i]);
        }
        double lT = log_alpha_plus(&lc, m->alpha, T[i]);
        double ltx = x[i] > 0 ? log_alpha_plus(&lc, m->alpha, tx[i]) : 0;
        add_terms(s, bgnbd_ll(m, xp, x[i], lT, ltx), wi);
    }
}

/* OpenMP: each thread sums a static block of rows with its own caches; the
 * sums are exact integers, so any thread count gives the same s. */
static void bgnbd_sum(const tribe_bgnbd *m, const double *x, const double *tx, const double *T, const int64_t *w,
                      int64_t n, tribe_xsum s[2])
{
#pragma omp parallel if (n >= 4096)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        tribe_xsum ls[2] = {0, 0};
        bgnbd_sum_part(m, x, tx, T, w, n * t / nt, n * (t + 1) / nt, ls);
#pragma omp critical(clv_bgnbd_sum)
        {
            s[0] += ls[0];
            s[1] += ls[1];
        }
    }
}

tribe_status tribe_bgnbd_loglik(const tribe_rows *rows, const tribe_bgnbd *m, const double *x, const double *tx,
                                const double *T, double *out)
{
    tribe_xsum s[2] = {0, 0};
    bgnbd_sum(m, x, tx, T, NULL, rows->n_local, s);
    return reduce_ll(rows->par, s, out);
}

/* A rank's distinct (x, t_x, T) with how many of its customers have each. */
typedef struct {
    double *x, *tx, *T;
    int64_t *w, n;
} bgnbd_set;

static int triple_cmp(const void *pa, const void *pb)
{
    const double *a = pa, *b = pb;
    for (int k = 0; k < 3; k++)
        if (a[k] != b[k])
            return a[k] < b[k] ? -1 : 1;
    return 0;
}

/* Not collective. The distinct triples of n rows (finite, checked by the
 * caller) into u (free with bgnbd_set_free either way). Errors: NOMEM. */
static tribe_status bgnbd_distinct(const double *x, const double *tx, const double *T, int64_t n, bgnbd_set *u)
{
    tribe_status st = TRIBE_OK;
    double *t = NULL;
    memset(u, 0, sizeof *u);
    TRIBE_TRY(tribe_alloc((void **)&t, ((size_t)n * 3 + 1) * sizeof *t));
    for (int64_t i = 0; i < n; i++) {
        t[3 * i] = x[i];
        t[3 * i + 1] = tx[i];
        t[3 * i + 2] = T[i];
    }
    qsort(t, (size_t)n, 3 * sizeof *t, triple_cmp);
    TRIBE_TRY(tribe_alloc((void **)&u->x, ((size_t)n * 3 + 1) * sizeof *u->x));
    TRIBE_TRY(tribe_alloc((void **)&u->w, ((size_t)n + 1) * sizeof *u->w));
    u->tx = u->x + n;
    u->T = u->tx + n;
    for (int64_t i = 0; i < n; i++) {
        if (u->n > 0 && triple_cmp(t + 3 * i, t + 3 * (i - 1)) == 0) {
            u->w[u->n - 1]++;
            continue;
        }
        u->x[u->n] = t[3 * i];
        u->tx[u->n] = t[3 * i + 1];
        u->T[u->n] = t[3 * i + 2];
        u->w[u->n++] = 1;
    }
cleanup:
    free(t);
    return st;
}

static void bgnbd_set_free(bgnbd_set *u)
{
    free(u->x);
    free(u->w);
    memset(u, 0, sizeof *u);
}

tribe_status tribe_gammagamma_loglik(const tribe_rows *rows, const tribe_gammagamma *g, const double *x,
                                     const double *mbar, double *out)
{
    tribe_xsum s[2] = {0, 0};
    gg_xpart cache[XCACHE];
    unsigned char have[XCACHE] = {0};
    int valid = gg_valid(g);
    for (int64_t i = 0; i < rows->n_local; i++) {
        if (!(x[i] > 0))
            continue;
        if (!valid || !(mbar[i] > 0)) {
            add_term(s, NAN);
            continue;
        }
        gg_xpart own, *xp = &own;
        if (cacheable(x[i])) {
            int c = (int)x[i];
            if (!have[c])
                cache[c] = gg_x(g, x[i]), have[c] = 1;
            xp = &cache[c];
        } else {
            own = gg_x(g, x[i]);
        }
        add_term(s, gg_ll(g, xp, x[i], mbar[i]));
    }
    return reduce_ll(rows->par, s, out);
}

/* ---- Nelder-Mead ---------------------------------------------------------- */

#define NM_MAXD 4

/* f(theta) = -LL(exp(theta)); collective, identical on every rank. */
typedef tribe_status (*nm_fn)(void *ctx, const double *theta, double *f);

typedef struct {
    int iterations, converged, stalled;
} nm_result;

static tribe_status nm_eval(nm_fn fn, void *ctx, const double *th, double *f)
{
    tribe_status st = fn(ctx, th, f);
    if (st == TRIBE_OK && !isfinite(*f))
        *f = INFINITY;
    return st;
}

/* Minimises fn from theta (updated in place) with the standard coefficients
 * (reflection 1, expansion 2, contraction 1/2, shrink 1/2), restarting from
 * the best vertex until a restart no longer improves (at most 6 starts). A
 * start also ends, unconverged, when its best vertex has not improved for
 * `stall` iterations (stall > 0): the spread is then the objective's own
 * rounding, which no further step shrinks (seen: 1,700 steps of a 2,000
 * at a BG/NBD ridge, a and b near 1e5 and 5e6, spread 1.4e-3 against a
 * tolerance of 1.2e-4, the best vertex unchanged throughout). So the result
 * is the one those steps would have ended on. */
static tribe_status nelder_mead(nm_fn fn, void *ctx, int d, double *theta, double *fbest, int max_iter,
                                double tol, int stall, nm_result *res)
{
    tribe_status st = TRIBE_OK;
    double s[NM_MAXD + 1][NM_MAXD], fs[NM_MAXD + 1], c[NM_MAXD], xr[NM_MAXD], xe[NM_MAXD];
    double prev = INFINITY;
    res->iterations = 0;
    res->converged = 0;
    res->stalled = 0;
    for (int start = 0; start < 6; start++) {
        for (int i = 0; i <= d; i++) {
            memcpy(s[i], theta, (size_t)d * sizeof(double));
            if (i > 0)
                s[i][i - 1] += 0.5;
            TRIBE_TRY(nm_eval(fn, ctx, s[i], &fs[i]));
        }
        int conv = 0, still = 0;
        double low = INFINITY;
        for (int it = 0; it < max_iter; it++) {
            /* order vertices by f (insertion sort; ties keep their order) */
            for (int i = 1; i <= d; i++)
                for (int j = i; j > 0 && fs[j] < fs[j - 1]; j--) {
                    double tf = fs[j];
                    fs[j] = fs[j - 1];
                    fs[j - 1] = tf;
                    for (int k = 0; k < d; k++) {
                        double tv = s[j][k];
                        s[j][k] = s[j - 1][k];
                        s[j - 1][k] = tv;
                    }
                }
            if (isfinite(fs[d]) && fs[d] - fs[0] <= tol * (1.0 + fabs(fs[0]))) {
                conv = 1;
                break;
            }
            still = fs[0] < low ? 0 : still + 1;
            low = fs[0] < low ? fs[0] : low;
            if (stall > 0 && still >= stall) {
                res->stalled = 1;
                break;
            }
            res->iterations++;
            tribe_progress_step(res->iterations);
            for (int k = 0; k < d; k++) {
                c[k] = 0;
                for (int i = 0; i < d; i++)
                    c[k] += s[i][k];
                c[k] /= d;
            }
            double fr, fe;
            for (int k = 0; k < d; k++)
                xr[k] = c[k] + (c[k] - s[d][k]);
            TRIBE_TRY(nm_eval(fn, ctx, xr, &fr));
            if (fr < fs[0]) {
                for (int k = 0; k < d; k++)
                    xe[k] = c[k] + 2.0 * (c[k] - s[d][k]);
                TRIBE_TRY(nm_eval(fn, ctx, xe, &fe));
                if (fe < fr) {
                    memcpy(s[d], xe, (size_t)d * sizeof(double));
                    fs[d] = fe;
                } else {
                    memcpy(s[d], xr, (size_t)d * sizeof(double));
                    fs[d] = fr;
                }
                continue;
            }
            if (fr < fs[d - 1]) {
                memcpy(s[d], xr, (size_t)d * sizeof(double));
                fs[d] = fr;
                continue;
            }
            /* contraction: outside if the reflection beat the worst, else inside */
            int outside = fr < fs[d];
            for (int k = 0; k < d; k++)
                xe[k] = outside ? c[k] + 0.5 * (xr[k] - c[k]) : c[k] + 0.5 * (s[d][k] - c[k]);
            TRIBE_TRY(nm_eval(fn, ctx, xe, &fe));
            if (fe < (outside ? fr : fs[d])) {
                memcpy(s[d], xe, (size_t)d * sizeof(double));
                fs[d] = fe;
                continue;
            }
            for (int i = 1; i <= d; i++) {
                for (int k = 0; k < d; k++)
                    s[i][k] = s[0][k] + 0.5 * (s[i][k] - s[0][k]);
                TRIBE_TRY(nm_eval(fn, ctx, s[i], &fs[i]));
            }
        }
        int best = 0;
        for (int i = 1; i <= d; i++)
            if (fs[i] < fs[best])
                best = i;
        memcpy(theta, s[best], (size_t)d * sizeof(double));
        *fbest = fs[best];
        res->converged = conv;
        if (!conv || !(prev - fs[best] > tol * (1.0 + fabs(fs[best]))))
            break;
        prev = fs[best];
    }
cleanup:
    return st;
}

/* ---- drivers ------------------------------------------------------------- */

typedef struct {
    const tribe_rows *rows;
    const double *x, *tx, *T, *mbar;
    const int64_t *w; /* BG/NBD: row i stands for w[i] customers (distinct (x, t_x, T)) */
    int64_t n;        /* BG/NBD: rows of x, tx, T, w */
} clv_ctx;

static tribe_status bgnbd_obj(void *vctx, const double *th, double *f)
{
    clv_ctx *c = vctx;
    tribe_bgnbd m = {exp(th[0]), exp(th[1]), exp(th[2]), exp(th[3])};
    double ll = 0;
    tribe_xsum s[2] = {0, 0};
    bgnbd_sum(&m, c->x, c->tx, c->T, c->w, c->n, s);
    tribe_status st = reduce_ll(c->rows->par, s, &ll);
    *f = -ll;
    return st;
}

static tribe_status gg_obj(void *vctx, const double *th, double *f)
{
    clv_ctx *c = vctx;
    tribe_gammagamma g = {exp(th[0]), exp(th[1]), exp(th[2])};
    double ll = 0;
    tribe_status st = tribe_gammagamma_loglik(c->rows, &g, c->x, c->mbar, &ll);
    *f = -ll;
    return st;
}

static void opts_of(const tribe_clv_fit_opts *o, int *max_iter, double *tol, int *stall)
{
    *max_iter = o && o->max_iter > 0 ? o->max_iter : 2000;
    *tol = o && o->tol > 0 ? o->tol : 1e-10;
    *stall = o && o->stall != 0 ? o->stall : 200;
}

/* Collective. Fits d log-parameters from 0 by Nelder-Mead, writes exp() of
 * them to params[d] and the fit info (may be NULL); `what` names the model in
 * the progress lines. */
static tribe_status fit_log_params(const char *what, nm_fn fn, clv_ctx *c, int d, const tribe_clv_fit_opts *opts,
                                   int64_t n_used, double *params, tribe_clv_fit_info *info)
{
    tribe_status st = TRIBE_OK;
    double th[4] = {0, 0, 0, 0}, f = 0;
    int max_iter, stall;
    double tol;
    nm_result res;
    opts_of(opts, &max_iter, &tol, &stall);
    tribe_progress_begin(what, "Nelder-Mead iterations", 0); /* restarts make the total unknown */
    TRIBE_TRY(nelder_mead(fn, c, d, th, &f, max_iter, tol, stall, &res));
    tribe_progress_end();
    for (int j = 0; j < d; j++)
        params[j] = exp(th[j]);
    if (info) {
        info->loglik = -f;
        info->iterations = res.iterations;
        info->converged = res.converged;
        info->stalled = res.stalled;
        info->n_used = n_used;
    }
cleanup:
    return st;
}

tribe_status tribe_bgnbd_fit(const tribe_rows *rows, const double *x, const double *tx, const double *T,
                             const tribe_clv_fit_opts *opts, tribe_bgnbd *out, tribe_clv_fit_info *info)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = rows->par;
    int64_t n = rows->n_local;
    for (int64_t i = 0; i < n && st == TRIBE_OK; i++)
        if (!(isfinite(x[i]) && isfinite(tx[i]) && isfinite(T[i]) && x[i] >= 0 && tx[i] >= 0 && tx[i] <= T[i]))
            st = tribe_fail(TRIBE_ERR_USAGE,
                            "bgnbd: rank %d row %lld: need 0 <= t_x <= T and x >= 0 (x=%g t_x=%g T=%g)",
                            tribe_par_rank(par), (long long)i, x[i], tx[i], T[i]);
    st = tribe_par_agree(par, st);
    if (st != TRIBE_OK)
        return st;
    int64_t ng = rows->n_global;
    if (ng == 0)
        return tribe_fail(TRIBE_ERR_INPUT, "bgnbd: no customer to fit");
    bgnbd_set u;
    /* Customers with the same (x, t_x, T) have the same log-likelihood: each
     * distinct triple is evaluated once and counted as often as it occurs
     * (add_terms: the same integers), about half the rows at 100k
     * customers in days, and fewer the more customers there are. */
    TRIBE_TRY(tribe_par_agree(par, bgnbd_distinct(x, tx, T, n, &u)));
    clv_ctx c = {rows, u.x, u.tx, u.T, NULL, u.w, u.n};
    double p[4];
    TRIBE_TRY(fit_log_params("BG/NBD fit", bgnbd_obj, &c, 4, opts, ng, p, info));
    out->r = p[0];
    out->alpha = p[1];
    out->a = p[2];
    out->b = p[3];
cleanup:
    bgnbd_set_free(&u);
    return st;
}

tribe_status tribe_gammagamma_fit(const tribe_rows *rows, const double *x, const double *mbar,
                                  const tribe_clv_fit_opts *opts, tribe_gammagamma *out, tribe_clv_fit_info *info)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = rows->par;
    int64_t n = rows->n_local;
    int64_t used = 0;
    for (int64_t i = 0; i < n && st == TRIBE_OK; i++) {
        if (!(x[i] > 0))
            continue;
        used++;
        if (!(isfinite(x[i]) && isfinite(mbar[i]) && mbar[i] > 0))
            st = tribe_fail(TRIBE_ERR_USAGE, "gammagamma: rank %d row %lld: mean spend %g with x=%g is not positive",
                            tribe_par_rank(par), (long long)i, mbar[i], x[i]);
    }
    st = tribe_par_agree(par, st);
    if (st != TRIBE_OK)
        return st;
    TRIBE_TRY(tribe_par_sum_i64(par, &used, 1));
    if (used == 0)
        return tribe_fail(TRIBE_ERR_INPUT, "gammagamma: no repeat customer (x > 0) to fit");
    clv_ctx c = {rows, x, NULL, NULL, mbar, NULL, 0};
    double p[3];
    TRIBE_TRY(fit_log_params("Gamma-Gamma fit", gg_obj, &c, 3, opts, used, p, info));
    out->p = p[0];
    out->q = p[1];
    out->v = p[2];
cleanup:
    return st;
}

/* ---- CLV and baselines -------------------------------------------------------- */

void tribe_clv_predict(const tribe_bgnbd *m, const tribe_gammagamma *g, const double *x, const double *tx,
                       const double *T, const double *mbar, int64_t n, double horizon, double annual_rate,
                       double *out)
{
    double disc = annual_rate != 0 ? pow(1.0 + annual_rate, -horizon / 365.0) : 1.0;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        out[i] = tribe_bgnbd_expected(m, x[i], tx[i], T[i], horizon) *
                 tribe_gammagamma_expected(g, x[i], mbar[i]) * disc;
}

void tribe_clv_rate_baseline(const double *monetary, const double *tenure, int64_t n, double horizon,
                             double *out)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = monetary[i] / (tenure[i] > 1 ? tenure[i] : 1.0) * horizon;
}

/* ---- metrics --------------------------------------------------------------- */

/* A uint64 key with the order of the doubles (no NaN here). */
static uint64_t order_key(double v)
{
    uint64_t u;
    if (v == 0)
        v = 0.0; /* -0 and +0 tie */
    memcpy(&u, &v, sizeof u);
    return (u >> 63) ? ~u : u | (1ULL << 63);
}

tribe_status tribe_clv_metrics_compute(const tribe_rows *rows, const double *pred, const double *actual,
                                       tribe_clv_metrics *out)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = rows->par;
    int64_t n = rows->n_local, offset = rows->offset;
    for (int64_t i = 0; i < n && st == TRIBE_OK; i++)
        if (!isfinite(pred[i]) || !isfinite(actual[i]))
            st = tribe_fail(TRIBE_ERR_INPUT, "clv metrics: row %lld: prediction %g / actual %g is not finite",
                            (long long)(offset + i), pred[i], actual[i]);
    st = tribe_par_agree(par, st);
    if (st != TRIBE_OK)
        return st;
    int64_t ng = rows->n_global;
    if (ng == 0)
        return tribe_fail(TRIBE_ERR_INPUT, "clv metrics: no row");

    /* pass 1: sum |e|, e^2, y; pass 2: sum (y - mean)^2 */
    tribe_xsum s[3] = {0, 0, 0};
    for (int64_t i = 0; i < n; i++) {
        double e = pred[i] - actual[i];
        s[0] += tribe_xsum_of(fabs(e));
        s[1] += tribe_xsum_of(e * e);
        s[2] += tribe_xsum_of(actual[i]);
    }
    TRIBE_TRY(tribe_par_sum_xsum(par, s, 3));
    double mean = tribe_xsum_value(s[2]) / (double)ng;
    tribe_xsum sst = 0;
    for (int64_t i = 0; i < n; i++)
        sst += tribe_xsum_of((actual[i] - mean) * (actual[i] - mean));
    TRIBE_TRY(tribe_par_sum_xsum(par, &sst, 1));
    out->n = ng;
    out->mae = tribe_xsum_value(s[0]) / (double)ng;
    out->rmse = sqrt(tribe_xsum_value(s[1]) / (double)ng);
    out->r2 = sst != 0 ? 1.0 - tribe_xsum_value(s[1]) / tribe_xsum_value(sst) : NAN;

    /* top decile: the k = ceil(n/10) rows of largest prediction, ties broken
     * by the lower global index. Threshold key t* = max{t : #(key >= t) >= k}
     * by bisection over the 64-bit keys, then the index cut among ties. */
    int64_t k = (ng + 9) / 10;
    uint64_t lo = 0, hi = UINT64_MAX; /* invariant: count(>= lo) >= k */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2 + 1;
        int64_t cnt = 0;
        for (int64_t i = 0; i < n; i++)
            cnt += order_key(pred[i]) >= mid;
        TRIBE_TRY(tribe_par_sum_i64(par, &cnt, 1));
        if (cnt >= k)
            lo = mid;
        else
            hi = mid - 1;
    }
    uint64_t tkey = lo;
    int64_t gt = 0;
    for (int64_t i = 0; i < n; i++)
        gt += order_key(pred[i]) > tkey;
    TRIBE_TRY(tribe_par_sum_i64(par, &gt, 1));
    int64_t need = k - gt; /* >= 1 */
    int64_t jlo = 0, jhi = ng - 1; /* smallest j with #(key == t*, index <= j) >= need */
    while (jlo < jhi) {
        int64_t mid = jlo + (jhi - jlo) / 2;
        int64_t cnt = 0;
        for (int64_t i = 0; i < n; i++)
            cnt += order_key(pred[i]) == tkey && offset + i <= mid;
        TRIBE_TRY(tribe_par_sum_i64(par, &cnt, 1));
        if (cnt >= need)
            jhi = mid;
        else
            jlo = mid + 1;
    }
    tribe_xsum top = 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t key = order_key(pred[i]);
        if (key > tkey || (key == tkey && offset + i <= jlo))
            top += tribe_xsum_of(actual[i]);
    }
    TRIBE_TRY(tribe_par_sum_xsum(par, &top, 1));
    out->top_decile_lift = s[2] != 0 ? (tribe_xsum_value(top) / tribe_xsum_value(s[2])) /
                                           ((double)k / (double)ng)
                                     : NAN;
cleanup:
    return st;
}
