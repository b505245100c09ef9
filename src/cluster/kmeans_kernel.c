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

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define KM_X86 1
#endif

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
    float *xt;       /* direct kernel: [d][16] the transposed tile */
    float *hb;       /* direct kernel: [k][16] h of the tile */
    int64_t recheck; /* rows x sets with more than one nominee */
    char pad[64];    /* threads' structs on distinct cache lines */
} km_thread;
/* Every per-thread buffer ends with this many unused bytes, so no two
 * threads' tables share a cache line (the counts are written every row). */
#define KM_PAD 64

/* One block of rows: SGEMM, nominate, re-check, outputs, exact sums into
 * the thread's buffers. Cloned for AVX-512 machines: the file is compiled
 * with -ffp-contract=off, so dist2_row (the only arithmetic that reaches a
 * result) is the same sequence of roundings in every clone; the clones
 * differ only in how fast they nominate. */
__attribute__((target_clones("arch=x86-64-v4", "default"))) static void
km_block(const tribe_kmeans_pass_io *p, km_thread *w, const float *xb, int64_t rows, const double *cn,
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

/* Phase 3 of a block, after either nominator: the outputs and exact sums
 * from the winners w->best / w->bd ([nsets][rows]) into the thread's
 * buffers. */
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) static void
km_emit(const tribe_kmeans_pass_io *p, km_thread *w, const float *xb, int64_t i0, int64_t rows)
{
    int d = p->d, k = p->k, ns = p->nsets;
    int block_small = p->sum && block_max_abs(xb, rows * d) < (float)KM_SMALL;
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

/* ---- the direct AVX-512 pass ------------------------------------------------
 * For small k*d the SGEMM's call and packing cost more than the arithmetic,
 * so on AVX-512 machines the pass runs its own kernel on tiles of 16 rows:
 * the tile is transposed in registers (xt[j][16]: one row per float lane),
 * and for every centre h_c = fl(|c|^2) + sum_j x_j fl(-2 c_j) is accumulated
 * in float with FMAs, centres broadcast, rows in lanes, keeping the lowest
 * and second-lowest h and the index of the lowest per lane. As with the
 * GEMM, h only NOMINATES; its error bound (the float sum of d + 1 terms,
 * the rounding of c and |c|^2 to float; Higham's gamma, |x.c| <= |x| |c|):
 *     |h_c - (|c|^2 - 2 x.c)| <= (d + 2) 2^-24 (1 + eps) (cmax^2 + 2 |x| cmax)
 * taken with a safety factor 1.5, plus 1e-12 (|x|^2 + cmax^2) for the
 * double rounding of the exact distances and 1e-30 for underflow. A lane
 * whose second-lowest h is within twice that of the lowest re-scores its
 * nominees with dist2_row (scalar, rare); every other lane has one nominee,
 * whose exact distance is computed in double lanes with dist2_row's own
 * operations in its order (centre coordinates picked per lane by permutes
 * for k <= 32, a gather above). Lanes whose |x|^2 is not a finite float
 * below 1e30 (NaN, huge values) run the naive loop itself. Sums are the
 * GEMM pass's int64 fixed point, vectorised with the same roundings. */
#ifdef KM_X86
/* A direct kernel's lane with several nominees, or not a finite row: the
 * nearest of the centres whose h (hb[c * stride]) is within lim, each
 * re-scored with dist2_row; the naive loop itself when none qualifies or
 * the row is not finite (ok = 0). Distance into *bv. */
static int km_recheck(const float *x, int d, const double *cs, int ks, const float *hb, int stride, float lim,
                      int ok, double *bv)
{
    int bsel = -1;
    *bv = INFINITY;
    for (int c = 0; ok && c < ks; c++) {
        if (!(hb[c * stride] <= lim))
            continue;
        double v = dist2_row(x, cs + (size_t)c * d, d);
        if (bsel < 0 || v < *bv) {
            *bv = v;
            bsel = c;
        }
    }
    return bsel >= 0 ? bsel : nearest(x, d, cs, ks, bv);
}

#define KM_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))
enum { KM_T = 16 };
#ifndef KM_PF
#define KM_PF 4096 /* software prefetch distance, bytes */
#endif

/* Shared read-only tables of one pass. */
typedef struct {
    const float *wf;   /* [kt][d] fl(-2 c) */
    const float *cnf;  /* [kt] fl(|c|^2) */
    const double *ct;  /* [nsets][d][kp] centre coordinates by j (kp 8, 16 or 32) */
    const float *cmax; /* [nsets] largest |c| of the set */
    int kp;            /* 8, 16, 32, or 0: gather from cent */
    float e1;          /* 1.5 (d + 2) 2^-24 */
} km_tabs;

/* Transposes 16 rows x[l * d + j] (rows l >= nr read as 0) into xt[j][16].
 * Returns the largest |x| of the tile as a bit pattern (NaN above inf). */
KM_AVX512 static inline __attribute__((always_inline)) uint32_t km_transpose(const float *x0, int d, int nr,
                                                                             float *xt)
{
    __m512i mx = _mm512_setzero_si512();
    for (int j0 = 0; j0 < d; j0 += 16) {
        int nc = d - j0 < 16 ? d - j0 : 16;
        __mmask16 cm = (__mmask16)(nc == 16 ? 0xffff : (1u << nc) - 1);
        __m512 r[16], t[16];
#pragma GCC unroll 16
        for (int l = 0; l < 16; l++)
            r[l] = _mm512_maskz_loadu_ps(l < nr ? cm : 0, x0 + (size_t)(l < nr ? l : 0) * d + j0);
#pragma GCC unroll 16
        for (int l = 0; l < 16; l++)
            mx = _mm512_max_epu32(mx, _mm512_and_si512(_mm512_castps_si512(r[l]), _mm512_set1_epi32(0x7fffffff)));
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) {
            t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
            t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
        }
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) {
            __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
            __m512d c = _mm512_castps_pd(t[4 * i + 2]), e = _mm512_castps_pd(t[4 * i + 3]);
            r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
            r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
            r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, e));
            r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, e));
        }
        /* r[4i+q] now holds, in 128-bit lane L, column 4L+q of rows 4i..4i+3. */
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) {
            __m512 a = _mm512_shuffle_f32x4(r[q], r[4 + q], 0x88), b = _mm512_shuffle_f32x4(r[q], r[4 + q], 0xDD);
            __m512 c = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0x88);
            __m512 e = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0xDD);
            t[q] = _mm512_shuffle_f32x4(a, c, 0x88);
            t[8 + q] = _mm512_shuffle_f32x4(a, c, 0xDD);
            t[4 + q] = _mm512_shuffle_f32x4(b, e, 0x88);
            t[12 + q] = _mm512_shuffle_f32x4(b, e, 0xDD);
        }
        float *o = xt + (size_t)j0 * KM_T;
        if (nc == 16) {
#pragma GCC unroll 16
            for (int q = 0; q < 16; q++)
                _mm512_storeu_ps(o + q * KM_T, t[q]);
        } else {
#pragma GCC unroll 16
            for (int q = 0; q < 16; q++)
                if (q < nc)
                    _mm512_storeu_ps(o + q * KM_T, t[q]);
        }
    }
    return (uint32_t)_mm512_reduce_max_epu32(mx);
}

