/* Sampled exact silhouette (tribe_silhouette_sample in tribe/cluster.h).
 * A sample of rows is replicated on every rank; each rank adds the distances
 * from every sampled row to each of its own rows into per-(row, cluster)
 * exact sums, one reduction combines them, and every rank then evaluates the
 * same silhouette values. Cost: sample x n x d distance terms, spread over
 * ranks and threads; traffic: sample x k sums.
 *
 * The distance kernel. The shard is visited in chunks of SIL_ROWS rows; a
 * chunk is counting-sorted by label and transposed (xt[d][P]) so that each
 * cluster's rows form a run padded to whole 8-lane vectors, and a vector of
 * 8 distances always belongs to one cluster: no scatter by label. Four
 * sampled rows share every load of a data vector. A distance is
 *     sqrt(sum_j (s_j - x_j)^2)   in float, j = 0..d-1 in order,
 * each step a fused multiply-add (one rounding: _mm256_fmadd_ps in the
 * AVX2+FMA kernel, fmaf in the portable one), so both kernels produce the
 * same bits for a pair wherever it lands. It is
 * then rounded to a fixed point of 2^-20 (an int32 lane; distances of 2048
 * or more, rare in standardised data, go to tribe_xsum_of separately) and
 * summed as integers: neither the rank split, the chunking, nor the thread
 * count can change a bit. Differences rather than ||x||^2 - 2x.y + ||y||^2
 * (the GEMM form): with d <= 64 the GEMM form is not compute-bound either,
 * and the direct form has no cancellation for close pairs (so no clamping)
 * and no dependence on a BLAS kernel's summation order. */
#include "tribe/cluster.h"

#include <math.h>
#include <string.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SIL_X86 1
#endif

#include "kmeans_internal.h"
#include "silhouette_internal.h"
#include "tribe/xstats.h"

enum { SIL_ROWS = 1024, SIL_LANES = 16, SIL_GROUP = 4 };
#define SIL_QSCALE 1048576.0f /* 2^20 */
#define SIL_QMAX 2048.0f      /* SIL_QSCALE * SIL_QMAX = 2^31: the int32 limit */
#define SIL_QSHIFT 12         /* 2^-20 units to the 2^-32 of tribe_xsum */

typedef struct {
    int c;       /* cluster */
    int p0, p1;  /* lanes [p0, p1) of xt, multiples of SIL_LANES */
} sil_run;

/* Per-call sums: q[r][k] in 2^-20 units, big[r][k] exact (tribe_xsum). */
typedef struct {
    int64_t *q;
    tribe_xsum *big;
} sil_out;

__attribute__((optimize("fp-contract=off"))) static void kern_scalar(const float *xt, int P, const int32_t *mask,
                                                                      const float *s, int d, const sil_run *run,
                                                                      int nrun, int k, sil_out o)
{
    for (int u = 0; u < nrun; u++) {
        int c = run[u].c;
        for (int r = 0; r < SIL_GROUP; r++) {
            const float *sr = s + (size_t)r * d;
            int64_t q = 0;
            for (int p = run[u].p0; p < run[u].p1; p++) {
                float acc = 0;
                for (int j = 0; j < d; j++) {
                    float t = xt[(size_t)j * P + p] - sr[j];
                    acc = fmaf(t, t, acc);
                }
                float dist = sqrtf(acc);
                if (!mask[p])
                    continue;
                if (dist >= SIL_QMAX)
                    o.big[r * k + c] += tribe_xsum_of((double)dist);
                else
                    q += (int32_t)(dist * SIL_QSCALE + 0.5f);
            }
            o.q[r * k + c] += q;
        }
    }
}

#ifdef SIL_X86
__attribute__((target("avx2"))) static int64_t hsum64(__m256i v)
{
    int64_t t[4];
    _mm256_storeu_si256((__m256i *)t, v);
    return t[0] + t[1] + t[2] + t[3];
}

