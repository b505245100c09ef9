/* tribe/clv.h: classic customer-lifetime-value baselines (docs/ltv.md).
 *
 * BG/NBD (Fader, Hardie & Lee 2005) for the number of repeat purchases,
 * Gamma-Gamma (Fader & Hardie 2013) for the mean spend per transaction,
 * CLV = expected purchases x expected spend, the "past spend rate carried
 * forward" baseline, and the metrics (MAE, RMSE, R^2, top-decile lift).
 *
 * Usage (every rank holds its rows, described by a tribe_rows checked once:
 * n = rows.n_local):
 *     tribe_rows rows;  st = tribe_rows_init(par, n, offset, n_global, &rows);
 *     tribe_bgnbd m; tribe_clv_fit_info info;
 *     st = tribe_bgnbd_fit(&rows, x, tx, T, NULL, &m, &info);          // collective
 *     tribe_gammagamma g;
 *     st = tribe_gammagamma_fit(&rows, x, mbar, NULL, &g, &info);       // collective
 *     tribe_clv_predict(&m, &g, x, tx, T, mbar, n, horizon, 0.0, pred); // not collective
 *     tribe_clv_metrics met;
 *     st = tribe_clv_metrics_compute(&rows, pred, actual, &met);        // collective
 *
 * Units: x = number of REPEAT purchases (purchase occasions after the first
 * one; with tribe's ingest features: frequency - 1, see docs/ltv.md), t_x =
 * time of the last purchase measured from the first one, T = time from the
 * first purchase to the end of the calibration window (t_x <= T). Any time
 * unit works as long as x, t_x, T and the horizon use the same one (the
 * scale parameter alpha is in that unit); tribe uses DAYS throughout.
 * mbar = mean value of the x repeat transactions (the first purchase is
 * excluded, as in Fader & Hardie), only used when x > 0.
 *
 * Fits are deterministic and independent of the rank count: every
 * log-likelihood sum is an exact fixed-point sum (tribe_xsum) reduced across
 * ranks, and the optimiser (Nelder-Mead on log-parameters) takes the same
 * decisions on every rank.
 *
 * Ownership: the caller owns every array; nothing here allocates memory that
 * outlives a call.
 */
#ifndef TRIBE_CLV_H
#define TRIBE_CLV_H

#include <stdint.h>

#include "tribe/core.h"
#include "tribe/par.h"

typedef struct {
    double r, alpha; /* Gamma(shape r, rate alpha) purchase rates lambda */
    double a, b;     /* Beta(a, b) dropout probabilities p */
} tribe_bgnbd;

typedef struct {
    double p;    /* shape of the per-transaction spend Gamma(p, nu) */
    double q, v; /* nu ~ Gamma(shape q, rate v) across customers (v = "gamma" in the paper) */
} tribe_gammagamma;

typedef struct {
    int max_iter; /* Nelder-Mead iterations per start (0 = 2000) */
    double tol;   /* stop when the simplex's log-likelihood spread < tol * (1 + |LL|) (0 = 1e-10) */
    int stall;    /* stop a start whose best vertex has not improved for this many iterations
                   * (0 = 200; < 0 = never) */
} tribe_clv_fit_opts;

typedef struct {
    double loglik;   /* summed log-likelihood at the optimum */
    int iterations;  /* total Nelder-Mead iterations (all restarts) */
    int converged;   /* 1 when the tolerance was met before max_iter */
    int stalled;     /* 1 when it stopped on opts.stall instead: the best vertex no longer moved
                      * while the spread stayed above the tolerance (the rounding floor of
                      * the sum, e.g. on a ridge towards a, b -> infinity) */
    int64_t n_used;  /* customers that entered the likelihood (global) */
} tribe_clv_fit_info;

typedef struct {
    int64_t n;               /* rows (global) */
    double mae, rmse, r2;    /* R^2 = 1 - SSE/SST (NaN when SST = 0) */
    double top_decile_lift;  /* (actual spend of the top ceil(n/10) predicted) / (total actual)
                              * / (ceil(n/10)/n); ties broken by global row index; NaN when
                              * total actual = 0 */
} tribe_clv_metrics;

/* ---- BG/NBD ------------------------------------------------------------ */

/* Not collective. One customer's log-likelihood (FHL 2005, eq. 6 in logs).
 * Returns NaN for invalid parameters or inputs (x < 0, t_x > T, ...). */
double tribe_bgnbd_loglik1(const tribe_bgnbd *m, double x, double tx, double T);

/* Collective. Sum of loglik1 over all ranks' rows, as an exact sum (the same
 * bits on any rank count). *out = -INFINITY if any term is not finite.
 * Errors: INTERNAL (MPI). */
