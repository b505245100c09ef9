/* Sampled exact silhouette (tribe_silhouette_sample in tribe/cluster.h; for
 * several labelings at once, tribe_silhouette_multi in silhouette_internal.h).
 * A sample of rows is replicated on every rank; each rank adds the distances
 * from every sampled row to each of its own rows into per-(row, cluster)
 * exact sums, one reduction combines them, and every rank then evaluates the
 * same silhouette values. Cost: sample x n x d distance terms, spread over
 * ranks and threads; traffic: sample x clusters sums.
 *
 * Several labelings (a K sweep's) share the distance work: within a chunk
 * of rows, rows in the same cluster under every labeling form a "tuple";
 * the chunk is counting-sorted by tuple and transposed (xt[d][P]) so that
 * each tuple's rows form a run padded to whole 16-lane vectors, and a vector
 * of distances always belongs to one tuple: no scatter by label. A tuple's
 * sums are then added to its cluster under each labeling ("fold"). With one
 * labeling a tuple is a cluster. Four sampled rows share every load of a
 * data vector. A distance is
 *     sqrt(sum_j (s_j - x_j)^2)   in float, j = 0..d-1 in order,
 * each step a fused multiply-add (one rounding: _mm256_fmadd_ps in the
 * AVX2+FMA kernel, fmaf in the portable one), so every kernel produces the
 * same bits for a pair wherever it lands. It is then rounded to a fixed
 * point of 2^-20 (an int32 lane; distances of 2048 or more, rare in
 * standardised data, go to tribe_xsum_of separately) and summed as
 * integers: neither the rank split, the chunking, the tuples, nor the thread
 * count can change a bit. Differences rather than ||x||^2 - 2x.y + ||y||^2
 * (the GEMM form): with d <= 64 the GEMM form is not compute-bound either,
 * and the direct form has no cancellation for close pairs (so no clamping)
 * and no dependence on a BLAS kernel's summation order.
 *
 * Memory per thread: the chunk transposed (at most SIL_XT_FLOATS floats, plus
 * 16 lanes per cluster of a labeling with many), the tuple sums of one block
 * of sampled rows (SIL_TUPLES x SIL_BLOCK int64, 4 MiB) and the per-cluster
 * sums of every sampled row (cells x sample x 24 bytes; cells = the clusters
 * of every labeling, 52 for K = 3..10: 2.5 MiB for 2,000 sampled rows). */
#include "tribe/cluster.h"

#include <math.h>
#include <string.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#define SIL_X86 1 /* the portable C is also built for x86-64-v3 */
#if !defined(TRIBE_PORTABLE)
#include <immintrin.h>
#define SIL_X86_KERNELS 1 /* the hand-written intrinsics kernels */
#endif
#endif

#include "silhouette_internal.h"
#include "tribe/streams.h"

enum {
    SIL_LANES = 16,         /* runs are padded to whole 16-lane vectors */
    SIL_GROUP = 4,          /* sampled rows per kernel call */
    SIL_PLANES = 8,         /* lanes of the portable kernel's inner block */
    SIL_BLOCK = 256,        /* sampled rows per tuple-sum block (a multiple of SIL_GROUP) */
    SIL_LANE_BLOCK = 2048,  /* lanes of xt a block of sampled rows walks at a time (cache) */
    SIL_TUPLES = 2048,      /* most tuples of a chunk (more labelings go to another pass) */
    SIL_XT_FLOATS = 1 << 20 /* xt floats per thread: a chunk holds SIL_XT_FLOATS / (2d) rows */
};
#define SIL_QSCALE 1048576.0f /* 2^20 */
#define SIL_QMAX 2048.0f      /* SIL_QSCALE * SIL_QMAX = 2^31: the int32 limit */
#define SIL_QSHIFT 12         /* 2^-20 units to the 2^-32 of tribe_xsum */

typedef struct {
    int u;      /* tuple */
    int p0, p1; /* lanes [p0, p1) of xt, multiples of SIL_LANES */
} sil_run;

/* Where a kernel adds, for the SIL_GROUP sampled rows r of its call:
 * q[u * ldq + r] the sum over tuple u's lanes in 2^-20 units; a distance of
 * SIL_QMAX or more goes exactly to big[c * ldb + r] for every cell c of
 * tuple u (cell[u * TRIBE_LABELINGS_MAX + l], l < ncell). */
typedef struct {
    int64_t *q;
    int ldq;
    tribe_xsum *big;
    int64_t ldb;
    const int32_t *cell;
    int ncell;
} sil_out;

static void sil_big(const sil_out *o, int u, int r, float dist)
{
    tribe_xsum v = tribe_xsum_of((double)dist);
    for (int l = 0; l < o->ncell; l++)
        o->big[(int64_t)o->cell[(size_t)u * TRIBE_LABELINGS_MAX + l] * o->ldb + r] += v;
}

