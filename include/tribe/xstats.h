/* tribe/xstats.h: exact, split-independent statistics over row-distributed
 * float data: grouped counts, sums, means, medians and quantiles that come
 * out bit-identical whatever the number of ranks or threads.
 *
 * Usage:
 *     // per segment (group) and whole base (with_total = 1): [(k+1)][d]
 *     st = tribe_xstats_means(par, t->x, t->n_local, t->d, t->d, label, k, 1, count, sum, mean);
 *     st = tribe_xstats_medians(par, t->x, t->n_local, t->d, t->d, label, k, 1, median);
 *     // all of them in one call that shares the passes over x:
 *     tribe_xstats_out o = {.sum = sum, .mean = mean, .median = median, .nprob = 2, .prob = p, .quantile = q};
 *     st = tribe_xstats_describe(par, t->x, t->n_local, t->d, t->d, label, k, 1, &o);
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

#include <math.h>
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

/* Not collective. An exact accumulator of tribe_xsum_of(v) terms without
 * a 128-bit conversion per term: a term of 2^63 or more in fixed-point
 * units (the scaled sums of this header put most terms there) is an
 * integer in double, split at 2^62 into two exact int64 conversions (the
 * low part s - h 2^62 is exact: Sterbenz), high parts summed in int64.
 * tribe_xacc_value gives exactly the sum of tribe_xsum_of(v) over the
 * terms. The high parts fit while the terms' magnitudes sum below 2^124 in
 * fixed-point units, as tribe_xsum_scale guarantees for n terms. */
typedef struct {
    int64_t hi;    /* multiples of 2^62 */
    tribe_xsum lo;
} tribe_xacc;

static inline void tribe_xacc_add(tribe_xacc *a, double v)
{
    double s = v * TRIBE_XSUM_SCALE;
    s += copysign(0.5, s); /* tribe_xsum_of's s < 0 ? s - 0.5 : s + 0.5 (-0 too: both truncate to 0) */
    double m = fabs(s);
    if (m < 9.2e18) {
        a->lo += (int64_t)s;
    } else if (m < 0x1p125) {
        int64_t h = (int64_t)(s * 0x1p-62);
        a->hi += h;
        a->lo += (int64_t)(s - (double)h * 0x1p62);
    } else {
        a->lo += (tribe_xsum)s;
    }
}

static inline tribe_xsum tribe_xacc_value(tribe_xacc a)
{
    return (tribe_xsum)((unsigned __int128)(tribe_xsum)a.hi << 62) + a.lo;
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
 * selection over the order-preserving 32-bit keys, every histogram summed
 * over ranks as integers, so the answer is exact and identical on any
 * number of ranks and threads: a first histogram per group and column over
 * buckets of about equal mass (from a histogram of the keys' binades), a
 * bucket holding one distinct key settling its order statistics at once,
 * then 8 more key bits a pass for the others, reading only the values in
 * their buckets (docs/clustering.md, "Segment profiles").
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

/* What tribe_xstats_describe computes; every pointer may be NULL (not
 * computed). Shapes as in tribe_xstats_means, medians and quantiles; nprob
 * may be 0. */
typedef struct {
    int64_t *count;       /* [G + with_total][ncol] */
    double *sum;          /* [G + with_total][ncol] */
    double *mean;         /* [G + with_total][ncol] */
    double *median;       /* [G + with_total][ncol] */
    int nprob;
    const double *prob;   /* [nprob] in [0, 1] */
    double *quantile;     /* [nprob][G + with_total][ncol] */
} tribe_xstats_out;

/* Collective. Counts, sums, means, medians and quantiles of the same cells
 * (the three functions above give exactly the same numbers) in one call:
 * one screening pass, then the sums and the first histogram of the
 * selection share a pass, and the medians and quantiles share the
 * selection's passes. Errors as tribe_xstats_quantiles (a bad probability or
 * nprob < 0 is TRIBE_ERR_USAGE). */
tribe_status tribe_xstats_describe(tribe_par *par, const float *x, int64_t n, int ldx, int ncol,
                                   const int32_t *group, int G, int with_total, const tribe_xstats_out *out);

#endif
