/* The direct AVX2 nominator of the K-Means pass (kmeans_kernel.h). */
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kmeans_kernel.h"

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

KM_AVX2 void tribe_km_nominate_avx2(const tribe_kmeans_pass_io *p, km_thread *w, const km_tabs *tb, const float *xb,
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
                best[l] = tribe_km_recheck(x0 + (size_t)l * d, d, cs, ks, hb + l, KM_T2, limv[l], ok, &bd[l]);
                w->recheck++;
            }
        }
    }
}
#endif