/* h of centres c .. c+G-1 for the tile; lowest / second-lowest / argmin. */
KM_AVX512 static inline __attribute__((always_inline)) void km_nom(int G, const float *xt, int d, const float *wf,
                                                                   const float *cnf, int c, float *hb, __m512 *m1,
                                                                   __m512 *m2, __m512i *bi)
{
    __m512 a[8];
    for (int g = 0; g < G; g++)
        a[g] = _mm512_set1_ps(cnf[c + g]);
    for (int j = 0; j < d; j++) {
        __m512 x = _mm512_loadu_ps(xt + j * KM_T);
        for (int g = 0; g < G; g++)
            a[g] = _mm512_fmadd_ps(x, _mm512_set1_ps(wf[(size_t)(c + g) * d + j]), a[g]);
    }
    for (int g = 0; g < G; g++) {
        _mm512_storeu_ps(hb + (size_t)(c + g) * KM_T, a[g]);
        __mmask16 lt = _mm512_cmp_ps_mask(a[g], *m1, _CMP_LT_OQ);
        *m2 = _mm512_min_ps(*m2, _mm512_max_ps(*m1, a[g]));
        *m1 = _mm512_min_ps(*m1, a[g]);
        *bi = _mm512_mask_mov_epi32(*bi, lt, _mm512_set1_epi32(c + g));
    }
}

/* fix64 of 8 doubles, the same roundings: s = v 2^32, then s +- 0.5 with
 * the sign of s (-0 gets -0.5: the integer is 0 either way), truncated. */
KM_AVX512 static inline __attribute__((always_inline)) __m512i km_fix8(__m512d v)
{
    __m512d s = _mm512_mul_pd(v, _mm512_set1_pd(TRIBE_XSUM_SCALE));
    __m512d h = _mm512_castsi512_pd(_mm512_ternarylogic_epi64(
        _mm512_castpd_si512(s), _mm512_set1_epi64(INT64_MIN), _mm512_castpd_si512(_mm512_set1_pd(0.5)), 0xEA));
    return _mm512_cvttpd_epi64(_mm512_add_pd(s, h));
}

/* acc[j] += fixed point of x[j] (all |x[j]| < 2^22): add_fixed's roundings. */
KM_AVX512 static inline __attribute__((always_inline)) void km_add_fixed(int64_t *acc, const float *x, int d)
{
    int j = 0;
    /* Plain loads and stores where possible: a masked load does not take its
     * data from a pending masked store, and the next row may hit the same
     * centre. */
    for (; j + 8 <= d; j += 8)
        _mm512_storeu_si512(acc + j, _mm512_add_epi64(_mm512_loadu_si512(acc + j),
                                                      km_fix8(_mm512_cvtps_pd(_mm256_loadu_ps(x + j)))));
    if (j < d) {
        __mmask8 m = (__mmask8)((1u << (d - j)) - 1);
        __m512i q = km_fix8(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, x + j)));
        _mm512_mask_storeu_epi64(acc + j, m, _mm512_add_epi64(_mm512_maskz_loadu_epi64(m, acc + j), q));
    }
}