/* ---- the portable kernel ---------------------------------------------------
 * Plain C the compiler vectorises: lane blocks of fixed width SIL_PLANES,
 * restrict pointers, the branch on large distances taken once per block
 * instead of per lane. On AArch64 (NEON or SVE, FMA native) fmaf is one
 * instruction; on x86-64 the baseline ISA has no FMA, so the same C is also
 * compiled for x86-64-v3 (AVX2 + FMA), which tribe_silhouette_kernel picks
 * when the CPU has it. */
static inline __attribute__((always_inline)) void sil_pdist(const float *restrict x, int P,
                                                            const float *restrict s, int d,
                                                            float a[restrict SIL_GROUP][SIL_PLANES])
{
    float a0[SIL_PLANES], a1[SIL_PLANES], a2[SIL_PLANES], a3[SIL_PLANES];
    for (int l = 0; l < SIL_PLANES; l++)
        a0[l] = a1[l] = a2[l] = a3[l] = 0.0f;
    for (int j = 0; j < d; j++) {
        const float *restrict xj = x + (size_t)j * (size_t)P;
        float s0 = s[j], s1 = s[d + j], s2 = s[2 * d + j], s3 = s[3 * d + j];
        for (int l = 0; l < SIL_PLANES; l++) {
            float t0 = xj[l] - s0, t1 = xj[l] - s1, t2 = xj[l] - s2, t3 = xj[l] - s3;
            a0[l] = fmaf(t0, t0, a0[l]);
            a1[l] = fmaf(t1, t1, a1[l]);
            a2[l] = fmaf(t2, t2, a2[l]);
            a3[l] = fmaf(t3, t3, a3[l]);
        }
    }
    for (int l = 0; l < SIL_PLANES; l++) {
        a[0][l] = sqrtf(a0[l]);
        a[1][l] = sqrtf(a1[l]);
        a[2][l] = sqrtf(a2[l]);
        a[3][l] = sqrtf(a3[l]);
    }
}

/* Adds the fixed-point distances of the kept lanes below SIL_QMAX to q[];
 * returns whether a kept lane is at or above it. Written for the
 * vectoriser: the first loop stays a loop (unrolled, its select would become
 * branches) and is if-converted, the conversion done for every lane on a
 * value that is in range for every lane; the sums in a second loop. */
static inline __attribute__((always_inline)) int sil_pquant(const float *restrict dist,
                                                            const int32_t *restrict mask,
                                                            int64_t *restrict q)
{
    int32_t over[SIL_PLANES], qi[SIL_PLANES];
#pragma GCC unroll 1
    for (int l = 0; l < SIL_PLANES; l++) {
        int keep = mask[l] != 0, small = dist[l] < SIL_QMAX;
        float v = dist[l] * SIL_QSCALE + 0.5f;
        over[l] = keep & !small;
        qi[l] = (int32_t)(keep & small ? v : 0.0f);
    }
    int any = 0;
    for (int l = 0; l < SIL_PLANES; l++) {
        q[l] += qi[l];
        any |= over[l];
    }
    return any;
}

#define SIL_PORTABLE_BODY                                                                                   \
    {                                                                                                       \
        for (int u = 0; u < nrun; u++) {                                                                    \
            int64_t q[SIL_GROUP][SIL_PLANES] = {{0}};                                                       \
            for (int p = run[u].p0; p < run[u].p1; p += SIL_PLANES) {                                       \
                float dist[SIL_GROUP][SIL_PLANES];                                                          \
                sil_pdist(xt + p, P, s, d, dist);                                                           \
                int over = 0;                                                                               \
                for (int r = 0; r < SIL_GROUP; r++)                                                         \
                    over |= sil_pquant(dist[r], mask + p, q[r]);                                            \
                for (int r = 0; over && r < SIL_GROUP; r++)                                                 \
                    for (int l = 0; l < SIL_PLANES; l++)                                                    \
                        if (mask[p + l] && !(dist[r][l] < SIL_QMAX))                                        \
                            sil_big(o, run[u].u, r, dist[r][l]);                                            \
            }                                                                                               \
            for (int r = 0; r < SIL_GROUP; r++) {                                                           \
                int64_t t = 0;                                                                              \
                for (int l = 0; l < SIL_PLANES; l++)                                                        \
                    t += q[r][l];                                                                           \
                o->q[(size_t)run[u].u * (size_t)o->ldq + (size_t)r] += t;                                   \
            }                                                                                               \
        }                                                                                                   \
    }

#define SIL_KERNEL_ARGS                                                                                     \
    const float *restrict xt, int P, const int32_t *restrict mask, const float *restrict s, int d,          \
        const sil_run *restrict run, int nrun, const sil_out *o

__attribute__((optimize("fp-contract=off", "no-math-errno", "no-trapping-math"))) static void
kern_portable(SIL_KERNEL_ARGS) SIL_PORTABLE_BODY

#ifdef SIL_X86
__attribute__((target("avx2,fma"), optimize("fp-contract=off", "no-math-errno", "no-trapping-math"))) static void
kern_portable_v3(SIL_KERNEL_ARGS) SIL_PORTABLE_BODY
#endif

#ifdef SIL_X86_KERNELS
/* ---- the hand-written x86 kernels ------------------------------------------ */
__attribute__((target("avx2"))) static int64_t hsum64(__m256i v)
{
    int64_t t[4];
    _mm256_storeu_si256((__m256i *)t, v);
    return t[0] + t[1] + t[2] + t[3];
}

