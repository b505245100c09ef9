/* The SGEMM block of the K-Means pass (kmeans_kernel.h). */
#include "tribe/cluster.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kmeans_kernel.h"

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

/* |x|^2 in float, any order: it only scales the error bound, which decides
 * how many centres are re-checked, never which one wins. */
static inline float norm2f(const float *restrict x, int d)
{
    float s = 0;
    for (int j = 0; j < d; j++)
        s += x[j] * x[j];
    return s;
}

/* One block of rows: SGEMM, nominate, re-check; the winners into the
 * thread's buffers (tribe_km_emit writes the outputs). Cloned for AVX-512 machines: the file is compiled
 * with -ffp-contract=off, so dist2_row (the only arithmetic that reaches a
 * result) is the same sequence of roundings in every clone; the clones
 * differ only in how fast they nominate. */
__attribute__((target_clones("arch=x86-64-v4", "default"))) void
tribe_km_block_gemm(const tribe_kmeans_pass_io *p, km_thread *w, const float *xb, int64_t rows, const double *cn,
                    const double *cmax, const float *cf, double ebound)
{
    int d = p->d, k = p->k, ns = p->nsets, kt = ns * k;
    int need_dist = p->dist2 || p->dist2f || p->mind2 || p->inertia;
    /* g[kt][rows] = centres . rows^T: for a fixed centre the rows are
     * contiguous, so the scans below run across rows in vector lanes. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kt, (int)rows, d, 1.0f, cf, d, xb, d, 0.0f, w->g,
                (int)rows);
    for (int64_t r = 0; r < rows; r++)
        w->xn[r] = sqrt((double)norm2f(xb + r * d, d));
    for (int s = 0; s < ns; s++) {
        int c0 = s * k, ks = p->kset ? p->kset[s] : k;
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
        for (int c = 0; c < ks; c++) {
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
            for (int c = 0; c < ks; c++) {
                double v = cn[c0 + c] - 2.0 * (double)w->g[(size_t)(c0 + c) * rows + r];
                if (!(v <= w->m2[r]))
                    continue;
                double e = dist2_row(x, cs + (size_t)c * d, d);
                if (bi < 0 || e < bv) {
                    bv = e;
                    bi = c;
                }
            }
            if (bi < 0) /* no nominee survived (a NaN row): the plain loop decides */
                bi = nearest(x, d, cs, ks, &bv);
            best[r] = bi;
            bd[r] = bv;
            w->recheck++;
        }
    }
}

void tribe_blas_init(void)
{
    openblas_set_num_threads(1);
}
