/* K-Means kernels (tribe/cluster.h): plain arrays in, arrays out, OpenMP
 * inside, no MPI. Each row's result is computed by the same code whatever the
 * thread that runs it, and sums are exact, so results do not depend on the
 * thread count. */
#include "tribe/cluster.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "kmeans_internal.h"
#include "tribe/xstats.h"

static inline double dist2_row(const float *x, const double *c, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++) {
        double t = (double)x[j] - c[j];
        s += t * t;
    }
    return s;
}

/* Index of the centroid nearest to row x and its squared distance. Strictly
 * smaller wins: ties go to the lowest index. Inlined into both assignment
 * loops (which differ only in the precision of the distance they store). */
static inline int nearest(const float *x, int d, const double *centroids, int k, double *dist2)
{
    int best = 0;
    double bd = dist2_row(x, centroids, d);
    for (int c = 1; c < k; c++) {
        double t = dist2_row(x, centroids + (size_t)c * d, d);
        if (t < bd) {
            bd = t;
            best = c;
        }
    }
    *dist2 = bd;
    return best;
}

/* ---- the blocked GEMM pass ------------------------------------------------
 * Distances come from one SGEMM per block of rows, D'(x, c) = |x|^2 -
 * 2 x.c + |c|^2, with x.c in float. That is fast but its rounding depends on
 * how OpenBLAS tiles the block, so D' only NOMINATES: every centre whose D' is
 * within twice a proven error bound of the smallest D' is re-scored with
 * dist2_row (double, fixed order: the naive kernel's own arithmetic), and the
 * lowest re-scored distance wins, ties to the lowest index. The true argmin
 * is always nominated, so labels and distances are bit-identical to the
 * naive double loop for any block size, rank or thread count.
 *
 * Error bound: x is float already, c is rounded to float (relative 2^-24),
 * and a float dot product of d terms errs by at most (d + 1) 2^-24 sum|x_j c_j|
 * <= (d + 1) 2^-24 |x| |c|; D' doubles that. We use 3 (d + 2) 2^-24 |x|
 * max|c| plus a relative 1e-12 for the double terms: a safety factor of 1.5.
 *
 * Sums are exact: each value is rounded to a multiple of 2^-32 exactly as
 * tribe_xsum_of does, but accumulated in int64 within a block (values below
 * 2^22 in magnitude, at most KM_BLOCK rows: no overflow) and flushed into the
 * int128 totals per block, which avoids a slow double -> int128 conversion
 * per value. Larger values take the int128 path directly. */
#define KM_BLOCK 256
#define KM_SMALL 4194304.0 /* 2^22 */

static inline int64_t fix64(double v)
{
    double s = v * TRIBE_XSUM_SCALE;
    return (int64_t)(s < 0 ? s - 0.5 : s + 0.5);
}

/* Largest |value| of a block (NaN counts as large: the slow path then
 * keeps tribe_xsum_of's behaviour). */
static float block_max_abs(const float *x, int64_t n)
{
    /* On the bit patterns without the sign: integer max vectorises, and a
     * NaN compares above infinity. */
    uint32_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, x + i, sizeof u);
        u &= 0x7fffffffu;
        m = u > m ? u : m;
    }
    float f;
    memcpy(&f, &m, sizeof f);
    return isnan(f) ? INFINITY : f;
}

/* acc[j] += the 2^-32 fixed-point value of x[j], every |x[j]| < 2^22: the
 * same integer as tribe_xsum_of. */
static inline void add_fixed(int64_t *restrict acc,
                                                                                    const float *restrict x, int d)
{
    for (int j = 0; j < d; j++) {
        double s = (double)x[j] * TRIBE_XSUM_SCALE;
        acc[j] += (int64_t)(s + (s < 0 ? -0.5 : 0.5));
    }
}

/* |x|^2 in float, any order: it only scales the error bound, which decides
 * how many centres are re-checked, never which one wins. */
static inline float norm2f(const float *restrict x, int d)
{
    float s = 0;
    for (int j = 0; j < d; j++)
        s += x[j] * x[j];
    return s;
}