__attribute__((target("avx2,fma"), optimize("fp-contract=off"))) static void kern_avx2(SIL_KERNEL_ARGS)
{
    const __m256 scale = _mm256_set1_ps(SIL_QSCALE), half = _mm256_set1_ps(0.5f), lim = _mm256_set1_ps(SIL_QMAX);
    const float *s0 = s, *s1 = s + d, *s2 = s + 2 * d, *s3 = s + 3 * d;
    for (int u = 0; u < nrun; u++) {
        __m256i q[SIL_GROUP][2];
        for (int r = 0; r < SIL_GROUP; r++)
            q[r][0] = q[r][1] = _mm256_setzero_si256();
        for (int p = run[u].p0; p < run[u].p1; p += 8) {
            __m256 a[SIL_GROUP] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                                   _mm256_setzero_ps()};
            const float *x = xt + p;
            for (int j = 0; j < d; j++, x += P) {
                __m256 v = _mm256_loadu_ps(x);
                __m256 t0 = _mm256_sub_ps(v, _mm256_set1_ps(s0[j]));
                __m256 t1 = _mm256_sub_ps(v, _mm256_set1_ps(s1[j]));
                __m256 t2 = _mm256_sub_ps(v, _mm256_set1_ps(s2[j]));
                __m256 t3 = _mm256_sub_ps(v, _mm256_set1_ps(s3[j]));
                a[0] = _mm256_fmadd_ps(t0, t0, a[0]);
                a[1] = _mm256_fmadd_ps(t1, t1, a[1]);
                a[2] = _mm256_fmadd_ps(t2, t2, a[2]);
                a[3] = _mm256_fmadd_ps(t3, t3, a[3]);
            }
            __m256i m = _mm256_loadu_si256((const __m256i *)(mask + p));
            for (int r = 0; r < SIL_GROUP; r++) {
                __m256 dist = _mm256_sqrt_ps(a[r]);
                __m256 over = _mm256_and_ps(_mm256_cmp_ps(dist, lim, _CMP_GE_OQ), _mm256_castsi256_ps(m));
                __m256i mr = m;
                if (_mm256_movemask_ps(over)) {
                    float dv[8];
                    int32_t ov[8];
                    _mm256_storeu_ps(dv, dist);
                    _mm256_storeu_si256((__m256i *)ov, _mm256_castps_si256(over));
                    for (int l = 0; l < 8; l++)
                        if (ov[l])
                            sil_big(o, run[u].u, r, dv[l]);
                    mr = _mm256_andnot_si256(_mm256_castps_si256(over), m);
                }
                __m256i qi = _mm256_and_si256(_mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(dist, scale), half)), mr);
                q[r][0] = _mm256_add_epi64(q[r][0], _mm256_cvtepi32_epi64(_mm256_castsi256_si128(qi)));
                q[r][1] = _mm256_add_epi64(q[r][1], _mm256_cvtepi32_epi64(_mm256_extracti128_si256(qi, 1)));
            }
        }
        for (int r = 0; r < SIL_GROUP; r++)
            o->q[(size_t)run[u].u * (size_t)o->ldq + (size_t)r] += hsum64(q[r][0]) + hsum64(q[r][1]);
    }
}

__attribute__((target("avx512f"), optimize("fp-contract=off"))) static void kern_avx512(SIL_KERNEL_ARGS)
{
    const __m512 scale = _mm512_set1_ps(SIL_QSCALE), half = _mm512_set1_ps(0.5f), lim = _mm512_set1_ps(SIL_QMAX);
    const float *s0 = s, *s1 = s + d, *s2 = s + 2 * d, *s3 = s + 3 * d;
    for (int u = 0; u < nrun; u++) {
        __m512i q[SIL_GROUP][2];
        for (int r = 0; r < SIL_GROUP; r++)
            q[r][0] = q[r][1] = _mm512_setzero_si512();
        for (int p = run[u].p0; p < run[u].p1; p += 16) {
            __m512 a[SIL_GROUP] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                                   _mm512_setzero_ps()};
            const float *x = xt + p;
            for (int j = 0; j < d; j++, x += P) {
                __m512 v = _mm512_loadu_ps(x);
                __m512 t0 = _mm512_sub_ps(v, _mm512_set1_ps(s0[j]));
                __m512 t1 = _mm512_sub_ps(v, _mm512_set1_ps(s1[j]));
                __m512 t2 = _mm512_sub_ps(v, _mm512_set1_ps(s2[j]));
                __m512 t3 = _mm512_sub_ps(v, _mm512_set1_ps(s3[j]));
                a[0] = _mm512_fmadd_ps(t0, t0, a[0]);
                a[1] = _mm512_fmadd_ps(t1, t1, a[1]);
                a[2] = _mm512_fmadd_ps(t2, t2, a[2]);
                a[3] = _mm512_fmadd_ps(t3, t3, a[3]);
            }
            __m512i m = _mm512_loadu_si512((const void *)(mask + p));
            __mmask16 valid = _mm512_test_epi32_mask(m, m);
            for (int r = 0; r < SIL_GROUP; r++) {
                __m512 dist = _mm512_sqrt_ps(a[r]);
                __mmask16 over = _mm512_mask_cmp_ps_mask(valid, dist, lim, _CMP_GE_OQ);
                if (over) {
                    float dv[16];
                    _mm512_storeu_ps(dv, dist);
                    for (int l = 0; l < 16; l++)
                        if (over >> l & 1)
                            sil_big(o, run[u].u, r, dv[l]);
                }
                __m512i qi = _mm512_maskz_cvttps_epi32((__mmask16)(valid & ~over),
                                                       _mm512_add_ps(_mm512_mul_ps(dist, scale), half));
                q[r][0] = _mm512_add_epi64(q[r][0], _mm512_cvtepi32_epi64(_mm512_castsi512_si256(qi)));
                q[r][1] = _mm512_add_epi64(q[r][1], _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(qi, 1)));
            }
        }
        for (int r = 0; r < SIL_GROUP; r++)
            o->q[(size_t)run[u].u * (size_t)o->ldq + (size_t)r] +=
                _mm512_reduce_add_epi64(_mm512_add_epi64(q[r][0], q[r][1]));
    }
}
#endif