__attribute__((target("avx2,fma"), optimize("fp-contract=off"))) static void kern_avx2(const float *xt, int P, const int32_t *mask, const float *s,
                                                       int d, const sil_run *run, int nrun, int k, sil_out o)
{
    const __m256 scale = _mm256_set1_ps(SIL_QSCALE), half = _mm256_set1_ps(0.5f), lim = _mm256_set1_ps(SIL_QMAX);
    const float *s0 = s, *s1 = s + d, *s2 = s + 2 * d, *s3 = s + 3 * d;
    for (int u = 0; u < nrun; u++) {
        int c = run[u].c;
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
                            o.big[r * k + c] += tribe_xsum_of((double)dv[l]);
                    mr = _mm256_andnot_si256(_mm256_castps_si256(over), m);
                }
                __m256i qi = _mm256_and_si256(_mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(dist, scale), half)), mr);
                q[r][0] = _mm256_add_epi64(q[r][0], _mm256_cvtepi32_epi64(_mm256_castsi256_si128(qi)));
                q[r][1] = _mm256_add_epi64(q[r][1], _mm256_cvtepi32_epi64(_mm256_extracti128_si256(qi, 1)));
            }
        }
        for (int r = 0; r < SIL_GROUP; r++)
            o.q[r * k + c] += hsum64(q[r][0]) + hsum64(q[r][1]);
    }
}

__attribute__((target("avx512f"), optimize("fp-contract=off"))) static void
kern_avx512(const float *xt, int P, const int32_t *mask, const float *s, int d, const sil_run *run, int nrun, int k,
            sil_out o)
{
    const __m512 scale = _mm512_set1_ps(SIL_QSCALE), half = _mm512_set1_ps(0.5f), lim = _mm512_set1_ps(SIL_QMAX);
    const float *s0 = s, *s1 = s + d, *s2 = s + 2 * d, *s3 = s + 3 * d;
    for (int u = 0; u < nrun; u++) {
        int c = run[u].c;
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
                            o.big[r * k + c] += tribe_xsum_of((double)dv[l]);
                }
                __m512i qi = _mm512_maskz_cvttps_epi32((__mmask16)(valid & ~over),
                                                       _mm512_add_ps(_mm512_mul_ps(dist, scale), half));
                q[r][0] = _mm512_add_epi64(q[r][0], _mm512_cvtepi32_epi64(_mm512_castsi512_si256(qi)));
                q[r][1] = _mm512_add_epi64(q[r][1], _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(qi, 1)));
            }
        }
        for (int r = 0; r < SIL_GROUP; r++)
            o.q[r * k + c] += _mm512_reduce_add_epi64(_mm512_add_epi64(q[r][0], q[r][1]));
    }
}

static int use_avx2 = -1; /* kernel level (tribe_silhouette_kernel); -1: not decided yet */

int tribe_silhouette_kernel(int level)
{
    int best = __builtin_cpu_supports("avx512f")                                    ? 2
               : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1
                                                                                  : 0;
    use_avx2 = level < 0 || level > best ? best : level;
    return use_avx2;
}
#else
int tribe_silhouette_kernel(int level)
{
    (void)level;
    return 0;
}
#endif

/* Counting-sorts rows [i0, i1) by label into xt[d][P] (P returned), each
 * cluster's run padded to whole vectors (padding lanes masked out) and
 * listed in run[] (number returned through *nrun). cnt is scratch [k]. */
static int pack_chunk(const float *z, int64_t i0, int64_t i1, int d, const int32_t *label, int k, int64_t *cnt,
                      float *xt, int32_t *mask, sil_run *run, int *nrun)
{
    memset(cnt, 0, (size_t)k * sizeof *cnt);
    for (int64_t i = i0; i < i1; i++)
        cnt[label[i]]++;
    int P = 0, nr = 0;
    for (int c = 0; c < k; c++) {
        if (!cnt[c])
            continue;
        int len = (int)((cnt[c] + SIL_LANES - 1) / SIL_LANES * SIL_LANES);
        run[nr].c = c;
        run[nr].p0 = P;
        run[nr].p1 = P + len;
        cnt[c] = P; /* now the next free lane of cluster c */
        P += len;
        nr++;
    }
    int64_t *next = cnt;
    for (int u = 0; u < nr; u++)
        for (int p = run[u].p0; p < run[u].p1; p++)
            mask[p] = 0;
    /* xt is [d][P]: P is only known now, so place rows in a second sweep. */
    for (int64_t i = i0; i < i1; i++) {
        int p = (int)next[label[i]]++;
        mask[p] = -1;
        for (int j = 0; j < d; j++)
            xt[(size_t)j * P + p] = z[i * d + j];
    }
    for (int u = 0; u < nr; u++)
        for (int p = run[u].p0; p < run[u].p1; p++)
            if (!mask[p])
                for (int j = 0; j < d; j++)
                    xt[(size_t)j * P + p] = 0.0f;
    *nrun = nr;
    return P;
}