typedef struct {
    float *g;        /* [kt][KM_BLOCK] dot products */
    int64_t *s64;    /* [kt][d] block sums */
    tribe_xsum *sum; /* [kt][d] */
    int64_t *cnt;    /* [kt] */
    tribe_xsum *in;  /* [nsets] */
    int64_t *in64;   /* [nsets] */
    tribe_xsum *sq;  /* [kt] sums of |x|^2 */
    int64_t *sq64;   /* [kt] block partials */
    int32_t *best;   /* [nsets][KM_BLOCK] */
    double *bd;      /* [nsets][KM_BLOCK] exact distance of the winner */
    double *xn, *m1, *m2; /* [KM_BLOCK] |x|, lowest h, second-lowest h then the limit */
    int32_t *multi;  /* [KM_BLOCK] more than one nominee */
    int64_t recheck; /* rows x sets with more than one nominee */
} km_thread;

/* One block of rows: SGEMM, nominate, re-check, outputs, exact sums into
 * the thread's buffers. Cloned for AVX-512 machines: the file is compiled
 * with -ffp-contract=off, so dist2_row (the only arithmetic that reaches a
 * result) is the same sequence of roundings in every clone; the clones
 * differ only in how fast they nominate. */
__attribute__((target_clones("arch=x86-64-v4", "default"))) static void
km_block(const tribe_kmeans_pass_io *p, km_thread *w, const float *xb, int64_t i0, int64_t rows, const double *cn,
         const double *cmax, const float *cf, double ebound)
{
    int d = p->d, k = p->k, ns = p->nsets, kt = ns * k;
    int need_dist = p->dist2 || p->dist2f || p->mind2 || p->inertia;
    int block_small = p->sum && block_max_abs(xb, rows * d) < (float)KM_SMALL;
    /* g[kt][rows] = centres . rows^T: for a fixed centre the rows are
     * contiguous, so the scans below run across rows in vector lanes. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kt, (int)rows, d, 1.0f, cf, d, xb, d, 0.0f, w->g,
                (int)rows);
    for (int64_t r = 0; r < rows; r++)
        w->xn[r] = sqrt((double)norm2f(xb + r * d, d));
    for (int s = 0; s < ns; s++) {
        int c0 = s * k;
        const double *cs = p->cent + (size_t)c0 * d;
        int32_t *best = w->best + s * rows;
        double *bd = w->bd + s * rows;
        /* Phase 1: nominate. h_c = |c|^2 - 2 x.c orders the centres like D'
         * (|x|^2 is common to all); |x| only scales the bound. Lowest and
         * second-lowest h per row; a tie makes them equal. */
        for (int64_t r = 0; r < rows; r++) {
            w->m1[r] = INFINITY;
            w->m2[r] = INFINITY;
            best[r] = 0;
        }
        for (int c = 0; c < k; c++) {
            const float *gc = w->g + (size_t)(c0 + c) * rows;
            double cc = cn[c0 + c];
            for (int64_t r = 0; r < rows; r++) {
                double v = cc - 2.0 * (double)gc[r];
                int lt = v < w->m1[r];
                w->m2[r] = lt ? w->m1[r] : (v < w->m2[r] ? v : w->m2[r]);
                best[r] = lt ? c : best[r];
                w->m1[r] = lt ? v : w->m1[r];
            }
        }
        double cm = cmax[s];
        for (int64_t r = 0; r < rows; r++) {
            double lim = w->m1[r] + 2.0 * (ebound * w->xn[r] * cm + 1e-12 * (w->xn[r] * w->xn[r] + cm * cm) + 1e-300);
            w->multi[r] = w->m2[r] <= lim;
            w->m2[r] = lim;
        }
        /* Phase 2: the exact distance to the nominee, the plain loop's
         * arithmetic (j in order, double, no contraction) in every lane.
         * Skipped when no output needs a distance: a single nominee is
         * already proven to be the nearest centre. */
        for (int64_t r = 0; r < rows; r++)
            bd[r] = 0;
        for (int j = 0; need_dist && j < d; j++)
            for (int64_t r = 0; r < rows; r++) {
                double t = (double)xb[r * d + j] - cs[(size_t)best[r] * d + j];
                bd[r] += t * t;
            }
        /* Rows with several nominees: re-score each of them exactly. */
        for (int64_t r = 0; r < rows; r++) {
            if (!w->multi[r])
                continue;
            const float *x = xb + r * d;
            int bi = -1;
            double bv = INFINITY;
            for (int c = 0; c < k; c++) {
                double v = cn[c0 + c] - 2.0 * (double)w->g[(size_t)(c0 + c) * rows + r];
                if (!(v <= w->m2[r]))
                    continue;
                double e = dist2_row(x, cs + (size_t)c * d, d);
                if (bi < 0 || e < bv) {
                    bv = e;
                    bi = c;
                }
            }
            best[r] = bi;
            bd[r] = bv;
            w->recheck++;
        }
    }
    /* Phase 3: outputs and exact sums. */
    for (int64_t r = 0; r < rows; r++) {
        const float *x = xb + r * d;
        double xx = 0;
        if (p->sumsq)
            for (int j = 0; j < d; j++)
                xx += (double)x[j] * x[j];
        for (int s = 0; s < ns; s++) {
            int c0 = s * k;
            int best = w->best[s * rows + r];
            double bd = w->bd[s * rows + r];
            if (s == 0) {
                if (p->label)
                    p->label[i0 + r] = best;
                if (p->dist2)
                    p->dist2[i0 + r] = bd;
                if (p->dist2f)
                    p->dist2f[i0 + r] = (float)bd;
            }
            if (p->mind2) {
                double *m = p->mind2 + (size_t)s * (size_t)p->mind2_ld + (size_t)(i0 + r);
                if (bd < *m)
                    *m = bd;
            }
            if (p->count)
                w->cnt[c0 + best]++;
            if (p->sumsq) {
                if (xx < KM_SMALL)
                    w->sq64[c0 + best] += fix64(xx);
                else
                    w->sq[c0 + best] += tribe_xsum_of(xx);
            }
            if (p->inertia) {
                if (bd < KM_SMALL)
                    w->in64[s] += fix64(bd);
                else
                    w->in[s] += tribe_xsum_of(bd);
            }
            if (p->sum) {
                int64_t *acc = w->s64 + (size_t)(c0 + best) * d;
                if (block_small)
                    add_fixed(acc, x, d);
                else
                    for (int j = 0; j < d; j++) {
                        if (fabsf(x[j]) < (float)KM_SMALL)
                            acc[j] += fix64((double)x[j]);
                        else
                            w->sum[(size_t)(c0 + best) * d + j] += tribe_xsum_of((double)x[j]);
                    }
            }
        }
    }
}