typedef void (*sil_kernel_fn)(SIL_KERNEL_ARGS);
static int sil_level = -1; /* tribe_silhouette_kernel; -1: not decided yet */

int tribe_silhouette_kernel(int level)
{
    int best = TRIBE_SIL_PORTABLE;
#ifdef SIL_X86
    /* The intrinsics as far as the CPU and TRIBE_SIMD allow (tribe_simd_level);
     * the portable C runs its x86-64-v3 build when the CPU has AVX2 + FMA,
     * whatever TRIBE_SIMD says (it is the compiler's vectorisation, not
     * hand-written SIMD), else the baseline build. */
    int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    best = v3 ? TRIBE_SIL_PORTABLE : TRIBE_SIL_PORTABLE_BASE;
#ifdef SIL_X86_KERNELS
    int simd = tribe_simd_level();
    best = simd >= TRIBE_SIMD_AVX512 ? TRIBE_SIL_AVX512 : simd >= TRIBE_SIMD_AVX2 ? TRIBE_SIL_AVX2 : best;
#endif
    if (level == TRIBE_SIL_PORTABLE && !v3)
        level = TRIBE_SIL_PORTABLE_BASE;
#endif
    sil_level = level < 0 || level > best ? best : level;
    return sil_level;
}

static sil_kernel_fn sil_kernel(void)
{
    if (sil_level < 0)
        tribe_silhouette_kernel(-1);
#ifdef SIL_X86_KERNELS
    if (sil_level == TRIBE_SIL_AVX512)
        return kern_avx512;
    if (sil_level == TRIBE_SIL_AVX2)
        return kern_avx2;
#endif
#ifdef SIL_X86
    if (sil_level == TRIBE_SIL_PORTABLE)
        return kern_portable_v3;
#endif
    return kern_portable;
}

/* ---- labelings and tuples -------------------------------------------------- */

void tribe_labelings_one(tribe_labelings *ls, const int32_t *label, int k, int64_t n_local)
{
    memset(ls, 0, sizeof *ls);
    ls->n = 1;
    ls->k[0] = k;
    ls->coff[1] = k;
    ls->n_local = n_local;
    ls->lab32 = label;
}

tribe_status tribe_labelings_check(const tribe_dmat *z, const tribe_labelings *ls, const char *who)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = z->rows->par;
    if (ls->n < 1 || ls->n > TRIBE_LABELINGS_MAX || z->d < 1 || z->d > TRIBE_MAX_FEATURES)
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: %d labelings, d=%d", who, ls->n, z->d);
    for (int l = 0; st == TRIBE_OK && l < ls->n; l++)
        if (ls->k[l] < 1 || ls->coff[l + 1] != ls->coff[l] + ls->k[l])
            st = tribe_fail(TRIBE_ERR_USAGE, "%s: k=%d, d=%d", who, ls->k[l], z->d);
    for (int l = 0; st == TRIBE_OK && l < ls->n; l++)
        for (int64_t i = 0; i < z->rows->n_local; i++) {
            int c = tribe_labelings_at(ls, l, i);
            if (c < 0 || c >= ls->k[l]) {
                st = tribe_fail(TRIBE_ERR_INPUT, "%s: row %lld has label %d, outside [0, %d)", who,
                                (long long)(z->rows->offset + i), c, ls->k[l]);
                break;
            }
        }
    return tribe_par_agree(par, st);
}

void tribe_tuples_free(tribe_tuples *t)
{
    free(t->rid);
    free(t->nrid);
    free(t->hkey);
    free(t->hval);
    free(t->map);
    free(t->cell);
    free(t->ncell);
    free(t->count);
    free(t->ncount);
    memset(t, 0, sizeof *t);
}