KM_AVX512 static void km_block_direct(const tribe_kmeans_pass_io *p, km_thread *w, const km_tabs *tb,
                                      const float *xb, int64_t i0, int64_t rows, int64_t n)
{
    int64_t ahead = (n - i0) * p->d * 4; /* bytes from xb to the end of the array */
    int d = p->d, k = p->k, ns = p->nsets;
    int need_dist = p->dist2 || p->dist2f || p->mind2 || p->inertia;
    float *xt = w->xt, *hb = w->hb;
    uint32_t small_bits;
    {
        float f = (float)KM_SMALL;
        memcpy(&small_bits, &f, sizeof f);
    }
    double bdv[KM_T], xxv[KM_T];
    int64_t xxq[KM_T];
    int32_t blv[KM_T];
    for (int64_t r0 = 0; r0 < rows; r0 += KM_T) {
        int nr = rows - r0 < KM_T ? (int)(rows - r0) : KM_T;
        __mmask16 valid = (__mmask16)(nr == KM_T ? 0xffff : (1u << nr) - 1);
        const float *x0 = xb + r0 * d;
        /* The arithmetic between loads is too long for the hardware
         * prefetcher to keep enough lines in flight: ask KM_PF bytes ahead
         * (into the next block too, never past the end of the array). */
        for (int64_t q = r0 * d * 4 + KM_PF; q < (r0 + KM_T) * d * 4 + KM_PF && q < ahead; q += 64)
            _mm_prefetch((const char *)xb + q, _MM_HINT_T0);
        int tile_small = km_transpose(x0, d, nr, xt) < small_bits; /* every |x| < 2^22 */
        __m512 xa = _mm512_setzero_ps(), xb2 = _mm512_setzero_ps();
        int jj = 0;
        for (; jj + 2 <= d; jj += 2) {
            __m512 x = _mm512_loadu_ps(xt + jj * KM_T), y = _mm512_loadu_ps(xt + (jj + 1) * KM_T);
            xa = _mm512_fmadd_ps(x, x, xa);
            xb2 = _mm512_fmadd_ps(y, y, xb2);
        }
        if (jj < d) {
            __m512 x = _mm512_loadu_ps(xt + jj * KM_T);
            xa = _mm512_fmadd_ps(x, x, xa);
        }
        __m512 xxf = _mm512_add_ps(xa, xb2);
        __mmask16 ok = _mm512_cmp_ps_mask(xxf, _mm512_set1_ps(1e30f), _CMP_LT_OQ);
        __m512 xn = _mm512_sqrt_ps(xxf);
        if (p->sumsq) /* sum of (double) x_j^2, j in order, per lane */
            for (int h = 0; h < 2; h++) {
                __m512d acc = _mm512_setzero_pd();
                for (int j = 0; j < d; j++) {
                    __m512d xd = _mm512_cvtps_pd(_mm256_loadu_ps(xt + j * KM_T + 8 * h));
                    acc = _mm512_add_pd(acc, _mm512_mul_pd(xd, xd));
                }
                _mm512_storeu_pd(xxv + 8 * h, acc);
                _mm512_storeu_si512(xxq + 8 * h, km_fix8(acc)); /* fix64 of each (used below 2^22) */
            }
        for (int s = 0; s < ns; s++) {
            int c0 = s * k, ks = p->kset ? p->kset[s] : k;
            const double *cs = p->cent + (size_t)c0 * d;
            const float *wf = tb->wf + (size_t)c0 * d, *cnf = tb->cnf + c0;
            __m512 m1 = _mm512_set1_ps(INFINITY), m2 = m1;
            __m512i bi = _mm512_setzero_si512();
            for (int c = 0; c < ks; c += 8) {
                switch (ks - c < 8 ? ks - c : 8) {
                case 1: km_nom(1, xt, d, wf, cnf, c, hb, &m1, &m2, &bi); break;
                case 2: km_nom(2, xt, d, wf, cnf, c, hb, &m1, &m2, &bi); break;
                case 3: km_nom(3, xt, d, wf, cnf, c, hb, &m1, &m2, &bi); break;
                case 4: km_nom(4, xt, d, wf, cnf, c, hb, &m1, &m2, &bi); break;
                case 5: km_nom(5, xt, d, wf, cnf, c, hb, &m1, &m2, &bi); break;
                case 6: km_nom(6, xt, d, wf, cnf, c, hb, &m1, &m2, &bi); break;
                case 7: km_nom(7, xt, d, wf, cnf, c, hb, &m1, &m2, &bi); break;
                default: km_nom(8, xt, d, wf, cnf, c, hb, &m1, &m2, &bi); break;
                }
            }
            float cm = tb->cmax[s];
            __m512 e = _mm512_fmadd_ps(_mm512_set1_ps(2 * tb->e1 * cm), xn,
                                       _mm512_set1_ps(tb->e1 * cm * cm + 1e-12f * cm * cm + 1e-30f));
            e = _mm512_fmadd_ps(_mm512_set1_ps(1e-12f), xxf, e);
            __m512 lim = _mm512_add_ps(m1, _mm512_add_ps(e, e));
            __mmask16 slow = (__mmask16)((_mm512_cmp_ps_mask(m2, lim, _CMP_LE_OQ) | (__mmask16)~ok) & valid);
            _mm512_storeu_si512(blv, bi);
            /* The nominee's exact distance: dist2_row in double lanes. */
            for (int h = 0; need_dist && h < 2; h++) {
                __m256i b32 = h ? _mm512_extracti64x4_epi64(bi, 1) : _mm512_castsi512_si256(bi);
                __m512i idx = _mm512_cvtepi32_epi64(b32);
                __m512d acc = _mm512_setzero_pd();
                const float *xh = xt + 8 * h;
                if (tb->kp == 8) {
                    const double *ct = tb->ct + (size_t)s * d * 8;
                    for (int j = 0; j < d; j++) {
                        __m512d t = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(xh + j * KM_T)),
                                                  _mm512_permutexvar_pd(idx, _mm512_loadu_pd(ct + j * 8)));
                        acc = _mm512_add_pd(acc, _mm512_mul_pd(t, t));
                    }
                } else if (tb->kp == 16) {
                    const double *ct = tb->ct + (size_t)s * d * 16;
                    for (int j = 0; j < d; j++) {
                        __m512d cj = _mm512_permutex2var_pd(_mm512_loadu_pd(ct + j * 16), idx,
                                                            _mm512_loadu_pd(ct + j * 16 + 8));
                        __m512d t = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(xh + j * KM_T)), cj);
                        acc = _mm512_add_pd(acc, _mm512_mul_pd(t, t));
                    }
                } else if (tb->kp == 32) {
                    const double *ct = tb->ct + (size_t)s * d * 32;
                    __mmask8 up = _mm512_test_epi64_mask(idx, _mm512_set1_epi64(16));
                    for (int j = 0; j < d; j++) {
                        const double *cj = ct + j * 32;
                        __m512d lo = _mm512_permutex2var_pd(_mm512_loadu_pd(cj), idx, _mm512_loadu_pd(cj + 8));
                        __m512d hi = _mm512_permutex2var_pd(_mm512_loadu_pd(cj + 16), idx, _mm512_loadu_pd(cj + 24));
                        __m512d t = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(xh + j * KM_T)),
                                                  _mm512_mask_blend_pd(up, lo, hi));
                        acc = _mm512_add_pd(acc, _mm512_mul_pd(t, t));
                    }
                } else {
                    __m512i off = _mm512_mullo_epi64(idx, _mm512_set1_epi64(d));
                    for (int j = 0; j < d; j++) {
                        __m512d t = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(xh + j * KM_T)),
                                                  _mm512_i64gather_pd(off, cs + j, 8));
                        acc = _mm512_add_pd(acc, _mm512_mul_pd(t, t));
                    }
                }
                _mm512_storeu_pd(bdv + 8 * h, acc);
            }
            if (slow) {
                float limv[KM_T];
                _mm512_storeu_ps(limv, lim);
                for (int l = 0; l < nr; l++) {
                    if (!(slow >> l & 1))
                        continue;
                    blv[l] = km_recheck(x0 + (size_t)l * d, d, cs, ks, hb + l, KM_T, limv[l], ok >> l & 1, &bdv[l]);
                    w->recheck++;
                }
            }
            int64_t i = i0 + r0;
            __mmask8 vlo = (__mmask8)valid, vhi = (__mmask8)(valid >> 8);
            __m512d dlo = _mm512_loadu_pd(bdv), dhi = _mm512_loadu_pd(bdv + 8);
            if (s == 0 && nr == KM_T) { /* (masked stores are slow on lines not in cache) */
                if (p->label)
                    _mm512_storeu_si512(p->label + i, _mm512_loadu_si512(blv));
                if (p->dist2) {
                    _mm512_storeu_pd(p->dist2 + i, dlo);
                    _mm512_storeu_pd(p->dist2 + i + 8, dhi);
                }
                if (p->dist2f)
                    _mm512_storeu_ps(p->dist2f + i, _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(dlo)),
                                                                      _mm512_cvtpd_ps(dhi), 1));
            } else if (s == 0) {
                for (int l = 0; l < nr; l++) {
                    if (p->label)
                        p->label[i + l] = blv[l];
                    if (p->dist2)
                        p->dist2[i + l] = bdv[l];
                    if (p->dist2f)
                        p->dist2f[i + l] = (float)bdv[l];
                }
            }
            if (p->mind2) {
                double *m = p->mind2 + (size_t)s * (size_t)p->mind2_ld + (size_t)i;
                __m512d a = _mm512_maskz_loadu_pd(vlo, m), b = _mm512_maskz_loadu_pd(vhi, m + 8);
                _mm512_mask_storeu_pd(m, _mm512_mask_cmp_pd_mask(vlo, dlo, a, _CMP_LT_OQ), dlo);
                _mm512_mask_storeu_pd(m + 8, _mm512_mask_cmp_pd_mask(vhi, dhi, b, _CMP_LT_OQ), dhi);
            }
            if (p->inertia) { /* distances below 2^22 in lanes, others one by one */
                __mmask8 slo = _mm512_mask_cmp_pd_mask(vlo, dlo, _mm512_set1_pd(KM_SMALL), _CMP_LT_OQ);
                __mmask8 shi = _mm512_mask_cmp_pd_mask(vhi, dhi, _mm512_set1_pd(KM_SMALL), _CMP_LT_OQ);
                __m512i q = _mm512_add_epi64(_mm512_maskz_mov_epi64(slo, km_fix8(dlo)),
                                             _mm512_maskz_mov_epi64(shi, km_fix8(dhi)));
                w->in64[s] += _mm512_reduce_add_epi64(q);
                unsigned big = ((unsigned)valid & ~((unsigned)slo | (unsigned)shi << 8)) & 0xffffu;
                for (int l = 0; big; l++, big >>= 1)
                    if (big & 1)
                        w->in[s] += tribe_xsum_of(bdv[l]);
            }
            /* Local pointers: the compiler cannot tell the tables from p. */
            int64_t *restrict cnt = p->count ? w->cnt + c0 : NULL;
            int64_t *restrict sq64 = p->sumsq ? w->sq64 + c0 : NULL;
            int64_t *restrict s64 = p->sum ? w->s64 + (size_t)c0 * d : NULL;
            for (int l = 0; l < nr && (cnt || sq64 || s64); l++) {
                int c = blv[l];
                if (cnt)
                    cnt[c]++;
                if (sq64) {
                    if (xxv[l] < KM_SMALL)
                        sq64[c] += xxq[l];
                    else
                        w->sq[c0 + c] += tribe_xsum_of(xxv[l]);
                }
                if (s64) {
                    const float *x = x0 + (size_t)l * d;
                    int64_t *acc = s64 + (size_t)c * d;
                    if (tile_small)
                        km_add_fixed(acc, x, d);
                    else
                        for (int j = 0; j < d; j++) {
                            if (fabsf(x[j]) < (float)KM_SMALL)
                                acc[j] += fix64((double)x[j]);
                            else
                                w->sum[(size_t)(c0 + c) * d + j] += tribe_xsum_of((double)x[j]);
                        }
                }
            }
        }
    }
}
#endif