static int km_rows_per_block(int kt)
{
    int r = 65536 / (kt > 0 ? kt : 1);
    return r < 8 ? 8 : r > KM_BLOCK ? KM_BLOCK : r;
}

tribe_status tribe_kmeans_pass(const float *z, int64_t n, tribe_kmeans_pass_io *p)
{
    tribe_status st = TRIBE_OK;
    int d = p->d, k = p->k, ns = p->nsets, kt = p->nsets * p->k;
    size_t ktd = (size_t)kt * (size_t)d;
    int nth = omp_get_max_threads();
    int R = km_rows_per_block(kt);
    float *cf = NULL;
    double *cn = NULL, *cmax = NULL;
    km_thread *th = NULL;
    /* Threads only pay off on whole passes, not on a mini-batch. */
    int small = n < 8192 || (int64_t)n * kt * d < TRIBE_OMP_MIN_WORK;
    p->mind2_ld = n;
    if (small)
        nth = 1;
    TRIBE_TRY(tribe_alloc((void **)&cf, ktd * sizeof *cf));
    TRIBE_TRY(tribe_alloc((void **)&cn, (size_t)kt * sizeof *cn));
    TRIBE_TRY(tribe_calloc((void **)&cmax, (size_t)ns, sizeof *cmax));
    TRIBE_TRY(tribe_calloc((void **)&th, (size_t)nth, sizeof *th));
    for (int t = 0; t < nth; t++) {
        TRIBE_TRY(tribe_alloc((void **)&th[t].g, (size_t)R * kt * sizeof(float)));
        TRIBE_TRY(tribe_calloc((void **)&th[t].s64, ktd, sizeof(int64_t)));
        TRIBE_TRY(tribe_calloc((void **)&th[t].sum, ktd, sizeof(tribe_xsum)));
        TRIBE_TRY(tribe_calloc((void **)&th[t].cnt, (size_t)kt, sizeof(int64_t)));
        TRIBE_TRY(tribe_calloc((void **)&th[t].in, (size_t)ns, sizeof(tribe_xsum)));
        TRIBE_TRY(tribe_calloc((void **)&th[t].in64, (size_t)ns, sizeof(int64_t)));
        TRIBE_TRY(tribe_calloc((void **)&th[t].sq, (size_t)kt, sizeof(tribe_xsum)));
        TRIBE_TRY(tribe_calloc((void **)&th[t].sq64, (size_t)kt, sizeof(int64_t)));
        TRIBE_TRY(tribe_alloc((void **)&th[t].best, (size_t)R * ns * sizeof(int32_t)));
        TRIBE_TRY(tribe_alloc((void **)&th[t].bd, (size_t)R * ns * sizeof(double)));
        TRIBE_TRY(tribe_alloc((void **)&th[t].xn, (size_t)R * sizeof(double)));
        TRIBE_TRY(tribe_alloc((void **)&th[t].m1, (size_t)R * sizeof(double)));
        TRIBE_TRY(tribe_alloc((void **)&th[t].m2, (size_t)R * sizeof(double)));
        TRIBE_TRY(tribe_alloc((void **)&th[t].multi, (size_t)R * sizeof(int32_t)));
    }
    for (int c = 0; c < kt; c++) {
        double s2 = 0;
        for (int j = 0; j < d; j++) {
            double v = p->cent[(size_t)c * d + j];
            cf[(size_t)c * d + j] = (float)v;
            s2 += v * v;
        }
        cn[c] = s2;
        if (sqrt(s2) > cmax[c / k])
            cmax[c / k] = sqrt(s2);
    }
    /* One BLAS thread: the threads here are ours (docs/clustering.md). */
    openblas_set_num_threads(1);
    int64_t nblocks = (n + R - 1) / R;
    const double ebound = 3.0 * (d + 2) * 5.9604644775390625e-08; /* 2^-24 */
#pragma omp parallel num_threads(nth) if (!small)
    {
        km_thread *w = &th[omp_get_thread_num()];
#pragma omp for schedule(static)
        for (int64_t b = 0; b < nblocks; b++) {
            int64_t i0 = b * R, rows = n - i0 < R ? n - i0 : R;
            km_block(p, w, z + i0 * d, i0, rows, cn, cmax, cf, ebound);
            /* Flush the block's int64 partials (values below 2^22
             * and at most KM_BLOCK of them fit in int64 too). */
            for (int s = 0; s < ns; s++) {
                w->in[s] += w->in64[s];
                w->in64[s] = 0;
            }
            for (int c = 0; c < kt; c++) {
                w->sq[c] += w->sq64[c];
                w->sq64[c] = 0;
            }
            if (p->sum)
                for (size_t q = 0; q < ktd; q++) {
                    w->sum[q] += w->s64[q];
                    w->s64[q] = 0;
                }
        }
    }
    /* Integer totals: the order of the threads does not matter. */
    if (p->sum)
        for (size_t q = 0; q < ktd; q++) {
            tribe_xsum a = 0;
            for (int t = 0; t < nth; t++)
                a += th[t].sum[q];
            p->sum[q] = a;
        }
    if (p->count)
        for (int c = 0; c < kt; c++) {
            int64_t a = 0;
            for (int t = 0; t < nth; t++)
                a += th[t].cnt[c];
            p->count[c] = a;
        }
    if (p->sumsq)
        for (int c = 0; c < kt; c++) {
            tribe_xsum a = 0;
            for (int t = 0; t < nth; t++)
                a += th[t].sq[c];
            p->sumsq[c] = a;
        }
    if (p->inertia)
        for (int s = 0; s < ns; s++) {
            tribe_xsum a = 0;
            for (int t = 0; t < nth; t++)
                a += th[t].in[s];
            p->inertia[s] = a;
        }
    p->rechecked = 0;
    for (int t = 0; t < nth; t++)
        p->rechecked += th[t].recheck;
cleanup:
    for (int t = 0; th && t < nth; t++) {
        free(th[t].g);
        free(th[t].s64);
        free(th[t].sum);
        free(th[t].cnt);
        free(th[t].in);
        free(th[t].in64);
        free(th[t].sq);
        free(th[t].sq64);
        free(th[t].best);
        free(th[t].bd);
        free(th[t].xn);
        free(th[t].m1);
        free(th[t].m2);
        free(th[t].multi);
    }
    free(th);
    free(cf);
    free(cn);
    free(cmax);
    return st;
}