tribe_status tribe_silhouette_sample(tribe_par *par, const float *z, int64_t n_local, int64_t offset,
                                     int64_t n_global, int d, const int32_t *label, int k,
                                     int64_t sample_size, uint64_t seed, double *mean, double *ci95)
{
    tribe_status st = TRIBE_OK;
    int64_t *cnt = NULL, m = 0;
    float *S = NULL;
    int32_t *SL = NULL;
    tribe_xsum *acc = NULL, *big = NULL;
    float *xt = NULL, *SG = NULL;
    int32_t *mask = NULL;
    sil_run *run = NULL;
    int64_t *pk = NULL, *qs = NULL;
    *mean = NAN;
    *ci95 = NAN;
    if (k < 1 || d < 1)
        st = tribe_fail(TRIBE_ERR_USAGE, "silhouette: k=%d, d=%d", k, d);
    TRIBE_TRY(tribe_par_agree(par, st));
    tribe_rows rows;
    TRIBE_TRY(tribe_rows_init(par, n_local, offset, n_global, &rows));
    for (int64_t i = 0; st == TRIBE_OK && i < n_local; i++)
        if (label[i] < 0 || label[i] >= k)
            st = tribe_fail(TRIBE_ERR_INPUT, "silhouette: row %lld has label %d, outside [0, %d)",
                            (long long)(offset + i), (int)label[i], k);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&cnt, (size_t)k, sizeof *cnt);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t i = 0; i < n_local; i++)
        cnt[label[i]]++;
    TRIBE_TRY(tribe_par_sum_i64(par, cnt, k));
    int nonempty = 0;
    for (int c = 0; c < k; c++)
        nonempty += cnt[c] > 0;
    if (nonempty < 2)
        goto cleanup; /* undefined with one cluster: NaN, as documented */

    TRIBE_TRY(tribe_sample_rows(&(tribe_dmat){&rows, z, d}, label, sample_size, seed, TRIBE_STREAM_SILHOUETTE, &S,
                                &SL, NULL, &m));
    st = tribe_calloc((void **)&acc, (size_t)(m > 0 ? m : 1) * (size_t)k, sizeof *acc);
    TRIBE_TRY(tribe_par_agree(par, st));
    /* Sampled rows in groups of SIL_GROUP (the last padded with copies of
     * its first row, whose sums are dropped). Threads take whole chunks
     * (dynamically: no barrier per chunk, so a descheduled thread on a
     * shared node does not stall the others), pack them into their own
     * buffers and add into their own integer sums, combined at the end:
     * integer addition, so the order does not matter. */
    {
        int64_t ng = (m + SIL_GROUP - 1) / SIL_GROUP, nchunk = (n_local + SIL_ROWS - 1) / SIL_ROWS;
        size_t cap = (size_t)SIL_ROWS + (size_t)SIL_LANES * (size_t)k, cells = (size_t)ng * SIL_GROUP * (size_t)k;
        int nth = 1;
#ifdef _OPENMP
        if (ng > 0 && nchunk > 1 && m * n_local * d >= TRIBE_OMP_MIN_WORK)
            nth = omp_get_max_threads();
        if (nth > nchunk)
            nth = (int)nchunk;
#endif
        st = tribe_alloc((void **)&xt, (size_t)nth * cap * (size_t)d * sizeof *xt);
        if (st == TRIBE_OK)
            st = tribe_alloc((void **)&mask, (size_t)nth * cap * sizeof *mask);
        if (st == TRIBE_OK)
            st = tribe_alloc((void **)&run, (size_t)nth * (size_t)k * sizeof *run);
        if (st == TRIBE_OK)
            st = tribe_alloc((void **)&pk, (size_t)nth * (size_t)k * sizeof *pk);
        if (st == TRIBE_OK)
            st = tribe_alloc((void **)&SG, ((size_t)ng * SIL_GROUP + 1) * (size_t)d * sizeof *SG);
        if (st == TRIBE_OK)
            st = tribe_calloc((void **)&qs, (size_t)nth * cells + 1, sizeof *qs);
        if (st == TRIBE_OK)
            st = tribe_calloc((void **)&big, (size_t)nth * cells + 1, sizeof *big);
        TRIBE_TRY(tribe_par_agree(par, st));
        if (m > 0) {
            memcpy(SG, S, (size_t)m * (size_t)d * sizeof *SG);
            for (int64_t a = m; a < ng * SIL_GROUP; a++)
                memcpy(SG + a * d, S, (size_t)d * sizeof *SG);
        }
#ifdef SIL_X86
        if (use_avx2 < 0)
            tribe_silhouette_kernel(-1);
        int avx2 = use_avx2;
#endif
#pragma omp parallel num_threads(nth) if (nth > 1)
        {
            int t = 0;
#ifdef _OPENMP
            t = omp_get_thread_num();
#endif
            float *mxt = xt + (size_t)t * cap * d;
            int32_t *mmask = mask + (size_t)t * cap;
            sil_run *mrun = run + (size_t)t * k;
            int64_t *mpk = pk + (size_t)t * k, *mqs = qs + (size_t)t * cells;
            tribe_xsum *mbig = big + (size_t)t * cells;
#pragma omp for schedule(dynamic, 1)
            for (int64_t ch = 0; ch < nchunk; ch++) {
                int64_t i0 = ch * SIL_ROWS, i1 = i0 + SIL_ROWS < n_local ? i0 + SIL_ROWS : n_local;
                int nrun = 0;
                int P = pack_chunk(z, i0, i1, d, label, k, mpk, mxt, mmask, mrun, &nrun);
                for (int64_t g = 0; g < ng; g++) {
                    sil_out o = {mqs + g * SIL_GROUP * k, mbig + g * SIL_GROUP * k};
#ifdef SIL_X86
                    if (avx2 == 2)
                        kern_avx512(mxt, P, mmask, SG + g * SIL_GROUP * d, d, mrun, nrun, k, o);
                    else if (avx2 == 1)
                        kern_avx2(mxt, P, mmask, SG + g * SIL_GROUP * d, d, mrun, nrun, k, o);
                    else
#endif
                        kern_scalar(mxt, P, mmask, SG + g * SIL_GROUP * d, d, mrun, nrun, k, o);
                }
            }
        }
        /* A thread's q sums stay below 2^31 * n_local: an int64 holds them
         * for any shard under 2^32 rows. */
        for (int64_t a = 0; a < m; a++)
            for (int c = 0; c < k; c++) {
                tribe_xsum v = 0;
                for (int t = 0; t < nth; t++)
                    v += ((tribe_xsum)qs[(size_t)t * cells + (size_t)(a * k + c)] << SIL_QSHIFT) +
                         big[(size_t)t * cells + (size_t)(a * k + c)];
                acc[a * k + c] = v;
            }
    }
    TRIBE_TRY(tribe_par_sum_xsum(par, acc, m * k));
    if (m == 0)
        goto cleanup;
    double sum = 0, sum2 = 0;
    for (int64_t a = 0; a < m; a++) {
        int own = SL[a];
        double s = 0;
        if (cnt[own] > 1) {
            double ai = tribe_xsum_value(acc[a * k + own]) / (double)(cnt[own] - 1);
            double bi = INFINITY;
            for (int c = 0; c < k; c++)
                if (c != own && cnt[c] > 0) {
                    double v = tribe_xsum_value(acc[a * k + c]) / (double)cnt[c];
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
cleanup:
    free(cnt);
    free(S);
    free(SL);
    free(acc);
    free(big);
    free(xt);
    free(SG);
    free(mask);
    free(run);
    free(pk);
    free(qs);
    return st;
}