tribe_status tribe_bgnbd_loglik(const tribe_rows *rows, const tribe_bgnbd *m, const double *x, const double *tx,
                                const double *T, double *out);

/* Collective. Maximum-likelihood fit over (r, alpha, a, b). opts may be NULL.
 * Errors (agreed): USAGE a row with x < 0, t_x < 0, t_x > T or non-finite
 * (names the local row and rank); INPUT no customer at all. *out untouched
 * on error. */
tribe_status tribe_bgnbd_fit(const tribe_rows *rows, const double *x, const double *tx, const double *T,
                             const tribe_clv_fit_opts *opts, tribe_bgnbd *out, tribe_clv_fit_info *info);

/* Not collective. E[purchases in (T, T + horizon] | x, t_x, T] (FHL eq. 10).
 * NaN when a == 1 exactly or the hypergeometric series does not converge. */
double tribe_bgnbd_expected(const tribe_bgnbd *m, double x, double tx, double T, double horizon);

/* Not collective. P(customer still active at T | x, t_x, T). */
double tribe_bgnbd_p_alive(const tribe_bgnbd *m, double x, double tx, double T);

/* ---- Gamma-Gamma ------------------------------------------------------- */

/* Not collective. Log-density of the mean mbar of x > 0 transactions. NaN
 * when x <= 0, mbar <= 0 or a parameter <= 0. */
double tribe_gammagamma_loglik1(const tribe_gammagamma *g, double x, double mbar);

/* Collective. Exact sum over all rows with x > 0 (others are skipped). */
tribe_status tribe_gammagamma_loglik(const tribe_rows *rows, const tribe_gammagamma *g, const double *x,
                                     const double *mbar, double *out);

/* Collective. ML fit over (p, q, v) on the rows with x > 0. Errors (agreed):
 * USAGE a row with x > 0 and mbar <= 0 or non-finite; INPUT no repeat
 * customer. */
tribe_status tribe_gammagamma_fit(const tribe_rows *rows, const double *x, const double *mbar,
                                  const tribe_clv_fit_opts *opts, tribe_gammagamma *out, tribe_clv_fit_info *info);

/* Not collective. E[spend per transaction | x, mbar] =
 * (p (v + x mbar)) / (p x + q - 1); the population mean p v / (q - 1) when
 * x == 0. NaN when q <= 1. */
double tribe_gammagamma_expected(const tribe_gammagamma *g, double x, double mbar);

/* ---- CLV and baselines (not collective) -------------------------------- */

/* out[i] = E[purchases in horizon] * E[spend] * discount, where discount =
 * 1 / (1 + annual_rate)^(horizon / 365) applied as one factor for the whole
 * horizon (annual_rate = 0: no discounting; horizon in days). */
void tribe_clv_predict(const tribe_bgnbd *m, const tribe_gammagamma *g, const double *x, const double *tx,
                       const double *T, const double *mbar, int64_t n, double horizon, double annual_rate,
                       double *out);

/* out[i] = monetary[i] / max(tenure[i], 1) * horizon: the past spend rate
 * carried forward (tenure and horizon in the same unit). */
void tribe_clv_rate_baseline(const double *monetary, const double *tenure, int64_t n, double horizon,
                             double *out);

/* Collective. Metrics of pred[n_local] against actual[n_local] over all
 * ranks' rows; the global row index (rows->offset + i) breaks ties for the
 * top decile. Every sum is exact, so the result does not depend on the rank
 * count. Errors (agreed): INPUT no row at all or a non-finite value (names
 * it by global row). */
tribe_status tribe_clv_metrics_compute(const tribe_rows *rows, const double *pred, const double *actual,
                                       tribe_clv_metrics *out);

/* ---- Simulation (for tests and benchmarks; not collective) ------------- */

/* Customer i (global index) of a BG/NBD population observed for T time
 * units after the first purchase: fills *x, *tx. Uses the counter RNG keyed
 * by (seed, i), so any rank can simulate any customer. */
void tribe_bgnbd_simulate1(const tribe_bgnbd *m, uint64_t seed, int64_t i, double T, double *x, double *tx);

/* Gamma-Gamma: the mean of x transactions of customer i. */
double tribe_gammagamma_simulate1(const tribe_gammagamma *g, uint64_t seed, int64_t i, int64_t x);

/* A Gamma(shape, rate 1) variate from the counter RNG (Marsaglia-Tsang);
 * `stream` must leave room for the 2^20 draws above it (see clv.c). */
double tribe_clv_gamma_draw(double shape, uint64_t seed, uint64_t stream, uint64_t counter);

#endif