/* The naive double loop: the reference the GEMM pass reproduces, and the
 * fallback when its buffers cannot be allocated. */
static void assign_naive(const float *z, int64_t n, int d, const double *centroids, int k, int32_t *label,
                         double *dist2, float *dist2f)
{
#pragma omp parallel for schedule(static) if ((int64_t)n * k * d >= TRIBE_OMP_MIN_WORK)
    for (int64_t i = 0; i < n; i++) {
        double bd;
        label[i] = nearest(z + i * d, d, centroids, k, &bd);
        if (dist2)
            dist2[i] = bd;
        if (dist2f)
            dist2f[i] = (float)bd;
    }
}

void tribe_kmeans_assign_naive(const float *z, int64_t n, int d, const double *centroids, int k, int32_t *label,
                               double *dist2)
{
    assign_naive(z, n, d, centroids, k, label, dist2, NULL);
}

void tribe_kmeans_assign_d(const float *z, int64_t n, int d, const double *centroids, int k,
                           int32_t *label, double *dist2)
{
    tribe_kmeans_pass_io p = {.cent = centroids, .nsets = 1, .k = k, .d = d, .label = label, .dist2 = dist2};
    if (n > 0 && tribe_kmeans_pass(z, n, &p) != TRIBE_OK) {
        tribe_clear_error();
        assign_naive(z, n, d, centroids, k, label, dist2, NULL);
    }
}