#ifdef KM_X86
/* ---- the direct AVX2 nominator ------------------------------------------
 * For CPUs with AVX2 and FMA but not AVX-512: the direct kernel's method on
 * tiles of 16 rows (one row per float lane of two ymm registers), filling the
 * winners w->best / w->bd for km_emit. h_c = fl(|c|^2) + sum_j x_j fl(-2 c_j)
 * accumulated with FMAs, centres four at a time; the same error bound
 * decides which lanes re-score their nominees with dist2_row; the
 * nominee's exact distance is dist2_row's arithmetic in double lanes
 * (centre coordinates picked by permutes for k <= 8, gathered above). Labels and distances are therefore the
 * plain loop's, bit for bit, as with the other kernels. */
#define KM_AVX2 __attribute__((target("avx2,fma")))
enum { KM_T2 = 16 }; /* rows per tile: two ymm halves, so each broadcast feeds two FMAs */

KM_AVX2 static inline __attribute__((always_inline)) void km_nom2(int G, const float *xt, int d, const float *wf,
                                                                  const float *cnf, int c, float *hb, __m256 *m1,
                                                                  __m256 *m2, __m256i *bi)
{
    __m256 a[4][2];
    for (int g = 0; g < G; g++)
        a[g][0] = a[g][1] = _mm256_set1_ps(cnf[c + g]);
    for (int j = 0; j < d; j++) {
        __m256 x0 = _mm256_loadu_ps(xt + j * KM_T2), x1 = _mm256_loadu_ps(xt + j * KM_T2 + 8);
        for (int g = 0; g < G; g++) {
            __m256 wv = _mm256_set1_ps(wf[(size_t)(c + g) * d + j]);
            a[g][0] = _mm256_fmadd_ps(x0, wv, a[g][0]);
            a[g][1] = _mm256_fmadd_ps(x1, wv, a[g][1]);
        }
    }
    for (int g = 0; g < G; g++)
        for (int h = 0; h < 2; h++) {
            _mm256_storeu_ps(hb + (size_t)(c + g) * KM_T2 + 8 * h, a[g][h]);
            __m256 lt = _mm256_cmp_ps(a[g][h], m1[h], _CMP_LT_OQ);
            m2[h] = _mm256_min_ps(m2[h], _mm256_max_ps(m1[h], a[g][h]));
            m1[h] = _mm256_min_ps(m1[h], a[g][h]);
            bi[h] = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bi[h]),
                                                         _mm256_castsi256_ps(_mm256_set1_epi32(c + g)), lt));
        }
}