tribe_status tribe_tuples_init(tribe_tuples *t, int64_t rows, int cap, const tribe_labelings *ls)
{
    tribe_status st = TRIBE_OK;
    memset(t, 0, sizeof *t);
    for (int l = 0; l < ls->n; l++)
        cap = ls->k[l] > cap ? ls->k[l] : cap;
    t->cap = cap;
    t->hcap = 16;
    while (t->hcap < 2 * cap)
        t->hcap *= 2;
    size_t nr = (size_t)rows + 1, nc = (size_t)cap * TRIBE_LABELINGS_MAX;
    TRIBE_TRY(tribe_alloc((void **)&t->rid, nr * sizeof *t->rid));
    TRIBE_TRY(tribe_alloc((void **)&t->nrid, nr * sizeof *t->nrid));
    TRIBE_TRY(tribe_alloc((void **)&t->hkey, (size_t)t->hcap * sizeof *t->hkey));
    TRIBE_TRY(tribe_alloc((void **)&t->hval, (size_t)t->hcap * sizeof *t->hval));
    TRIBE_TRY(tribe_alloc((void **)&t->map, (size_t)cap * sizeof *t->map));
    memset(t->map, 0xff, (size_t)cap * sizeof *t->map);
    TRIBE_TRY(tribe_alloc((void **)&t->cell, nc * sizeof *t->cell));
    TRIBE_TRY(tribe_alloc((void **)&t->ncell, nc * sizeof *t->ncell));
    TRIBE_TRY(tribe_alloc((void **)&t->count, (size_t)cap * sizeof *t->count));
    TRIBE_TRY(tribe_alloc((void **)&t->ncount, (size_t)cap * sizeof *t->ncount));
cleanup:
    if (st != TRIBE_OK)
        tribe_tuples_free(t);
    return st;
}

/* The id of key in the open-addressing table (inserted as *n when new, or
 * -1 when new and *n == cap). */
static inline int32_t tuple_id(tribe_tuples *t, uint64_t key, int *n)
{
    size_t h = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 40) & (size_t)(t->hcap - 1);
    while (t->hkey[h] != key) {
        if (t->hkey[h] == UINT64_MAX) {
            if (*n == t->cap)
                return -1;
            t->hkey[h] = key;
            t->hval[h] = (*n)++;
            break;
        }
        h = (h + 1) & (size_t)(t->hcap - 1);
    }
    return t->hval[h];
}

int tribe_tuples_build(tribe_tuples *t, const tribe_labelings *ls, int64_t i0, int64_t i1, int l0, int lanes,
                       int *ntup)
{
    int64_t n = i1 - i0;
    int nt = 0;
    for (int64_t i = 0; i < n; i++) { /* the first labeling's clusters: t->cap >= every k */
        int c = tribe_labelings_at(ls, l0, i0 + i);
        int32_t id = t->map[c];
        if (id < 0) {
            id = t->map[c] = nt++;
            t->cell[(size_t)id * TRIBE_LABELINGS_MAX] = ls->coff[l0] + c;
            t->count[id] = 0;
        }
        t->rid[i] = id;
        t->count[id]++;
    }
    for (int u = 0; u < nt; u++)
        t->map[t->cell[(size_t)u * TRIBE_LABELINGS_MAX] - ls->coff[l0]] = -1;
    int l = l0 + 1;
    for (; l < ls->n; l++) {
        int nn = 0, ok = 1, w = l - l0;
        memset(t->hkey, 0xff, (size_t)t->hcap * sizeof *t->hkey);
        for (int64_t i = 0; ok && i < n; i++) {
            int c = tribe_labelings_at(ls, l, i0 + i), old = nn;
            int32_t id = tuple_id(t, (uint64_t)t->rid[i] << 32 | (uint32_t)c, &nn);
            if (id < 0) {
                ok = 0;
                break;
            }
            if (nn > old) {
                memcpy(t->ncell + (size_t)id * TRIBE_LABELINGS_MAX, t->cell + (size_t)t->rid[i] * TRIBE_LABELINGS_MAX,
                       (size_t)w * sizeof *t->ncell);
                t->ncell[(size_t)id * TRIBE_LABELINGS_MAX + w] = ls->coff[l] + c;
                t->ncount[id] = 0;
            }
            t->nrid[i] = id;
            t->ncount[id]++;
        }
        if (ok && lanes > 0) { /* padding must not cost more than a pass of its own */
            int64_t P = 0;
            for (int u = 0; u < nn; u++)
                P += (t->ncount[u] + lanes - 1) / lanes * lanes;
            ok = P <= 2 * n;
        }
        if (!ok)
            break;
        int32_t *r = t->rid, *c = t->cell;
        int64_t *k = t->count;
        t->rid = t->nrid;
        t->nrid = r;
        t->cell = t->ncell;
        t->ncell = c;
        t->count = t->ncount;
        t->ncount = k;
        nt = nn;
    }
    *ntup = nt;
    return l;
}

/* ---- the pass --------------------------------------------------------------- */

