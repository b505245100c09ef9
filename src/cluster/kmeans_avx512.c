/* The direct AVX-512 block of the K-Means pass (kmeans_kernel.h). */
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kmeans_kernel.h"

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
#define KM_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))
enum { KM_T = 16 };

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

KM_AVX512 void tribe_km_block_avx512(const tribe_kmeans_pass_io *p, km_thread *w, const km_tabs *tb, const float *xb,
                                     int64_t i0, int64_t rows, int64_t n)
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
                    blv[l] = tribe_km_recheck(x0 + (size_t)l * d, d, cs, ks, hb + l, KM_T, limv[l], ok >> l & 1, &bdv[l]);
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
