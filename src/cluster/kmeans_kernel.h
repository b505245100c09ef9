/* What the K-Means kernel files share (private to src/cluster): the exact
 * distance every kernel decides with, the per-thread buffers of a pass, the
 * direct kernels' tables, and the block kernels that tribe_kmeans_pass
 * (kmeans_pass.c) runs:
 *   kmeans_gemm.c    SGEMM nominates, exact re-check (any CPU, large k*d)
 *   kmeans_avx512.c  the direct AVX-512 kernel (nominate, re-check, outputs)
 *   kmeans_avx2.c    the direct AVX2 nominator (outputs by tribe_km_emit)
 *   kmeanspp.c       k-means++ seeding and weighted draws
 * Every file that computes a distance is compiled with -ffp-contract=off
 * (CMakeLists.txt), so dist2_row rounds alike in every kernel and clone. */
#ifndef TRIBE_KMEANS_KERNEL_H
#define TRIBE_KMEANS_KERNEL_H

#include "kmeans_internal.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(TRIBE_PORTABLE)
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

#define KM_BLOCK 256 /* rows per block (the most a pass's per-thread buffers hold) */
#define KM_SMALL 4194304.0 /* 2^22: values below it are summed in int64 within a block */
#ifndef KM_PF
#define KM_PF 4096 /* the direct kernels' software prefetch distance, bytes */
#endif

/* fix64(v) is the integer tribe_xsum_of(v) gives, for |v| < 2^22. */
static inline int64_t fix64(double v)
{
    double s = v * TRIBE_XSUM_SCALE;
    return (int64_t)(s < 0 ? s - 0.5 : s + 0.5);
}

/* A thread's buffers for one pass (the winners of a block, its exact
 * partial sums), owned by the pass's workspace. */
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

/* Shared read-only tables of one pass (the direct kernels). */
typedef struct {
    const float *wf;   /* [kt][d] fl(-2 c) */
    const float *cnf;  /* [kt] fl(|c|^2) */
    const double *ct;  /* [nsets][d][kp] centre coordinates by j (kp 8, 16 or 32) */
    const float *cmax; /* [nsets] largest |c| of the set */
    int kp;            /* 8, 16, 32, or 0: gather from cent */
    float e1;          /* 1.5 (d + 2) 2^-24 */
} km_tabs;

/* The SGEMM block (kmeans_gemm.c): nominate, re-check, winners into
 * w->best / w->bd. cn[kt] |c|^2, cmax[nsets] largest |c| per set, cf[kt][d]
 * the centres in float, ebound the relative error bound 3 (d + 2) 2^-24. */
void tribe_km_block_gemm(const tribe_kmeans_pass_io *p, km_thread *w, const float *xb, int64_t rows,
                         const double *cn, const double *cmax, const float *cf, double ebound);
/* The outputs and exact sums of a block from the winners w->best / w->bd
 * (kmeans_pass.c; after the SGEMM block or the AVX2 nominator). */
void tribe_km_emit(const tribe_kmeans_pass_io *p, km_thread *w, const float *xb, int64_t i0, int64_t rows);
/* A direct kernel's lane with several nominees, or not a finite row: the
 * nearest of the centres whose h (hb[c * stride]) is within lim, each
 * re-scored with dist2_row; the naive loop itself when none qualifies or
 * the row is not finite (ok = 0). Distance into *bv. */
int tribe_km_recheck(const float *x, int d, const double *cs, int ks, const float *hb, int stride, float lim, int ok,
                     double *bv);
#ifdef KM_X86
/* The direct AVX-512 block (kmeans_avx512.c): rows [i0, i0 + rows) at xb of
 * the n-row array, every output written. */
void tribe_km_block_avx512(const tribe_kmeans_pass_io *p, km_thread *w, const km_tabs *tb, const float *xb,
                           int64_t i0, int64_t rows, int64_t n);
/* The direct AVX2 nominator (kmeans_avx2.c): winners into w->best / w->bd;
 * ahead = bytes from xb to the end of the array (prefetch limit). */
void tribe_km_nominate_avx2(const tribe_kmeans_pass_io *p, km_thread *w, const km_tabs *tb, const float *xb,
                            int64_t rows, int64_t ahead);
#endif

#endif