/* Per-thread workspace of the distance pass. */
typedef struct {
    float *xt;        /* [d][cap] */
    int32_t *mask;    /* [cap] */
    int64_t *p0;      /* [tuples + 1] first lane of each tuple */
    sil_run *run;     /* [tuples] the runs of one lane block */
    int64_t *S;       /* [tuples][SIL_BLOCK] */
    int64_t *acc;     /* [cells][mp] 2^-20 units */
    tribe_xsum *big;  /* [cells][mp] */
    tribe_tuples tup;
} sil_ws;

/* Counting-sorts rows [i0, i1) by tuple (t->rid) into xt[d][P] (P
 * returned), each tuple's run starting at p0[u] and padded to whole vectors
 * (padding lanes masked out and zero). */
static int64_t pack_chunk(const tribe_dmat *z, int64_t i0, int64_t i1, const tribe_tuples *t, int ntup,
                          sil_ws *w)
{
    int d = z->d;
    int64_t P = 0;
    for (int u = 0; u < ntup; u++) {
        w->p0[u] = P;
        P += (t->count[u] + SIL_LANES - 1) / SIL_LANES * SIL_LANES;
    }
    w->p0[ntup] = P;
    memset(w->mask, 0, (size_t)P * sizeof *w->mask);
    for (int u = 0; u < ntup; u++)
        w->run[u].p0 = (int)w->p0[u]; /* the next free lane of tuple u */
    for (int64_t i = i0; i < i1; i++) {
        int p = w->run[t->rid[i - i0]].p0++;
        const float *x = z->x + (size_t)i * (size_t)d;
        w->mask[p] = -1;
        for (int j = 0; j < d; j++)
            w->xt[(size_t)j * (size_t)P + (size_t)p] = x[j];
    }
    for (int u = 0; u < ntup; u++)
        for (int64_t p = w->run[u].p0; p < w->p0[u + 1]; p++)
            for (int j = 0; j < d; j++)
                w->xt[(size_t)j * (size_t)P + (size_t)p] = 0.0f;
    return P;
}

/* The runs of lanes [b0, b1): each tuple's lanes clipped to the block. */
static int block_runs(const sil_ws *w, int ntup, int64_t b0, int64_t b1)
{
    int nr = 0;
    for (int u = 0; u < ntup; u++) {
        int64_t p0 = w->p0[u] > b0 ? w->p0[u] : b0, p1 = w->p0[u + 1] < b1 ? w->p0[u + 1] : b1;
        if (p0 < p1)
            w->run[nr++] = (sil_run){u, (int)p0, (int)p1};
    }
    return nr;
}

/* One chunk, labelings [l0, l1) whose tuples t holds: every group of sampled
 * rows against every lane, then each tuple's sums into its cells. */
static void chunk_pass(const tribe_dmat *z, const float *SG, int64_t mp, int64_t P, int ntup, int l0, int l1,
                       sil_kernel_fn kern, sil_ws *w)
{
    int d = z->d;
    sil_out o = {NULL, SIL_BLOCK, NULL, mp, w->tup.cell, l1 - l0};
    for (int64_t a0 = 0; a0 < mp; a0 += SIL_BLOCK) {
        int blk = (int)(mp - a0 < SIL_BLOCK ? mp - a0 : SIL_BLOCK);
        memset(w->S, 0, (size_t)ntup * SIL_BLOCK * sizeof *w->S);
        for (int64_t b0 = 0; b0 < P; b0 += SIL_LANE_BLOCK) {
            int nr = block_runs(w, ntup, b0, b0 + SIL_LANE_BLOCK);
            for (int g = 0; g < blk; g += SIL_GROUP) {
                o.q = w->S + g;
                o.big = w->big + a0 + g;
                kern(w->xt, (int)P, w->mask, SG + (size_t)(a0 + g) * (size_t)d, d, w->run, nr, &o);
            }
        }
        for (int u = 0; u < ntup; u++) {
            const int64_t *restrict src = w->S + (size_t)u * SIL_BLOCK;
            for (int l = 0; l < l1 - l0; l++) {
                int64_t *restrict dst = w->acc + (size_t)w->tup.cell[(size_t)u * TRIBE_LABELINGS_MAX + l] * mp + a0;
                for (int a = 0; a < blk; a++)
                    dst[a] += src[a];
            }
        }
    }
}

static void ws_free(sil_ws *w)
{
    free(w->xt);
    free(w->mask);
    free(w->p0);
    free(w->run);
    free(w->S);
    free(w->acc);
    free(w->big);
    tribe_tuples_free(&w->tup);
}