/* Transposes 16 rows x[l * d + j] (rows l >= nr read as 0) into xt[j][16],
 * 8 x 8 blocks at a time in registers. */
KM_AVX2 static inline __attribute__((always_inline)) void km_transpose8(const float *x0, int d, int nr, float *xt)
{
    for (int j0 = 0; j0 < d; j0 += 8) {
        int nc = d - j0 < 8 ? d - j0 : 8;
        __m256i cm = _mm256_cmpgt_epi32(_mm256_set1_epi32(nc), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        for (int h = 0; h < 2; h++) {
            __m256 r[8], t[8];
            for (int l = 0; l < 8; l++)
                r[l] = 8 * h + l < nr ? _mm256_maskload_ps(x0 + (size_t)(8 * h + l) * d + j0, cm) : _mm256_setzero_ps();
            for (int i = 0; i < 4; i++) {
                t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
                t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
            }
            for (int i = 0; i < 2; i++) {
                r[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
                r[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
                r[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
                r[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
            }
            /* r[q] (rows 0-3) and r[4+q] (rows 4-7) hold columns q and 4+q in their 128-bit halves. */
            for (int q = 0; q < 4; q++) {
                if (q < nc)
                    _mm256_storeu_ps(xt + (size_t)(j0 + q) * KM_T2 + 8 * h, _mm256_permute2f128_ps(r[q], r[4 + q], 0x20));
                if (q + 4 < nc)
                    _mm256_storeu_ps(xt + (size_t)(j0 + q + 4) * KM_T2 + 8 * h,
                                     _mm256_permute2f128_ps(r[q], r[4 + q], 0x31));
            }
        }
    }
}

KM_AVX2 static void km_nominate_avx2(const tribe_kmeans_pass_io *p, km_thread *w, const km_tabs *tb, const float *xb,
                                 int64_t rows, int64_t ahead)
{
    int d = p->d, k = p->k, ns = p->nsets;
    int need_dist = p->dist2 || p->dist2f || p->mind2 || p->inertia;
    float *xt = w->xt, *hb = w->hb;
    for (int64_t r0 = 0; r0 < rows; r0 += KM_T2) {
        int nr = rows - r0 < KM_T2 ? (int)(rows - r0) : KM_T2;
        const float *x0 = xb + r0 * d;
        /* As in the AVX-512 kernel: ask for the rows KM_PF bytes ahead. */
        for (int64_t q = r0 * d * 4 + KM_PF; q < (r0 + KM_T2) * d * 4 + KM_PF && q < ahead; q += 64)
            _mm_prefetch((const char *)xb + q, _MM_HINT_T0);
        km_transpose8(x0, d, nr, xt);
        __m256 xxf[2], xn[2];
        int32_t okv[KM_T2];
        for (int h = 0; h < 2; h++) {
            xxf[h] = _mm256_setzero_ps();
            for (int j = 0; j < d; j++) {
                __m256 x = _mm256_loadu_ps(xt + j * KM_T2 + 8 * h);
                xxf[h] = _mm256_fmadd_ps(x, x, xxf[h]);
            }
            _mm256_storeu_si256((__m256i *)(okv + 8 * h),
                                _mm256_castps_si256(_mm256_cmp_ps(xxf[h], _mm256_set1_ps(1e30f), _CMP_LT_OQ)));
            xn[h] = _mm256_sqrt_ps(xxf[h]);
        }
        for (int s = 0; s < ns; s++) {
            int c0 = s * k, ks = p->kset ? p->kset[s] : k;
            const double *cs = p->cent + (size_t)c0 * d;
            const float *wf = tb->wf + (size_t)c0 * d, *cnf = tb->cnf + c0;
            __m256 m1[2] = {_mm256_set1_ps(INFINITY), _mm256_set1_ps(INFINITY)}, m2[2] = {m1[0], m1[1]};
            __m256i bi[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
            for (int c = 0; c < ks; c += 4) {
                switch (ks - c < 4 ? ks - c : 4) {
                case 1: km_nom2(1, xt, d, wf, cnf, c, hb, m1, m2, bi); break;
                case 2: km_nom2(2, xt, d, wf, cnf, c, hb, m1, m2, bi); break;
                case 3: km_nom2(3, xt, d, wf, cnf, c, hb, m1, m2, bi); break;
                default: km_nom2(4, xt, d, wf, cnf, c, hb, m1, m2, bi); break;
                }
            }
            float cm = tb->cmax[s], limv[KM_T2];
            int32_t slowv[KM_T2], blv[KM_T2];
            for (int h = 0; h < 2; h++) {
                __m256 e = _mm256_fmadd_ps(_mm256_set1_ps(2 * tb->e1 * cm), xn[h],
                                           _mm256_set1_ps(tb->e1 * cm * cm + 1e-12f * cm * cm + 1e-30f));
                e = _mm256_fmadd_ps(_mm256_set1_ps(1e-12f), xxf[h], e);
                __m256 lim = _mm256_add_ps(m1[h], _mm256_add_ps(e, e));
                _mm256_storeu_si256((__m256i *)(slowv + 8 * h),
                                    _mm256_castps_si256(_mm256_cmp_ps(m2[h], lim, _CMP_LE_OQ)));
                _mm256_storeu_ps(limv + 8 * h, lim);
                _mm256_storeu_si256((__m256i *)(blv + 8 * h), bi[h]);
            }
            int32_t *best = w->best + (size_t)s * rows + r0;
            double *bd = w->bd + (size_t)s * rows + r0;
            /* The nominee's exact distance: dist2_row in double lanes. */
            for (int q = 0; need_dist && q < 4 && 4 * q < nr; q++) {
                __m128i b = _mm_loadu_si128((const __m128i *)(blv + 4 * q));
                __m256d acc = _mm256_setzero_pd();
                if (tb->kp == 8) {
                    /* k <= 8: centre c's coordinate j is ct[j][c]; pick it per lane
                     * from the two 4-double halves by 32-bit pair permutes. */
                    const double *ct = tb->ct + (size_t)s * d * 8;
                    __m256i v = _mm256_slli_epi64(_mm256_cvtepi32_epi64(_mm_and_si128(b, _mm_set1_epi32(3))), 1);
                    __m256i pi = _mm256_or_si256(v, _mm256_slli_epi64(_mm256_add_epi64(v, _mm256_set1_epi64x(1)), 32));
                    __m256d up = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm_cmpgt_epi32(b, _mm_set1_epi32(3))));
                    for (int j = 0; j < d; j++) {
                        __m256d lo = _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_loadu_ps((const float *)(ct + j * 8)), pi));
                        __m256d hi = _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_loadu_ps((const float *)(ct + j * 8 + 4)), pi));
                        __m256d t = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(xt + j * KM_T2 + 4 * q)),
                                                  _mm256_blendv_pd(lo, hi, up));
                        acc = _mm256_add_pd(acc, _mm256_mul_pd(t, t));
                    }
                } else {
                    __m128i idx = _mm_mullo_epi32(b, _mm_set1_epi32(d));
                    for (int j = 0; j < d; j++) {
                        __m256d t = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(xt + j * KM_T2 + 4 * q)),
                                                  _mm256_i32gather_pd(cs + j, idx, 8));
                        acc = _mm256_add_pd(acc, _mm256_mul_pd(t, t));
                    }
                }
                double av[4];
                _mm256_storeu_pd(av, acc);
                for (int l = 0; l < 4 && 4 * q + l < nr; l++)
                    bd[4 * q + l] = av[l];
            }
            for (int l = 0; l < nr; l++) {
                best[l] = blv[l];
                if (!need_dist)
                    bd[l] = 0;
                int ok = okv[l] != 0;
                if (ok && slowv[l] == 0)
                    continue;
                /* Several nominees, or not a finite row: re-score. */
                best[l] = km_recheck(x0 + (size_t)l * d, d, cs, ks, hb + l, KM_T2, limv[l], ok, &bd[l]);
                w->recheck++;
            }
        }
    }
}
#endif