void tribe_kmeans_assign(const float *z, int64_t n, int d, const double *centroids, int k,
                         int32_t *label, float *dist2)
{
    tribe_kmeans_pass_io p = {.cent = centroids, .nsets = 1, .k = k, .d = d, .label = label, .dist2f = dist2};
    if (n > 0 && tribe_kmeans_pass(z, n, &p) != TRIBE_OK) {
        tribe_clear_error();
        assign_naive(z, n, d, centroids, k, label, NULL, dist2);
    }
}

void tribe_kmeans_sums(const float *z, int64_t n, int d, const int32_t *label, int k,
                       tribe_xsum *sum, int64_t *count)
{
    for (size_t q = 0; q < (size_t)k * d; q++)
        sum[q] = 0;
    for (int c = 0; c < k; c++)
        count[c] = 0;
    /* Column j = d is the counts. Each thread owns whole columns, so no cell
     * is shared and no per-thread buffers are needed. */
#pragma omp parallel for schedule(dynamic, 1) if ((int64_t)n * d >= TRIBE_OMP_MIN_WORK)
    for (int j = 0; j <= d; j++) {
        for (int64_t i = 0; i < n; i++) {
            int c = label[i];
            if (c < 0 || c >= k)
                continue;
            if (j == d)
                count[c]++;
            else
                sum[(size_t)c * d + j] += tribe_xsum_of((double)z[i * d + j]);
        }
    }
}

/* Index of the row whose cumulative weight first exceeds u (weights w >= 0,
 * u in [0, total)); never a row of weight 0. -1 if every weight is 0. */
static int64_t draw_weighted(const double *w, int64_t m, double u)
{
    double cum = 0;
    int64_t last = -1;
    for (int64_t i = 0; i < m; i++) {
        if (w[i] <= 0)
            continue;
        cum += w[i];
        last = i;
        if (cum > u)
            return i;
    }
    return last; /* u rounded up to the total */
}

int64_t tribe_kmeans_draw(const double *w, int64_t m, uint64_t seed, uint64_t stream, uint64_t counter)
{
    double total = 0;
    for (int64_t i = 0; i < m; i++)
        total += w[i];
    if (!(total > 0))
        return -1;
    return draw_weighted(w, m, tribe_rng_unif(seed, stream, counter) * total);
}