static tribe_status ws_init(sil_ws *w, int64_t rows, int d, const tribe_labelings *ls, int64_t mp)
{
    tribe_status st = TRIBE_OK;
    int kmax = 1;
    for (int l = 0; l < ls->n; l++)
        kmax = ls->k[l] > kmax ? ls->k[l] : kmax;
    memset(w, 0, sizeof *w);
    TRIBE_TRY(tribe_tuples_init(&w->tup, rows, SIL_TUPLES, ls));
    /* Lanes: at most 2 rows' worth once several labelings share (see
     * tribe_tuples_build), rows plus the padding of one labeling's clusters. */
    size_t cap = (size_t)(2 * rows > rows + (int64_t)SIL_LANES * kmax ? 2 * rows : rows + (int64_t)SIL_LANES * kmax);
    size_t cells = (size_t)ls->coff[ls->n], nt = (size_t)w->tup.cap;
    TRIBE_TRY(tribe_alloc((void **)&w->xt, cap * (size_t)d * sizeof *w->xt));
    TRIBE_TRY(tribe_alloc((void **)&w->mask, cap * sizeof *w->mask));
    TRIBE_TRY(tribe_alloc((void **)&w->p0, (nt + 1) * sizeof *w->p0));
    TRIBE_TRY(tribe_alloc((void **)&w->run, nt * sizeof *w->run));
    TRIBE_TRY(tribe_alloc((void **)&w->S, nt * SIL_BLOCK * sizeof *w->S));
    TRIBE_TRY(tribe_calloc((void **)&w->acc, cells * (size_t)mp, sizeof *w->acc));
    TRIBE_TRY(tribe_calloc((void **)&w->big, cells * (size_t)mp, sizeof *w->big));
cleanup:
    if (st != TRIBE_OK)
        ws_free(w);
    return st;
}

/* Local part: adds into tot[m][cells] (2^-32 units) the exact sums of the
 * distances from each sampled row S[m][d] (padded with copies of S[0]) to
 * this rank's rows of each cell. Not collective. */
static tribe_status local_sums(const tribe_dmat *z, const tribe_labelings *ls, const float *S, int64_t m,
                               tribe_xsum *tot)
{
    tribe_status st = TRIBE_OK;
    int64_t n = z->rows->n_local, mp = (m + SIL_GROUP - 1) / SIL_GROUP * SIL_GROUP;
    int d = z->d, cells = ls->coff[ls->n], nth = 1;
    float *SG = NULL;
    sil_ws *ws = NULL;
    int64_t rows = SIL_XT_FLOATS / (2 * d);
    if (rows < 1024)
        rows = 1024;
#ifdef _OPENMP
    if (m > 0 && n > 1024 && m * n * d >= TRIBE_OMP_MIN_WORK)
        nth = omp_get_max_threads();
    /* Several chunks per thread for balance, when the shard allows. */
    int64_t even = (n + 4 * (int64_t)nth - 1) / (4 * (int64_t)nth);
    if (nth > 1 && even < rows)
        rows = even > 1024 ? even : 1024;
#endif
    int64_t nchunk = (n + rows - 1) / rows;
    if (nth > nchunk)
        nth = (int)(nchunk > 0 ? nchunk : 1);
    if (m == 0 || n == 0)
        return TRIBE_OK;
    TRIBE_TRY(tribe_alloc((void **)&SG, ((size_t)mp + 1) * (size_t)d * sizeof *SG));
    TRIBE_TRY(tribe_calloc((void **)&ws, (size_t)nth, sizeof *ws));
    for (int t = 0; t < nth; t++)
        TRIBE_TRY(ws_init(&ws[t], rows, d, ls, mp));
    memcpy(SG, S, (size_t)m * (size_t)d * sizeof *SG);
    for (int64_t a = m; a < mp; a++)
        memcpy(SG + a * d, S, (size_t)d * sizeof *SG);
    sil_kernel_fn kern = sil_kernel();
    /* Threads take whole chunks (dynamically: no barrier per chunk, so a
     * descheduled thread on a shared node does not stall the others) and add
     * into their own integer sums, combined at the end: integer addition, so
     * the order does not matter. */
#pragma omp parallel for num_threads(nth) schedule(dynamic, 1) if (nth > 1)
    for (int64_t ch = 0; ch < nchunk; ch++) {
        sil_ws *w = &ws[0];
#ifdef _OPENMP
        w = &ws[omp_get_thread_num()];
#endif
        int64_t i0 = ch * rows, i1 = i0 + rows < n ? i0 + rows : n;
        for (int l0 = 0, l1, ntup; l0 < ls->n; l0 = l1) {
            l1 = tribe_tuples_build(&w->tup, ls, i0, i1, l0, SIL_LANES, &ntup);
            int64_t P = pack_chunk(z, i0, i1, &w->tup, ntup, w);
            chunk_pass(z, SG, mp, P, ntup, l0, l1, kern, w);
        }
    }
    /* A thread's 2^-20 sums stay below 2^31 * n_local: an int64 holds them
     * for any shard under 2^32 rows. */
    for (int t = 0; t < nth; t++)
        for (int c = 0; c < cells; c++)
            for (int64_t a = 0; a < m; a++)
                tot[a * cells + c] += ((tribe_xsum)ws[t].acc[(size_t)c * mp + a] << SIL_QSHIFT) +
                                      ws[t].big[(size_t)c * mp + a];
cleanup:
    for (int t = 0; ws && t < nth; t++)
        ws_free(&ws[t]);
    free(ws);
    free(SG);
    return st;
}

/* The mean silhouette of the m sampled rows (own cluster SL[a]) from their
 * per-cluster distance sums acc[a * ld + c] and the cluster sizes cnt[k], and
 * its 95% half-width. */
