/* tribe/xstats.h: exact, split-independent statistics over row-distributed
 * float data: grouped counts, sums, means and medians that come out
 * bit-identical whatever the number of ranks or threads.
 *
 * Usage:
 *     // per segment (group) and whole base (with_total = 1): [(k+1)][d]
 *     st = tribe_xstats_means(par, t->x, t->n_local, t->d, t->d, label, k, 1, count, sum, mean);
 *     st = tribe_xstats_medians(par, t->x, t->n_local, t->d, t->d, label, k, 1, median);
 *
 * Why scaled exact sums: tribe_xsum is a fixed-point accumulator with a fixed
 * resolution of 2^-32 and a range of 2^94. Raw business values (a monetary
 * total of 3e6, its square 1e13, a tiny ratio of 1e-7) do not all fit that
 * window. Multiplying every term by one power of two 2^e, chosen from the
 * GLOBAL maximum magnitude and the GLOBAL row count, puts the largest possible
 * sum just under 2^92: exact (multiplying by a power of two does not round),
 * far from overflow, and with a resolution of about 2^-(92+32) relative to
 * the largest term. Both inputs of e are reduced with max/sum of integers or
 * doubles (exact operations), so every rank picks the same e.
 *
 * Ownership: nothing keeps pointers to caller memory; outputs are caller-sized.
 */
#ifndef TRIBE_XSTATS_H
#define TRIBE_XSTATS_H

#include <string.h>

#include "tribe/core.h"
#include "tribe/par.h"

/* Not collective. The power of two 2^e (as a double) such that up to n terms
 * of magnitude <= maxabs, each multiplied by it, sum without overflow in a
 * tribe_xsum and with the finest resolution. maxabs <= 0 or n <= 0 gives 1. */
double tribe_xsum_scale(double maxabs, int64_t n);

/* Not collective. Order-preserving map of a float's bits to an unsigned key
 * (a < b as floats <=> key(a) < key(b)); -0 is mapped like +0. NaN keys are
 * meaningless: skip NaN before. */
static inline uint32_t tribe_f32_key(float v)
{
    uint32_t u;
    if (v == 0.0f)
        v = 0.0f;
    memcpy(&u, &v, sizeof u);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
static inline float tribe_f32_unkey(uint32_t k)
{
    uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* Collective. Grouped NaN-skipping statistics of the columns [0, ncol) of the
 * row-major matrix x[n][ldx] (this rank's rows). group[i] in [0, G) says which
 * group row i belongs to (rows with other values are skipped); group may be
 * NULL when G == 1 (every row in group 0). When with_total is set, one more
 * group G holds every row. Outputs have shape [G + with_total][ncol]:
 *   count  non-NaN values (may be NULL)
 *   sum    exact sum (may be NULL)
 *   mean   sum / count, NaN when count is 0 (may be NULL)
 * Returns TRIBE_ERR_INPUT naming the local row and column if a value is
 * infinite (on every rank: the ranks agree), TRIBE_ERR_NOMEM, TRIBE_ERR_ENV. */
tribe_status tribe_xstats_means(tribe_par *par, const float *x, int64_t n, int ldx, int ncol,
                                const int32_t *group, int G, int with_total, int64_t *count,
                                double *sum, double *mean);

/* Collective. Exact grouped NaN-skipping medians, same shapes and grouping
 * as tribe_xstats_means; median[g][c] is NaN when the group has no value.
 * With an even count the median is the mean of the two middle values
 * (computed in double), as numpy and pandas define it. Found by radix
 * selection over the order-preserving 32-bit keys: 4 passes, each one
 * 256-bucket histogram per (group, column, middle) summed over ranks as
 * integers, so the answer is exact and identical on any number of ranks.
 * Errors as tribe_xstats_means. */
tribe_status tribe_xstats_medians(tribe_par *par, const float *x, int64_t n, int ldx, int ncol,
                                  const int32_t *group, int G, int with_total, double *median);

/* Collective. Exact grouped NaN-skipping quantiles by the same radix
 * selection as tribe_xstats_medians, with numpy's default rule
 * (np.quantile(method="linear")): among the m sorted values v[0..m-1] of a
 * cell, the quantile p is v[f] + (h - f) * (v[f+1] - v[f]) with h = (m-1)p,
 * f = floor(h), interpolated in double as numpy's _lerp does. prob[nprob]
 * holds the probabilities in [0, 1]; quantile has shape
 * [nprob][G + with_total][ncol]; NaN where a group has no value.
 * Errors as tribe_xstats_means, plus TRIBE_ERR_USAGE for a bad probability
 * (returned before any collective call, so every rank returns it). */
tribe_status tribe_xstats_quantiles(tribe_par *par, const float *x, int64_t n, int ldx, int ncol,
                                    const int32_t *group, int G, int with_total, int nprob,
                                    const double *prob, double *quantile);

#endif