int tribe_kmeanspp(const float *s, int64_t m, int d, int k, uint64_t seed, uint64_t stream,
                   double *centroids, double *d2)
{
    if (m <= 0 || k <= 0)
        return 0;
    uint64_t ctr = 0;
    int64_t first = (int64_t)tribe_rng_below(seed, stream, ctr++, (uint64_t)m);
    for (int j = 0; j < d; j++)
        centroids[j] = (double)s[first * d + j];
    for (int64_t i = 0; i < m; i++)
        d2[i] = dist2_row(s + i * d, centroids, d);
    /* Greedy k-means++ (as in sklearn): several candidates per step, keep the
     * one that lowers the potential most. Serial on purpose: the potential is
     * a floating-point sum whose order must not depend on threads. */
    int trials = 2 + (int)floor(log((double)k));
    for (int c = 1; c < k; c++) {
        double total = 0;
        for (int64_t i = 0; i < m; i++)
            total += d2[i];
        if (!(total > 0))
            return c; /* every sample row coincides with a chosen centre */
        int64_t best = -1;
        double best_pot = INFINITY;
        for (int t = 0; t < trials; t++) {
            int64_t cand = draw_weighted(d2, m, tribe_rng_unif(seed, stream, ctr++) * total);
            double pot = 0;
            for (int64_t i = 0; i < m; i++) {
                double dd = 0;
                for (int j = 0; j < d; j++) {
                    double u = (double)s[i * d + j] - (double)s[cand * d + j];
                    dd += u * u;
                }
                pot += dd < d2[i] ? dd : d2[i];
            }
            if (pot < best_pot) {
                best_pot = pot;
                best = cand;
            }
        }
        double *cc = centroids + (size_t)c * d;
        for (int j = 0; j < d; j++)
            cc[j] = (double)s[best * d + j];
        for (int64_t i = 0; i < m; i++) {
            double dd = dist2_row(s + i * d, cc, d);
            if (dd < d2[i])
                d2[i] = dd;
        }
    }
    return k;
}

void tribe_eig_sym(double *a, int n, double *w, double *v)
{
    /* V starts as the identity and accumulates the rotations; its COLUMNS
     * are the eigenvectors until the final transpose. */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            v[i * n + j] = i == j ? 1.0 : 0.0;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, diag = 0;
        for (int p = 0; p < n; p++) {
            diag += a[p * n + p] * a[p * n + p];
            for (int q = p + 1; q < n; q++)
                off += a[p * n + q] * a[p * n + q];
        }
        if (off <= 1e-30 * diag || off == 0)
            break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = a[p * n + q];
                if (apq == 0)
                    continue;
                double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int r = 0; r < n; r++) { /* A <- A J */
                    double arp = a[r * n + p], arq = a[r * n + q];
                    a[r * n + p] = c * arp - s * arq;
                    a[r * n + q] = s * arp + c * arq;
                }
                for (int r = 0; r < n; r++) { /* A <- J^T A */
                    double apr = a[p * n + r], aqr = a[q * n + r];
                    a[p * n + r] = c * apr - s * aqr;
                    a[q * n + r] = s * apr + c * aqr;
                }
                a[p * n + q] = a[q * n + p] = 0;
                for (int r = 0; r < n; r++) { /* V <- V J */
                    double vrp = v[r * n + p], vrq = v[r * n + q];
                    v[r * n + p] = c * vrp - s * vrq;
                    v[r * n + q] = s * vrp + c * vrq;
                }
            }
    }
    for (int i = 0; i < n; i++)
        w[i] = a[i * n + i];
    /* Transpose so eigenvectors are rows, then insertion-sort by descending
     * eigenvalue with adjacent swaps (stable: equal values keep their order). */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double t = v[i * n + j];
            v[i * n + j] = v[j * n + i];
            v[j * n + i] = t;
        }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && w[j - 1] < w[j]; j--) {
            double t = w[j];
            w[j] = w[j - 1];
            w[j - 1] = t;
            for (int r = 0; r < n; r++) {
                t = v[j * n + r];
                v[j * n + r] = v[(j - 1) * n + r];
                v[(j - 1) * n + r] = t;
            }
        }
    /* An eigenvector's sign is arbitrary: fix it so plots do not flip. */
    for (int i = 0; i < n; i++) {
        int big = 0;
        for (int j = 1; j < n; j++)
            if (fabs(v[i * n + j]) > fabs(v[i * n + big]))
                big = j;
        if (v[i * n + big] < 0)
            for (int j = 0; j < n; j++)
                v[i * n + j] = -v[i * n + j];
    }
}