static void evaluate(const tribe_xsum *acc, int64_t ld, const int32_t *SL, int64_t m, const int64_t *cnt, int k,
                     int64_t n_global, double *mean, double *ci95)
{
    double sum = 0, sum2 = 0;
    for (int64_t a = 0; a < m; a++) {
        int own = SL[a];
        double s = 0;
        if (cnt[own] > 1) {
            double ai = tribe_xsum_value(acc[a * ld + own]) / (double)(cnt[own] - 1);
            double bi = INFINITY;
            for (int c = 0; c < k; c++)
                if (c != own && cnt[c] > 0) {
                    double v = tribe_xsum_value(acc[a * ld + c]) / (double)cnt[c];
                    if (v < bi)
                        bi = v;
                }
            double mx = ai > bi ? ai : bi;
            s = mx > 0 ? (bi - ai) / mx : 0.0; /* duplicates: a = b = 0 */
        }
        sum += s;
        sum2 += s * s;
    }
    *mean = sum / (double)m;
    if (m == n_global) {
        *ci95 = 0.0; /* the whole population: no sampling error */
    } else if (m > 1) {
        double var = (sum2 - sum * sum / (double)m) / (double)(m - 1);
        if (var < 0)
            var = 0;
        double fpc = (double)(n_global - m) / (double)(n_global - 1);
        *ci95 = 1.959963984540054 * sqrt(var / (double)m * fpc);
    }
}

tribe_status tribe_silhouette_multi(const tribe_dmat *z, const tribe_labelings *ls, int64_t sample_size,
                                    uint64_t seed, double *mean, double *ci95)
{
    tribe_status st = TRIBE_OK;
    const tribe_rows *rows = z->rows;
    tribe_par *par = rows->par;
    int64_t *cnt = NULL, *gidx = NULL, *sl = NULL, m = 0;
    int32_t *SL = NULL;
    float *S = NULL;
    tribe_xsum *tot = NULL;
    int L = ls->n, cells = ls->coff[L > 0 && L <= TRIBE_LABELINGS_MAX ? L : 0], defined = 0;
    for (int l = 0; l < L && l < TRIBE_LABELINGS_MAX; l++)
        mean[l] = ci95[l] = NAN;
    TRIBE_TRY(tribe_labelings_check(z, ls, "silhouette"));
    st = tribe_calloc((void **)&cnt, (size_t)cells, sizeof *cnt);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int l = 0; l < L; l++)
        for (int64_t i = 0; i < rows->n_local; i++)
            cnt[ls->coff[l] + tribe_labelings_at(ls, l, i)]++;
    TRIBE_TRY(tribe_par_sum_i64(par, cnt, cells));
    for (int l = 0; l < L; l++) {
        int nonempty = 0;
        for (int c = 0; c < ls->k[l]; c++)
            nonempty += cnt[ls->coff[l] + c] > 0;
        defined += nonempty >= 2; /* undefined with one cluster: NaN, as documented */
    }
    if (!defined)
        goto cleanup;

    TRIBE_TRY(tribe_sample_rows(z, NULL, sample_size, seed, TRIBE_STREAM_SILHOUETTE, &S, NULL, &gidx, &m));
    /* Every labeling's label of every sampled row: each from its owner. */
    st = tribe_calloc((void **)&sl, (size_t)(m > 0 ? m : 1) * (size_t)L, sizeof *sl);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&SL, (size_t)(m > 0 ? m : 1) * sizeof *SL);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&tot, (size_t)(m > 0 ? m : 1) * (size_t)cells, sizeof *tot);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t a = 0; a < m; a++)
        if (gidx[a] >= rows->offset && gidx[a] < rows->offset + rows->n_local)
            for (int l = 0; l < L; l++)
                sl[a * L + l] = tribe_labelings_at(ls, l, gidx[a] - rows->offset);
    TRIBE_TRY(tribe_par_sum_i64(par, sl, m * L));
    TRIBE_TRY(tribe_par_agree(par, local_sums(z, ls, S, m, tot)));
    TRIBE_TRY(tribe_par_sum_xsum(par, tot, m * cells));
    if (m == 0)
        goto cleanup;
    for (int l = 0; l < L; l++) {
        int nonempty = 0;
        for (int c = 0; c < ls->k[l]; c++)
            nonempty += cnt[ls->coff[l] + c] > 0;
        if (nonempty < 2)
            continue;
        for (int64_t a = 0; a < m; a++)
            SL[a] = (int32_t)sl[a * L + l];
        evaluate(tot + ls->coff[l], cells, SL, m, cnt + ls->coff[l], ls->k[l], rows->n_global, &mean[l], &ci95[l]);
    }
cleanup:
    free(cnt);
    free(gidx);
    free(sl);
    free(SL);
    free(S);
    free(tot);
    return st;
}

tribe_status tribe_silhouette_sample(const tribe_dmat *z, const int32_t *label, int k, int64_t sample_size,
                                     uint64_t seed, double *mean, double *ci95)
{
    tribe_labelings ls;
    tribe_labelings_one(&ls, label, k, z->rows->n_local);
    return tribe_silhouette_multi(z, &ls, sample_size, seed, mean, ci95);
}