/* The kernel of a pass: 1 the direct AVX-512 kernel, 2 the direct AVX2
 * nominator, 0 the SGEMM. Chosen by measurement (docs/clustering.md): the
 * direct kernel the CPU has whenever nsets * k * d <= KM_DIRECT_MAX. */
#define KM_DIRECT_MAX 65536 /* the largest k*d measured (K = 256, d = 256): direct still 1.9x faster */
static int km_kernel = -1;

static int km_avail(int level)
{
#ifdef KM_X86
    if (level == 1)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    if (level == 2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return level == 0;
}

static int km_best(void)
{
    return km_avail(1) ? 1 : km_avail(2) ? 2 : 0;
}

int tribe_kmeans_kernel(int level)
{
    km_kernel = level >= 0 && level <= 2 && km_avail(level) ? level : -1;
    return km_kernel < 0 ? km_best() : km_kernel;
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
    int kern = km_kernel >= 0 ? km_kernel : (size_t)kt * d <= KM_DIRECT_MAX ? km_best() : 0;
#ifdef KM_X86
    float *wf = NULL, *cnf = NULL, *cmf = NULL;
    double *ct = NULL;
    int kp = 0;
    km_tabs tabs = {0};
#endif
    /* Threads only pay off on whole passes, not on a mini-batch. */
    int small = n < 8192 || (int64_t)n * kt * d < TRIBE_OMP_MIN_WORK;
    p->mind2_ld = n;
    if (small)
        nth = 1;
    TRIBE_TRY(tribe_alloc((void **)&cf, ktd * sizeof *cf));
    TRIBE_TRY(tribe_alloc((void **)&cn, (size_t)kt * sizeof *cn));
    TRIBE_TRY(tribe_calloc((void **)&cmax, (size_t)ns, sizeof *cmax));
    TRIBE_TRY(tribe_calloc((void **)&th, (size_t)nth, sizeof *th));
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
        if (!(s2 < 1e30)) /* NaN, infinite or huge centres: h could overflow */
            kern = 0;
    }
#ifdef KM_X86
    if (kern) {
        /* The direct kernels' tables (km_tabs). */
        kp = k <= 8 ? 8 : kern == 2 ? 0 : k <= 16 ? 16 : k <= 32 ? 32 : 0; /* the AVX2 kernel permutes only for k <= 8 */
        TRIBE_TRY(tribe_alloc((void **)&wf, ktd * sizeof *wf));
        TRIBE_TRY(tribe_alloc((void **)&cnf, (size_t)kt * sizeof *cnf));
        TRIBE_TRY(tribe_alloc((void **)&cmf, (size_t)ns * sizeof *cmf));
        TRIBE_TRY(tribe_calloc((void **)&ct, (size_t)ns * d * (kp ? kp : 1), sizeof *ct));
        for (size_t q = 0; q < ktd; q++)
            wf[q] = (float)(-2.0 * p->cent[q]);
        for (int c = 0; c < kt; c++)
            cnf[c] = (float)cn[c];
        for (int s = 0; s < ns; s++)
            cmf[s] = (float)cmax[s] * (1.0f + 1e-6f); /* rounded up */
        for (int c = 0; kp && c < kt; c++)
            for (int j = 0; j < d; j++)
                ct[((size_t)(c / k) * d + j) * kp + c % k] = p->cent[(size_t)c * d + j];
        tabs = (km_tabs){.wf = wf, .cnf = cnf, .ct = ct, .cmax = cmf, .kp = kp,
                         .e1 = 1.5f * (float)(d + 2) * 5.9604644775390625e-08f};
        R = KM_BLOCK;
    }
#endif
    for (int t = 0; t < nth; t++) {
        if (kern) {
            TRIBE_TRY(tribe_alloc((void **)&th[t].xt, (size_t)d * 16 * sizeof(float) + KM_PAD));
            TRIBE_TRY(tribe_alloc((void **)&th[t].hb, (size_t)k * 16 * sizeof(float) + KM_PAD));
        } else {
            TRIBE_TRY(tribe_alloc((void **)&th[t].g, (size_t)R * kt * sizeof(float) + KM_PAD));
        }
        TRIBE_TRY(tribe_calloc((void **)&th[t].s64, ktd * sizeof(int64_t) + KM_PAD, 1));
        TRIBE_TRY(tribe_calloc((void **)&th[t].sum, ktd * sizeof(tribe_xsum) + KM_PAD, 1));
        TRIBE_TRY(tribe_calloc((void **)&th[t].cnt, (size_t)kt * sizeof(int64_t) + KM_PAD, 1));
        TRIBE_TRY(tribe_calloc((void **)&th[t].in, (size_t)ns * sizeof(tribe_xsum) + KM_PAD, 1));
        TRIBE_TRY(tribe_calloc((void **)&th[t].in64, (size_t)ns * sizeof(int64_t) + KM_PAD, 1));
        TRIBE_TRY(tribe_calloc((void **)&th[t].sq, (size_t)kt * sizeof(tribe_xsum) + KM_PAD, 1));
        TRIBE_TRY(tribe_calloc((void **)&th[t].sq64, (size_t)kt * sizeof(int64_t) + KM_PAD, 1));
        TRIBE_TRY(tribe_alloc((void **)&th[t].best, (size_t)R * ns * sizeof(int32_t) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&th[t].bd, (size_t)R * ns * sizeof(double) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&th[t].xn, (size_t)R * sizeof(double) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&th[t].m1, (size_t)R * sizeof(double) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&th[t].m2, (size_t)R * sizeof(double) + KM_PAD));
        TRIBE_TRY(tribe_alloc((void **)&th[t].multi, (size_t)R * sizeof(int32_t) + KM_PAD));
    }
    /* One BLAS thread: the threads here are ours (docs/clustering.md). */
    openblas_set_num_threads(1);
    int64_t nblocks = (n + R - 1) / R;
    const double ebound = 3.0 * (d + 2) * 5.9604644775390625e-08; /* 2^-24 */
#pragma omp parallel num_threads(nth) if (!small)
    {
        km_thread *w = &th[omp_get_thread_num()];
        /* Dynamic: a thread that loses its core (shared machines) does not
         * hold up the pass. Which thread takes a block changes no result:
         * every row is computed alike and the sums are integers. */
#pragma omp for schedule(dynamic, 8)
        for (int64_t b = 0; b < nblocks; b++) {
            int64_t i0 = b * R, rows = n - i0 < R ? n - i0 : R;
#ifdef KM_X86
            if (kern == 1) {
                km_block_direct(p, w, &tabs, z + i0 * d, i0, rows, n);
            } else if (kern == 2) {
                km_nominate_avx2(p, w, &tabs, z + i0 * d, rows, (n - i0) * d * 4);
                km_emit(p, w, z + i0 * d, i0, rows);
            } else
#endif
            {
                km_block(p, w, z + i0 * d, rows, cn, cmax, cf, ebound);
                km_emit(p, w, z + i0 * d, i0, rows);
            }
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
        free(th[t].xt);
        free(th[t].hb);
    }
    free(th);
#ifdef KM_X86
    free(wf);
    free(cnf);
    free(cmf);
    free(ct);
#endif
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

int64_t tribe_km_first_nonfinite(const float *z, int64_t nv)
{
    uint32_t any = 0;
#pragma omp parallel for schedule(static) reduction(| : any) if (nv >= 1 << 20)
    for (int64_t i = 0; i < nv; i++) {
        uint32_t u;
        memcpy(&u, z + i, sizeof u);
        any |= (u & 0x7f800000u) == 0x7f800000u;
    }
    for (int64_t i = 0; any && i < nv; i++)
        if (!isfinite(z[i]))
            return i;
    return -1;
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

/* out[i] = |s_i - c|^2 for the m rows of the column-major copy st[d][m]:
 * j ascending for every row, so each value has dist2_row's bits, but the
 * loops run down contiguous columns (vectorised across rows). */
static void cols_dist2(const float *st, int64_t m, int d, const double *c, double *out)
{
    for (int64_t i = 0; i < m; i++) {
        double t = (double)st[i] - c[0];
        out[i] = t * t;
    }
    for (int j = 1; j < d; j++) {
        const float *col = st + (size_t)j * m;
        double cj = c[j];
        for (int64_t i = 0; i < m; i++) {
            double t = (double)col[i] - cj;
            out[i] += t * t;
        }
    }
}

int tribe_kmeanspp(const float *s, int64_t m, int d, int k, uint64_t seed, uint64_t stream,
                   double *centroids, double *d2)
{
    if (m <= 0 || k <= 0)
        return 0;
    /* Work: the sample by columns and two distance rows (plain malloc: this
     * may run on several threads at once, one restart each). */
    float *st = malloc((size_t)m * d * sizeof *st);
    double *dd = malloc((size_t)m * sizeof *dd), *bd = malloc((size_t)m * sizeof *bd);
    int found = -1;
    if (!st || !dd || !bd)
        goto cleanup;
    for (int64_t i = 0; i < m; i++)
        for (int j = 0; j < d; j++)
            st[(size_t)j * m + i] = s[i * d + j];
    uint64_t ctr = 0;
    int64_t first = (int64_t)tribe_rng_below(seed, stream, ctr++, (uint64_t)m);
    for (int j = 0; j < d; j++)
        centroids[j] = (double)s[first * d + j];
    cols_dist2(st, m, d, centroids, d2);
    /* Greedy k-means++ (as in sklearn): several candidates per step, keep the
     * one that lowers the potential most. The potential is a serial sum in
     * row order, so it does not depend on threads. */
    int trials = 2 + (int)floor(log((double)k));
    found = 1;
    for (int c = 1; c < k; c++) {
        double total = 0;
        for (int64_t i = 0; i < m; i++)
            total += d2[i];
        if (!(total > 0))
            break; /* every sample row coincides with a chosen centre */
        int64_t best = -1;
        double best_pot = INFINITY;
        double *cc = centroids + (size_t)c * d;
        for (int t = 0; t < trials; t++) {
            int64_t cand = draw_weighted(d2, m, tribe_rng_unif(seed, stream, ctr++) * total);
            for (int j = 0; j < d; j++)
                cc[j] = (double)s[cand * d + j];
            cols_dist2(st, m, d, cc, dd);
            double pot = 0;
            for (int64_t i = 0; i < m; i++)
                pot += dd[i] < d2[i] ? dd[i] : d2[i];
            if (pot < best_pot) {
                best_pot = pot;
                best = cand;
                double *sw = bd;
                bd = dd;
                dd = sw;
            }
        }
        for (int j = 0; j < d; j++)
            cc[j] = (double)s[best * d + j];
        for (int64_t i = 0; i < m; i++)
            if (bd[i] < d2[i])
                d2[i] = bd[i];
        found = c + 1;
    }
cleanup:
    free(st);
    free(dd);
    free(bd);
    return found;
}
